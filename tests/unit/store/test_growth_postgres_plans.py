"""On PostgreSQL too, the report's team counts are one grouped read of the labels' key, without a
sort (issue 14; the SQLite plan and the report's bytes are checked in
tests/unit/reports/test_growth_report.py).

As in test_postgres_plans.py, sequential scans and sorts are priced out (`enable_seqscan`,
`enable_sort` off): a Seq Scan or a Sort left in the plan means no index can serve.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy.dialects import postgresql

from clinlabel.domain import ImageKind, ImageRef
from clinlabel.store import adjudication as adjudication_rows
from clinlabel.store import images as image_rows
from clinlabel.store import labels as label_rows
from clinlabel.store import people
from clinlabel.store.schema import adjudications
from clinlabel.store.store import Store

pytestmark = pytest.mark.postgres

IMAGES = 300


def _ref(index: int) -> ImageRef:
    case, name = f"Case_{index // 100}", f"img{index}.jpg"
    return ImageRef(f"{case}/V/XC/{name}", case, "V", "XC", f"XC/{name}", ImageKind.RASTER, 9, 1)


@pytest.fixture
def store(postgres_server: Any) -> Iterator[Store]:
    store = Store.open_url(postgres_server.create_database())
    yield store
    store.close()


def test_team_counts_read_the_labels_key_without_a_sort(store: Store) -> None:
    with store.write() as conn:
        rows = [image_rows.scan_row(seq, _ref(i)) for seq, i in enumerate(range(IMAGES), 1)]
        image_rows.sync_scan(conn, [rows], now="t0")
        readers = [people.annotator_id(conn, name, now="t0") for name in ("a", "b")]
        for image_id in range(1, IMAGES + 1):
            for reader in readers:
                if reader == readers[1] and image_id % 3 == 0:
                    continue  # read by one reader only: "agreed" with itself
                # Every fifth image read differently by the second reader.
                label = "NA" if reader == readers[1] and image_id % 5 == 0 else "Suspicious"
                label_rows.put_label(
                    conn,
                    image_id=image_id,
                    annotator_id=reader,
                    frame=0,
                    label=label,
                    comment="",
                    labelled_at="t0",
                    sha256=None,
                    event_id=image_id,
                    exists=False,
                )
        conn.execute(
            adjudications.insert(),
            [
                {
                    "image_id": image_id,
                    "label": "NA",
                    "reason": "meeting",
                    "reviewer": "lead",
                    "adjudicated_at": "t1",
                    "event_id": 1,
                }
                for image_id in (5, 6, 10)
            ],
        )
    with store.read() as conn:
        figures = adjudication_rows.team_figures(conn)
    disagreeing = [i for i in range(1, IMAGES + 1) if i % 5 == 0 and i % 3 != 0]
    assert figures == (3, IMAGES - len(disagreeing) - 1, len(disagreeing) - 2)

    sql = str(
        adjudication_rows.team_figures_query().compile(
            dialect=postgresql.psycopg.dialect(), compile_kwargs={"literal_binds": True}
        )
    )
    with store.engine.connect() as conn:
        raw = conn.connection.driver_connection
        assert raw is not None
        with raw.cursor() as cursor:
            cursor.execute("ANALYZE")
            cursor.execute("SET enable_seqscan = off")
            cursor.execute("SET enable_sort = off")
            cursor.execute(f"EXPLAIN {sql}")
            plan = [str(row[0]) for row in cursor.fetchall()]
        raw.rollback()
    assert not [line for line in plan if "Seq Scan" in line or " Sort " in f" {line} "], plan
    assert [line for line in plan if "labels" in line and "Index" in line], plan
