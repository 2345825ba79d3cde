"""An import writes each event's data as text from a template (issue 12: the generic encoder
cost more than the insert). That text must be what `encode_data` makes of the same change:
canonical JSON, the old label when one is replaced, the image's hash (null for a file gone),
the file and line it came from, whatever the comments hold."""

from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path
from typing import Any

from clinlabel.audit.chain import encode_data
from clinlabel.audit.log import verify_store
from clinlabel.labelling.importer import import_labels
from clinlabel.labelling.project import Project

from .conftest import LAYOUT

IMAGES = [f"{folder}/{name}".split("/", 2) for folder, names in LAYOUT.items() for name in names]
COMMENTS = ['quote " and \\ backslash', "ünïcödé — ✓", "emoji 🩻", "« guillemets »",
            "=SUM(A1)", "plain"]  # fmt: skip


def _write(path: Path, rows: list[tuple[str, str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["case", "visit", "file", "label", "comment"])
        for (case, visit, file), (label, comment) in zip(IMAGES, rows, strict=False):
            writer.writerow([case, visit, file, label, comment])
    return path


def _label_events(project: Project) -> list[tuple[str, str, str]]:
    with project.store.read() as conn:
        found = conn.exec_driver_sql(
            "SELECT kind, image, data FROM events WHERE kind IN ('label_saved', 'label_changed')"
            " ORDER BY id"
        ).all()
    return [(str(k), str(i), str(d)) for k, i, d in found]


def test_imported_event_data_is_the_canonical_json_of_the_change(
    project: Project, tmp_path: Path
) -> None:
    gone = "/".join(IMAGES[1])
    (project.batch / gone).unlink()  # in the queue, its file gone: no hash to record
    first = _write(tmp_path / "first.csv", [("NA", c) for c in COMMENTS])
    second = _write(tmp_path / "second.csv", [("Suspicious", c[::-1]) for c in COMMENTS])
    assert import_labels(project, first, annotator="Dr C").imported == len(COMMENTS)
    assert import_labels(project, second, annotator="Dr C").imported == len(COMMENTS)
    events = _label_events(project)
    assert [k for k, _, _ in events] == ["label_saved"] * 6 + ["label_changed"] * 6
    for n, (_, image, text) in enumerate(events):
        k = n % len(COMMENTS)
        data: dict[str, Any] = json.loads(text)
        assert text == encode_data(data)
        path = project.batch / image
        expected_sha = None if image == gone else hashlib.sha256(path.read_bytes()).hexdigest()
        source = first if n < len(COMMENTS) else second
        old = None if n < len(COMMENTS) else {"label": "NA", "comment": COMMENTS[k]}
        new = (
            {"label": "NA", "comment": COMMENTS[k]}
            if n < len(COMMENTS)
            else {"label": "Suspicious", "comment": COMMENTS[k][::-1]}
        )
        assert data == {
            "old": old,
            "new": new,
            "sha256": expected_sha,
            "source": {"import": str(source), "line": k + 2},
        }
    assert verify_store(project.store).ok
