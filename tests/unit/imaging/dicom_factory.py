"""Synthetic DICOM files in every transfer syntax an encoder exists for (tests and conformance).

Encoders: pydicom 3's `Dataset.compress` for RLE (pylibjpeg-rle / pydicom), JPEG-LS (pyjpegls) and
JPEG 2000 (pylibjpeg-openjpeg); Pillow plus `encapsulate` for JPEG Baseline; Deflated and Big
Endian by writing the dataset with that transfer syntax.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.encaps import encapsulate
from pydicom.uid import (
    JPEG2000,
    UID,
    DeflatedExplicitVRLittleEndian,
    ExplicitVRBigEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    JPEG2000Lossless,
    JPEGBaseline8Bit,
    JPEGLSLossless,
    JPEGLSNearLossless,
    RLELossless,
    SecondaryCaptureImageStorage,
    generate_uid,
)

LOSSLESS = {
    "implicit-le": ImplicitVRLittleEndian,
    "explicit-le": ExplicitVRLittleEndian,
    "explicit-be": ExplicitVRBigEndian,
    "deflated": DeflatedExplicitVRLittleEndian,
    "rle": RLELossless,
    "jpeg-ls": JPEGLSLossless,
    "jpeg2000-lossless": JPEG2000Lossless,
}
LOSSY = {
    "jpeg-ls-near": JPEGLSNearLossless,
    "jpeg2000": JPEG2000,
    "jpeg-baseline": JPEGBaseline8Bit,
}


def pattern(
    rows: int = 64, columns: int = 48, *, frames: int = 1, signed: bool = False, bits: int = 12
) -> np.ndarray:
    """A smooth ramp with a bright square whose position moves with the frame (frames x r x c)."""
    top = (1 << (bits - 1)) - 1 if signed else (1 << bits) - 1
    bottom = -(1 << (bits - 1)) if signed else 0
    r, c = np.mgrid[:rows, :columns]
    stack = []
    for index in range(frames):
        image = bottom + (r * columns + c) * (top - bottom) // (rows * columns)
        image[index % rows : index % rows + 4, 2:6] = top
        stack.append(image)
    dtype = np.int16 if signed else np.uint16
    return np.asarray(stack, dtype=dtype if bits > 8 else (np.int8 if signed else np.uint8))


def grey_dataset(
    pixels: np.ndarray, *, signed: bool, bits: int, photometric: str = "MONOCHROME2"
) -> Dataset:
    """A minimal Secondary Capture dataset holding `pixels` (frames x rows x columns)."""
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = SecondaryCaptureImageStorage
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SOPClassUID = SecondaryCaptureImageStorage
    ds.SOPInstanceUID = generate_uid(entropy_srcs=["clinlabel-test", str(pixels.shape), str(bits)])
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.PatientName = "TEST^SYNTHETIC"
    ds.Modality = "OT"
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = photometric
    ds.Rows, ds.Columns = pixels.shape[1:]
    if pixels.shape[0] > 1:
        ds.NumberOfFrames = pixels.shape[0]
    ds.BitsAllocated = 8 * pixels.dtype.itemsize
    ds.BitsStored = bits
    ds.HighBit = bits - 1
    ds.PixelRepresentation = int(signed)
    ds.PixelData = pixels.tobytes()
    return ds


def write(path: Path, ds: Dataset, syntax: UID) -> Path:
    """Write `ds` (native little endian pixels) in `syntax`."""
    if syntax in (RLELossless, JPEGLSLossless, JPEG2000Lossless):
        ds.compress(syntax)
    elif syntax == JPEGLSNearLossless:
        ds.compress(syntax, jls_error=2)
    elif syntax == JPEG2000:
        ds.compress(syntax, j2k_cr=[5])
    elif syntax == JPEGBaseline8Bit:
        _jpeg_baseline(ds)
    else:
        ds.file_meta.TransferSyntaxUID = syntax
        if syntax == ExplicitVRBigEndian and ds.BitsAllocated == 16:
            array = np.frombuffer(ds.PixelData, dtype=f"<{'i' if ds.PixelRepresentation else 'u'}2")
            ds.PixelData = array.astype(array.dtype.newbyteorder(">")).tobytes()
    ds.save_as(
        path,
        enforce_file_format=True,
        implicit_vr=syntax.is_implicit_VR,
        little_endian=syntax.is_little_endian,
    )
    return path


def _jpeg_baseline(ds: Dataset) -> None:
    frames = np.frombuffer(ds.PixelData, dtype=np.uint8).reshape(-1, ds.Rows, ds.Columns)
    encoded = []
    for frame in frames:
        buffer = io.BytesIO()
        Image.fromarray(frame, mode="L").save(buffer, format="JPEG", quality=95)
        encoded.append(buffer.getvalue())
    ds.PixelData = encapsulate(encoded)
    ds["PixelData"].VR = "OB"
    ds.file_meta.TransferSyntaxUID = JPEGBaseline8Bit
    ds.LossyImageCompression = "01"


def make_file(
    folder: Path, name: str, *, frames: int = 1, signed: bool = False
) -> tuple[Path, np.ndarray]:
    """`folder/<name>.dcm` in the syntax called `name` (a key of LOSSLESS or LOSSY)."""
    syntax = {**LOSSLESS, **LOSSY}[name]
    bits = 8 if syntax == JPEGBaseline8Bit else 12
    pixels = pattern(frames=frames, signed=signed and bits > 8, bits=bits)
    ds = grey_dataset(pixels, signed=signed and bits > 8, bits=bits)
    return write(folder / f"{name}.dcm", ds, syntax), pixels
