"""A NIfTI header with a zero dimension is a traceback (found by the attack on issue 9).

`clinlabel info` and `render` print numpy's "zero-size array to reduction operation minimum"
traceback (exit 1); the server answers 500 to its rendition, pixels and metadata with the
traceback in its log. `scan` calls the same file "damaged: the NIfTI header has impossible
dimensions" and keeps it out of the queue, while `init` queues it.
"""

from __future__ import annotations

import struct
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
from click.testing import CliRunner

from clinlabel.cli.app import cli
from clinlabel.domain.images import ImageKind
from clinlabel.errors import DecodeError
from clinlabel.imaging.viewing import ViewingService


def _zero_dimension_nifti(path: Path) -> Path:
    header = nib.Nifti1Header()
    header.set_data_shape((64, 64, 64))
    header.set_data_dtype(np.int16)
    block = bytearray(header.binaryblock)
    struct.pack_into("<8h", block, 40, 3, 0, 64, 64, 1, 1, 1, 1)  # dim[1] = 0
    path.write_bytes(bytes(block) + b"\0" * 4)
    return path


@pytest.mark.parametrize("command", ["info", "render"])
def test_the_cli_says_one_line(tmp_path: Path, command: str) -> None:
    path = _zero_dimension_nifti(tmp_path / "zero.nii")
    args = [command, str(path)] + (["-o", str(tmp_path / "out.png")] if command == "render" else [])
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2, (result.exit_code, repr(result.exception))
    assert "Traceback" not in result.output


def test_the_viewer_refuses_it_with_a_decode_error(tmp_path: Path) -> None:
    path = _zero_dimension_nifti(tmp_path / "zero.nii")
    service = ViewingService(rendition_folder=tmp_path / "renditions")
    with pytest.raises(DecodeError):
        service.rendition(path, ImageKind.NIFTI, max_side=512)
    with pytest.raises(DecodeError):
        service.pixels(path, ImageKind.NIFTI, frame=1, plane="axial")
