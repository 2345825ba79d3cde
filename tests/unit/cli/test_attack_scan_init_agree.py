"""`scan` and `init` agree on what is in the queue (found by the attack on issue 9; issue 10).

A PNG cut short (no IEND) and a NIfTI header with a zero dimension were "problem files (not in the
queue)" for `scan` while `init` queued them, and a text file named `.png` was the other way round.
Now one function (`discovery.admission.admit`) decides for both: images the viewer cannot show
stay in the queue, marked; files that are not images stay out of it, listed as problems.
"""

from __future__ import annotations

import io
import json
import struct
from pathlib import Path

import nibabel as nib
import numpy as np
from click.testing import CliRunner
from PIL import Image

from clinlabel.cli.app import cli
from clinlabel.labelling.project import open_project
from clinlabel.labelling.service import LabellingSession


def _batch(root: Path) -> Path:
    folder = root / "Case_1" / "Visit_1" / "XC"
    folder.mkdir(parents=True)
    Image.new("RGB", (16, 12), (40, 30, 90)).save(folder / "ok.jpg")
    png = io.BytesIO()
    Image.fromarray((np.arange(256 * 256) % 251).astype(np.uint8).reshape(256, 256)).save(
        png, format="PNG"
    )
    (folder / "cut.png").write_bytes(png.getvalue()[:800])
    header = nib.Nifti1Header()
    header.set_data_shape((8, 8, 8))
    header.set_data_dtype(np.int16)
    block = bytearray(header.binaryblock)
    struct.pack_into("<8h", block, 40, 3, 0, 8, 8, 1, 1, 1, 1)
    (folder / "zero.nii").write_bytes(bytes(block) + b"\0" * 4)
    (folder / "notes.png").write_text("Patient moved; retake next visit.\n", encoding="utf-8")
    return root


def test_scan_and_init_queue_the_same_files(tmp_path: Path) -> None:
    batch = _batch(tmp_path / "Batch")
    runner = CliRunner()
    scanned = json.loads(runner.invoke(cli, ["scan", str(batch), "--json"]).output)
    result = runner.invoke(cli, ["init", str(batch), "--out", str(tmp_path / "project")])
    assert result.exit_code == 0, result.output
    with open_project(tmp_path / "project") as project:
        session = LabellingSession(project, annotator="t")
        queued = [view.relpath for view in session.queue(1, 100)]
        session.close()
    assert sorted(scanned["images"]) == sorted(queued), (
        f"scan problems: {scanned['problems']}; init queued: {queued}"
    )
    # The text file is no image: out of the queue, a problem with its reason, for both.
    assert sorted(queued) == [
        "Case_1/Visit_1/XC/cut.png",
        "Case_1/Visit_1/XC/ok.jpg",
        "Case_1/Visit_1/XC/zero.nii",
    ]
    assert [(p["path"], p["reason"]) for p in scanned["problems"]] == [
        ("Case_1/Visit_1/XC/notes.png", "not an image: extension says PNG but the content is text")
    ]
    assert "notes.png" in result.output and "not an image" in result.output
    # The damaged images are in the queue and marked, with why, to be labelled NA.
    marked = {entry["path"]: entry["reason"] for entry in scanned["cannot_show"]}
    assert set(marked) == {"Case_1/Visit_1/XC/cut.png", "Case_1/Visit_1/XC/zero.nii"}
    assert "IEND" in marked["Case_1/Visit_1/XC/cut.png"]
    assert "dimensions" in marked["Case_1/Visit_1/XC/zero.nii"]


def test_quick_scan_queues_what_init_queues(tmp_path: Path) -> None:
    batch = _batch(tmp_path / "Batch")
    runner = CliRunner()
    full = json.loads(runner.invoke(cli, ["scan", str(batch), "--json"]).output)
    quick = json.loads(runner.invoke(cli, ["scan", str(batch), "--json", "--quick"]).output)
    assert quick["images"] == full["images"]
    assert quick["problems"] == full["problems"]
