"""Synthetic DICOM files in every transfer syntax an encoder exists for (tests and conformance).

Encoders: pydicom 3's `Dataset.compress` for RLE (pylibjpeg-rle / pydicom), JPEG-LS (pyjpegls) and
JPEG 2000 (pylibjpeg-openjpeg); Pillow plus `encapsulate` for JPEG Baseline; Deflated and Big
Endian by writing the dataset with that transfer syntax. pydicom has no encoder for JPEG Lossless,
JPEG Extended or HTJ2K, so those come from imagecodecs (BSD-3-Clause, a dev-only dependency):
`jpeg8_encode` (libjpeg-turbo 3: lossless SOF3 with any predictor, 12-bit SOF1) and `htj2k_encode`
(OpenJPH), one codestream per frame, encapsulated by pydicom.
"""

from __future__ import annotations

import io
from pathlib import Path

import imagecodecs
import numpy as np
from PIL import Image
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.encaps import encapsulate
from pydicom.uid import (
    HTJ2K,
    JPEG2000,
    UID,
    DeflatedExplicitVRLittleEndian,
    ExplicitVRBigEndian,
    ExplicitVRLittleEndian,
    HTJ2KLossless,
    HTJ2KLosslessRPCL,
    ImplicitVRLittleEndian,
    JPEG2000Lossless,
    JPEGBaseline8Bit,
    JPEGExtended12Bit,
    JPEGLossless,
    JPEGLosslessSV1,
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
    "jpeg-lossless-sv1": JPEGLosslessSV1,
    "jpeg-lossless": JPEGLossless,
    "htj2k-lossless": HTJ2KLossless,
    "htj2k-lossless-rpcl": HTJ2KLosslessRPCL,
}
LOSSY = {
    "jpeg-ls-near": JPEGLSNearLossless,
    "jpeg2000": JPEG2000,
    "jpeg-baseline": JPEGBaseline8Bit,
    "jpeg-extended": JPEGExtended12Bit,
    "htj2k": HTJ2K,
}
JPEG_LOSSLESS = (JPEGLosslessSV1, JPEGLossless)
HTJ2K_SYNTAXES = (HTJ2KLossless, HTJ2KLosslessRPCL, HTJ2K)
# The predictor `write` uses for JPEG Lossless (process 14) unless told: not 1, so that a decoder
# treating every process 14 stream as selection value 1 would give wrong pixels.
JPEG_LOSSLESS_PREDICTOR = 6


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


def write(path: Path, ds: Dataset, syntax: UID, *, predictor: int | None = None) -> Path:
    """Write `ds` (native little endian pixels) in `syntax`.

    `predictor` is the JPEG Lossless selection value (ITU-T T.81 H.1.2.1, table H.1) for
    `JPEGLossless`; `JPEGLosslessSV1` is always 1.
    """
    if syntax in (RLELossless, JPEGLSLossless, JPEG2000Lossless):
        ds.compress(syntax)
    elif syntax == JPEGLSNearLossless:
        ds.compress(syntax, jls_error=2)
    elif syntax == JPEG2000:
        ds.compress(syntax, j2k_cr=[5])
    elif syntax == JPEGBaseline8Bit:
        _jpeg_baseline(ds)
    elif syntax == JPEGLosslessSV1:
        _encapsulate(ds, syntax, [_jpeg_lossless(f, ds, 1) for f in _frames(ds)])
    elif syntax == JPEGLossless:
        chosen = JPEG_LOSSLESS_PREDICTOR if predictor is None else predictor
        _encapsulate(ds, syntax, [_jpeg_lossless(f, ds, chosen) for f in _frames(ds)])
    elif syntax == JPEGExtended12Bit:
        _encapsulate(ds, syntax, [_jpeg_extended(f, ds) for f in _frames(ds)])
        ds.LossyImageCompression = "01"
    elif syntax in HTJ2K_SYNTAXES:
        _encapsulate(ds, syntax, [_htj2k(f, syntax) for f in _frames(ds)])
        if syntax == HTJ2K:
            ds.LossyImageCompression = "01"
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


def _frames(ds: Dataset) -> np.ndarray:
    """The native pixels of `ds` as frames x rows x columns, in the dataset's own dtype."""
    kind = "i" if ds.PixelRepresentation else "u"
    dtype = np.dtype(f"<{kind}{ds.BitsAllocated // 8}")
    return np.frombuffer(ds.PixelData, dtype=dtype).reshape(-1, ds.Rows, ds.Columns)


def _encapsulate(ds: Dataset, syntax: UID, frames: list[bytes]) -> None:
    ds.PixelData = encapsulate(frames)
    ds["PixelData"].VR = "OB"
    ds.file_meta.TransferSyntaxUID = syntax


def _as_jpeg_samples(frame: np.ndarray, bits: int) -> np.ndarray:
    """The unsigned `bits`-bit samples a JPEG process codes for `frame`.

    JPEG (ITU-T T.81) has no signed samples: DICOM signed data is coded as its two's complement
    bit pattern in Bits Stored bits (PS3.5 8.2.1) and the decoder sign-extends it again from
    Pixel Representation. -1 in 12 bits is coded as 4095.
    """
    unsigned = frame.view(np.dtype(f"u{frame.itemsize}"))
    return np.bitwise_and(unsigned, (1 << bits) - 1)


def _jpeg_lossless(frame: np.ndarray, ds: Dataset, predictor: int) -> bytes:
    """A SOF3 (lossless, Huffman) codestream with selection value `predictor` (T.81 Annex H)."""
    bits = int(ds.BitsStored)
    return bytes(
        imagecodecs.jpeg8_encode(
            _as_jpeg_samples(frame, bits), lossless=True, predictor=predictor, bitspersample=bits
        )
    )


def _jpeg_extended(frame: np.ndarray, ds: Dataset) -> bytes:
    """A SOF1 (extended sequential DCT, Huffman) codestream of 12-bit samples: process 4."""
    if ds.BitsStored != 12:
        # PS3.5 Table 8.2.1-1: Bits Stored is 8 or 12 for this syntax; 8 would be process 2.
        raise ValueError("the JPEG Extended files generated here are 12-bit")
    return bytes(imagecodecs.jpeg8_encode(_as_jpeg_samples(frame, 12), level=95, bitspersample=12))


def _htj2k(frame: np.ndarray, syntax: UID) -> bytes:
    """An HTJ2K codestream (ITU-T T.814); OpenJPH writes RPCL progression by default.

    PS3.5 8.2.14: the RPCL syntax also asks for TLM marker segments. OpenJPH takes the
    precision and signedness from the dtype, so Bits Stored must fill Bits Allocated
    (`make_file` uses 16-bit data) for the codestream to agree with the header.
    """
    if syntax == HTJ2K:
        # A quantisation step this small leaves errors of a unit or two, like the other lossy
        # files here, so that one tolerance covers them all.
        encoded = imagecodecs.htj2k_encode(frame, reversible=False, level=1e-6)
    else:
        encoded = imagecodecs.htj2k_encode(frame, reversible=True, tlm=syntax == HTJ2KLosslessRPCL)
    return bytes(encoded)


def bits_for(syntax: UID) -> int:
    """Bits Stored `make_file` uses for `syntax`: what its encoder codes exactly."""
    if syntax == JPEGBaseline8Bit:
        return 8
    if syntax in HTJ2K_SYNTAXES:
        return 16
    return 12


def make_file(
    folder: Path, name: str, *, frames: int = 1, signed: bool = False
) -> tuple[Path, np.ndarray]:
    """`folder/<name>.dcm` in the syntax called `name` (a key of LOSSLESS or LOSSY)."""
    syntax = {**LOSSLESS, **LOSSY}[name]
    bits = bits_for(syntax)
    pixels = pattern(frames=frames, signed=signed and bits > 8, bits=bits)
    ds = grey_dataset(pixels, signed=signed and bits > 8, bits=bits)
    return write(folder / f"{name}.dcm", ds, syntax), pixels
