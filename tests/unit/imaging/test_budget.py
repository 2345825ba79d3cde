"""Every image is bounded: a header that declares more than the memory budget is refused at once.

Each file here is small on disk and claims a huge image; before the budget, decoding it would
allocate what the header says (3 GB for the NIfTI in `clinlabel info`).
"""

from __future__ import annotations

import gzip
import os
import subprocess
import sys
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
from click.testing import CliRunner
from dicom_factory import grey_dataset, pattern, write
from PIL import Image
from pydicom import dcmread
from pydicom.uid import JPEGBaseline8Bit

from clinlabel.cli.app import cli
from clinlabel.errors import TooLargeError
from clinlabel.imaging import budget, nifti, raster
from clinlabel.imaging.dicom_frames import decode_frame
from clinlabel.imaging.dicom_header import parse_header

SRC = Path(__file__).resolve().parents[3] / "src"


def nifti_bomb(path: Path, shape: tuple[int, ...] = (2048, 2048, 256)) -> Path:
    """A .nii.gz of about 1 KB whose header claims `shape` int16 voxels (2 GiB by default)."""
    header = nib.Nifti1Image(np.zeros((2, 2, 2), np.int16), np.eye(4)).header.copy()
    header.set_data_shape(shape)
    path.write_bytes(gzip.compress(header.binaryblock + b"\0" * 4 + b"\0" * 65536))
    return path


def dicom_bomb(path: Path) -> Path:
    """A JPEG-compressed DICOM of a few KB that declares one 65535 x 65535 RGB frame (12 GiB)."""
    write(path, grey_dataset(pattern(bits=8), signed=False, bits=8), JPEGBaseline8Bit)
    ds = dcmread(path)
    ds.Rows = ds.Columns = 65535
    ds.SamplesPerPixel = 3
    ds.PhotometricInterpretation = "YBR_FULL_422"
    ds.PlanarConfiguration = 0
    ds.save_as(path)
    return path


def test_a_nifti_that_claims_gigabytes_is_refused_from_its_header(tmp_path: Path) -> None:
    bomb = nifti_bomb(tmp_path / "bomb.nii.gz")
    assert bomb.stat().st_size < 10_000
    with pytest.raises(TooLargeError) as caught:
        nifti.read_volume(bomb)
    message = str(caught.value)
    assert "bomb.nii.gz is too large" in message
    assert "2048 x 2048 x 256 int16" in message and "2,048 MiB" in message
    assert "--memory-budget-mb" in message


def test_clinlabel_info_refuses_the_nifti_bomb_in_one_line(tmp_path: Path) -> None:
    bomb = nifti_bomb(tmp_path / "bomb.nii.gz")
    result = CliRunner().invoke(cli, ["info", str(bomb)])
    assert result.exit_code == 2
    assert result.output.count("\n") == 1 and "memory budget of 512 MiB" in result.output


def test_the_budget_is_configurable_per_command(tmp_path: Path) -> None:
    # 128 x 128 x 64 int16 is 2 MiB: over a 1 MiB budget, well within the default.
    volume = tmp_path / "small.nii.gz"
    nib.save(nib.Nifti1Image(np.ones((128, 128, 64), np.int16), np.eye(4)), volume)
    runner = CliRunner()
    refused = runner.invoke(cli, ["info", str(volume), "--memory-budget-mb", "1"])
    assert refused.exit_code == 2 and "memory budget of 1 MiB" in refused.output
    rendered = runner.invoke(
        cli, ["render", str(volume), "-o", str(tmp_path / "x.png"), "--memory-budget-mb", "1"]
    )
    assert rendered.exit_code == 2 and "too large to decode" in rendered.output
    assert not (tmp_path / "x.png").exists()
    shown = runner.invoke(cli, ["info", str(volume), "--memory-budget-mb", "4"])
    assert shown.exit_code == 0, shown.output


def test_a_dicom_frame_past_the_budget_is_refused_before_decoding(tmp_path: Path) -> None:
    bomb = dicom_bomb(tmp_path / "bomb.dcm")
    header = parse_header(bomb)  # the header itself is fine and still shown as metadata
    assert header.frames == 1
    with pytest.raises(TooLargeError) as caught:
        decode_frame(header, 1)
    assert "one frame (65535 x 65535 pixels)" in str(caught.value)
    result = CliRunner().invoke(cli, ["render", str(bomb), "-o", str(tmp_path / "x.png")])
    assert result.exit_code == 2 and "too large to decode" in result.output


def test_a_long_run_of_ordinary_frames_is_not_refused(tmp_path: Path) -> None:
    """The budget counts what is decoded at once: one frame, not the whole run."""
    pixels = pattern(rows=256, columns=256, frames=24, bits=8)
    path = write(tmp_path / "run.dcm", grey_dataset(pixels, signed=False, bits=8), JPEGBaseline8Bit)
    limit = 1 * budget.MIB  # the run is 1.5 MiB, one frame 64 KiB
    header = parse_header(path, memory_budget=limit)
    assert decode_frame(header, 24, memory_budget=limit).shape == (256, 256)


def test_a_photo_canvas_past_the_budget_is_refused(tmp_path: Path) -> None:
    photo = tmp_path / "big.png"
    Image.new("RGB", (2000, 2000), (10, 20, 30)).save(photo)  # 11 MiB decoded, a few KB on disk
    assert photo.stat().st_size < 100_000
    with pytest.raises(TooLargeError) as caught:
        raster.display_image(photo, memory_budget=8 * budget.MIB)
    assert "its 2000 x 2000 RGB picture" in str(caught.value)
    assert raster.display_image(photo, memory_budget=16 * budget.MIB).size == (2000, 2000)


def test_pillows_decompression_bomb_limit_stays_on(tmp_path: Path) -> None:
    huge = tmp_path / "huge.png"
    Image.new("1", (20000, 10000)).save(huge)  # 200 Mpx, past Pillow's limit, 25 MB as "1"
    with pytest.raises(Exception, match="too large to decode safely"):
        raster.open_image(huge, memory_budget=1024 * budget.MIB)


def test_info_on_a_truncated_png_is_one_line(tmp_path: Path) -> None:
    whole = tmp_path / "whole.png"
    noise = np.random.default_rng(1).integers(0, 255, (200, 300, 3), dtype=np.uint8)
    Image.fromarray(noise).save(whole)
    cut = tmp_path / "cut.png"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    result = CliRunner().invoke(cli, ["info", str(cut)])
    assert result.exit_code == 2
    assert result.output == "clinlabel: cut.png cannot be decoded: the image data is truncated.\n"


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    return subprocess.run(
        [sys.executable, "-m", "clinlabel", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def test_nifti_warnings_never_reach_the_user(tmp_path: Path) -> None:
    """nibabel's header fixes (printed by its own logger) and numpy's NaN warnings stay quiet."""
    data = np.arange(8 * 8 * 4, dtype=np.float32).reshape(8, 8, 4)
    data[0, 0, 0], data[1, 1, 1] = np.nan, np.inf
    odd = tmp_path / "odd.nii"
    nib.save(nib.Nifti1Image(data, np.eye(4)), odd)
    raw = bytearray(odd.read_bytes())
    raw[80:84] = np.float32(-2.0).tobytes()  # pixdim[1] negative: nibabel "fixes" it, and says so
    odd.write_bytes(bytes(raw))
    for args in (("info", str(odd)), ("render", str(odd), "-o", str(tmp_path / "odd.png"))):
        result = _run(*args)
        assert result.returncode == 0, result.stderr
        assert result.stderr == ""


def test_scan_lists_files_past_the_budget_among_those_it_cannot_show(tmp_path: Path) -> None:
    from clinlabel.domain.images import ImageKind
    from clinlabel.imaging.check import why_not_shown

    nii = why_not_shown(nifti_bomb(tmp_path / "bomb.nii.gz"), ImageKind.NIFTI)
    dcm = why_not_shown(dicom_bomb(tmp_path / "bomb.dcm"), ImageKind.DICOM)
    assert nii is not None and nii.startswith("is too large to decode")
    assert dcm is not None and "memory budget" in dcm


def test_a_deflated_dicom_is_checked_whole_before_it_is_inflated(tmp_path: Path) -> None:
    """A Deflated file is inflated whole, so its whole pixel data counts, not one frame."""
    from pydicom.uid import DeflatedExplicitVRLittleEndian

    pixels = pattern(rows=512, columns=512, frames=4, bits=16)  # 2 MiB; 512 KiB a frame
    path = write(
        tmp_path / "deflated.dcm",
        grey_dataset(pixels, signed=False, bits=16),
        DeflatedExplicitVRLittleEndian,
    )
    with pytest.raises(TooLargeError, match=r"its pixel data \(4 frame\(s\) of 512 x 512"):
        parse_header(path, memory_budget=1 * budget.MIB)
    limit = 4 * budget.MIB
    assert decode_frame(parse_header(path, memory_budget=limit), 4, memory_budget=limit).shape == (
        512,
        512,
    )
