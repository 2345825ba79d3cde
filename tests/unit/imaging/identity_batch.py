"""Many small DICOM files whose pixels say which file they are (for the identity tests)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from pydicom.uid import ExplicitVRLittleEndian, RLELossless

from .dicom_factory import grey_dataset, write

SIDE = 16
BRIGHT = 4000


def expected_pixels(index: int) -> np.ndarray:
    """File `index`'s stored values: `index` everywhere, one bright pixel placed by `index`."""
    pixels = np.full((SIDE, SIDE), index, dtype=np.uint16)
    pixels[bright_spot(index)] = BRIGHT
    return pixels


def bright_spot(index: int) -> tuple[int, int]:
    return (index // SIDE) % SIDE, index % SIDE


def write_identity_file(path: Path, index: int) -> Path:
    """One-frame DICOM holding `expected_pixels(index)`; odd files RLE, even ones native."""
    ds = grey_dataset(expected_pixels(index)[np.newaxis], signed=False, bits=12)
    ds.SOPInstanceUID = f"1.2.826.0.1.3680043.10.1234.{index + 1}"
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    return write(path, ds, RLELossless if index % 2 else ExplicitVRLittleEndian)
