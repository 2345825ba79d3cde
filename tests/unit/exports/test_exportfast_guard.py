"""The bulk writer's one search for suspect cells (`exports.csv._needs_no_guard`) sends every
batch holding any suspect first character, in any column, down the exact path."""

from __future__ import annotations

from pathlib import Path

import pytest

from clinlabel.exports.csv import write_labels_csv, write_labels_csv_batches
from clinlabel.exports.formula_guard import SUSPECT_FIRST_CHARS, guard_cell


@pytest.mark.parametrize("char", sorted(SUSPECT_FIRST_CHARS))
@pytest.mark.parametrize("column", range(5))
def test_each_suspect_first_character_in_each_column_is_guarded(
    tmp_path: Path, char: str, column: int
) -> None:
    clean = [("Case_1", "Visit_1", f"XC/{k}.png", "Suspicious", "a-b=c@d") for k in range(20)]
    cells = list(clean[7])
    cells[column] = f"{char}=1+2"
    rows = [*clean[:7], tuple(cells), *clean[8:]]
    by_batch, by_row = tmp_path / "batches.csv", tmp_path / "rows.csv"
    write_labels_csv_batches([rows], by_batch)
    write_labels_csv(rows, by_row)
    assert by_batch.read_bytes() == by_row.read_bytes()
    assert guard_cell(f"{char}=1+2") != f"{char}=1+2" or char == "'"
