"""The batch layout rules: which folders hold images, which files are images, what is ignored.

A batch looks like `Batch/Case_001/Visit_1/XC_CLINICAL/img1.jpg` (the reference tool's layout):
every folder of the batch is a case, every folder of a case a visit, and inside a visit the
folders whose names contain XC or CLINICAL hold the images (their subfolders too).
"""

from __future__ import annotations

import enum
import re
from typing import Final

from clinlabel.domain import ImageKind

EXPECTED_LAYOUT: Final = "Batch/Case_001/Visit_1/XC_CLINICAL/img1.jpg"

# Tokens of a folder name: digit runs, ALL-CAPS runs (not eating the capital that starts the next
# camelCase word), capitalised or lower-case words, and any other letters.
_NEGATED_CLINICAL = re.compile(r"non[\W_]*clinical")
_TOKENS = re.compile(r"\d+|[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[^\W\d_]+")


def is_clinical_folder(name: str) -> bool:
    """True if a folder of a visit holds clinical images: its name has an XC token or CLINICAL.

    CLINICAL matches anywhere, in any letter case (the reference tool's rule), so
    `CLINICAL_IMAGES` and `Clinical` qualify; but not when it is negated (`NonClinical`,
    `non-clinical`, `NON_CLINICAL`): a folder named so says its images are not to be labelled.
    XC must be a whole token, because as a bare substring it would take `excluded` or `xcode`.
    Tokens are split at anything that is not a letter or digit, at a change between letters and
    digits, and at camelCase humps:
    `XC`, `xc`, `XC_CLINICAL`, `xc photos`, `02_XC`, `XC1`, `photosXC`, `XCPhotos` qualify;
    `excluded`, `xcode`, `Xcode`, `XCode`, `EXC`, `xcphotos` do not.
    """
    folded = name.casefold()
    if "clinical" in folded and not _NEGATED_CLINICAL.search(folded):
        return True
    if "xc" not in name.casefold():
        return False  # the common case, without the regex
    return any(token.casefold() == "xc" for token in _TOKENS.findall(name))


def is_hidden(name: str) -> bool:
    """Dot files and folders, including macOS AppleDouble `._name` files."""
    return name.startswith(".")


# Lower-case names that are never images, wherever they are. DICOMDIR starts like a DICOM file but
# is an index of a DICOM media set, not an image.
IGNORED_NAMES: Final = frozenset({"thumbs.db", "ehthumbs.db", "desktop.ini", "dicomdir"})

# Lower-case extension -> kind. `.gz` is a NIfTI only as `.nii.gz` (checked separately).
IMAGE_EXTENSIONS: Final[dict[str, ImageKind]] = {
    ".jpg": ImageKind.RASTER,
    ".jpeg": ImageKind.RASTER,
    ".png": ImageKind.RASTER,
    ".tif": ImageKind.RASTER,
    ".tiff": ImageKind.RASTER,
    ".bmp": ImageKind.RASTER,
    ".dcm": ImageKind.DICOM,
    ".dicom": ImageKind.DICOM,
    ".nii": ImageKind.NIFTI,
}

# Extensions that are certainly not DICOM, so a file carrying one is never opened to sniff.
# Anything else (no extension, `.1`, `.IMA`, a UID like `1.2.840.10008`) may be a DICOM file.
NOT_DICOM_EXTENSIONS: Final = frozenset(
    {
        ".txt", ".csv", ".tsv", ".json", ".xml", ".html", ".htm", ".md", ".rtf", ".log", ".ini",
        ".cfg", ".yaml", ".yml", ".pdf", ".doc", ".docx", ".xls", ".xlsx", ".ppt", ".pptx",
        ".odt", ".ods", ".zip", ".7z", ".rar", ".tar", ".gz", ".bz2", ".xz", ".db", ".sqlite",
        ".lnk", ".url", ".py", ".sh", ".bat", ".exe", ".dll",
        ".svg", ".mp4", ".mov", ".avi", ".mkv", ".wav", ".mp3", ".hdr", ".img", ".mat", ".npy",
    }
)  # fmt: skip


# Pictures a clinician may well drop into an XC folder (phones save HEIC) that clinlabel does not
# label yet: reported as problem files, so that none is left out silently.
UNSUPPORTED_IMAGE_EXTENSIONS: Final = frozenset(
    {".heic", ".heif", ".gif", ".webp", ".avif", ".jp2", ".jxl"}
)


class Sniff(enum.Enum):
    """Kind placeholders: an image only if it starts like DICOM, or a picture we cannot label."""

    SNIFF = "sniff"
    UNSUPPORTED = "unsupported"


def classify_name(lower: str) -> ImageKind | Sniff | None:
    """Kind of a file from its lower-cased name: a kind, `Sniff.SNIFF`, or None (not an image).

    The caller has already dropped hidden files; this is a set lookup, no regex, as it runs once
    per file of the batch.
    """
    dot = lower.rfind(".")
    if dot < 0:
        return None if lower in IGNORED_NAMES else Sniff.SNIFF
    ext = lower[dot:]
    kind = IMAGE_EXTENSIONS.get(ext)
    if kind is not None:
        return kind
    if ext == ".gz":
        return ImageKind.NIFTI if lower.endswith(".nii.gz") else None
    if ext in UNSUPPORTED_IMAGE_EXTENSIONS:
        return Sniff.UNSUPPORTED
    if ext in NOT_DICOM_EXTENSIONS or lower in IGNORED_NAMES:
        return None
    return Sniff.SNIFF
