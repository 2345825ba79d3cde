"""Which pydicom decoding plugin decodes which transfer syntax.

pydicom 3 keeps one `Decoder` per transfer syntax, each with the plugins installed for it
(`Decoder.available_plugins`); a call passes `decoding_plugin=` to pick one. Plugins differ a lot in
speed per syntax, so we rank them by what `benchmarks/bench_render.py` measured on this project's
machines (512 x 512 CT, 2 cores), and only permissively licensed plugins are ranked:
pylibjpeg-libjpeg is GPLv3 and is used only when the user installed it and nothing else can decode.
"""

from __future__ import annotations

from pydicom.pixels.decoders.base import Decoder, get_decoder
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
    JPEGExtended12Bit: ("gdcm", "pillow", "pylibjpeg"),
    HTJ2KLossless: ("pylibjpeg",),
    HTJ2KLosslessRPCL: ("pylibjpeg",),
    HTJ2K: ("pylibjpeg",),
}
# Plugins that need a GPL package behind them: never chosen while a permissive one is available.
GPL_PLUGINS: dict[str, str] = {"pylibjpeg": "pylibjpeg-libjpeg"}
_NEEDS_LIBJPEG = frozenset({JPEGLossless, JPEGLosslessSV1, JPEGBaseline8Bit, JPEGExtended12Bit})


def decoder_for(transfer_syntax: UID) -> Decoder:
    """pydicom's decoder for a transfer syntax, or `DecodeError` saying what to install."""
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


def choose_plugin(transfer_syntax: UID) -> str:
    """The plugin name to pass as `decoding_plugin` ("" for the native decoders)."""
    decoder = decoder_for(transfer_syntax)
    if decoder.is_native:
        return ""
    available = decoder.available_plugins
    ranked = PREFERENCES.get(transfer_syntax, ())
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


def _is_gpl(transfer_syntax: UID, plugin: str) -> bool:
    # pylibjpeg decodes JPEG 1 only through pylibjpeg-libjpeg (GPLv3); its JPEG 2000 (openjpeg) and
    # RLE (pylibjpeg-rle) back ends are permissively licensed.
    return plugin in GPL_PLUGINS and transfer_syntax in _NEEDS_LIBJPEG
