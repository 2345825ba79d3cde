"""The one place where the core's errors become HTTP statuses and JSON bodies."""

from __future__ import annotations

import errno
import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from clinlabel.errors import (
    AccessError,
    AuditError,
    ClinlabelError,
    DatasetError,
    DecodeError,
    ForbiddenError,
    ImageFileError,
    ImportFileError,
    LoginThrottledError,
    OutputError,
    ProjectInUseError,
    ReaderChangedError,
    SchemaTooNewError,
    StaleVersionError,
    StoreError,
    StudyAssignedError,
    StudyRuleError,
    ValidationError,
)
from clinlabel.errors import NotFoundError as CoreNotFoundError
from clinlabel.web.body_limit import BodyTooLargeError

_log = logging.getLogger("clinlabel.web")
_CHOSEN_PATH_ERRORS = frozenset(
    {
        errno.EACCES,
        errno.EPERM,
        errno.EROFS,
        errno.ENOENT,
        errno.ENOTDIR,
        errno.EISDIR,
        errno.EEXIST,
        errno.ENAMETOOLONG,
    }
)


class NotStartedError(ClinlabelError):
    """The page asked for labelling work before an output folder and annotator were chosen."""


class OtherProjectError(ClinlabelError):
    """The start page chose a new folder for a batch already labelled into another project;
    the page asks the annotator before starting a second one (`OpenSessionIn.other_project`)."""


class NotFoundError(CoreNotFoundError):
    """An image id not in this project, or an output not written yet."""


def status_for(exc: ClinlabelError) -> tuple[int, str]:
    """HTTP status and a short machine-readable kind for a core error."""
    if isinstance(exc, CoreNotFoundError):
        return 404, "not_found"
    if isinstance(exc, LoginThrottledError):
        return 429, "login_throttled"
    if isinstance(exc, AccessError):
        return 401, "login"
    if isinstance(exc, ForbiddenError):
        return 403, "forbidden"
    if isinstance(exc, StaleVersionError):
        # Another tab saved this reader's label since this one read it: the answer carries
        # the stored value, which the page shows instead of overwriting it.
        return 409, "stale"
    if isinstance(exc, NotStartedError):
        return 409, "not_started"
    if isinstance(exc, OtherProjectError):
        return 409, "other_project"
    if isinstance(exc, StudyAssignedError):
        # Not judged: the page keeps a label change refused so and sends it after its reload.
        return 409, "study_assigned"
    if isinstance(exc, StudyRuleError):
        # The request is well formed; the study's state does not allow it yet.
        return 409, "study_rule"
    if isinstance(exc, ImageFileError):
        # The request was fine; the file on disk no longer is what the project holds.
        return 409, "image_file"
    if isinstance(exc, ValidationError | ImportFileError | DatasetError):
        return 422, "validation"
    if isinstance(exc, DecodeError):
        return 422, "decode"
    if isinstance(exc, ProjectInUseError | SchemaTooNewError):
        return 409, "in_use"
    if isinstance(exc, StoreError):
        # Usually a busy or unreachable database: worth retrying, so 503.
        return 503, "store"
    if isinstance(exc, OutputError):
        cause = exc.__cause__
        if isinstance(cause, OSError):
            if cause.errno == errno.ENOSPC:
                return 507, "output"
            # A folder the user chose that cannot be used: theirs to change, not worth a retry.
            return (422 if cause.errno in _CHOSEN_PATH_ERRORS else 500), "output"
        # No OS error behind it: a rule was broken (an output folder inside the batch, ...).
        return 422, "output"
    if isinstance(exc, AuditError):
        return 500, "audit"
    return 500, "error"


async def _handle(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ClinlabelError)
    status, kind = status_for(exc)
    if status >= 500:
        # The page shows and retries these; the console keeps the cause for whoever runs it.
        _log.warning("%s %s -> %d: %s", request.method, request.url.path, status, exc)
    body: dict[str, object] = {"error": kind, "message": str(exc)}
    headers: dict[str, str] = {}
    if isinstance(exc, StaleVersionError):
        body["current"] = exc.current
    if isinstance(exc, LoginThrottledError):
        headers["Retry-After"] = str(int(exc.retry_after_s) + 1)
    elif isinstance(exc, ReaderChangedError):
        # The page covers itself and offers to log its reader in again (team-session.js).
        headers["X-Clinlabel-Refused"] = "reader"
    elif isinstance(exc, AccessError):
        # The page keeps what is typed and waiting, and asks for the password (team-session.js).
        headers["X-Clinlabel-Refused"] = "login"
    return JSONResponse(body, status_code=status, headers=headers)


async def _invalid_request(request: Request, exc: Exception) -> JSONResponse:
    """A request that breaks the API's own rules: what is wrong, never the input echoed back.

    FastAPI's default answer repeats every invalid value (a 10,000-character comment, a huge
    number); the page needs only the reason.
    """
    assert isinstance(exc, RequestValidationError)
    problems = []
    for error in exc.errors():
        where = ".".join(str(part) for part in error.get("loc", ()) if part not in _LOCATIONS)
        message = str(error.get("msg", "invalid"))
        problems.append(f"{where}: {message}" if where else message)
    text = "; ".join(problems[:5]) or "The request is not valid."
    return JSONResponse({"error": "validation", "message": text}, status_code=422)


async def _too_large(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, BodyTooLargeError)
    return JSONResponse(
        {"error": "too_large", "message": exc.detail},
        status_code=413,
        headers={"Connection": "close"},
    )


_LOCATIONS = frozenset({"body", "path", "query", "header", "cookie"})


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ClinlabelError, _handle)
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_exception_handler(BodyTooLargeError, _too_large)
