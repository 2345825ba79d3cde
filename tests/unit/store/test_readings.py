"""The readings query streams in index order: no sort of the whole labels table."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from clinlabel.labelling.project import init_project, open_project
from clinlabel.labelling.service import LabellingSession
from clinlabel.store import readings


def test_readings_walk_the_labels_index_without_a_sort(tmp_path: Path) -> None:
    batch = tmp_path / "Batch" / "Case_1" / "Visit_1" / "XC"
    batch.mkdir(parents=True)
    for name in ("a.png", "b.png"):
        # A PNG signature, then text: queued as an image (the scan reads the first bytes).
        (batch / name).write_bytes(b"\x89PNG\r\n\x1a\n synthetic " + name.encode())
    init_project(tmp_path / "Batch", tmp_path / "project")
    with open_project(tmp_path / "project") as project:
        for reader, label in (("Dr B", "Suspicious"), ("Dr A", "NA")):
            session = LabellingSession(project, annotator=reader)
            view = session.start().view
            session.save_label(view.id, label, "blurred" if label == "NA" else None)
            session.close()
        with project.store.read() as conn:
            rows = list(readings.iter_readings(conn))
            assert [(r.reader, r.label) for r in rows] == [("Dr B", "Suspicious"), ("Dr A", "NA")]
            assert readings.reader_names(conn) == ["Dr B", "Dr A"]
            assert readings.reader_names(conn, only={"NA"}) == ["Dr A"]
            query = readings.readings_query(only={"NA", "Suspicious"})
            sql = str(query.compile(conn, compile_kwargs={"literal_binds": True}))
            plan = " ".join(str(row[3]) for row in conn.execute(text(f"EXPLAIN QUERY PLAN {sql}")))
    assert "USING INDEX" in plan and "TEMP B-TREE" not in plan
