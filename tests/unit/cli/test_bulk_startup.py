"""`clinlabel export --csv` and `import --csv` import only what a CSV needs (issue 12): such a
process loads no migration scripts, no web framework, no image readers, no plotting or numbers
library and no progress bars (its stderr is not a terminal); and the plain export of an SQLite
project (`labelling.csv_export`) loads no SQLAlchemy either."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from clinlabel.cli.app import cli

NOT_FOR_A_CSV = ("alembic", "mako", "fastapi", "starlette", "pydicom", "nibabel", "numpy",
                 "matplotlib", "PIL", "rich")  # fmt: skip

_CHILD = """
import runpy, sys
sys.argv = ["clinlabel", *sys.argv[1:]]
try:
    runpy.run_module("clinlabel", run_name="__main__")
except SystemExit as exc:
    assert not exc.code, exc.code
print(sorted({name.split(".")[0] for name in sys.modules}))
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    from PIL import Image

    folder = tmp_path / "Batch" / "Case_1" / "Visit_1" / "XC"
    folder.mkdir(parents=True)
    for k in range(2):
        Image.new("RGB", (8, 8), (40 * k, 30, 90)).save(folder / f"img{k}.png")
    result = CliRunner().invoke(
        cli, ["init", str(tmp_path / "Batch"), "--out", str(tmp_path / "p")]
    )
    assert result.exit_code == 0, result.output
    return tmp_path / "p"


def _loaded(*args: str, database: bool = True) -> set[str]:
    """The top-level modules a `clinlabel ARGS` process held when it ended (it must succeed);
    `database`: SQLAlchemy among them."""
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, *args], capture_output=True, text=True, check=True
    )
    loaded = set(done.stdout.strip().splitlines()[-1].strip("[]").replace("'", "").split(", "))
    assert "click" in loaded and "clinlabel" in loaded  # the probe saw a real command's modules
    assert ("sqlalchemy" in loaded) is database
    return loaded


def test_export_csv_loads_nothing_a_csv_does_not_need(project: Path, tmp_path: Path) -> None:
    out = tmp_path / "labels.csv"
    loaded = _loaded("export", str(project), "--csv", str(out), database=False)
    assert sorted(loaded.intersection(NOT_FOR_A_CSV)) == []
    with out.open(encoding="utf-8-sig", newline="") as handle:
        assert next(csv.reader(handle)) == ["case", "visit", "file", "label", "comment"]
    first = out.read_bytes()
    # From the head the first one kept.
    again = _loaded("export", str(project), "--csv", str(out), database=False)
    assert sorted(again.intersection(NOT_FOR_A_CSV)) == []
    assert out.read_bytes() == first


def test_import_csv_loads_nothing_a_csv_does_not_need(project: Path, tmp_path: Path) -> None:
    table = tmp_path / "in.csv"
    table.write_text(
        "case,visit,file,label,comment\nCase_1,Visit_1,XC/img0.png,NA,blurred\n", encoding="utf-8"
    )
    loaded = _loaded("import", str(project), "--csv", str(table), "--annotator", "Dr I")
    assert sorted(loaded.intersection(NOT_FOR_A_CSV)) == []
    out = tmp_path / "labels.csv"
    _loaded("export", str(project), "--csv", str(out), database=False)
    with out.open(encoding="utf-8-sig", newline="") as handle:
        assert list(csv.reader(handle))[1:] == [
            ["Case_1", "Visit_1", "XC/img0.png", "NA", "blurred"]
        ]
