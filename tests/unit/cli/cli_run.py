"""Running the CLI in tests, and what a user error must look like."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner, Result
from PIL import Image

from clinlabel.cli.app import cli


def run(*args: object) -> Result:
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def assert_user_error(result: Result, *fragments: str) -> None:
    """Exit status 2 and one line on stderr, naming what went wrong; never a traceback."""
    assert result.exit_code == 2, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("clinlabel: "), result.stderr
    assert "Traceback" not in result.output
    for fragment in fragments:
        assert fragment in lines[0]


def two_case_batch(root: Path) -> Path:
    """`root/Case_{1,2}/Visit_1/XC_CLINICAL/img{1,2}.jpg`: the smallest batch with two cases."""
    for case in ("Case_1", "Case_2"):
        folder = root / case / "Visit_1" / "XC_CLINICAL"
        folder.mkdir(parents=True)
        for name in ("img1.jpg", "img2.jpg"):
            Image.new("RGB", (16, 12), (40, 30, 90)).save(folder / name)
    return root
