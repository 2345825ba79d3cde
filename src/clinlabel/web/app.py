"""The FastAPI application, built from explicit settings by `create_app`; none at import time."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from fastapi import Depends, FastAPI
from fastapi.staticfiles import StaticFiles

from clinlabel import __version__
from clinlabel.web.auth import authorize
from clinlabel.web.body_limit import BodyLimit
from clinlabel.web.bounds import integers_in_range
from clinlabel.web.config import WebSettings
from clinlabel.web.errors import install_error_handlers
from clinlabel.web.routes import (
    adjudication,
    admin,
    agreement,
    assignments,
    cases,
    compare,
    dashboard,
    detail,
    images,
    labels,
    login,
    metadata,
    outputs,
    pages,
    pixels,
    regions,
    rescan,
    review,
    session,
)
from clinlabel.web.security import LocalServerGuard
from clinlabel.web.workbench import Workbench

if TYPE_CHECKING:
    from clinlabel.web.auth_team import TeamServer


def create_app(
    settings: WebSettings, *, workbench: Workbench | None = None, team: TeamServer | None = None
) -> FastAPI:
    """The labelling server for one batch.

    With `settings.project_dir` and `settings.annotator` the session opens when the server starts
    (the CLI opens it earlier, to report a busy project before serving); otherwise the start page
    asks for them.

    With `team` it is the multi-user server (`clinlabel serve`): logins, roles, one session
    per user (`web.auth`, `web.auth_team`).
    """
    bench = workbench or (team.base if team is not None else Workbench(settings))

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if team is None and not bench.started and settings.project_dir and settings.annotator:
            await bench.call(bench.open, settings.project_dir, settings.annotator)
        try:
            yield
        finally:
            # Ctrl+C or a normal stop: record the session's end and release the project lock.
            if team is None:
                await bench.call(bench.close)

    app = FastAPI(
        # Every route: the team server's login and role rule first (`auth`), then no whole
        # number in a URL may overflow the database (`bounds`).
        dependencies=[Depends(authorize), Depends(integers_in_range)],
        title="clinlabel",
        version=__version__,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state.workbench = bench
    app.state.team = team
    install_error_handlers(app)
    for module in (
        pages,
        session,
        images,
        detail,
        compare,
        pixels,
        metadata,
        labels,
        regions,
        cases,
        outputs,
        review,
        rescan,
        # Reading studies (issue 13): roles declared in routes/study_access.py.
        assignments,
        adjudication,
        dashboard,
        agreement,
    ):
        app.include_router(module.router)
    # Also on the local server, where it says there are no logins (the page asks, quietly).
    app.include_router(login.router)
    if team is not None:
        app.include_router(admin.router)
    # html=False: no index pages and no directory listings under /static.
    app.mount("/static", StaticFiles(directory=pages.STATIC, html=False), name="static")
    # Added before the guard, so it runs inside it: strangers are turned away before any body
    # is counted.
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    if team is None:
        app.add_middleware(LocalServerGuard, settings=settings)
    else:
        from clinlabel.web.auth_team import TeamGuard

        app.add_middleware(TeamGuard, team=team)
    return app
