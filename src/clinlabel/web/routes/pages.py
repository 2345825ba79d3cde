"""The single HTML page (the start form and the labelling screen are two states of it)."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, Response

STATIC = Path(__file__).resolve().parent.parent / "static"

router = APIRouter()

# A one-colour square, so browsers do not log a failed /favicon.ico on every start.
_FAVICON = (
    b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16">'
    b'<rect width="16" height="16" rx="3" fill="#2f6fb3"/></svg>'
)


@router.get("/", include_in_schema=False)
def index() -> FileResponse:
    # no-cache: a restarted server (new token, new code) must never be answered from a stale page.
    return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})


@router.get("/favicon.ico", include_in_schema=False)
def favicon() -> Response:
    return Response(_FAVICON, media_type="image/svg+xml")
