"""Shared helpers for the benchmarks: timing, percentiles, a synthetic project in bulk."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from clinlabel.audit.chain import GENESIS, encode_data, event_hash
from clinlabel.domain import ImageKind, ImageRef


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100)."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def median_time(fn: Callable[[], object], *, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def synthetic_refs(n: int, *, per_visit: int = 50, visits: int = 4) -> Iterator[ImageRef]:
    """Image references for a batch that exists only in the database (no files needed)."""
    for i in range(n):
        case = f"Case_{i // (per_visit * visits) + 1:06d}"
        visit = f"Visit_{(i // per_visit) % visits + 1}"
        name = f"img{i % per_visit + 1}.jpg"
        yield ImageRef(
            relpath=f"{case}/{visit}/XC_CLINICAL/{name}",
            case=case,
            visit=visit,
            folder="XC_CLINICAL",
            file=f"XC_CLINICAL/{name}",
            kind=ImageKind.RASTER,
            size=1000 + i,
            mtime_ns=1_700_000_000_000_000_000 + i,
        )


def bulk_label(project_dir: Path, n: int, *, annotator: str = "bench") -> None:
    """Give the first n images a label each, with hash-chained events, in bulk.

    This builds test data fast (a million labels through the one-at-a-time use case would take
    most of an hour); the chain is computed exactly as `audit.log.append_event` does, and the
    benchmark verifies it, so the data is what real labelling would have produced.
    """
    from clinlabel.labelling.project import open_project
    from clinlabel.store import events as event_rows
    from clinlabel.store import people
    from clinlabel.store.labels import recount_progress
    from clinlabel.store.schema import events, images, labels
    from clinlabel.store.seconds import recount_seconds
    from clinlabel.store.sort_keys import natural_sort_key

    labels_cycle = ["Suspicious", "Non-Suspicious", "NA"]
    with open_project(project_dir) as project, project.store.write() as conn:
        now = "2026-11-22T10:00:00.000000Z"
        annotator_id = people.annotator_id(conn, annotator, now=now)
        last = event_rows.last_link(conn)
        next_id, prev = (1, GENESIS) if last is None else (last[0] + 1, last[1])
        # Label events name the image's path, as real ones do (`audit verify` checks it).
        ids = [
            (row[0], row[1])
            for row in conn.execute(
                images.select()
                .with_only_columns(images.c.id, images.c.relpath)
                .order_by(images.c.seq)
                .limit(n)
            )
        ]
        chunk_events: list[dict[str, object]] = []
        chunk_labels: list[dict[str, object]] = []
        for k, (image_id, relpath) in enumerate(ids):
            label = labels_cycle[k % 3]
            comment = f"retake, blurred #{k}" if label == "NA" else ""
            row: dict[str, object] = {
                "id": next_id,
                "ts_utc": now,
                "tz_offset_min": 330,
                "actor": annotator,
                "session_id": None,
                "kind": "label_saved",
                "image_id": image_id,
                "image": relpath,
                "frame": 0,
                "active_ms": 1500 + (k % 7000),
                "idle_ms": 0,
                "data": encode_data({"new": {"label": label, "comment": comment}}),
                "app_version": "bench",
                "prev_hash": prev,
            }
            row["hash"] = prev = event_hash(row)
            chunk_events.append(row)
            chunk_labels.append(
                {
                    "image_id": image_id,
                    "annotator_id": annotator_id,
                    "frame": 0,
                    "label": label,
                    "comment": comment,
                    "comment_key": natural_sort_key(comment) if comment else None,
                    "labelled_at": now,
                    "sha256": None,
                    "event_id": next_id,
                }
            )
            next_id += 1
            if len(chunk_events) == 20_000:
                conn.execute(events.insert(), chunk_events)
                conn.execute(labels.insert(), chunk_labels)
                chunk_events, chunk_labels = [], []
        if chunk_events:
            conn.execute(events.insert(), chunk_events)
            conn.execute(labels.insert(), chunk_labels)
        # The labels went in around the use case: the kept per-annotator count (progress, the
        # review's unlabelled total) is recounted from them, as a rescan does.
        recount_progress(conn)
        # So is each image's kept active time (the review's seconds order, store.seconds).
        recount_seconds(conn)
