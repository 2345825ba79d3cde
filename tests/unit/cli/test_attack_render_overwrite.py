"""`render -o` writes over any existing file outside a batch (found by the attack on issue 9).

`export --csv` and `report --txt` refuse to replace a file that is not a clinlabel output
unless `--force`; `render -o` replaces silently, a project's `clinlabel.db` included: one
mistyped path and the labels and their audit trail are gone ("The project database ... is
damaged"). A user expects the same rule as the other outputs.
"""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from PIL import Image

from clinlabel.cli.app import cli


def run(*args: object) -> tuple[int, str]:
    result = CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)
    return result.exit_code, result.output


def _batch(root: Path) -> Path:
    folder = root / "Case_1" / "Visit_1" / "XC_CLINICAL"
    folder.mkdir(parents=True)
    for name in ("img1.jpg", "img2.jpg"):
        Image.new("RGB", (16, 12), (40, 30, 90)).save(folder / name)
    return root


def test_render_does_not_overwrite_a_projects_database(tmp_path: Path) -> None:
    batch = _batch(tmp_path / "Batch")
    code, output = run("init", batch, "--out", tmp_path / "project")
    assert code == 0, output
    database = tmp_path / "project" / "clinlabel.db"
    before = database.read_bytes()
    image = batch / "Case_1" / "Visit_1" / "XC_CLINICAL" / "img1.jpg"
    code, _ = run("render", image, "-o", database)
    assert database.read_bytes() == before, "render replaced the project's database with a PNG"
    assert code == 2


def test_render_does_not_overwrite_a_users_file_without_force(tmp_path: Path) -> None:
    batch = _batch(tmp_path / "Batch")
    notes = tmp_path / "notes.txt"
    notes.write_text("my notes\n")
    image = batch / "Case_1" / "Visit_1" / "XC_CLINICAL" / "img1.jpg"
    code, _ = run("render", image, "-o", notes)
    assert notes.read_text() == "my notes\n", "render replaced a user's file"
    assert code == 2
