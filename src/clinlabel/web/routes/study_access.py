"""Who may use the reading-study routes, declared in one place.

Each route names the role it needs through the dependencies below (`Reader`, `Reviewer`,
`Admin`), which give the acting person's name: the logged-in user of a team server (`clinlabel
serve`), or the local annotator of `clinlabel label`, who holds every role (a project on one
laptop has no one else). The team server checks the role of every route before it runs
(`web.auth.ROUTE_RULES`, which holds these same rules; a test keeps the two equal).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from clinlabel.labelling.accounts import Role
from clinlabel.web.auth import current_reader

#: Every reading-study route and the least role it needs (the authorisation tests read this).
ROUTE_ROLES: dict[tuple[str, str], Role] = {
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
}


def _acting_person(request: Request) -> str:
    """The person making the request (`web.auth.current_reader`: the one place that decides)."""
    return current_reader(request)


# The role itself is checked app-wide by the team server before the route runs (`authorize`).
Reader = Annotated[str, Depends(_acting_person)]
Reviewer = Annotated[str, Depends(_acting_person)]
Admin = Annotated[str, Depends(_acting_person)]
