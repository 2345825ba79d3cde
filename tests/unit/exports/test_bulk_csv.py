"""The labels CSV written from the store's batches (issue 12, bulk export) is byte for byte the
one `write_labels_csv` writes row by row: formula guard, empty cells for NULLs, quoting."""

from __future__ import annotations

import random
from pathlib import Path

from clinlabel.exports.csv import write_labels_csv, write_labels_csv_batches
from clinlabel.exports.formula_guard import SUSPECT_FIRST_CHARS

PLAIN = ["Case_001", "Visit 1", "XC/img1.jpg", "Suspicious", "", "ok, fine", 'say "no"', "केस"]
ODD = [
    *(f"{char}cell" for char in SUSPECT_FIRST_CHARS),
    "'=already guarded",
    "''+two apostrophes",
    "'just quoted",
    "a\x00=nul inside",
    "\x00",
    "line\nbreak",
    None,
]


def _rows(rng: random.Random, n: int, odd_share: float) -> list[tuple[str | None, ...]]:
    def cell() -> str | None:
        return rng.choice(ODD) if rng.random() < odd_share else rng.choice(PLAIN)

    return [tuple(cell() for _ in range(5)) for _ in range(n)]


def _batches(rows: list[tuple[str | None, ...]], size: int) -> list[list[tuple[str | None, ...]]]:
    return [rows[k : k + size] for k in range(0, len(rows), size)]


def test_batches_are_written_exactly_as_rows_are(tmp_path: Path) -> None:
    rng = random.Random(12)
    for odd_share in (0.0, 0.01, 0.3, 1.0):
        rows = _rows(rng, 500, odd_share)
        by_row, by_batch = tmp_path / "rows.csv", tmp_path / "batches.csv"
        assert write_labels_csv(rows, by_row) == 500
        seen: list[int] = []
        assert write_labels_csv_batches(_batches(rows, 37), by_batch, written=seen.append) == 500
        assert by_batch.read_bytes() == by_row.read_bytes(), odd_share
        assert seen[-1] == 500 and seen == sorted(seen)


def test_a_batch_with_one_formula_cell_is_guarded(tmp_path: Path) -> None:
    clean = [("Case_1", "V", f"XC/{k}.png", "Suspicious", "") for k in range(100)]
    dirty = [*clean[:50], ("Case_1", "V", "XC/x.png", "NA", "=HYPERLINK(1)"), *clean[50:]]
    out = tmp_path / "labels.csv"
    write_labels_csv_batches([clean, dirty, []], out)
    text = out.read_bytes().decode("utf-8-sig")
    assert "'=HYPERLINK(1)" in text and text.count("\r\n") == 1 + 201


def test_an_empty_export_has_its_header_only(tmp_path: Path) -> None:
    out = tmp_path / "labels.csv"
    assert write_labels_csv_batches([], out) == 0
    assert out.read_bytes() == "\ufeffcase,visit,file,label,comment\r\n".encode()
