"""A Ctrl+C at a command's commit, simulated: SQLite and psycopg commit in C, so a Ctrl+C
pressed during the commit is raised once the commit has returned (the change saved)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import inspect

from clinlabel.store.store import Store


def _events(conn: Any) -> int:
    if not inspect(conn).has_table("events"):
        return 0  # a new project's first write: its schema
    return int(conn.exec_driver_sql("SELECT count(*) FROM events").scalar_one())


def ctrl_c_at_the_commit(monkeypatch: pytest.MonkeyPatch, *, landed: bool) -> None:
    """KeyboardInterrupt once, at the commit of the first write that appends an event: right
    after it returns (`landed`), or right before it (the transaction then rolls back)."""
    real_write = Store.write
    fired: list[bool] = []

    @contextlib.contextmanager
    def write(self: Store) -> Iterator[Any]:
        with real_write(self) as conn:
            before = _events(conn)
            yield conn
            appended = _events(conn) > before and not fired
            if appended and not landed:
                fired.append(True)
                raise KeyboardInterrupt  # the last statement written, the commit not begun
        if appended and landed:
            fired.append(True)
            raise KeyboardInterrupt  # the commit returned, then the signal's handler ran

    monkeypatch.setattr(Store, "write", write)
