"""`clinlabel render` and `clinlabel info` through click's runner."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from click.testing import CliRunner
from PIL import Image

from clinlabel.cli.app import cli
from clinlabel.demo.medical import write_demo_medical


def test_render_dicom_nifti_and_photo(tmp_path: Path) -> None:
    ct, xa, _, volume = write_demo_medical(tmp_path / "in", seed=2)
    runner = CliRunner()
    out = tmp_path / "ct.png"
    result = runner.invoke(cli, ["render", str(ct), "--preset", "brain", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert Image.open(out).size == (512, 512) and Image.open(out).mode == "L"
    result = runner.invoke(
        cli,
        ["render", str(xa), "--frame", "30", "--window", "128,256", "-o", str(tmp_path / "xa.png")],
    )
    assert result.exit_code == 0, result.output
    result = runner.invoke(
        cli,
        [
            "render",
            str(volume),
            "--plane",
            "coronal",
            "--frame",
            "30",
            "-o",
            str(tmp_path / "cor.png"),
        ],
    )
    assert result.exit_code == 0, result.output
    photo = tmp_path / "photo.jpg"
    exif = Image.Exif()
    exif[0x0112] = 6
    Image.new("RGB", (40, 20), "red").save(photo, exif=exif.tobytes())
    result = runner.invoke(cli, ["render", str(photo), "-o", str(tmp_path / "photo.png")])
    assert result.exit_code == 0, result.output
    assert Image.open(tmp_path / "photo.png").size == (20, 40)


def test_render_errors_are_one_line_and_exit_2(tmp_path: Path) -> None:
    runner = CliRunner()
    bad = tmp_path / "bad.dcm"
    bad.write_text("not dicom")
    for args in (
        ["render", str(bad), "-o", str(tmp_path / "x.png")],
        ["render", str(tmp_path / "missing.dcm"), "-o", str(tmp_path / "x.png")],
    ):
        result = runner.invoke(cli, args)
        assert result.exit_code == 2 and "Traceback" not in result.output
        assert result.output.startswith("clinlabel: ")
    ct = write_demo_medical(tmp_path / "in", seed=2)[0]
    for extra in (
        ["--window", "40"],
        ["--window", "40,80", "--preset", "lung"],
        ["--frame", "2"],
        ["--preset", "nope"],
    ):
        result = runner.invoke(cli, ["render", str(ct), *extra, "-o", str(tmp_path / "x.png")])
        assert result.exit_code == 2, (extra, result.output)
    assert not (tmp_path / "x.png").exists()


def test_info_text_and_json(tmp_path: Path) -> None:
    _, xa, _, volume = write_demo_medical(tmp_path, seed=2)
    runner = CliRunner()
    result = runner.invoke(cli, ["info", str(xa)])
    assert result.exit_code == 0 and "Explicit VR Little Endian" in result.output
    assert "PatientName" in result.output and "[identifying]" in result.output
    data = json.loads(runner.invoke(cli, ["info", str(xa), "--json"]).output)
    assert data["geometry"]["frames"] == 30
    assert data["geometry"]["acquisition"]["distance_source_to_patient"] == 750.0
    nifti = json.loads(runner.invoke(cli, ["info", str(volume), "--json"]).output)
    assert nifti["geometry"]["slices"]["axial"] == 40
    assert np.allclose(nifti["geometry"]["spacing_ras_mm"], [3.5, 3.5, 4.0], atol=0.2)
