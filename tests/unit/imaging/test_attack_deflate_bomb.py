"""A Deflated DICOM is inflated before the memory budget is checked (found by the attack on
issue 9).

A 2 MB Deflated Explicit VR Little Endian file whose pixel data inflates to 2 GiB took 6.4 GB of
memory in `clinlabel info`, in `clinlabel scan` and in the server (one request to its metadata),
for several seconds, before saying it is "too large to decode". The budget is checked from the
declared Rows, Columns and Number of Frames, but only after the dataset was read (inflated).
"""

from __future__ import annotations

import struct
import tracemalloc
import zlib
from pathlib import Path

import pytest
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.filebase import DicomBytesIO
from pydicom.filewriter import write_dataset, write_file_meta_info
from pydicom.uid import DeflatedExplicitVRLittleEndian, SecondaryCaptureImageStorage

from clinlabel.errors import DecodeError
from clinlabel.imaging.viewing import ViewingService

MIB = 1024 * 1024


def _deflated_bomb(path: Path, *, frames: int, side: int = 512) -> Path:
    """A small Deflated DICOM whose (honestly declared) pixel data is `frames` zero frames."""
    ds = Dataset()
    ds.SOPClassUID = SecondaryCaptureImageStorage
    ds.SOPInstanceUID = "1.2.826.0.1.3680043.10.1234.99"
    ds.Modality = "OT"
    ds.Rows = ds.Columns = side
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsAllocated = ds.BitsStored = 16
    ds.HighBit = 15
    ds.PixelRepresentation = 0
    ds.NumberOfFrames = frames
    body = DicomBytesIO()
    body.is_little_endian, body.is_implicit_VR = True, False
    write_dataset(body, ds)
    length = side * side * 2 * frames
    deflate = zlib.compressobj(1, zlib.DEFLATED, -15)
    parts = [
        deflate.compress(body.getvalue() + struct.pack("<HH2sHI", 0x7FE0, 0x10, b"OW", 0, length))
    ]
    chunk = b"\0" * (4 * MIB)
    for _ in range(length // len(chunk)):
        parts.append(deflate.compress(chunk))
    parts.append(deflate.flush())
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = ds.SOPClassUID
    meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    meta.TransferSyntaxUID = DeflatedExplicitVRLittleEndian
    head = DicomBytesIO()
    write_file_meta_info(head, meta, enforce_standard=True)
    path.write_bytes(b"\0" * 128 + b"DICM" + head.getvalue() + b"".join(parts))
    return path


def test_a_deflated_dicom_past_the_budget_is_refused_before_it_is_inflated(
    tmp_path: Path,
) -> None:
    budget = 16 * MIB
    path = _deflated_bomb(tmp_path / "bomb.dcm", frames=512)  # 256 MiB inflated
    assert path.stat().st_size < 2 * MIB
    service = ViewingService(memory_budget=budget)
    tracemalloc.start()
    try:
        with pytest.raises(DecodeError, match="too large"):
            service.header(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 4 * budget, (
        f"{peak / MIB:.0f} MiB allocated to refuse a {budget // MIB} MiB budget"
    )
