"""Who may use the reading-study routes, declared in one place.

Each route names the role it needs (`READER`, `REVIEWER`, `ADMIN`) through the dependencies
below. Today clinlabel serves one local annotator (the session of `clinlabel label`), who is
admitted to every role: a project on one laptop has no one else. A team server (`clinlabel
serve`, with users and roles) replaces `_acting_person` with its logged-in user and checks the
role here, and every route follows, since none checks a role itself.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from typing import Annotated

from fastapi import Depends

from clinlabel.web.deps import BenchDep


class Role(StrEnum):
    READER = "annotator"
    """Labels their own worklist; never sees another reader's label."""
    REVIEWER = "reviewer"
    """Sees every reader's labels and adjudicates; watches the dashboard."""
    ADMIN = "admin"
    """Manages assignments, settings and exports."""


#: Every reading-study route and the role it needs (the authorisation tests read this table).
ROUTE_ROLES: dict[tuple[str, str], Role] = {
    ("GET", "/api/study"): Role.READER,
    ("GET", "/api/study/worklist"): Role.READER,
    ("PUT", "/api/study/worklist/{assignment_id}/read"): Role.READER,
    ("GET", "/api/study/cases/{case}"): Role.READER,
    ("PUT", "/api/study/cases/{case}/diagnosis"): Role.READER,
    ("GET", "/api/adjudication"): Role.REVIEWER,
    ("PUT", "/api/adjudication/{image_id}"): Role.REVIEWER,
    ("GET", "/api/dashboard"): Role.REVIEWER,
}


def _acting_person(bench: BenchDep) -> str:
    """The person making the request: the local session's annotator (no logins yet)."""
    return bench.session.annotator


def _admits(role: Role) -> Callable[[str], str]:
    def person(name: Annotated[str, Depends(_acting_person)]) -> str:
        # The local annotator holds every role (see the module's docstring).
        return name

    person.__name__ = f"admit_{role.value}"
    return person


Reader = Annotated[str, Depends(_admits(Role.READER))]
Reviewer = Annotated[str, Depends(_admits(Role.REVIEWER))]
Admin = Annotated[str, Depends(_admits(Role.ADMIN))]
