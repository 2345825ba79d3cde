"""A case's images for compare and the visit strip: present images only, in queue order."""

from __future__ import annotations

from pathlib import Path

from clinlabel.domain import ImageKind, ImageRef
from clinlabel.store import images as image_rows
from clinlabel.store.compare import case_images
from clinlabel.store.store import Store


def _row(seq: int, case: str, visit: str, name: str) -> image_rows.ScanRow:
    relpath = f"{case}/{visit}/XC/{name}"
    ref = ImageRef(relpath, case, visit, "XC", f"XC/{name}", ImageKind.RASTER, 9, 1)
    return image_rows.scan_row(seq, ref)


def test_a_cases_images_in_queue_order_without_gone_files(
    tmp_path: Path, database_url: str | None
) -> None:
    store = Store.open_dir(tmp_path) if database_url is None else Store.open_url(database_url)
    first = [
        _row(1, "Case_1", "Visit_1", "a.jpg"),
        _row(2, "Case_1", "Visit_1", "b.jpg"),
        _row(3, "Case_1", "Visit_2", "a.jpg"),
        _row(4, "Case_2", "Visit_1", "a.jpg"),
        _row(5, "Case_10", "Visit_1", "a.jpg"),
    ]
    with store.write() as conn:
        image_rows.sync_scan(conn, [first], now="t0")
    # A rescan: Case_1/Visit_1/b.jpg is gone from disk (kept in the table, out of the queue).
    again = [
        _row(1, "Case_1", "Visit_1", "a.jpg"),
        _row(2, "Case_1", "Visit_2", "a.jpg"),
        _row(3, "Case_2", "Visit_1", "a.jpg"),
        _row(4, "Case_10", "Visit_1", "a.jpg"),
    ]
    with store.write() as conn:
        image_rows.sync_scan(conn, [again], now="t1")
    with store.read() as conn:
        found = case_images(conn, "Case_1")
        assert [(i.position, i.visit, i.file) for i in found] == [
            (1, "Visit_1", "XC/a.jpg"),
            (2, "Visit_2", "XC/a.jpg"),
        ]
        assert [i.kind for i in found] == ["raster", "raster"]
        # Case names match exactly: Case_1 is not Case_10.
        assert [i.position for i in case_images(conn, "Case_10")] == [4]
        assert case_images(conn, "Case_99") == []
