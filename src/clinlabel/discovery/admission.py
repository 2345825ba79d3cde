"""Is this file an image for the queue? The one decision `scan`, `init` and every rescan share.

A file with an image's name (`layout.classify_name`) is read from its first bytes (never
decoded) and falls into one of three:

- **not an image** (`Admission.queued` False): empty, unreadable, or its content is something
  else (text, a PDF, a ZIP, unrecognisable bytes). Left out of the queue and out of the CSV,
  listed as a problem file with the reason.
- **an image the viewer cannot show** (queued, `Admission.mark` set): it starts as an image but
  is cut inside its signature, or it is a DICOM file named like a photo (or a photo named
  `.dcm`), and, when asked to `verify`, its header is incomplete or impossible (a PNG without its
  end chunk, a NIfTI with a zero dimension, ...). It stays in the queue so that it can be labelled
  NA with a reason, and scan lists it under "cannot show".
- **an image** (queued, no mark).

The first decision costs one `open` and one read of up to `HEAD_BYTES` per file, whatever the
flags, so that the queue never depends on them; `verify` adds the header checks of `headers.py`
on the same file descriptor (a few KB more). Nothing here decodes pixels.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Final

from clinlabel.discovery import headers, sniff
from clinlabel.domain.images import ImageKind

EMPTY_FILE: Final = "empty file (0 bytes)"
_SNIFF_BYTES: Final = 1024
"""Enough for every signature (NIfTI's magic ends at byte 347) and the text test."""

# What each kind of decoder opens: Pillow opens any of the raster formats whatever the
# extension says, pydicom DICOM, nibabel NIfTI (plain or gzipped).
_RASTER_FORMATS: Final = frozenset({sniff.JPEG, sniff.PNG, sniff.TIFF, sniff.BMP})
_DECODES: Final[dict[ImageKind, frozenset[str]]] = {
    ImageKind.RASTER: _RASTER_FORMATS,
    ImageKind.DICOM: frozenset({sniff.DICOM}),
    ImageKind.NIFTI: frozenset({sniff.NIFTI, sniff.GZIP}),
}
_PHOTO_STARTS: Final = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n")
_TIFF_STARTS: Final = tuple(sig for sig, name in sniff.SIGNATURES if name == sniff.TIFF)
_RENAME: Final = {sniff.DICOM: ".dcm", sniff.NIFTI: ".nii", sniff.GZIP: ".nii.gz"}


@dataclass(frozen=True, slots=True)
class Admission:
    """The decision about one file: in the queue or not, and why (None: an ordinary image)."""

    queued: bool
    reason: str | None = None
    """Not queued: why it is not an image. Queued: why the viewer cannot show it (the mark)."""

    @property
    def mark(self) -> str | None:
        return self.reason if self.queued else None


IMAGE: Final = Admission(queued=True)


def admit(path: str, *, lower_name: str, size: int, kind: ImageKind, verify: bool) -> Admission:
    """Whether the file at `path` (named `lower_name`, lower-cased; `size` bytes; of the `kind`
    its name says) goes into the queue. Never raises."""
    if size == 0:
        return Admission(False, EMPTY_FILE)
    try:
        fd = sniff.open_for_reading(path)
    except OSError as exc:
        return Admission(False, f"cannot read: {_strerror(exc)}")
    try:
        # Without verify, one read: a regular file gives all it has up to the count (short
        # only at its end). This runs for every file of a batch: every system call counts.
        head = sniff.read_at(fd, 0, sniff.HEAD_BYTES) if verify else os.read(fd, _SNIFF_BYTES)
        admission = decide(head, lower_name=lower_name, kind=kind)
        if verify and admission.queued and admission.reason is None:
            reason = headers.check_head(fd, head, size, lower_name=lower_name)
            if reason is not None and not _raster_renamed(reason, kind):
                return Admission(True, reason)
        return admission
    except OSError as exc:
        return Admission(False, f"cannot read: {_strerror(exc)}")
    finally:
        os.close(fd)


def decide(head: bytes, *, lower_name: str, kind: ImageKind) -> Admission:
    """The decision from a file's first bytes alone (see the module)."""
    if kind is ImageKind.RASTER and head.startswith(_PHOTO_STARTS) and head[128:132] != b"DICM":
        return IMAGE  # the common case, without trying every signature
    ext = _extension(lower_name)
    expected = sniff.EXPECTED_BY_EXTENSION.get(ext, sniff.DICOM)
    content = sniff.detect_format(head)
    if content == sniff.GZIP and kind is not ImageKind.NIFTI:
        content = "a gzip archive"
    if content in _DECODES[kind]:
        return IMAGE
    if kind is ImageKind.RASTER and content == sniff.DICOM and head.startswith(_TIFF_STARTS):
        return IMAGE  # dual personality: also a whole TIFF, which Pillow opens
    if content in sniff.IMAGE_FORMATS:
        said = "NIfTI (gzip)" if ext == ".gz" else expected
        hint = f" (rename it {_RENAME[content]})" if content in _RENAME else ""
        return Admission(True, f"extension says {said} but content is {content}{hint}")
    if content is None:
        if kind is ImageKind.DICOM and sniff.looks_like_headerless_dicom(head):
            return IMAGE  # an old ACR-NEMA file: pydicom reads it with force=True
        if sniff.truncated_signature(head, expected):
            return Admission(True, f"truncated: the file ends inside the {expected} signature")
        if kind is ImageKind.NIFTI and headers.nifti_size_field(head):
            return Admission(True, headers.check_nifti_header(head, file_size=None))
    said = "NIfTI (gzip)" if ext == ".gz" else expected
    what = "not recognised" if content is None else content
    return Admission(False, f"not an image: extension says {said} but the content is {what}")


def _raster_renamed(reason: str, kind: ImageKind) -> bool:
    """A photo saved under another photo format's extension: Pillow reads it by its content."""
    return kind is ImageKind.RASTER and reason.startswith("extension says ")


def _extension(lower_name: str) -> str:
    dot = lower_name.rfind(".")
    return lower_name[dot:] if dot >= 0 else ""


def _strerror(exc: OSError) -> str:
    return (exc.strerror or type(exc).__name__).lower()
