"""Every way a label is written leaves it holding its image's name keys (migration 0014), so the
review table's case, visit and file orders filtered by a label find exactly the label's images:
a save, a change, a clear and a save again, an import (new and replacing labels), and `db copy`
to PostgreSQL; on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from clinlabel.cli.app import cli
from clinlabel.discovery.naming import natural_key
from clinlabel.labelling.importer import import_labels
from clinlabel.labelling.project import Project, init_project, open_project
from clinlabel.labelling.service import LabellingSession
from clinlabel.store import review
from clinlabel.store.review import ReviewQuery, review_page
from clinlabel.store.schema import images, labels

from .conftest import LAYOUT, make_batch

IMAGES = [f"{folder}/{name}".split("/", 2) for folder, names in LAYOUT.items() for name in names]


def _label_keys(project: Project) -> dict[int, tuple[Any, ...]]:
    """Each label's copied keys beside its image's (image id, frame: label keys, image keys)."""
    with project.store.read() as conn:
        rows = conn.execute(
            select(
                labels.c.image_id,
                labels.c.case_key,
                labels.c.visit_key,
                labels.c.file_key,
                images.c.case_key,
                images.c.visit_key,
                images.c.file_key,
            ).join_from(labels, images, images.c.id == labels.c.image_id)
        ).all()
    return {int(r[0]): tuple(r[1:]) for r in rows}


def _assert_copied(project: Project, count: int) -> None:
    found = _label_keys(project)
    assert len(found) == count
    for image_id, keys in found.items():
        assert None not in keys and keys[:3] == keys[3:], image_id


def _filtered(project: Project, sort: str, descending: bool, label: str) -> list[int]:
    """The positions of the label-filtered window from its second row, the key found on the
    labels' index at every offset (`_SKIP_WALK` 0), by jump."""
    with project.store.read() as conn:
        who = int(conn.exec_driver_sql("SELECT id FROM annotators").scalar_one())
        page = review_page(
            conn,
            ReviewQuery(sort=sort, descending=descending, offset=1, limit=10, label=label),
            annotator_id=who,
            annotator=None,
        )
    return [r.position for r in page.rows]


def _expected(project: Project, sort: str, descending: bool, label: str) -> list[int]:
    """The same rows by a plain sort: names as people read them, ties in queue order."""
    with project.store.read() as conn:
        who = int(conn.exec_driver_sql("SELECT id FROM annotators").scalar_one())
        rows = review_page(
            conn, ReviewQuery(limit=500, label=label), annotator_id=who, annotator=None
        ).rows
    by_name = sorted(rows, key=lambda r: r.position)
    by_name.sort(key=lambda r: natural_key(getattr(r, sort))[0], reverse=descending)
    return [r.position for r in by_name][1:11]


def test_saves_changes_and_clears_keep_each_labels_keys(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(review, "_SKIP_WALK", 0)
    session = LabellingSession(project, annotator="Dr K")
    shown = session.start()
    ids = [shown.view.id]
    for _ in range(5):
        ids.append(session.next().view.id)
    for image_id in ids:
        session.save_label(image_id, "Non-Suspicious")
    session.save_label(ids[0], "Suspicious")  # a change keeps the row and its keys
    session.clear_label(ids[1])
    session.save_label(ids[1], "Non-Suspicious", "again")  # a new row after a clear
    session.close()
    _assert_copied(project, len(ids))
    # Non-Suspicious: every image labelled but the first (changed), the second cleared and redone.
    for sort in ("case", "visit", "file"):
        for descending in (False, True):
            expected = _expected(project, sort, descending, "Non-Suspicious")
            assert _filtered(project, sort, descending, "Non-Suspicious") == expected
    assert len(_expected(project, "file", False, "Non-Suspicious")) == len(ids) - 2


def _write_csv(path: Path, label: str) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["case", "visit", "file", "label", "comment"])
        for case, visit, file in IMAGES:
            writer.writerow([case, visit, file, label, ""])
    return path


def test_an_import_gives_new_and_replaced_labels_their_images_keys(
    project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(review, "_SKIP_WALK", 0)
    first = _write_csv(tmp_path / "first.csv", "Non-Suspicious")
    assert import_labels(project, first, annotator="Dr I").imported == len(IMAGES)
    _assert_copied(project, len(IMAGES))
    second = _write_csv(tmp_path / "second.csv", "Suspicious")
    assert import_labels(project, second, annotator="Dr I").imported == len(IMAGES)
    _assert_copied(project, len(IMAGES))
    for sort in ("case", "visit", "file"):
        expected = _expected(project, sort, True, "Suspicious")
        assert len(expected) == len(IMAGES) - 1
        assert _filtered(project, sort, True, "Suspicious") == expected
    assert _filtered(project, "file", False, "Non-Suspicious") == []


@pytest.mark.postgres
def test_db_copy_to_postgres_keeps_the_keys_and_the_windows(
    tmp_path: Path, postgres_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(review, "_SKIP_WALK", 0)
    project_dir = tmp_path / "project"
    init_project(make_batch(tmp_path / "Batch"), project_dir)
    with open_project(project_dir) as project:
        session = LabellingSession(project, annotator="Dr C")
        image_id = session.start().view.id
        for _ in range(4):
            session.save_label(image_id, "Non-Suspicious")
            image_id = session.next().view.id
        session.close()
        before = {
            (sort, descending): _filtered(project, sort, descending, "Non-Suspicious")
            for sort in ("case", "visit", "file")
            for descending in (False, True)
        }
    url = postgres_server.create_database()
    result = CliRunner().invoke(cli, ["db", "copy", str(project_dir), "--to", url])
    assert result.exit_code == 0, result.output
    with open_project(project_dir) as project:
        assert project.store.dialect == "postgresql"
        _assert_copied(project, 4)
        after = {key: _filtered(project, key[0], key[1], "Non-Suspicious") for key in before}
    assert after == before and all(after.values())
