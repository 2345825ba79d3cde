"""The multi-user server's state: one project, its accounts, and one labelling session per user.

`clinlabel serve` opens the project once. Each logged-in user gets a `ReaderBench`: the same
face as the local server's `Workbench` (so every route works unchanged), holding that user's own
`LabellingSession`, and sharing the server's one writer thread, reader threads, project and
viewing service. Labels are per reader in the core already; the session only ever reads and
writes its own reader's.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from pathlib import Path
from typing import TYPE_CHECKING

from fastapi import Request
from starlette.requests import Request as PlainRequest
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from clinlabel.errors import AccessError, ValidationError
from clinlabel.labelling.accounts import Accounts, User
from clinlabel.web.auth import COOKIE, current_reader, current_user, session_id_of
from clinlabel.web.config import WebSettings
from clinlabel.web.security import SAFE_METHODS, STATE_METHODS, LocalServerGuard
from clinlabel.web.workbench import Workbench

if TYPE_CHECKING:
    from clinlabel.labelling.project import Project
    from clinlabel.labelling.service import Shown


class ReaderBench(Workbench):
    """One user's view of the team server: their session, the server's threads and project."""

    def __init__(self, team: TeamServer, user: User, reader: str) -> None:
        # Not Workbench.__init__: the threads, project and viewer are the server's, shared.
        base = team.base
        self.settings = base.settings
        self._executor = base._executor
        self._readers = base._readers
        self._stack = contextlib.ExitStack()
        self.project = team.project
        self._session = None
        self.annotator = reader
        self.viewer = team.viewer
        self.last_outputs = None
        self.rescan = None
        self.user = user

    def open(self, project_dir: Path, annotator: str) -> Shown:
        raise ValidationError("The team server's project and reader are fixed by the login.")

    def open_own(self) -> None:
        """Start (or resume) this user's labelling session (writer thread)."""
        from clinlabel.labelling.service import LabellingSession

        assert self.project is not None
        session = LabellingSession(
            self.project,
            annotator=self.annotator or "",
            idle_threshold_s=self.settings.idle_threshold_s,
            interface="serve",
        )
        session.start()
        self._session = session

    @property
    def needs_session(self) -> bool:
        session = self._session
        return session is None or session._closed

    def close(self) -> None:
        """End this user's labelling session only (Finish, logout); the project stays open."""
        session, self._session = self._session, None
        if session is not None:
            session.close()

    def shutdown(self) -> None:
        self.call_now(self.close)


class TeamServer:
    """Everything `clinlabel serve` holds while it runs."""

    def __init__(
        self,
        project: Project,
        settings: WebSettings,
        *,
        secret: bytes,
        idle_s: float,
        secure_cookies: bool = False,
    ) -> None:
        from clinlabel.imaging.viewing import ViewingService
        from clinlabel.web.renditions import AsyncViewer

        self.project = project
        self.base = Workbench(settings)
        self.secret = secret
        self.secure_cookies = secure_cookies
        self.idle_s = idle_s
        self.accounts = Accounts(project.store, idle_s=idle_s)
        self.viewer = AsyncViewer(
            ViewingService(
                rendition_folder=project.dir / "cache" / "renditions",
                rendition_bytes=settings.rendition_cache_bytes,
                memory_budget=settings.memory_budget_bytes,
            )
        )
        self._benches: dict[int, ReaderBench] = {}
        self._lock = asyncio.Lock()

    @staticmethod
    def address(request: PlainRequest) -> str:
        return request.client.host if request.client is not None else "unknown"

    def session_id(self, request: PlainRequest) -> str | None:
        return session_id_of(self.secret, request.cookies.get(COOKIE))

    async def user_of(self, request: PlainRequest, *, active: bool = True) -> User:
        """The user of the request's login (AccessError if none); ends it when idle too long."""
        session_id = self.session_id(request)
        if session_id is None:
            raise AccessError("Not logged in: log in first.")
        try:
            return await self.base.read(self.accounts.resolve, session_id, active=active)
        except AccessError:
            await self._close_user_of(session_id)
            raise

    async def _close_user_of(self, session_id: str) -> None:
        """After a logout or an idle log-off: that user's labelling session ends too."""
        from clinlabel.labelling.accounts import session_key
        from clinlabel.store import users as user_rows

        def owner() -> int | None:
            with self.project.store.read() as conn:
                found = user_rows.web_session(conn, session_key(session_id))
            return None if found is None else found.user_id

        user_id = await self.base.read(owner)
        bench = self._benches.get(user_id) if user_id is not None else None
        if bench is not None:
            await bench.call(bench.close)

    async def logout(self, request: PlainRequest) -> None:
        session_id = self.session_id(request)
        if session_id is None:
            return
        await self.base.call(self.accounts.logout, session_id)
        await self._close_user_of(session_id)

    async def end_earlier_login(self, request: PlainRequest, user: User) -> None:
        """A login made in a browser that holds another one: the earlier one ends now (a
        logout in the trail, its cookie refused from now on), whoever it was, so one browser
        is never two users at once and a cookie planted before the login dies with it."""
        session_id = self.session_id(request)
        if session_id is None:
            return
        ended = await self.base.call(self.accounts.logout, session_id, reason="another login")
        if not ended:
            return
        from clinlabel.labelling.accounts import session_key
        from clinlabel.store import users as user_rows

        def owner() -> int | None:
            with self.project.store.read() as conn:
                found = user_rows.web_session(conn, session_key(session_id))
            return None if found is None else found.user_id

        if await self.base.read(owner) != user.id:
            # The same user logging in again keeps their labelling session; another's ends.
            await self._close_user_of(session_id)

    async def bench_for(self, request: Request) -> ReaderBench:
        """The logged-in user's bench, their labelling session started if need be."""
        user = current_user(request)
        if user is None:
            raise AccessError("Not logged in: log in first.")
        reader = current_reader(request)
        async with self._lock:
            bench = self._benches.get(user.id)
            if bench is None or bench.user.role != user.role:
                bench = self._benches[user.id] = ReaderBench(self, user, reader)
            if bench.needs_session:
                await bench.call(bench.open_own)
        return bench

    def shutdown(self) -> None:
        """Close every user's session, the project, then stop the threads."""
        try:
            for bench in self._benches.values():
                with contextlib.suppress(Exception):
                    self.base.call_now(bench.close)
            self.viewer.service.clear()
            self.base.call_now(self.project.close)
        finally:
            self.base._readers.shutdown(wait=True)
            self.base._executor.shutdown(wait=True)


def new_token() -> str:
    """The local server's token is unused by the team server; a random one keeps it unusable."""
    return secrets.token_urlsafe(32)


PAGES = frozenset({"/", "/admin", "/adjudicate", "/dashboard"})


class TeamGuard:
    """ASGI middleware of the team server: methods, same-origin state changes, page logins,
    and the local server's safe headers on every answer."""

    def __init__(self, app: ASGIApp, *, team: TeamServer) -> None:
        self.app = app
        self.team = team

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = PlainRequest(scope)
        refusal = await self._check(request)
        if refusal is not None:
            await refusal(scope, receive, send)
            return
        await self.app(
            scope,
            receive,
            LocalServerGuard._with_headers(send, api=scope["path"].startswith("/api/")),
        )

    async def _check(self, request: PlainRequest) -> Response | None:
        method = request.method
        if method not in SAFE_METHODS and method not in STATE_METHODS:
            return PlainTextResponse("Method not allowed.", status_code=405)
        if method in STATE_METHODS:
            # The cookie is SameSite=Strict already; a foreign Origin is refused besides (a
            # browser always sends one with a cross-site POST).
            origin = request.headers.get("origin")
            if origin is not None and origin not in self._origins(request):
                return PlainTextResponse("Foreign origin refused.", status_code=403)
            # What the browser itself says of where the request comes from (Fetch Metadata),
            # for a request that carries no Origin: another site's, or a sibling subdomain's
            # (same-site, which a SameSite cookie does not stop), is refused too.
            if request.headers.get("sec-fetch-site") in ("cross-site", "same-site"):
                return PlainTextResponse("Foreign origin refused.", status_code=403)
        if method == "GET" and request.url.path in PAGES:
            try:
                await self.team.user_of(request)
            except AccessError:
                return RedirectResponse("/login", status_code=303)
        return None

    def _origins(self, request: PlainRequest) -> set[str]:
        host = request.headers.get("host", "")
        schemes = ("https",) if self.team.secure_cookies else ("http", "https")
        return {f"{scheme}://{host}" for scheme in schemes}
