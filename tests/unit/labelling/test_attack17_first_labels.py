"""Attacks on the import's shortcuts for a reader's first labels (issue 12): the labels' indexes
dropped and built again on SQLite, and the kept counts written from the rows added.

Whatever the database holds, such an import must leave what the long way leaves (or better: the
schema's indexes), never fail where the long way went through.
"""

from __future__ import annotations

import csv
import random
from pathlib import Path

import pytest

from clinlabel.audit.log import verify_store
from clinlabel.errors import ImportFileError
from clinlabel.labelling.assignments import StudyDesign, assign_study
from clinlabel.labelling.importer import import_labels
from clinlabel.labelling.project import Project, init_project, open_project
from clinlabel.labelling.service import LabellingSession
from clinlabel.labelling.worklist import reader_worklist

from ..store.test_jumps_oracle import WHO
from . import test_attack15_import_invariants as invariants
from . import test_study_design as study_design
from .conftest import FakeClock, make_batch
from .test_import_first_labels import _label_indexes, _said, kept_and_counted
from .test_import_setbased import LAYOUT, ROWS, _csv
from .test_import_setbased import _statements as statements


@pytest.fixture
def batch(tmp_path: Path) -> Path:
    return make_batch(tmp_path / "Batch", LAYOUT)


def _sqlite_only(project: Project) -> None:
    if project.store.dialect != "sqlite":
        pytest.skip("the labels' indexes are built again on SQLite only")


def test_a_first_import_goes_in_when_a_label_index_was_dropped_by_hand(
    project: Project, tmp_path: Path
) -> None:
    """Someone dropped one of the labels' indexes (a repair by hand, a tool): the import that
    drops them to build them again must not fail on the missing one, and leaves all four."""
    _sqlite_only(project)
    schema = _label_indexes(project)
    with project.store.write() as conn:
        conn.exec_driver_sql("DROP INDEX ix_labels_annotator_comment")
    report = import_labels(project, _csv(tmp_path / "a.csv", ROWS), annotator="Dr A")
    assert report.imported == len(ROWS)
    assert _label_indexes(project) == schema
    kept, counted = kept_and_counted(project)
    assert kept == counted
    with project.store.read() as conn:
        assert conn.exec_driver_sql("PRAGMA integrity_check").scalar_one() == "ok"
    assert verify_store(project.store).ok


def test_first_labels_by_import_then_time_imports_and_rescans_keep_every_count(
    tmp_path: Path, database_url: str | None
) -> None:
    """alice's first labels come from an import (rows of gone images, frame rows, a line named
    twice, rows that match nothing), then the gone images return, she gets kept time, imports
    again, and the batch changes: after each step the kept counts equal a recount and every
    review window is right. bob, with kept time and no label, imports his first labels too."""
    rng = random.Random(17)
    batch = make_batch(tmp_path / "Batch", invariants.LAYOUT)
    for relpath in invariants.REAL:
        invariants._real_png(batch / relpath)
    init_project(batch, tmp_path / "project", database_url=database_url)
    with open_project(tmp_path / "project") as project:
        files = invariants._files(batch)
        gone = files[2:9]
        for case, visit, below in gone:
            (batch / case / visit / below).unlink()
        invariants._rescan(project)

        rows = [invariants._row(rng, *f) for f in files if rng.random() < 0.7]
        rows += [invariants._row(rng, *f.split("/", 2), frame=1) for f in invariants.REAL]
        rows += [invariants._row(rng, *files[0]), invariants._row(rng, *files[12])]  # again
        rows += [["Case_1", "Visit_1", "XC/nothing.jpg", "NA", "x", ""]]
        report = import_labels(
            project,
            invariants._write_csv(tmp_path / "a.csv", rows),
            annotator=WHO,
            skip_unmatched=True,
        )
        assert report.imported and report.match.duplicates and report.match.unknown
        invariants._all_sound(project)

        for case, visit, below in gone:  # back, with the same bytes
            folder, name = below.rsplit("/", 1)
            if name == "real.png":
                invariants._real_png(batch / case / visit / below)
            else:
                make_batch(batch, {f"{case}/{visit}/{folder}": [name]})
        invariants._rescan(project)
        invariants._all_sound(project)

        # bob looks at images for a while, labels none, then imports his first labels.
        clock = FakeClock()
        session = LabellingSession(project, annotator="bob", clock=clock)
        session.start()
        for _ in range(4):
            clock.advance(5)
            session.touch()
            session.next()
        session.close()
        bob = [invariants._row(rng, *f) for f in files[::3]]
        import_labels(project, invariants._write_csv(tmp_path / "b.csv", bob), annotator="bob")
        invariants._all_sound(project)

        # alice gets kept time, then imports again (changed, unchanged and new rows).
        session = LabellingSession(project, annotator=WHO, clock=clock)
        session.start()
        for _ in range(5):
            clock.advance(3)
            session.touch()
            session.next()
        session.close()
        again = [invariants._row(rng, *f) for f in files if rng.random() < 0.8]
        import_labels(project, invariants._write_csv(tmp_path / "c.csv", again), annotator=WHO)
        invariants._all_sound(project)

        for case, visit, below in files[20:60:5]:
            (batch / case / visit / below).unlink()
        invariants._rescan(project)
        invariants._all_sound(project)


def test_a_readers_first_labels_in_a_reading_study_are_counted_right(
    tmp_path: Path, database_url: str | None
) -> None:
    """A reader of a study imports her first reads, with rows outside her worklist: counted
    like the long way counts them, and her blinded repeats still cannot be rewritten."""
    batch = make_batch(tmp_path / "Batch", study_design.LAYOUT)
    init_project(batch, tmp_path / "project", database_url=database_url)
    with open_project(tmp_path / "project") as project:
        assign_study(
            project, ["Dr A", "Dr B"], StudyDesign("per-image", per_image=1, repeats=1.0), seed=3
        )
        mine = {i.image_id for i in reader_worklist(project, "Dr A").items}
        with project.store.read() as conn:
            every = {
                int(r[0]): str(r[1]) for r in conn.exec_driver_sql("SELECT id, relpath FROM images")
            }
        assert set(every) - mine  # images of Dr B's only

        def write(name: str, labels: tuple[str, str]) -> Path:
            path = tmp_path / name
            with path.open("w", newline="", encoding="utf-8") as handle:
                out = csv.writer(handle)
                out.writerow(["case", "visit", "file", "label", "comment"])
                for n, (image_id, relpath) in enumerate(sorted(every.items())):
                    comment = "seen" if image_id in mine else ""
                    out.writerow([*relpath.split("/", 2), labels[n % 2], comment])
            return path

        path = write("a.csv", ("Non-Suspicious", "Suspicious"))
        with pytest.raises(ImportFileError, match="worklist"):
            import_labels(project, path, annotator="Dr A")
        report = import_labels(project, path, annotator="Dr A", outside_worklist=True)
        assert report.imported == len(every) and report.outside_worklist
        kept, counted = kept_and_counted(project)
        assert kept == counted
        assert sum(row[4] for row in kept) == len(mine)  # the commented ones
        # Her first reads are final now: the same file with other labels changes nothing.
        flipped = write("b.csv", ("Suspicious", "Non-Suspicious"))
        with pytest.raises(ImportFileError, match="final"):
            import_labels(project, flipped, annotator="Dr A", outside_worklist=True)
        assert kept_and_counted(project) == (kept, counted)
        assert verify_store(project.store).ok


@pytest.mark.parametrize("new_id", ["-id", "id + 9223372036854775000"])
def test_a_first_import_keeps_a_hand_made_index_and_odd_label_ids(
    project: Project, tmp_path: Path, new_id: str
) -> None:
    """An index made by hand on the labels stays as it was (it is no index of the schema), and
    labels of another reader with negative ids, or ids near the largest SQLite holds (the
    new labels then take free ids at random), change nothing of the result."""
    _sqlite_only(project)
    schema = _label_indexes(project)
    import_labels(project, _csv(tmp_path / "b.csv", ROWS[:3]), annotator="Dr B")
    with project.store.write() as conn:
        conn.exec_driver_sql("CREATE INDEX mine_on_labels ON labels (comment, label)")
        conn.exec_driver_sql(f"UPDATE labels SET id = {new_id}")  # negative, or near the top
    report = import_labels(project, _csv(tmp_path / "a.csv", ROWS), annotator="Dr A")
    assert report.imported == len(ROWS)
    extra = ("mine_on_labels", "CREATE INDEX mine_on_labels ON labels (comment, label)")
    assert _label_indexes(project) == sorted([*schema, extra])
    kept, counted = kept_and_counted(project)
    assert kept == counted
    with project.store.read() as conn:
        assert conn.exec_driver_sql("PRAGMA integrity_check").scalar_one() == "ok"
        assert conn.exec_driver_sql("SELECT count(*) FROM labels").scalar_one() == len(ROWS) + 3


def test_on_postgresql_a_first_import_leaves_the_label_indexes_alone(
    project: Project, tmp_path: Path
) -> None:
    if project.store.dialect != "postgresql":
        pytest.skip("PostgreSQL only")

    def indexes() -> list[tuple[str, str]]:
        with project.store.read() as conn:
            return sorted(
                (str(r[0]), str(r[1]))
                for r in conn.exec_driver_sql(
                    "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'labels'"
                )
            )

    before = indexes()
    with statements(project) as sent:
        import_labels(project, _csv(tmp_path / "a.csv", ROWS), annotator="Dr A")
    assert not [sql for sql in _said(sent) if sql.startswith(("DROP INDEX", "CREATE INDEX"))]
    assert indexes() == before and len(before) == 6  # the key, the unique key and the four
    kept, counted = kept_and_counted(project)
    assert kept == counted
