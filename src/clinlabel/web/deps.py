"""Dependency aliases shared by the routers."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from clinlabel.web.workbench import Workbench


def get_workbench(request: Request) -> Workbench:
    bench = request.app.state.workbench
    assert isinstance(bench, Workbench)
    return bench


BenchDep = Annotated[Workbench, Depends(get_workbench)]
