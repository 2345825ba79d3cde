"""Images as the discovery engine finds them in a batch folder."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import NamedTuple


class ImageKind(StrEnum):
    """How an image is decoded: Pillow, pydicom or nibabel."""

    RASTER = "raster"
    DICOM = "dicom"
    NIFTI = "nifti"


class ImageRef(NamedTuple):
    """One image file of a batch.

    `relpath` is the identity: the POSIX path relative to the batch root. Two visits may both hold
    `img1.jpg`, so a bare file name never identifies an image.

    A named tuple rather than a frozen dataclass: a scan makes one per file, and a frozen
    dataclass costs about three times as much to build (measured: 0.94 against 0.3 us), a tenth
    of the time of scanning a batch into its project.
    """

    relpath: str
    case: str
    visit: str
    folder: str
    """The XC / CLINICAL folder the image was found in (its name only)."""
    file: str
    """Path below the visit folder, e.g. `XC_CLINICAL/img1.jpg`: unique within a visit."""
    kind: ImageKind
    size: int
    mtime_ns: int


@dataclass(frozen=True, slots=True)
class Problem:
    """A file that looks like an image but cannot be one (zero bytes, not an image, truncated)."""

    relpath: str
    reason: str


@dataclass(frozen=True, slots=True)
class SkippedFolder:
    """A folder left out of the queue, with how many image files it holds, so nothing vanishes."""

    relpath: str
    reason: str
    image_count: int


@dataclass(slots=True)
class ScanResult:
    """What a scan reports besides the image stream: filled in while the stream is consumed."""

    problems: list[Problem] = field(default_factory=list)
    """Files named like images that are not images: left out of the queue."""
    unshowable: list[Problem] = field(default_factory=list)
    """Images in the queue that the viewer cannot show (cut short, damaged header, a DICOM file
    named like a photo), with why: label them NA with a comment."""
    skipped: list[SkippedFolder] = field(default_factory=list)
    cases: int = 0
    visits: int = 0
    images: int = 0
    clinical_folders: int = 0
    """XC/CLINICAL folders found (with or without images in them)."""

    def add(self, other: ScanResult) -> None:
        """Fold in the result of another part of the same scan, which came after this one."""
        self.problems.extend(other.problems)
        self.unshowable.extend(other.unshowable)
        self.skipped.extend(other.skipped)
        self.cases += other.cases
        self.visits += other.visits
        self.images += other.images
        self.clinical_folders += other.clinical_folders
