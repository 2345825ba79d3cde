"""Which pydicom decoding plugin decodes which transfer syntax.

pydicom 3 keeps one `Decoder` per transfer syntax, each with the plugins installed for it
(`Decoder.available_plugins`); a call passes `decoding_plugin=` to pick one. Plugins differ a lot in
speed per syntax, so we rank them by what `benchmarks/bench_render.py` measured on this project's
machines (512 x 512 CT, 2 cores), and only permissively licensed plugins are ranked:
pylibjpeg-libjpeg is GPLv3 and is used only when the user installed it and nothing else can decode.

One plugin is our own, `clinlabel-gdcm`, for JPEG Extended (process 2 & 4): pydicom's GDCM plugin
refuses 12-bit samples outright, though the GDCM we depend on decodes them exactly (it carries a
12-bit libjpeg); without it 12-bit JPEG Extended would need the GPL pylibjpeg-libjpeg.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Mapping
from typing import Any

from pydicom.pixels.decoders.base import Decoder, DecodeRunner, get_decoder
from pydicom.uid import (
    HTJ2K,
    JPEG2000,
    UID,
    HTJ2KLossless,
    HTJ2KLosslessRPCL,
    JPEG2000Lossless,
    JPEGBaseline8Bit,
    JPEGExtended12Bit,
    JPEGLossless,
    JPEGLosslessSV1,
    JPEGLSLossless,
    JPEGLSNearLossless,
    RLELossless,
)

from clinlabel.errors import DecodeError

OWN_GDCM = "clinlabel-gdcm"

# Fastest first, as measured (512 x 512 x 16-bit CT; see docs/adr/0003-dicom-decoding.md).
PREFERENCES: dict[str, tuple[str, ...]] = {
    JPEGLossless: ("gdcm", "pylibjpeg"),
    JPEGLosslessSV1: ("gdcm", "pylibjpeg"),
    RLELossless: ("pylibjpeg", "pydicom", "gdcm"),
    JPEGLSLossless: ("pyjpegls", "gdcm"),
    JPEGLSNearLossless: ("pyjpegls", "gdcm"),
    JPEG2000Lossless: ("pylibjpeg", "gdcm", "pillow"),
    JPEG2000: ("pylibjpeg", "gdcm", "pillow"),
    JPEGBaseline8Bit: ("pillow", "gdcm", "pylibjpeg"),
    # Ours first for 12-bit grey data (GDCM itself); `choose_plugin` passes 8-bit and colour data
    # to the next (pydicom's own GDCM plugin).
    JPEGExtended12Bit: (OWN_GDCM, "gdcm", "pillow", "pylibjpeg"),
    HTJ2KLossless: ("pylibjpeg",),
    HTJ2KLosslessRPCL: ("pylibjpeg",),
    HTJ2K: ("pylibjpeg",),
}
# Plugins that need a GPL package behind them: never chosen while a permissive one is available.
GPL_PLUGINS: dict[str, str] = {"pylibjpeg": "pylibjpeg-libjpeg"}
_NEEDS_LIBJPEG = frozenset({JPEGLossless, JPEGLosslessSV1, JPEGBaseline8Bit, JPEGExtended12Bit})


# pydicom's plugin protocol (`Decoder.add_plugin`): the syntaxes this module decodes and what
# each needs, and `is_available` below.
DECODER_DEPENDENCIES: dict[str, tuple[str, ...]] = {JPEGExtended12Bit: ("gdcm>=3.0.10",)}

_registered = False
_register_lock = threading.Lock()


def decoder_for(transfer_syntax: UID) -> Decoder:
    """pydicom's decoder for a transfer syntax, or `DecodeError` saying what to install."""
    _register_own_plugins()
    try:
        decoder = get_decoder(transfer_syntax)
    except NotImplementedError:
        raise DecodeError(
            f"The transfer syntax {transfer_syntax.name} ({transfer_syntax}) is not supported."
        ) from None
    if not decoder.is_available:
        missing = "; ".join(decoder.missing_dependencies) or "a decoding plugin"
        raise DecodeError(
            f"No installed plugin decodes {transfer_syntax.name} ({transfer_syntax}).",
            hint=f"Install one of: {missing}.",
        )
    return decoder


def choose_plugin(transfer_syntax: UID, *, options: Mapping[str, Any] | None = None) -> str:
    """The plugin name to pass as `decoding_plugin` ("" for the native decoders).

    `options` (the decoder options of the file) narrow the choice where a plugin serves only
    part of a syntax: `clinlabel-gdcm` decodes 12-bit grey JPEG Extended only.
    """
    decoder = decoder_for(transfer_syntax)
    if decoder.is_native:
        return ""
    available = decoder.available_plugins
    ranked = PREFERENCES.get(transfer_syntax, ())
    if options is not None and not _twelve_bit_grey(options):
        ranked = tuple(name for name in ranked if name != OWN_GDCM)
    permissive = [
        name for name in ranked if name in available and not _is_gpl(transfer_syntax, name)
    ]
    if permissive:
        return permissive[0]
    others = [name for name in available if not _is_gpl(transfer_syntax, name)]
    if others:
        return sorted(others)[0]
    # Only a GPL plugin is installed: the user chose to install it, so use it.
    return sorted(available)[0]


def _twelve_bit_grey(options: Mapping[str, Any]) -> bool:
    bits = int(options.get("bits_stored") or options.get("bits_allocated") or 8)
    return bits > 8 and int(options.get("samples_per_pixel") or 1) == 1


def _is_gpl(transfer_syntax: UID, plugin: str) -> bool:
    # pylibjpeg decodes JPEG 1 only through pylibjpeg-libjpeg (GPLv3); its JPEG 2000 (openjpeg) and
    # RLE (pylibjpeg-rle) back ends are permissively licensed.
    return plugin in GPL_PLUGINS and transfer_syntax in _NEEDS_LIBJPEG


def _register_own_plugins() -> None:
    """Add `clinlabel-gdcm` to pydicom's JPEG Extended decoder, once per process.

    Lazily, on the first decode rather than at import, so that importing clinlabel changes no
    pydicom state; under a lock because `add_plugin` is not thread-safe.
    """
    global _registered
    if _registered:
        return
    with _register_lock:
        if _registered:
            return
        with contextlib.suppress(ValueError):  # already there: this module was imported twice
            get_decoder(JPEGExtended12Bit).add_plugin(OWN_GDCM, (__name__, "decode_jpeg_extended"))
        _registered = True


def is_available(uid: str) -> bool:
    """pydicom's plugin protocol: whether `clinlabel-gdcm` can decode `uid` here."""
    if uid not in DECODER_DEPENDENCIES:
        return False
    try:
        import gdcm  # noqa: F401
    except ImportError:
        return False
    return True


def decode_jpeg_extended(src: bytes, runner: DecodeRunner) -> bytes:
    """Decode one JPEG Extended frame (ITU-T T.81 processes 2 and 4, SOF1 Huffman DCT).

    8-bit data and colour go to pydicom's own GDCM plugin unchanged (12-bit colour is refused
    there, as before). 12-bit grey data goes to GDCM directly, with the call that plugin makes:
    GDCM tries its 8-bit libjpeg first, prints "Unsupported JPEG data precision 12" to stderr,
    then decodes with its 12-bit libjpeg. The conformance tests hold the result equal, value for
    value, to libjpeg-turbo's 12-bit decoder on pydicom's JPEG-lossy.dcm and JPGExtended.dcm and
    on generated files. GDCM sign-extends the 12-bit two's complement samples itself when Pixel
    Representation is 1 (PS3.5 8.2.1). `choose_plugin` picks this plugin for 12-bit grey data
    only; 8-bit and colour data go to pydicom's own GDCM plugin through pydicom's plugin choice.
    """
    if runner.bits_stored <= 8 or runner.samples_per_pixel != 1:
        raise RuntimeError("clinlabel-gdcm decodes 12-bit grey JPEG Extended only")
    import gdcm as gdcm_module  # untyped: python-gdcm ships no type information

    fragment = gdcm_module.Fragment()
    fragment.SetByteStringValue(src)
    fragments = gdcm_module.SequenceOfFragments.New()
    fragments.AddFragment(fragment)
    element = gdcm_module.DataElement(gdcm_module.Tag(0x7FE0, 0x0010))
    element.SetValue(fragments.__ref__())
    image = gdcm_module.Image()
    image.SetNumberOfDimensions(2)
    image.SetDimensions((runner.columns, runner.rows, 1))
    image.SetDataElement(element)
    interpretation = gdcm_module.PhotometricInterpretation
    image.SetPhotometricInterpretation(
        interpretation(interpretation.GetPIType(str(runner.photometric_interpretation)))
    )
    image.SetTransferSyntax(
        gdcm_module.TransferSyntax(gdcm_module.TransferSyntax.JPEGExtendedProcess2_4)
    )
    bits = runner.bits_stored
    image.SetPixelFormat(
        gdcm_module.PixelFormat(1, 16, bits, bits - 1, runner.pixel_representation)
    )
    buffer = image.GetBuffer()  # GDCM hands char* back as str, or None when decoding failed
    expected = runner.rows * runner.columns * 2
    if buffer is None:
        raise RuntimeError("GDCM could not decode the 12-bit JPEG Extended frame")
    decoded = bytes(buffer.encode("utf-8", "surrogateescape"))
    if len(decoded) != expected:
        raise RuntimeError(
            f"GDCM gave {len(decoded)} bytes for a 12-bit JPEG Extended frame of {expected}"
        )
    # Two bytes a sample whatever the file says (JPEG Extended 12-bit data is 16 bits allocated).
    runner.set_option("bits_allocated", 16)
    return decoded
