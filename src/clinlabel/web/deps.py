"""Dependency aliases shared by the routers."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from clinlabel.web.workbench import Workbench


async def get_workbench(request: Request) -> Workbench:
    team = getattr(request.app.state, "team", None)
    if team is not None:
        # The team server: the logged-in user's own bench (`web.auth_team`).
        bench: Workbench = await team.bench_for(request)
        return bench
    bench = request.app.state.workbench
    assert isinstance(bench, Workbench)
    return bench


BenchDep = Annotated[Workbench, Depends(get_workbench)]
