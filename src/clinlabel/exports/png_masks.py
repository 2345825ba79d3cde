"""PNG label masks: one 8-bit greyscale PNG per drawn frame or slice, the class index per pixel.

Layout
    Below the output folder, a tree mirroring the batch's: the mask of `Case/Visit/img.jpg` is
    `Case/Visit/img.jpg.png`; of frame 3 of a DICOM file `....dcm.frame0003.png`; of axial slice
    12 of a volume `....nii.gz.axial0012.png`. The pixel grid is the drawing grid (a photo as
    shown after its EXIF orientation, a DICOM frame, a volume slice as the viewer shows it).
    `legend.json` beside them: value 0 is background, value i the schema's i-th region class,
    with its colour. Where regions overlap, the one drawn later wins.
"""

from __future__ import annotations

import json
from pathlib import Path, PurePosixPath

from PIL import Image

from clinlabel.atomic import atomic_binary_writer, atomic_writer
from clinlabel.errors import OutputError
from clinlabel.exports.region_data import (
    DrawnImage,
    RegionExport,
    fitted_name,
    group_by_image,
    label_map,
    label_table,
)

LEGEND = "legend.json"


def mask_name(image: DrawnImage) -> PurePosixPath:
    """The mask's path below the output folder."""
    if image.plane:
        suffix = f".{image.plane}{image.frame:04d}.png"
    elif image.frame:
        suffix = f".frame{image.frame:04d}.png"
    else:
        suffix = ".png"
    return fitted_name(PurePosixPath(image.relpath), suffix)


def write_png_masks(export: RegionExport, folder: Path) -> tuple[list[Path], int]:
    """Write the masks and the legend atomically; the files written (and 0 left out)."""
    if len(export.classes) > 255:
        raise OutputError(
            "An 8-bit PNG mask holds at most 255 region classes; this schema has "
            f"{len(export.classes)}.",
            hint="Export --format nifti or coco instead.",
        )
    written: list[Path] = []
    grouped = group_by_image(export.regions)
    for image in export.images:
        values = label_map(export, image, grouped.get(image.key, []))
        path = folder.joinpath(*mask_name(image).parts)
        with atomic_binary_writer(path) as handle:
            Image.fromarray(values).save(handle, format="PNG")
        written.append(path)
    legend = folder / LEGEND
    with atomic_writer(legend) as handle:
        json.dump(label_table(export), handle, indent=2, ensure_ascii=False)
        handle.write("\n")
    written.append(legend)
    return written, 0
