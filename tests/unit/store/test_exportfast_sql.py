"""The queries `clinlabel export --csv` of an SQLite project runs as text, without SQLAlchemy
(`store.csv_export_sql`), are the store's own queries compiled for SQLite: a change to those
(`store.events`, `store.exports`) fails here until the text is written again.

    PYTHONPATH=src python tests/unit/store/test_exportfast_sql.py   # rewrites the module
    ruff format src/clinlabel/store/csv_export_sql.py
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Integer, bindparam
from sqlalchemy.dialects import sqlite
from sqlalchemy.sql import Select

from clinlabel.store import csv_export_sql
from clinlabel.store import events as event_rows
from clinlabel.store import exports as export_rows

MODULE = Path(csv_export_sql.__file__)

_HEAD = '''# ruff: noqa: E501
"""The store's queries that `clinlabel export --csv` of an SQLite project runs, compiled for
SQLite as text (`store.csv_export` runs them with the standard library's sqlite3, so that
command never imports SQLAlchemy). Written by `tests/unit/store/test_exportfast_sql.py` from
`store.events` and `store.exports`, which stay the queries' one definition: that test fails
when either changes and this text was not written again. Do not edit by hand."""

from __future__ import annotations

from typing import NamedTuple


class Query(NamedTuple):
    sql: str
    params: tuple[object, ...]
    slots: tuple[str, ...] = ()
    """For each of `params`, the name of the value given at run time in its place ('': none)."""

    def given(self, **values: object) -> tuple[object, ...]:
        """The parameters with the values given at run time (an event id, a range of ids)."""
        if not self.slots:
            return self.params
        return tuple(values[s] if s else p for s, p in zip(self.slots, self.params, strict=True))

'''


AFTER, FIRST, LAST, START = "after", "first", "last", "start"
"""The bound parameters given at run time (`csv_export_sql.Query.slots`)."""


def _sources() -> dict[str, Select[Any]]:
    after = bindparam(AFTER, 0, type_=Integer)
    first, last = bindparam(FIRST, 0, type_=Integer), bindparam(LAST, 0, type_=Integer)
    start = bindparam(START, 0, type_=Integer)
    scan, queue = event_rows.queue_queries("sqlite")
    named, stale = event_rows.label_mismatch_queries("sqlite")
    named_after, stale_after = event_rows.label_mismatch_queries("sqlite", after=after)
    present, gone = export_rows.label_queries(frames=False, detailed=False)
    return {
        "NEWEST_SCAN": scan,
        "QUEUE": queue,
        "NAMED_LABEL": named,
        "STALE_LABEL": stale,
        "NAMED_LABEL_AFTER": named_after,
        "STALE_LABEL_AFTER": stale_after,
        "LABELS_TEXT": event_rows.label_digest_query(None, first, last),
        "OLDER_LABELS_TEXT": event_rows.label_digest_query(after, first, last),
        "NEXT_LABEL_ID": event_rows.next_label_id_query(start),
        "LABEL_COUNTS": event_rows.label_count_query(after),
        "PRESENT_LABELS": present,
        "GONE_LABELS": gone,
    }


def _compiled(query: Select[Any]) -> tuple[object, ...]:
    """(sql, params) as literal as SQLAlchemy renders them; a query taking an event id
    (`AFTER`) has every value bound, and the event id's place in them."""
    if not {AFTER, FIRST, LAST, START} & set(query.compile().binds):
        done = query.compile(dialect=sqlite.dialect(), compile_kwargs={"literal_binds": True})
        return str(done), tuple(done.params[name] for name in done.positiontup or ())
    done = query.compile(dialect=sqlite.dialect(), compile_kwargs={"render_postcompile": True})
    names = list(done.positiontup or ())
    slots = tuple(name if name in (AFTER, FIRST, LAST, START) else "" for name in names)
    return str(done), tuple(done.params[name] for name in names), slots


def module_text() -> str:
    parts = [_HEAD]
    for name, query in _sources().items():
        compiled = ",\n    ".join(repr(part) for part in _compiled(query))
        parts.append(f"\n{name} = Query(\n    {compiled},\n)\n")
    return "".join(parts)


def test_the_text_is_the_store_queries_compiled_for_sqlite() -> None:
    for name, query in _sources().items():
        assert tuple(getattr(csv_export_sql, name)) == _pad(_compiled(query)), (
            f"{name} changed: rewrite {MODULE.name} (run this file with python)"
        )


def _pad(compiled: tuple[object, ...]) -> tuple[object, ...]:
    return compiled if len(compiled) == 3 else (*compiled, ())


if __name__ == "__main__":
    MODULE.write_text(module_text(), encoding="utf-8")
