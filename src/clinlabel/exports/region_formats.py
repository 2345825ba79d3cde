"""The region export formats `clinlabel export --format` knows, by name.

Each writes one export (or one split of it) into a folder and returns the files it wrote and
how many regions it could not represent. `per_annotator`: a label map holds one value per
pixel, so when several annotators drew, each gets a folder of their own rather than having
their regions painted over each other's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from clinlabel.exports.coco import write_coco
from clinlabel.exports.dicom_seg import write_dicom_seg
from clinlabel.exports.labelme import write_labelme
from clinlabel.exports.nifti_masks import write_nifti_masks
from clinlabel.exports.png_masks import write_png_masks
from clinlabel.exports.region_data import RegionExport

Writer = Callable[[RegionExport, Path], tuple[list[Path], int]]


@dataclass(frozen=True, slots=True)
class RegionFormat:
    name: str
    description: str
    write: Writer
    per_annotator: bool
    volumes: bool = False
    """Needs each volume's own voxel grid (read from the file's header)."""
    title: str = ""
    """Its name in the page's Finish ("COCO", "PNG masks")."""
    kinds: frozenset[str] = frozenset({"raster", "dicom", "nifti"})
    """The kinds of image it can hold: offered in the page only to a project with one of them."""


REGION_FORMATS: dict[str, RegionFormat] = {
    f.name: f
    for f in (
        RegionFormat(
            "coco",
            "COCO instances JSON (instances.json, one per split): polygons, boxes, masks as RLE",
            write_coco,
            per_annotator=False,
            title="COCO",
        ),
        RegionFormat(
            "png",
            "8-bit PNG label masks per image or frame (class index per pixel) and legend.json",
            write_png_masks,
            per_annotator=True,
            title="PNG masks",
        ),
        RegionFormat(
            "nifti",
            "NIfTI label maps (.labels.nii.gz) per volume on its own grid, with a label table",
            write_nifti_masks,
            per_annotator=True,
            volumes=True,
            title="NIfTI label maps",
            kinds=frozenset({"nifti"}),
        ),
        RegionFormat(
            "labelme",
            "labelme JSON per image (medical-labelme's per-frame form for DICOM frames)",
            write_labelme,
            per_annotator=True,
            title="labelme JSON",
            # labelme has no slices: a project of volumes only would get empty files.
            kinds=frozenset({"raster", "dicom"}),
        ),
        RegionFormat(
            "dicom-seg",
            "DICOM SEG (highdicom, BINARY) per DICOM file, one segment per region class",
            write_dicom_seg,
            per_annotator=True,
            title="DICOM SEG",
            kinds=frozenset({"dicom"}),
        ),
    )
}

FORMAT_ALIASES = {"masks": "png"}
"""Other names a format answers to (issue 12 calls the PNG label masks `masks`)."""


def region_format(name: str) -> RegionFormat | None:
    """The format called `name` (or one of its aliases), in any letter case; None if none is."""
    wanted = name.strip().lower()
    return REGION_FORMATS.get(FORMAT_ALIASES.get(wanted, wanted))
