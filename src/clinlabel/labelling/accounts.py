"""User accounts and logins of the multi-user server (`clinlabel serve`): the use cases.

Every face (the `users` commands, the admin page, the login page) calls these; each change is
written with its audit event in one transaction. Passwords are kept only as argon2id hashes
(argon2-cffi's defaults, RFC 9106's second recommended option). A failed login is an audit
event and makes the next attempt for that account and from that address wait, doubling with
each failure in a row (1 s, 2 s, 4 s, ... up to 5 minutes; forgotten after an hour without one,
and an account's by its next login); the counters are in the database, read and raised under a
row lock, so that several server processes enforce them together.
"""

from __future__ import annotations

import functools
import hashlib
import secrets
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy.engine import Connection

from clinlabel.audit.events import EventKind, NewEvent
from clinlabel.audit.log import append_event, utc_now
from clinlabel.errors import (
    AccessError,
    LoginBusyError,
    LoginThrottledError,
    NotFoundError,
    ValidationError,
)
from clinlabel.labelling.project import Project
from clinlabel.labelling.service import clean_annotator_name
from clinlabel.store import users as user_rows
from clinlabel.store.store import Store


class Role(StrEnum):
    """What a user may do: label (annotator), also see every reader (reviewer), also manage
    users and write exports (admin)."""

    ANNOTATOR = "annotator"
    REVIEWER = "reviewer"
    ADMIN = "admin"


ROLES = tuple(role.value for role in Role)
MIN_PASSWORD = 10
MAX_PASSWORD = 1024
MAX_WAIT_S = 300.0
"""The longest a login is made to wait after failures in a row."""
FORGET_AFTER_S = 3600.0
"""Failures are forgotten after this long without another: the address of an office behind one
router is not slowed for the typos of an hour ago (a success forgets only its own account's)."""
BUSY_S = 10.0
"""An attempt being checked for longer than this is taken for one whose server stopped."""
BUSY_RETRY_S = 0.05
IDLE_MINUTES = 15.0
"""Automatic log-off after this long without activity, unless `serve --idle-minutes` says."""
SEEN_EVERY_S = 15.0
"""A login's last activity is written at most this often (one write per request would be a
second writer on every read of the page)."""

_hasher = PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    """Checked against when the name is unknown, so a wrong name costs the same time as a wrong
    password and the answer's delay does not tell which accounts exist. Made at the first
    login, not at import: an argon2 hash costs about 0.4 s, which every `clinlabel label`
    launch paid before its first image (the module is imported by the web layer)."""
    return _hasher.hash(secrets.token_urlsafe(16))


def prepare_logins() -> None:
    """Make the unknown name's hash before the team server answers, so that the first login
    with an unknown name costs no more than a wrong password either."""
    _dummy_hash()


@dataclass(frozen=True, slots=True)
class User:
    id: int
    name: str
    role: Role
    disabled: bool

    def may(self, role: Role) -> bool:
        """Whether this user holds `role` or a higher one (admin > reviewer > annotator)."""
        return ROLES.index(self.role) >= ROLES.index(role)


@dataclass(frozen=True, slots=True)
class Login:
    """A login that succeeded: the user and the session id for the cookie (secret)."""

    user: User
    session_id: str


def _user(row: user_rows.UserRow) -> User:
    return User(row.id, row.name, Role(row.role), row.disabled)


def parse_role(text: str) -> Role:
    try:
        return Role(text.strip().lower())
    except ValueError:
        raise ValidationError(f"Unknown role {text!r}: choose one of {', '.join(ROLES)}.") from None


def check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise ValidationError(f"The password is shorter than {MIN_PASSWORD} characters.")
    if len(password) > MAX_PASSWORD:
        raise ValidationError(f"The password is longer than {MAX_PASSWORD} characters.")
    if password != password.strip():
        raise ValidationError("The password starts or ends with a space (a copying slip?).")
    return password


#: Scripts that one person's name mixes legitimately (Japanese writes kanji and kana together).
_EAST_ASIAN = frozenset({"CJK", "HIRAGANA", "KATAKANA", "HANGUL"})


def _script(ch: str) -> str:
    word = unicodedata.name(ch, "?").split(" ")[0]
    return "CJK" if word in _EAST_ASIAN else word


def clean_user_name(name: str) -> str:
    """A user's name as kept (NFC, spaces tidied), refused when it could pass for another.

    A name is what the trail, the dashboard and the adjudication show as the reader: invisible
    or control characters ("ann" + U+200B, a terminal escape) and letters of two alphabets
    ("ann" with a Cyrillic "а") would let two accounts look the same.
    """
    cleaned = unicodedata.normalize("NFC", clean_annotator_name(name))
    for ch in cleaned:
        if unicodedata.category(ch)[0] == "C":
            raise ValidationError(
                f"The user name holds an invisible or control character (U+{ord(ch):04X}).",
                hint="Type the name plainly.",
            )
    scripts = sorted({_script(ch) for ch in cleaned if ch.isalpha()})
    if len(scripts) > 1:
        raise ValidationError(
            f"The user name mixes alphabets ({', '.join(scripts)}): it could pass for another "
            "name.",
            hint="Write the name in one alphabet.",
        )
    return cleaned


def _look_alike(name: str) -> str:
    """What two names that a reader cannot tell apart share (case and width folded)."""
    return unicodedata.normalize("NFKC", name).casefold()


def session_key(session_id: str) -> str:
    """What the database keeps of a session id: its SHA-256 (a copy of the database, or a
    backup, then logs nobody in)."""
    return hashlib.sha256(session_id.encode()).hexdigest()


class Accounts:
    """The users of one project and their logins."""

    def __init__(
        self,
        store: Store,
        *,
        idle_s: float = IDLE_MINUTES * 60,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.idle_s = idle_s
        self._clock = clock

    # -- managing users --------------------------------------------------------------------

    def list(self) -> list[User]:
        with self.store.read() as conn:
            return [_user(row) for row in user_rows.list_users(conn)]

    def add(self, name: str, role: Role, password: str, *, actor: str) -> User:
        name = clean_user_name(name)
        hashed = _hasher.hash(check_password(password))
        with self.store.write() as conn:
            if user_rows.find_user(conn, name) is not None:
                raise ValidationError(f"There is a user called {name!r} already.")
            alike = [
                row.name
                for row in user_rows.list_users(conn)
                if _look_alike(row.name) == _look_alike(name)
            ]
            if alike:
                raise ValidationError(
                    f"{name!r} looks like the user {alike[0]!r} (only case or width differ): "
                    "the trail and the dashboard could not tell them apart."
                )
            now = utc_now()
            user_id = user_rows.add_user(
                conn, name=name, role=role.value, password_hash=hashed, now=now
            )
            self._event(conn, EventKind.USER_ADDED, actor, {"user": name, "role": role.value})
        return User(user_id, name, role, False)

    def disable(self, name: str, *, actor: str) -> User:
        """No more logins for `name`; their open logins end now. Their labels stay."""
        with self.store.write() as conn:
            row = self._find(conn, name)
            if row.disabled:
                return _user(row)
            if row.role == Role.ADMIN and user_rows.count_admins(conn) <= 1:
                raise ValidationError(
                    f"{row.name} is the last admin: add another admin before disabling them."
                )
            now = utc_now()
            user_rows.set_user(conn, row.id, now=now, disabled=True)
            ended = user_rows.end_user_sessions(conn, row.id, now=now)
            self._event(
                conn, EventKind.USER_DISABLED, actor, {"user": row.name, "logins_ended": ended}
            )
            return User(row.id, row.name, Role(row.role), True)

    def enable(self, name: str, *, actor: str) -> User:
        with self.store.write() as conn:
            row = self._find(conn, name)
            if row.disabled:
                user_rows.set_user(conn, row.id, now=utc_now(), disabled=False)
                self._event(conn, EventKind.USER_ENABLED, actor, {"user": row.name})
            return User(row.id, row.name, Role(row.role), False)

    def reset_password(self, name: str, password: str, *, actor: str) -> User:
        """A new password; every open login of the user ends (a stolen session stops too)."""
        hashed = _hasher.hash(check_password(password))
        with self.store.write() as conn:
            row = self._find(conn, name)
            now = utc_now()
            user_rows.set_user(conn, row.id, now=now, password_hash=hashed)
            ended = user_rows.end_user_sessions(conn, row.id, now=now)
            user_rows.forget_failures(conn, f"user:{row.name}")
            self._event(
                conn, EventKind.PASSWORD_RESET, actor, {"user": row.name, "logins_ended": ended}
            )
            return _user(row)

    def set_role(self, name: str, role: Role, *, actor: str) -> User:
        with self.store.write() as conn:
            row = self._find(conn, name)
            if row.role == role.value:
                return _user(row)
            if row.role == Role.ADMIN and not row.disabled and user_rows.count_admins(conn) <= 1:
                raise ValidationError(
                    f"{row.name} is the last admin: make another user admin first."
                )
            now = utc_now()
            user_rows.set_user(conn, row.id, now=now, role=role.value)
            # A login carries the role it was made with no further than this: the next request
            # reads the new role, and an open login of a demoted user ends.
            ended = user_rows.end_user_sessions(conn, row.id, now=now)
            self._event(
                conn,
                EventKind.ROLE_CHANGED,
                actor,
                {"user": row.name, "old": row.role, "new": role.value, "logins_ended": ended},
            )
            return User(row.id, row.name, role, row.disabled)

    # -- logging in and out ----------------------------------------------------------------

    def login(self, name: str, password: str, *, address: str) -> Login:
        """Check a name and password; a new login, or AccessError (audited, and slowed)."""
        name = unicodedata.normalize("NFC", " ".join(name.split())[:200])
        user_key, address_key = keys = (f"user:{name}", f"addr:{address}")
        checking = tuple(f"busy:{key}" for key in keys)
        now = self._clock()
        with self.store.write() as conn:
            found = user_rows.lock_failures(conn, (*keys, *checking))
            if any(busy is not None and now - busy[1] < BUSY_S for busy in found[2:]):
                # Another attempt for this account or from this address is between its count
                # and its answer: this one is checked after it (`login` of web.routes.login
                # retries), so colleagues behind one router logging in at once all get in,
                # and guesses sent at once are each slowed by the one before.
                raise LoginBusyError(
                    "Another login from here is being checked: try again in a second.",
                    retry_after_s=BUSY_RETRY_S,
                )
            before = [self._recent(failures, now) for failures in found[:2]]
            wait = max(self._wait(failures, now) for failures in before)
            if wait <= 0:
                # Counted as a failure before the password is checked, in the transaction that
                # checked the wait (a success takes it back): guesses sent all at once, each
                # checked while the others' argon2 runs, would otherwise all pass the wait.
                for key, failures in zip(keys, before, strict=True):
                    count = 1 if failures is None else failures[0] + 1
                    user_rows.set_failures(conn, key, failures=count, last_at=now)
                for key in checking:
                    user_rows.set_failures(conn, key, failures=1, last_at=now)
            row = user_rows.find_user(conn, name) if name else None
        if wait > 0:
            raise LoginThrottledError(
                f"Too many failed logins: try again in {int(wait) + 1} seconds.",
                retry_after_s=wait,
            )
        try:
            reason = self._refusal(row, password[:MAX_PASSWORD])
        except BaseException:
            with self.store.write() as conn:
                for key in checking:
                    user_rows.forget_failures(conn, key)
            raise
        with self.store.write() as conn:
            for key in checking:
                user_rows.forget_failures(conn, key)
            if reason is not None or row is None:
                self._event(
                    conn,
                    EventKind.LOGIN_FAILED,
                    name or "(no name)",
                    {"reason": reason, "address": address},
                )
            else:
                user_rows.forget_failures(conn, user_key)
                # The address forgets this attempt and this account's own failures (its user's
                # typos), not the others: a success clearing them all would let someone with an
                # account of their own guess a common password at every other account from one
                # address, logging in to their own between guesses to reset the address's wait.
                own = 0 if before[0] is None else before[0][0]
                user_rows.undo_failure(conn, address_key, at=now, before=before[1], also=own)
                session_id = secrets.token_urlsafe(32)
                user_rows.add_web_session(
                    conn,
                    id_sha256=session_key(session_id),
                    user_id=row.id,
                    now=utc_now(),
                    seen_at=now,
                    address=address,
                )
                self._event(conn, EventKind.LOGIN, row.name, {"address": address})
                return Login(_user(row), session_id)
        # The same words whatever was wrong: the trail says which, not the page.
        raise AccessError("Wrong name or password (or the account is disabled).")

    def logout(self, session_id: str, *, reason: str = "logout") -> bool:
        """End a login (the Log out button, or idle); True if it was open."""
        key = session_key(session_id)
        with self.store.write() as conn:
            found = user_rows.web_session(conn, key)
            if found is None or not user_rows.end_web_session(conn, key, now=utc_now()):
                return False
            row = user_rows.user_by_id(conn, found.user_id)
            self._event(
                conn, EventKind.LOGOUT, row.name if row else "(unknown)", {"reason": reason}
            )
            return True

    def resolve(self, session_id: str, *, active: bool = True) -> User:
        """The user of an open login, which this request keeps alive (`active`).

        AccessError when there is none: never was, logged out, or ended by idleness now
        (recorded then as a logout with the reason "idle").
        """
        key = session_key(session_id)
        now = self._clock()
        with self.store.read() as conn:
            found = user_rows.web_session(conn, key)
            row = None if found is None else user_rows.user_by_id(conn, found.user_id)
        if found is None or found.ended or row is None or row.disabled:
            raise AccessError("Not logged in (or the login has ended): log in again.")
        if now - found.seen_at > self.idle_s:
            self.logout(session_id, reason="idle")
            raise AccessError(
                f"Logged off after {round(self.idle_s / 60)} minutes without activity: "
                "log in again; nothing typed or waiting to be saved is lost."
            )
        if active and now - found.seen_at >= SEEN_EVERY_S:
            with self.store.write() as conn:
                user_rows.touch_web_session(conn, key, seen_at=now)
        return _user(row)

    # -- internals -------------------------------------------------------------------------

    @staticmethod
    def _recent(failures: tuple[int, float] | None, now: float) -> tuple[int, float] | None:
        """Failures in a row, unless the last was long ago (FORGET_AFTER_S): forgotten then."""
        if failures is None or now - failures[1] > FORGET_AFTER_S:
            return None
        return failures

    @staticmethod
    def _wait(failures: tuple[int, float] | None, now: float) -> float:
        if failures is None:
            return 0.0
        count, last_at = failures
        delay = min(2.0 ** (count - 1), MAX_WAIT_S)
        return max(0.0, last_at + delay - now)

    @staticmethod
    def _refusal(row: user_rows.UserRow | None, password: str) -> str | None:
        """Why a login is refused (for the trail), or None; always one argon2 check."""
        try:
            _hasher.verify(row.password_hash if row is not None else _dummy_hash(), password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return "unknown user" if row is None else "wrong password"
        if row is None:
            return "unknown user"
        if row.disabled:
            return "disabled"
        return None

    def _find(self, conn: Connection, name: str) -> user_rows.UserRow:
        row = user_rows.find_user(conn, " ".join(name.split()))
        if row is None:
            raise ValidationError(f"There is no user called {name!r}.")
        return row

    @staticmethod
    def _event(conn: Connection, kind: EventKind, actor: str, data: dict[str, object]) -> None:
        append_event(conn, NewEvent(kind, actor[:200], data))


def readers_labels(project: Project, image_id: int) -> list[dict[str, object]]:
    """Every reader's labels of an image: what a reviewer compares (never shown to annotators)."""
    from clinlabel.store import images as image_rows

    with project.store.read() as conn:
        if image_rows.image_file_info(conn, image_id) is None:
            raise NotFoundError(f"There is no image {image_id} in this project.")
        return user_rows.reader_labels(conn, image_id)
