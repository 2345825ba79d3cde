"""The review table: one window of rows at a time, sorted and filtered by the core.

The page never loads the whole queue (it may hold hundreds of thousands of images): it asks for
the rows it is about to show. `sort` is checked against the core's whitelist by the schema here,
so nothing from the request reaches SQL but bound values.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request

from clinlabel.labelling.accounts import Role
from clinlabel.store.review import MAX_REVIEW_LIMIT, ReviewQuery
from clinlabel.web.auth import current_user, team_of
from clinlabel.web.deps import BenchDep
from clinlabel.web.schemas import ReviewPageOut

router = APIRouter(prefix="/api", tags=["review"])

# The same names as clinlabel.store.review.REVIEW_SORTS (a test holds them equal): a Literal
# makes FastAPI refuse anything else with 422 before the core is asked.
SortKey = Literal[
    "position", "case", "visit", "file", "label", "comment", "frames", "annotator", "seconds"
]


@router.get("/review")
async def review(
    request: Request,
    bench: BenchDep,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1)] = 100,
    sort: SortKey = "position",
    dir: Literal["asc", "desc"] = "asc",
    label: Annotated[str | None, Query(max_length=200)] = None,
    unlabelled: bool = False,
    case: Annotated[str | None, Query(max_length=4096)] = None,
    after: Annotated[int | None, Query(ge=1)] = None,
    after_key: Annotated[str | None, Query(max_length=64)] = None,
    total: Annotated[int | None, Query(ge=0)] = None,
    total_key: Annotated[str | None, Query(max_length=64)] = None,
    regions: Literal["with", "without"] | None = None,
) -> ReviewPageOut:
    """Rows `offset`..`offset+limit-1` of the table in the order asked (limit clamped).

    `after` (the position of the row just before `offset` in this order, when the page holds it)
    lets the core start the window there instead of stepping over `offset` rows, with
    `after_key` (that row's `cursor` as the page read it) while the row still has the place it
    had then: if it moved (relabelled, its comment edited, time added), the window is found by
    its offset. Without `after_key` the cursor is trusted, as before rows carried one. `total`
    with `total_key` (as an earlier window answered them) spares counting again while nothing
    has changed since; without `total_key` the total is counted. Both only make it faster: the
    rows are the same.
    """
    session = bench.session
    query = ReviewQuery(
        offset=offset,
        limit=min(limit, MAX_REVIEW_LIMIT),
        sort=sort,
        descending=dir == "desc",
        # An empty value from a form means "no filter".
        label=label or None,
        unlabelled=unlabelled,
        case=case or None,
        after=after,
        after_key=after_key,
        total=total,
        total_key=total_key,
        regions=None if regions is None else regions == "with",
    )
    page = await bench.read(session.review, query, readers=_sees_readers(request))
    return ReviewPageOut.of(page, offset=offset)


def _sees_readers(request: Request) -> bool:
    """Whether the table may show every reader's label of its rows (a reading study): a
    reviewer or admin of the team server; on `clinlabel label`, its one user, admitted to every
    role. A reader of the study sees their own worklist only, whatever their role (the session
    decides that), so their reads stay blind."""
    if team_of(request) is None:
        return True
    user = current_user(request)
    return user is not None and user.may(Role.REVIEWER)


@router.get("/review/cases")
async def review_cases(bench: BenchDep) -> list[str]:
    """Case names for the case filter, in queue (natural) order."""
    session = bench.session
    return await bench.read(session.review_cases)
