"""Who is asking: the reader identity, logins by signed cookie, and the rule of every route.

`current_reader(request)` is the one place the labelling identity comes from: the logged-in
user of `clinlabel serve`, or the annotator named to `clinlabel label` (no login there).

The multi-user server keeps the login id in a cookie, HttpOnly and SameSite=Strict (Secure with
`serve --secure-cookies`, behind a TLS proxy), signed with the project's secret
(`auth_secret`); the database holds only its hash (`labelling.accounts`). Each route of the app
has a rule in `ROUTE_RULES` (who may call it); a route without one is refused to everyone, and
the authorisation test enumerates `app.routes` so that a new route without a rule fails it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import TYPE_CHECKING
from urllib.parse import unquote

from fastapi import Request

from clinlabel.errors import AccessError, ForbiddenError, ReaderChangedError
from clinlabel.labelling.accounts import Role, User

if TYPE_CHECKING:
    from clinlabel.web.auth_team import TeamServer

COOKIE = "clinlabel_session"
READER_HEADER = "X-Clinlabel-Reader"
"""Who the page asking was opened for (URI-encoded), sent by the labelling page: a request for
another reader than the login's is refused (`ReaderChangedError`), so that after someone else
logs in in the same browser, the page's waiting label changes are never sent as theirs."""

PUBLIC = "public"
"""Anyone, logged in or not: the login page and its call, the favicon."""
NOBODY = "nobody"
"""Not on the team server (choosing another project or annotator is the local server's)."""

# (method, path template) -> the least role that may call it, PUBLIC or NOBODY.
ROUTE_RULES: dict[tuple[str, str], Role | str] = {
    ("GET", "/"): Role.ANNOTATOR,
    ("GET", "/favicon.ico"): PUBLIC,
    ("GET", "/login"): PUBLIC,
    ("POST", "/api/auth/login"): PUBLIC,
    ("POST", "/api/auth/logout"): PUBLIC,
    ("GET", "/api/auth/me"): Role.ANNOTATOR,
    # The annotator's own work: every answer is this reader's labels only (`current_reader`).
    ("GET", "/api/session"): Role.ANNOTATOR,
    ("POST", "/api/session"): NOBODY,
    ("POST", "/api/session/show"): Role.ANNOTATOR,
    ("POST", "/api/session/next-unlabelled"): Role.ANNOTATOR,
    ("POST", "/api/session/end"): Role.ANNOTATOR,
    ("POST", "/api/session/touch"): Role.ANNOTATOR,
    ("POST", "/api/session/undo"): Role.ANNOTATOR,
    ("GET", "/api/queue"): Role.ANNOTATOR,
    ("GET", "/api/images/{image_id}"): Role.ANNOTATOR,
    ("GET", "/api/images/{image_id}/rendition"): Role.ANNOTATOR,
    ("GET", "/api/images/{image_id}/size"): Role.ANNOTATOR,
    ("GET", "/api/images/{image_id}/full"): Role.ANNOTATOR,
    ("GET", "/api/images/{image_id}/pixels"): Role.ANNOTATOR,
    ("GET", "/api/images/{image_id}/visits"): Role.ANNOTATOR,
    ("GET", "/api/images/{image_id}/metadata"): Role.ANNOTATOR,
    ("POST", "/api/images/{image_id}/metadata/unmask"): Role.ANNOTATOR,
    ("GET", "/api/images/{image_id}/metadata/geometry"): Role.ANNOTATOR,
    ("PUT", "/api/images/{image_id}/label"): Role.ANNOTATOR,
    ("DELETE", "/api/images/{image_id}/label"): Role.ANNOTATOR,
    ("GET", "/api/images/{image_id}/regions"): Role.ANNOTATOR,
    ("GET", "/api/images/{image_id}/vesselness"): Role.ANNOTATOR,
    ("POST", "/api/regions/interpolate"): Role.ANNOTATOR,
    ("PUT", "/api/regions/{uid}"): Role.ANNOTATOR,
    ("DELETE", "/api/regions/{uid}"): Role.ANNOTATOR,
    ("GET", "/api/progress"): Role.ANNOTATOR,
    ("GET", "/api/cases"): Role.ANNOTATOR,
    ("GET", "/api/review"): Role.ANNOTATOR,
    ("GET", "/api/review/cases"): Role.ANNOTATOR,
    ("GET", "/api/rescan"): Role.ANNOTATOR,
    # Every reader's labels of an image.
    ("GET", "/api/team/images/{image_id}/readers"): Role.REVIEWER,
    # Reading studies (web/routes/study_access.py hands them to its routes): a reader's own worklist
    # and case diagnosis; adjudication and the dashboard show every reader.
    ("GET", "/api/study"): Role.ANNOTATOR,
    ("GET", "/api/study/worklist"): Role.ANNOTATOR,
    ("PUT", "/api/study/worklist/{assignment_id}/read"): Role.ANNOTATOR,
    ("GET", "/api/study/cases/{case}"): Role.ANNOTATOR,
    ("PUT", "/api/study/cases/{case}/diagnosis"): Role.ANNOTATOR,
    ("GET", "/adjudicate"): Role.REVIEWER,
    ("GET", "/api/adjudication"): Role.REVIEWER,
    ("PUT", "/api/adjudication/{image_id}"): Role.REVIEWER,
    ("GET", "/dashboard"): Role.REVIEWER,
    ("GET", "/api/dashboard"): Role.REVIEWER,
    ("GET", "/agreement"): Role.REVIEWER,
    ("GET", "/api/agreement"): Role.REVIEWER,
    # Exports and the report hold every reader's labels; users are the admin's.
    ("POST", "/api/outputs/progress"): Role.ADMIN,
    ("POST", "/api/outputs/final"): Role.ADMIN,
    ("GET", "/api/outputs/formats"): Role.ADMIN,
    ("GET", "/api/outputs/{which}"): Role.ADMIN,
    ("GET", "/admin"): Role.ADMIN,
    ("GET", "/api/admin/users"): Role.ADMIN,
    ("POST", "/api/admin/users"): Role.ADMIN,
    ("POST", "/api/admin/users/disable"): Role.ADMIN,
    ("POST", "/api/admin/users/enable"): Role.ADMIN,
    ("POST", "/api/admin/users/password"): Role.ADMIN,
    ("POST", "/api/admin/users/role"): Role.ADMIN,
}


def team_of(request: Request) -> TeamServer | None:
    """The multi-user server behind this app, or None for `clinlabel label`."""
    team: TeamServer | None = getattr(request.app.state, "team", None)
    return team


def current_user(request: Request) -> User | None:
    """The logged-in user (set by `authorize`), or None: no login (the local server)."""
    user = getattr(request.state, "user", None)
    return user if isinstance(user, User) else None


def current_reader(request: Request) -> str:
    """The name labels are read and written under: the ONE place that decides it.

    The logged-in user on the team server; the `label` server's annotator otherwise.
    """
    user = current_user(request)
    if user is not None:
        return user.name
    if team_of(request) is not None:
        raise AccessError("Not logged in: log in first.")
    bench = request.app.state.workbench
    name = bench.annotator or bench.settings.annotator
    if not name:
        raise AccessError("No annotator is chosen yet.")
    return str(name)


# -- the cookie ---------------------------------------------------------------------------


def _signature(secret: bytes, session_id: str) -> str:
    digest = hmac.new(secret, session_id.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def cookie_value(secret: bytes, session_id: str) -> str:
    return f"{session_id}.{_signature(secret, session_id)}"


def session_id_of(secret: bytes, value: str | None) -> str | None:
    """The session id in a cookie, if its signature is this project's; None otherwise."""
    if not value or "." not in value:
        return None
    session_id, _, signature = value.rpartition(".")
    if not hmac.compare_digest(signature.encode(), _signature(secret, session_id).encode()):
        return None
    return session_id


# -- the rule of every route --------------------------------------------------------------

#: Requests that do not count as the user's activity (the page polls them on its own).
PASSIVE = frozenset({("GET", "/api/rescan")})

#: Routes that show other readers' labels: a reviewer or admin who is also a reader of the
#: study is refused them until their own worklist is done (a blinded read stays blinded). The
#: agreement figures are among them: they count each reader's reads per pair, label and case.
SEES_OTHER_READERS = frozenset(
    {
        ("GET", "/api/team/images/{image_id}/readers"),
        ("GET", "/api/agreement"),
        ("GET", "/api/adjudication"),
        ("PUT", "/api/adjudication/{image_id}"),
        ("POST", "/api/outputs/progress"),
        ("POST", "/api/outputs/final"),
        ("GET", "/api/outputs/{which}"),
    }
)


def _reads_to_go(team: TeamServer, reader: str) -> tuple[int, int]:
    """The reads left in `reader`'s worklist, and how many of their first reads are sealed."""
    from clinlabel.labelling.worklist import reader_worklist, sealed_reads

    worklist = reader_worklist(team.project, reader)
    return len(worklist.items) - worklist.done, sealed_reads(team.project, reader)


async def authorize(request: Request) -> None:
    """App-wide dependency of the team server: the caller's login and the route's rule."""
    team = team_of(request)
    if team is None:
        return
    route = request.scope.get("route")
    path = getattr(route, "path", "")
    key = (request.method if request.method != "HEAD" else "GET", str(path))
    rule = ROUTE_RULES.get(key)
    if rule is None or rule == NOBODY:
        raise ForbiddenError("This is not available on the team server.")
    if rule == PUBLIC:
        return
    user = await team.user_of(request, active=key not in PASSIVE)
    claimed = request.headers.get(READER_HEADER)
    if claimed is not None and unquote(claimed) != user.name:
        raise ReaderChangedError(
            f"This page was opened by {unquote(claimed)[:200]}, and {user.name} has logged in "
            "in this browser since: log in again as the page's reader, or reload the page."
        )
    request.state.user = user
    assert isinstance(rule, Role)
    if not user.may(rule):
        raise ForbiddenError(f"Your role ({user.role}) does not allow this; ask an admin.")
    if key in SEES_OTHER_READERS:
        to_go, sealed = await team.base.read(_reads_to_go, team, user.name)
        if to_go:
            # Each sealed first read of a present image has its repeat among the reads to go.
            seals = (
                f" ({sealed} first read(s) sealed until you read their repeats)" if sealed else ""
            )
            raise ForbiddenError(
                f"You are a reader of this study with {to_go} read(s) to go{seals}: other "
                "readers' labels stay hidden from you until your own worklist is done."
            )
        if sealed:
            # Repeats of images gone from the batch: out of the worklist until the files are
            # back, but those first reads stay sealed (their labels are kept and shown here).
            raise ForbiddenError(
                f"You are a reader of this study with {sealed} first read(s) sealed until you "
                "read their repeats (their images are gone from the batch): other readers' "
                "labels stay hidden from you until your own worklist is done."
            )
