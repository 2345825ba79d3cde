"""The background rescan's progress, for the page's status line (`static/js/rescan-status.js`)."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from clinlabel.web.deps import BenchDep

router = APIRouter(prefix="/api/rescan", tags=["rescan"])


class RescanOut(BaseModel):
    """`state`: "none" (no background rescan in this session: the project was just created),
    "waiting", "running" (walking the batch), "applying" (recording what changed), "done",
    "failed" or "stopped". `applied`: the queue changed, so a page must reload its view."""

    state: str
    done: int
    total: int | None
    added: int
    missing: int
    returned: int
    changed: int
    applied: bool
    message: str


@router.get("")
async def get_rescan(bench: BenchDep) -> RescanOut:
    status = bench.rescan_status()
    if status is None:
        return RescanOut(state="none", done=0, total=None, added=0, missing=0, returned=0,
                         changed=0, applied=False, message="")  # fmt: skip
    message = status.message
    if status.state in ("waiting", "running", "applying"):
        counted = f"{status.done:,}" + (f" of {status.total:,}" if status.total else "")
        message = f"Checking the batch for new and missing files… {counted}"
    return RescanOut(
        state=status.state,
        done=status.done,
        total=status.total,
        added=status.added,
        missing=status.missing,
        returned=status.returned,
        changed=status.changed,
        applied=status.applied,
        message=message,
    )
