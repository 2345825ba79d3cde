"""An import that fails late or is interrupted leaves the project exactly as it was (issue 12's
faster import: one write transaction with a larger page cache, the per-label counts recounted
at its end): the labels, the kept counts, the trail, and the page cache of every connection
the pool hands out afterwards."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Connection

from clinlabel.audit.log import verify_store
from clinlabel.errors import StoreError
from clinlabel.labelling import importer
from clinlabel.labelling.import_hashes import BatchHasher
from clinlabel.labelling.importer import import_labels
from clinlabel.labelling.project import Project

from .conftest import label_two, make_batch
from .test_import_setbased import LAYOUT, ROWS, _csv

TABLES = ("labels", "events", "case_labelled", "annotator_progress", "case_label_counts", "images")


@pytest.fixture
def batch(tmp_path: Path) -> Path:
    return make_batch(tmp_path / "Batch", LAYOUT)


def _state(project: Project) -> dict[str, list[tuple[Any, ...]]]:
    with project.store.read() as conn:
        return {
            table: sorted(
                (tuple(r) for r in conn.exec_driver_sql(f"SELECT * FROM {table}")), key=repr
            )
            for table in TABLES
        }


def _pool_caches(project: Project) -> list[int]:
    """`PRAGMA cache_size` of as many connections as the pool holds, checked out at once."""
    held: list[Connection] = []
    try:
        for _ in range(4):
            held.append(project.store.engine.connect())
        return [int(c.exec_driver_sql("PRAGMA cache_size").scalar_one()) for c in held]
    finally:
        for conn in held:
            conn.close()


def _fail_at_the_end(monkeypatch: pytest.MonkeyPatch, error: BaseException | None) -> None:
    """The recount at the import's end (after every label is written) fails: with a real
    driver error (a statement the database refuses) or with `error` (Ctrl+C)."""

    def failing(conn: Connection, **_: Any) -> None:
        if error is not None:
            raise error
        conn.exec_driver_sql("INSERT INTO no_such_table VALUES (1)")

    monkeypatch.setattr(importer, "recount_label_cases", failing)


@pytest.mark.parametrize("error", [None, KeyboardInterrupt()], ids=["db-error", "ctrl-c"])
def test_an_import_failing_after_its_writes_leaves_nothing_behind(
    project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, error: BaseException | None
) -> None:
    label_two(project)
    before, caches = _state(project), None
    if project.store.dialect == "sqlite":
        caches = _pool_caches(project)
    _fail_at_the_end(monkeypatch, error)
    with pytest.raises(StoreError if error is None else KeyboardInterrupt):
        import_labels(project, _csv(tmp_path / "a.csv", ROWS), annotator="Dr A")
    assert _state(project) == before
    assert verify_store(project.store).ok
    if caches is not None:
        assert _pool_caches(project) == caches
    monkeypatch.undo()
    # And the same import runs whole afterwards.
    assert import_labels(project, _csv(tmp_path / "a.csv", ROWS), annotator="Dr A").imported


def test_ctrl_c_while_the_files_hash_leaves_nothing_behind(
    project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    label_two(project)
    before = _state(project)
    caches = _pool_caches(project) if project.store.dialect == "sqlite" else None
    real = BatchHasher.sha256
    seen = [0]

    def interrupted(self: BatchHasher, relpath: str) -> str | None:
        seen[0] += 1
        if seen[0] == 250:  # in the second chunk: the first one is written by then
            raise KeyboardInterrupt
        return real(self, relpath)

    monkeypatch.setattr(BatchHasher, "sha256", interrupted)
    monkeypatch.setattr(importer, "CHUNK", 200)
    with pytest.raises(KeyboardInterrupt):
        import_labels(project, _csv(tmp_path / "a.csv", ROWS), annotator="Dr B")
    assert _state(project) == before
    if caches is not None:
        assert _pool_caches(project) == caches
