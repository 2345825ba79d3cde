"""Who may use the reading-study routes, declared in one place.

Each route names the role it needs through the dependencies below (`Reader`, `Reviewer`,
`Admin`), which give the acting person's name: the logged-in user of a team server (`clinlabel
serve`), or the local annotator of `clinlabel label`, who holds every role (a project on one
laptop has no one else). The team server checks the role of every route before it runs
(`web.auth.ROUTE_RULES`, where these rules are written).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from clinlabel.labelling.accounts import Role
from clinlabel.web.auth import ROUTE_RULES, current_reader

#: Every reading-study route and the least role it needs: the team server's own rules for the
#: study's pages and calls (one table, `web.auth.ROUTE_RULES`; the authorisation tests read this).
STUDY_PATHS: tuple[str, ...] = (
    "/api/study",
    "/adjudicate",
    "/api/adjudication",
    "/dashboard",
    "/api/dashboard",
    "/agreement",
    "/api/agreement",
)
ROUTE_ROLES: dict[tuple[str, str], Role] = {
    key: rule
    for key, rule in ROUTE_RULES.items()
    if isinstance(rule, Role) and key[1].startswith(STUDY_PATHS)
}


def _acting_person(request: Request) -> str:
    """The person making the request (`web.auth.current_reader`: the one place that decides)."""
    return current_reader(request)


# The role itself is checked app-wide by the team server before the route runs (`authorize`).
Reader = Annotated[str, Depends(_acting_person)]
Reviewer = Annotated[str, Depends(_acting_person)]
Admin = Annotated[str, Depends(_acting_person)]
