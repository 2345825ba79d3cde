"""Every DICOM file `clinlabel demo` writes is a valid instance of its IOD, by an independent
checker: dciodvfy of dicom3tools (a Debian package; `make setup` installs it). Errors fail the
test; warnings (attributes the IOD does not list, such as the XA run's Table Height) do not."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from clinlabel.cli.app import cli
from clinlabel.discovery import scan_batch
from clinlabel.domain import ImageKind, ScanResult


@pytest.fixture(scope="module")
def dciodvfy() -> str:
    found = shutil.which("dciodvfy")
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("dciodvfy is not installed: run `make setup` (scripts/setup.sh)")
        pytest.skip("dciodvfy is not installed (make setup installs dicom3tools)")
    return found


def test_demo_dicom_files_pass_dciodvfy(dciodvfy: str, tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["demo", str(tmp_path / "demo")], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    refs = scan_batch(tmp_path / "demo" / "batch", ScanResult())
    dicom = [
        tmp_path / "demo" / "batch" / ref.relpath for ref in refs if ref.kind is ImageKind.DICOM
    ]
    iods = set()
    for path in dicom:
        run = subprocess.run(
            [dciodvfy, "-new", str(path)], capture_output=True, text=True, timeout=120
        )
        lines = (run.stdout + run.stderr).splitlines()
        iods.add(lines[0].strip())  # dciodvfy names the IOD it checked the file against first
        errors = [line for line in lines if line.startswith("Error")]
        assert errors == [], f"{path.name}:\n" + "\n".join(errors)
    assert iods == {"CTImage", "XAImage", "DXImageForPresentation"}
