"""User accounts, web sessions and failed-login counters of the multi-user server (SQL only)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.engine import Connection, Row

from clinlabel.store.schema import login_failures, users, web_sessions


@dataclass(frozen=True, slots=True)
class UserRow:
    id: int
    name: str
    role: str
    password_hash: str
    disabled: bool
    created_at: str
    changed_at: str


_USER = select(
    users.c.id,
    users.c.name,
    users.c.role,
    users.c.password_hash,
    users.c.disabled,
    users.c.created_at,
    users.c.changed_at,
)


def _row(row: Row[Any, Any, Any, Any, Any, Any, Any]) -> UserRow:
    values = tuple(row)
    return UserRow(
        int(values[0]), values[1], values[2], values[3], bool(values[4]), values[5], values[6]
    )


def find_user(conn: Connection, name: str) -> UserRow | None:
    row = conn.execute(_USER.where(users.c.name == name)).first()
    return None if row is None else _row(row)


def user_by_id(conn: Connection, user_id: int) -> UserRow | None:
    row = conn.execute(_USER.where(users.c.id == user_id)).first()
    return None if row is None else _row(row)


def list_users(conn: Connection) -> list[UserRow]:
    return [_row(row) for row in conn.execute(_USER.order_by(users.c.name))]


def add_user(conn: Connection, *, name: str, role: str, password_hash: str, now: str) -> int:
    result = conn.execute(
        users.insert()
        .values(
            name=name,
            role=role,
            password_hash=password_hash,
            disabled=False,
            created_at=now,
            changed_at=now,
        )
        .returning(users.c.id)
    )
    return int(result.scalar_one())


def set_user(conn: Connection, user_id: int, *, now: str, **values: object) -> None:
    """Change some of `role`, `password_hash`, `disabled` of one user."""
    assert set(values) <= {"role", "password_hash", "disabled"}
    conn.execute(update(users).where(users.c.id == user_id).values(changed_at=now, **values))


def count_admins(conn: Connection) -> int:
    query = select(users.c.id).where(users.c.role == "admin", users.c.disabled.is_(False))
    return len(list(conn.execute(query)))


# -- web sessions ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WebSessionRow:
    user_id: int
    seen_at: float
    ended: bool


def add_web_session(
    conn: Connection, *, id_sha256: str, user_id: int, now: str, seen_at: float, address: str
) -> None:
    conn.execute(
        web_sessions.insert().values(
            id_sha256=id_sha256,
            user_id=user_id,
            created_at=now,
            seen_at=seen_at,
            ended_at=None,
            address=address[:64],
        )
    )


def web_session(conn: Connection, id_sha256: str) -> WebSessionRow | None:
    row = conn.execute(
        select(web_sessions.c.user_id, web_sessions.c.seen_at, web_sessions.c.ended_at).where(
            web_sessions.c.id_sha256 == id_sha256
        )
    ).first()
    return None if row is None else WebSessionRow(int(row[0]), float(row[1]), row[2] is not None)


def touch_web_session(conn: Connection, id_sha256: str, *, seen_at: float) -> None:
    conn.execute(
        update(web_sessions)
        .where(web_sessions.c.id_sha256 == id_sha256, web_sessions.c.ended_at.is_(None))
        .values(seen_at=seen_at)
    )


def end_web_session(conn: Connection, id_sha256: str, *, now: str) -> bool:
    """End one login; True if it was still open (so its end is recorded once)."""
    result = conn.execute(
        update(web_sessions)
        .where(web_sessions.c.id_sha256 == id_sha256, web_sessions.c.ended_at.is_(None))
        .values(ended_at=now)
    )
    return bool(result.rowcount)


def end_user_sessions(conn: Connection, user_id: int, *, now: str) -> int:
    """End every open login of a user (disabled, password reset or role changed)."""
    result = conn.execute(
        update(web_sessions)
        .where(web_sessions.c.user_id == user_id, web_sessions.c.ended_at.is_(None))
        .values(ended_at=now)
    )
    return int(result.rowcount)


# -- failed logins -----------------------------------------------------------------------


def failures(conn: Connection, key: str) -> tuple[int, float] | None:
    row = conn.execute(
        select(login_failures.c.failures, login_failures.c.last_at).where(
            login_failures.c.key == key
        )
    ).first()
    return None if row is None or not row[0] else (int(row[0]), float(row[1]))


def lock_failures(conn: Connection, keys: Sequence[str]) -> list[tuple[int, float] | None]:
    """The failure counts of `keys`, each row locked until the transaction ends.

    What makes count-and-check atomic: a second login for the same account or address (another
    server process on the same PostgreSQL) waits here until this transaction has counted its
    attempt, then reads the new count. A key with no row yet gets one (no failures) first, so
    there is a row to lock; keys are locked in one order, so two logins never deadlock.
    SQLite's write transactions hold the whole database already (BEGIN IMMEDIATE).
    """
    ordered = sorted(set(keys))
    if ordered:
        conn.execute(
            _insert(conn)
            .values([{"key": key, "failures": 0, "last_at": 0.0} for key in ordered])
            .on_conflict_do_nothing(index_elements=[login_failures.c.key])
        )
    found: dict[str, tuple[int, float] | None] = {}
    for key in ordered:
        row = conn.execute(
            select(login_failures.c.failures, login_failures.c.last_at)
            .where(login_failures.c.key == key)
            .with_for_update()
        ).one()
        found[key] = (int(row[0]), float(row[1])) if row[0] else None
    return [found[key] for key in keys]


def _insert(conn: Connection) -> Any:
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(login_failures)
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(login_failures)


def count_failure(conn: Connection, key: str, *, at: float) -> int:
    """One more failure of `key` (one statement: the database adds, not this process)."""
    result = conn.execute(
        update(login_failures)
        .where(login_failures.c.key == key)
        .values(failures=login_failures.c.failures + 1, last_at=at)
        .returning(login_failures.c.failures)
    ).first()
    if result is not None:
        return int(result[0])
    conn.execute(login_failures.insert().values(key=key, failures=1, last_at=at))
    return 1


def set_failures(conn: Connection, key: str, *, failures: int, last_at: float) -> None:
    """The count of a key locked by `lock_failures` (its row exists)."""
    conn.execute(
        update(login_failures)
        .where(login_failures.c.key == key)
        .values(failures=failures, last_at=last_at)
    )


def undo_failure(
    conn: Connection, key: str, *, at: float, before: tuple[int, float] | None, also: int = 0
) -> None:
    """Take back the failure counted for `key` at `at` (the attempt succeeded), and `also` more
    (earlier failures that the success accounts for): the count as it was `before` it, less
    `also`; only as many fewer, if another failure was counted since."""
    found = failures(conn, key)
    if found is None:
        return
    if found[1] == at:
        count, last_at = (0, 0.0) if before is None else before
        count -= also
    else:
        count, last_at = found[0] - 1 - also, found[1]
    if count <= 0:
        forget_failures(conn, key)
    else:
        set_failures(conn, key, failures=count, last_at=last_at)


def forget_failures(conn: Connection, key: str) -> None:
    conn.execute(delete(login_failures).where(login_failures.c.key == key))


# -- what a reviewer sees ----------------------------------------------------------------


def reader_labels(conn: Connection, image_id: int) -> list[dict[str, object]]:
    """Every reader's current labels of one image (whole file and frames), by reader."""
    from clinlabel.store.schema import annotators, labels

    query = (
        select(
            annotators.c.name,
            labels.c.frame,
            labels.c.label,
            labels.c.comment,
            labels.c.labelled_at,
        )
        .join(annotators, annotators.c.id == labels.c.annotator_id)
        .where(labels.c.image_id == image_id)
        .order_by(annotators.c.name, labels.c.frame)
    )
    keys = ("reader", "frame", "label", "comment", "labelled_at")
    return [dict(zip(keys, row, strict=True)) for row in conn.execute(query)]
