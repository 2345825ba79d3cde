"""What an import leaves behind equals what a recount finds (issue 12's faster import: name keys
written with the new label, per-label counts recounted once at the end), on SQLite and
PostgreSQL, after imports of every shape and after a rescan that follows them.

A project with labels and kept time from the labelling page, then imports by that reader and
another: new, changed and unchanged rows, frame rows, rows for images gone from the batch,
rows that match nothing (`--skip-unmatched`); then files removed, added and changed. After each
step: every label holds its image's name keys, the kept counts per case and label, per case and
per annotator equal a recount, every review window equals a plain Python sort (the oracle of
`tests/unit/store/test_jumps_oracle.py`), and the audit trail verifies.
"""

from __future__ import annotations

import csv
import io
import os
import random
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import select

from clinlabel.audit.log import verify_store
from clinlabel.labelling.importer import import_labels
from clinlabel.labelling.project import Project, init_project, open_project
from clinlabel.labelling.service import LabellingSession
from clinlabel.store.review import REVIEW_SORTS
from clinlabel.store.schema import image_seconds, images, labels

from ..store.test_jumps_oracle import (
    WHO,
    Model,
    _check,
    _copied_keys_match,
    _kept_counts_match,
)
from .conftest import FakeClock, make_batch
from .test_import_setbased import _counts

CASES = ["Case_1", "case_2", "Case_10"]
LAYOUT = {
    f"{case}/Visit_{v}/{folder}": [f"img{n}.jpg" for n in (1, 2, 10, 11)]
    for case in CASES
    for v in (1, 2, 10)
    for folder in ("XC", "Clinical")
}
REAL = [f"{case}/Visit_1/XC/real.png" for case in CASES]
"""Decodable images, whose frame 1 a frame row may label."""
LABELS = ["Suspicious", "Non-Suspicious", "NA"]


def _real_png(path: Path) -> None:
    buffer = io.BytesIO()
    Image.new("L", (4, 4), 7).save(buffer, format="PNG")
    path.write_bytes(buffer.getvalue())


def _files(batch: Path) -> list[tuple[str, str, str]]:
    """(case, visit, file below the visit) of every image in the batch."""
    found = []
    for path in sorted(batch.rglob("*")):
        if path.is_file():
            case, visit, below = path.relative_to(batch).as_posix().split("/", 2)
            found.append((case, visit, below))
    return found


def _write_csv(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["case", "visit", "file", "label", "comment", "frame"])
        writer.writerows(rows)
    return path


def _row(rng: random.Random, case: str, visit: str, file: str, frame: int = 0) -> list[str]:
    label = rng.choice(LABELS)
    comment = rng.choice(["", "blurred", "retake 2", "retake 10"]) or ("why" * (label == "NA"))
    return [case, visit, file, label, comment, str(frame) if frame else ""]


def _model(project: Project) -> Model:
    """The oracle's record of alice's labels, frames and time, read from the tables."""
    with project.store.read() as conn:
        who = conn.exec_driver_sql("SELECT id FROM annotators WHERE name = 'alice'").scalar_one()
        model = Model(who=int(who), others=[], rng=random.Random(0))
        for image_id, frame, label, comment in conn.execute(
            select(labels.c.image_id, labels.c.frame, labels.c.label, labels.c.comment).where(
                labels.c.annotator_id == who
            )
        ):
            if frame == 0:
                model.label[int(image_id)] = (str(label), str(comment))
            else:
                model.frames.setdefault(int(image_id), {})[int(frame)] = str(label)
        for image_id, ms in conn.execute(
            select(image_seconds.c.image_id, image_seconds.c.active_ms).where(
                image_seconds.c.actor == WHO
            )
        ):
            model.ms[int(image_id)] = int(ms)
    return model


def _all_sound(project: Project) -> None:
    model = _model(project)
    with project.store.read() as conn:
        _copied_keys_match(conn)
        _kept_counts_match(conn)
        case_names = sorted(
            {str(c) for (c,) in conn.execute(select(images.c.case_name).distinct())}
        )
        for sort in REVIEW_SORTS:
            for descending in (False, True):
                for filters in (
                    {},
                    {"label": "NA"},
                    {"label": "Suspicious"},
                    {"unlabelled": True},
                    {"case": case_names[0], "label": "NA"},
                ):
                    _check(conn, model, sort, descending, filters)
    _counts(project)  # case_labelled and annotator_progress: kept == counted
    assert verify_store(project.store).ok


@pytest.fixture
def project(tmp_path: Path, database_url: str | None) -> Iterator[Project]:
    batch = make_batch(tmp_path / "Batch", LAYOUT)
    for relpath in REAL:
        _real_png(batch / relpath)
    init_project(batch, tmp_path / "project", database_url=database_url)
    with open_project(tmp_path / "project") as opened:
        yield opened


def _rescan(project: Project) -> None:
    """`clinlabel init` again on the batch (the project's store closed meanwhile, reopened)."""
    project.store.close()
    init_project(project.batch, project.dir)
    fresh = open_project(project.dir)  # its store closed with the fixture's project
    project.store, project.chain = fresh.store, fresh.chain


def test_every_kind_of_import_then_a_rescan_leaves_counts_keys_and_windows_exact(
    project: Project, tmp_path: Path
) -> None:
    rng = random.Random(15)
    batch = project.batch
    if True:
        # The labelling page first: labels and kept time for alice (some NA with a comment).
        clock = FakeClock()
        session = LabellingSession(project, annotator=WHO, clock=clock)
        view = session.start().view
        for step in range(14):
            clock.advance(rng.choice([1, 3, 12]))
            session.touch()
            if step % 3 != 2:
                label = LABELS[step % 3]
                session.save_label(view.id, label, "seen" if label == "NA" else "")
            view = session.next().view
        session.close()
        _all_sound(project)

        # Some images leave the batch (rescan): rows for them still import.
        files = _files(batch)
        # Labelled on the page (the queue's first images: kept, not present) and not (dropped).
        gone = files[:3] + [f for f in files if f[2].endswith("img11.jpg") and f[1] == "Visit_10"]
        for case, visit, below in gone:
            (batch / case / visit / below).unlink()
        _rescan(project)
        _all_sound(project)

        # alice imports: the page's labels again (unchanged or changed), new ones, frame rows,
        # rows for gone images, and rows that match nothing (left out).
        rows = [_row(rng, *f) for f in files if rng.random() < 0.6]
        rows += [_row(rng, *f.split("/", 2), frame=1) for f in REAL]
        rows += [["Case_1", "Visit_1", "XC/nothing.jpg", "NA", "x", ""]]
        rows += [["Case_99", "Visit_1", "XC/img1.jpg", "NA", "x", ""]]
        report = import_labels(
            project, _write_csv(tmp_path / "a.csv", rows), annotator=WHO, skip_unmatched=True
        )
        assert report.imported > 0 and len(report.match.unknown) >= 2
        _all_sound(project)

        # Again, half the same and half changed: unchanged rows and changed labels.
        again = [r if rng.random() < 0.5 else _row(rng, *r[:3]) for r in rows[:-2]]
        report = import_labels(
            project, _write_csv(tmp_path / "b.csv", again), annotator=WHO, skip_unmatched=True
        )
        assert report.unchanged > 0 and report.imported > 0
        _all_sound(project)

        # Another reader: never shown in alice's windows, but their own counts must hold.
        other = [_row(rng, *f) for f in files[::4]]
        import_labels(
            project, _write_csv(tmp_path / "c.csv", other), annotator="bob", skip_unmatched=True
        )
        _all_sound(project)

        # Then the batch changes: files removed, added, and changed under their labels.
        for case, visit, below in files[5:40:6]:
            (batch / case / visit / below).unlink(missing_ok=True)
        make_batch(
            batch, {"Case_10/Visit_3/XC": ["img1.jpg", "img2.jpg"], "case_4/Visit_1/XC": ["a.jpg"]}
        )
        for case, visit, below in files[1:30:7]:
            changed = batch / case / visit / below
            if changed.exists():
                changed.write_bytes(changed.read_bytes() + b"changed")
                os.utime(changed, ns=(1, 1))
        for case, visit, below in gone[:1]:
            make_batch(batch, {f"{case}/{visit}/{below.rsplit('/', 1)[0]}": ["img11.jpg"]})
        _rescan(project)
        _all_sound(project)

        # And an import after the rescan, into the new and returned images too.
        after = [_row(rng, *f) for f in _files(batch) if rng.random() < 0.5]
        import_labels(project, _write_csv(tmp_path / "d.csv", after), annotator=WHO)
        _all_sound(project)
