"""One exception tree for the whole application.

Every error a user can cause is a `ClinlabelError` whose message says what happened and what to do.
Each interface turns them into output in one place (the CLI: one line and exit status 2; the web
face: an HTTP status and a JSON body); nothing below the interfaces prints or exits.
"""

from __future__ import annotations


class ClinlabelError(Exception):
    """Base of every error that is the user's to fix (bad input, busy project, ...)."""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} {self.hint}" if self.hint else self.message


class SavedThenInterrupted(KeyboardInterrupt):
    """Ctrl+C after a command's work was committed (its files in place, their events written):
    raised as the commit returned (SQLite and psycopg commit in C), or while the command went
    on after it (the audit check beside an export, the project closing, the outcome printed).
    Still an interruption for every caller; the CLI says what was saved in place of "nothing
    was changed" (`labelling.saving`)."""

    def __init__(self, saved: str, *, unfinished: str | None = None) -> None:
        super().__init__(saved)
        self.saved = saved
        self.unfinished = unfinished
        """What the interruption cut short, if it matters to the user."""


class DatasetError(ClinlabelError):
    """The batch folder is missing, unreadable or not in the expected layout."""


class DecodeError(ClinlabelError):
    """An image file cannot be decoded (corrupt, truncated, no pixel data, unsupported)."""


class StoreError(ClinlabelError):
    """The project database cannot be opened or written."""


class ProjectInUseError(StoreError):
    """Another process holds the project."""


class SchemaTooNewError(StoreError):
    """The project was written by a newer clinlabel than this one."""


class AuditError(ClinlabelError):
    """The audit trail is broken or an event could not be recorded."""


class ImageFileError(ClinlabelError):
    """An image's file cannot be used now: gone from the batch since it was shown, unreadable,
    or replaced by a link that leads outside the batch (clinlabel never follows one there)."""


class ValidationError(ClinlabelError):
    """A request breaks a rule: unknown label, NA without a comment, unknown image, ..."""


class StudyRuleError(ClinlabelError):
    """A reading study's rule refuses the request now (a locked case not yet open, a case
    diagnosis before every image of the case is labelled); it may be allowed later."""


class StudyAssignedError(StudyRuleError):
    """A reading study was assigned while this session ran and the page has not read its
    session since: the request was not judged (a label in it is to be sent again, not dropped)."""


class ImportFileError(ClinlabelError):
    """A labels CSV to import has the wrong columns, encoding or content."""


class OutputError(ClinlabelError):
    """An output file cannot be written where the user asked (inside the batch, disk full, ...)."""


class TooLargeError(DecodeError):
    """An image whose header declares more pixels than the memory budget allows.

    Raised from the header, before any pixel is read or inflated, so a small compressed file that
    claims a huge image costs nothing; a viewer may remember it and not try again until the file
    changes.
    """


class AccessError(ClinlabelError):
    """Not logged in, a wrong name or password, or a login that has ended (multi-user server)."""


class LoginThrottledError(AccessError):
    """Too many failed logins for an account or from an address: wait before trying again."""

    def __init__(self, message: str, *, retry_after_s: float, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.retry_after_s = retry_after_s


class LoginBusyError(LoginThrottledError):
    """Another login for the same account or from the same address is being checked right now:
    this one is checked after it (the server retries it by itself for a while)."""


class ReaderChangedError(AccessError):
    """A page opened for one user asks as another: someone else has logged in in the same
    browser since (the cookie is theirs now). Refused, so nothing of the page's reader is sent
    or shown under the new one."""


class NotFoundError(ClinlabelError):
    """Something asked for by its id that is not in the project."""


class ForbiddenError(ClinlabelError):
    """The logged-in user's role does not allow this (an annotator managing users, say)."""


class StaleVersionError(ClinlabelError):
    """A change based on an older version of a label than the one stored (another tab saved
    since); `current` is the stored value, which the page shows instead of overwriting it."""

    def __init__(
        self, message: str, *, current: dict[str, object], hint: str | None = None
    ) -> None:
        super().__init__(message, hint=hint)
        self.current = current
