"""The summary report at a million images (issue 14): its reads made cheaper, its bytes the same.

The report of a fixed team project is the same, byte for byte, as before: `growth_report.txt`
was written by the code before these changes, from the project `build_fixed_project` makes.

The project is built straight in the database with fixed times (so its events hash the same on
every run): 240 images over six cases, one gone from the batch; three readers (two read every
present image, disagreeing on some; a third reads a few), frame labels, comments where a label
requires one and elsewhere, adjudications, timed and idle events, a session. Only the project's
folder (a temporary path) and the line saying when the report was made differ between runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event as sql_event

from clinlabel.audit.chain import GENESIS, encode_data, event_hash
from clinlabel.domain import ImageKind, ImageRef
from clinlabel.labelling.adjudication import team_counts
from clinlabel.labelling.outputs import gather_report_data, report_text
from clinlabel.labelling.project import open_project
from clinlabel.store import images as image_rows
from clinlabel.store import meta
from clinlabel.store.labels import recount_progress
from clinlabel.store.page_cache import LARGE_CACHE_KIB
from clinlabel.store.schema import adjudications, annotators, events, images, labels, sessions
from clinlabel.store.seconds import recount_seconds
from clinlabel.store.sort_keys import natural_sort_key
from clinlabel.store.store import Store

GOLDEN = Path(__file__).parent / "growth_report.txt"
T = "2026-11-22T10:{:02d}:{:02d}.000000Z"
READERS = ("Dr A", "Dr B", "Dr C")
LABELS = ("Suspicious", "Non-Suspicious", "NA")


def _ref(index: int) -> ImageRef:
    case, visit, name = f"Case_{index // 40 + 1}", f"Visit_{index // 20 % 2 + 1}", f"img{index}.jpg"
    return ImageRef(
        relpath=f"{case}/{visit}/XC/{name}",
        case=case,
        visit=visit,
        folder="XC",
        file=f"XC/{name}",
        kind=ImageKind.RASTER,
        size=100 + index,
        mtime_ns=1_700_000_000_000_000_000 + index,
    )


def _moment(n: int) -> str:
    return T.format(n // 60 % 60, n % 60)


def build_fixed_project(folder: Path) -> Path:
    """The same project on every run, but for the folder it is in (see the module)."""
    project = folder / "project"
    project.mkdir(parents=True)
    store = Store.open_dir(project)
    chain: list[dict[str, object]] = []

    def event(kind: str, actor: str, data: dict[str, object], **fields: object) -> int:
        row: dict[str, object] = {
            "id": len(chain) + 1,
            "ts_utc": _moment(len(chain)),
            "tz_offset_min": 60,
            "actor": actor,
            "session_id": None,
            "kind": kind,
            "image_id": None,
            "image": None,
            "frame": None,
            "active_ms": None,
            "idle_ms": None,
            "data": encode_data(data),
            "app_version": "fixed",
            "prev_hash": chain[-1]["hash"] if chain else GENESIS,
            **fields,
        }
        row["hash"] = event_hash(row)
        chain.append(row)
        return int(str(row["id"]))

    with store.write() as conn:
        meta.set_meta(conn, meta.BATCH_ROOT, str(folder / "batch"))
        rows = [image_rows.scan_row(seq, _ref(i)) for seq, i in enumerate(range(240), 1)]
        image_rows.sync_scan(conn, [rows], now=_moment(0))
        # The last image left the batch: its labels stay, outside the queue.
        conn.execute(images.update().where(images.c.seq == 240).values(present=False, seq=None))
        summary = {"images": 239, "new": 240, "removed": 1, "returned": 0, "changed": 0}
        meta.set_meta(conn, meta.LAST_SCAN, encode_data({**summary, "problems": 0, "skipped": 0}))
        event("batch_scanned", "system", summary)
        conn.execute(
            annotators.insert(),
            [
                {"id": k + 1, "name": name, "created_at": _moment(k)}
                for k, name in enumerate(READERS)
            ],
        )
        conn.execute(
            sessions.insert(),
            [
                {
                    "id": 1,
                    "annotator_id": 1,
                    "started_at": _moment(1),
                    "ended_at": _moment(50),
                    "tz_offset_min": 60,
                    "app_version": "fixed",
                    "interface": "local",
                }
            ],
        )
        ids = [(int(r[0]), str(r[1])) for r in conn.execute(images.select().order_by(images.c.id))]
        label_rows: list[dict[str, object]] = []
        for k, (image_id, relpath) in enumerate(ids):
            for reader_index, reader in enumerate(READERS):
                if reader == "Dr C" and k % 9:
                    continue  # a third reader who read a few images
                shift = 1 if reader == "Dr B" and k % 7 == 3 else 0  # disagreements
                label = LABELS[(k + shift) % 3]
                comment = (
                    f"blurred, retake {k}" if label == "NA" else ("note" if k % 11 == 0 else "")
                )
                frame = 2 if reader == "Dr C" and k % 27 == 0 else 0
                event_id = event(
                    "label_saved",
                    reader,
                    {"new": {"label": label, "comment": comment}},
                    image_id=image_id,
                    image=relpath,
                    frame=frame,
                    active_ms=1000 + 37 * k + 500 * reader_index,
                    idle_ms=k % 5 * 100,
                    session_id=1 if reader == "Dr A" else None,
                )
                label_rows.append(
                    {
                        "image_id": image_id,
                        "annotator_id": reader_index + 1,
                        "frame": frame,
                        "label": label,
                        "comment": comment,
                        "comment_key": natural_sort_key(comment) if comment else None,
                        "labelled_at": chain[-1]["ts_utc"],
                        "sha256": None,
                        "event_id": event_id,
                    }
                )
        finals = []
        for k in (3, 10, 17, 100):
            image_id, relpath = ids[k]
            final = {"label": LABELS[k % 3], "reason": f"consensus meeting {k}"}
            event_id = event(
                "image_adjudicated", "Dr Lead", final, image_id=image_id, image=relpath
            )
            finals.append(
                {
                    "image_id": image_id,
                    **final,
                    "reviewer": "Dr Lead",
                    "adjudicated_at": chain[-1]["ts_utc"],
                    "event_id": event_id,
                }
            )
        conn.execute(events.insert(), chain)
        conn.execute(labels.insert(), label_rows)
        conn.execute(adjudications.insert(), finals)
        recount_progress(conn)
        recount_seconds(conn)
    store.close()
    return project


def fixed_report(folder: Path) -> str:
    """The report's text with the folder named `<folder>` and without the line of its time."""
    with open_project(build_fixed_project(folder)) as project:
        text = report_text(project)
    kept = [line for line in text.splitlines(keepends=True) if not line.startswith("Generated")]
    return "".join(kept).replace(str(folder), "<folder>")


def test_the_report_of_a_fixed_team_project_is_byte_identical(tmp_path: Path) -> None:
    assert fixed_report(tmp_path) == GOLDEN.read_text(encoding="utf-8")


def test_the_team_counts_are_one_grouped_read_without_a_sort(tmp_path: Path) -> None:
    """The report's team paragraph counted adjudicated, agreed and disagreeing images by
    streaming every read into Python in queue order: a sort of every label (a temporary B-tree
    spilled to disk at a million reads), then a dictionary per image. It is one grouped read of
    the labels' unique key now, with the same counts."""
    statements: list[tuple[str, Any]] = []

    def record(_c: Any, _cur: Any, sql: str, params: Any, _ctx: Any, many: bool) -> None:
        if not many and sql.lstrip().upper().startswith("SELECT"):
            statements.append((sql, params))

    with open_project(build_fixed_project(tmp_path)) as project:
        sql_event.listen(project.store.engine, "before_cursor_execute", record)
        try:
            counts = team_counts(project)
        finally:
            sql_event.remove(project.store.engine, "before_cursor_execute", record)
        with project.store.engine.connect() as conn:
            raw = conn.connection.driver_connection
            assert raw is not None
            plans = [
                (sql, [row[3] for row in raw.execute(f"EXPLAIN QUERY PLAN {sql}", params)])
                for sql, params in statements
            ]
    # The fixed project: four adjudicated, 205 read alike, 31 not (the gone image counted).
    assert counts is not None
    assert (counts.adjudicated, counts.agreed, counts.unresolved) == (4, 205, 31)
    for sql, lines in plans:
        assert not [line for line in lines if "TEMP B-TREE" in line and "DISTINCT" not in line], (
            sql,
            lines,
        )
        assert not [line for line in lines if line == "SCAN labels"], (sql, lines)


def test_the_reports_grouped_reads_run_with_the_large_cache(tmp_path: Path) -> None:
    """Counting labels per case and label sorts every label: with SQLite's default 2 MB that
    sort spilled to temporary files in merge passes at a million images."""
    seen: list[int] = []

    def look(_c: Any, cursor: Any, sql: str, _p: Any, _ctx: Any, _many: bool) -> None:
        if "GROUP BY images.case_name, labels.label" in " ".join(sql.split()):
            seen.append(int(cursor.connection.execute("PRAGMA cache_size").fetchone()[0]))

    with open_project(build_fixed_project(tmp_path)) as project:
        sql_event.listen(project.store.engine, "before_cursor_execute", look)
        try:
            gather_report_data(project)
        finally:
            sql_event.remove(project.store.engine, "before_cursor_execute", look)
    assert seen == [-LARGE_CACHE_KIB]
