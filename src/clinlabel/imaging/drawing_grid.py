"""The pixel grid a region is drawn on: a photo's (as shown, EXIF orientation applied), a DICOM
frame's, or a volume slice's in one plane, read from headers only (nothing is decoded but a
volume, which the viewing service keeps anyway).

Region coordinates are continuous pixel coordinates on that grid, x to the right and y down,
(0, 0) the top-left corner of the first pixel. On a volume the grid is the slice exactly as
`nifti.oriented_slice` shows it, so `voxel_of` turns any point back into voxel indices and a
shape drawn in one plane can be placed in the others.
"""

from __future__ import annotations

from pathlib import Path

from clinlabel.domain.images import ImageKind
from clinlabel.domain.regions import Extent
from clinlabel.errors import DecodeError, ValidationError
from clinlabel.imaging.reader import DIRECT, ImageReader

#: EXIF orientations 5 to 8 turn the picture a quarter: its width and height swap.
_QUARTER_TURNS = frozenset({5, 6, 7, 8})


def drawing_grid(
    path: Path, kind: ImageKind, *, plane: str | None, reader: ImageReader = DIRECT
) -> tuple[Extent, int]:
    """The grid regions on this image are drawn on, and how many frames (or slices in `plane`)
    there are. A volume needs a plane; a photo or a DICOM file must not have one."""
    if kind is ImageKind.NIFTI:
        if plane is None:
            raise ValidationError(
                "A region on a volume names its plane (axial, coronal or sagittal)."
            )
        from clinlabel.imaging.nifti import PLANE_AXES

        volume = reader.volume(path)
        axis = PLANE_AXES[plane]
        a, b = (n for n in range(3) if n != axis)
        shape = volume.data.shape
        return Extent(int(shape[a]), int(shape[b])), int(shape[axis])
    if plane is not None:
        raise ValidationError("Only a volume has planes; draw on the image or one of its frames.")
    if kind is ImageKind.DICOM:
        header = reader.header(path)
        return Extent(int(header.options["columns"]), int(header.options["rows"])), header.frames
    return _photo_grid(path), 1


def _photo_grid(path: Path) -> Extent:
    from clinlabel.imaging.raster import EXIF_ORIENTATION, exif_of, open_image

    image = open_image(path)
    try:
        width, height = image.size
        orientation = exif_of(image, path.name).get(EXIF_ORIENTATION, 1)
    finally:
        image.close()
    if orientation in _QUARTER_TURNS:
        width, height = height, width
    if width <= 0 or height <= 0:
        raise DecodeError(f"{path.name} has no pixels to draw on.")
    return Extent(int(width), int(height))


def voxel_of(
    shape: tuple[int, int, int], plane: str, index: int, x: float, y: float
) -> tuple[float, float, float]:
    """The voxel coordinates (RAS+ array order, continuous) of point (x, y) on slice `index`
    (from 1) of `plane`, for a volume of this shape: the inverse of `oriented_slice`'s
    transpose and double flip."""
    from clinlabel.imaging.nifti import PLANE_AXES

    axis = PLANE_AXES[plane]
    a, b = (n for n in range(3) if n != axis)
    voxel = [0.0, 0.0, 0.0]
    voxel[axis] = index - 0.5
    # Shown column x runs along axis a reversed, shown row y along axis b reversed.
    voxel[a] = shape[a] - x
    voxel[b] = shape[b] - y
    return voxel[0], voxel[1], voxel[2]
