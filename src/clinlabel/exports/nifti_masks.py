"""NIfTI label maps: one `.nii.gz` per volume (per annotator when several drew), integer labels.

Each label map has the source volume's voxel grid exactly: its shape (the first three
dimensions) and its affine, so it overlays the volume in any viewer and training code can
load both with one call. Value 0 is background and value i the schema's i-th region class;
`<name>.labels.json` beside it holds that table. Regions are drawn per slice in one plane on
the grid the viewer shows (`nifti.oriented_slice`: RAS+ order, transposed and flipped); each is
rasterised on its slice, placed back through that mapping, then the RAS+ array is turned back
into the file's own axis order. Where regions overlap, the one drawn later wins.

The gzip stream is written with a zero time stamp, so the same regions give the same bytes.
"""

from __future__ import annotations

import gzip
import json
from collections import Counter
from pathlib import Path, PurePosixPath
from typing import Any

import nibabel as nib
import numpy as np
from nibabel import orientations

from clinlabel.atomic import atomic_binary_writer, atomic_writer
from clinlabel.exports.region_data import (
    DrawnRegion,
    RegionExport,
    VolumeGrid,
    fitted_name,
    label_table,
    rasterise,
)
from clinlabel.imaging.nifti import PLANE_AXES

_RAS = orientations.axcodes2ornt(("R", "A", "S"))  # type: ignore[no-untyped-call]


def label_map_name(relpath: str) -> PurePosixPath:
    """`Case/Visit/ct.nii.gz` -> `Case/Visit/ct.labels.nii.gz` (and `.labels.json`)."""
    path = PurePosixPath(relpath)
    stem = path.name
    for ending in (".nii.gz", ".nii"):
        if stem.lower().endswith(ending):
            stem = stem[: -len(ending)]
            break
    return fitted_name(path.with_name(stem), ".labels.nii.gz")


def _unique_names(relpaths: list[str]) -> dict[str, PurePosixPath]:
    """Each volume's label map: `ct.labels.nii.gz`, or `ct.nii.labels.nii.gz` and
    `ct.nii.gz.labels.nii.gz` when `ct.nii` and `ct.nii.gz` lie in one folder, so neither map
    (nor its table) is written over the other's."""
    named = {relpath: label_map_name(relpath) for relpath in relpaths}
    counts = Counter(name.as_posix().casefold() for name in named.values())
    for relpath, name in named.items():
        if counts[name.as_posix().casefold()] > 1:
            path = PurePosixPath(relpath)
            named[relpath] = fitted_name(path, ".labels.nii.gz")
    return named


def read_volume_grid(path: Path, relpath: str) -> VolumeGrid:
    """The voxel grid of a NIfTI file from its header alone (no voxel is decoded)."""
    from clinlabel.errors import DecodeError

    try:
        image: Any = nib.load(path)
        shape = tuple(int(n) for n in image.shape[:3])
        affine = np.asarray(image.affine, dtype=np.float64)
    except Exception as exc:  # nibabel and gzip raise many types for damaged files
        raise DecodeError(f"{relpath} cannot be read as NIfTI ({exc}).") from exc
    shape = shape + (1,) * (3 - len(shape))
    return VolumeGrid(
        relpath, (shape[0], shape[1], shape[2]), tuple(tuple(map(float, r)) for r in affine)
    )


def ras_shape(grid: VolumeGrid) -> tuple[int, int, int]:
    """The volume's shape in the RAS+ order the viewer (and so the drawing grid) uses."""
    current = orientations.io_orientation(np.asarray(grid.affine))  # type: ignore[no-untyped-call]
    to_ras = orientations.ornt_transform(current, _RAS)  # type: ignore[no-untyped-call]
    out = [0, 0, 0]
    for axis, (ras_axis, _flip) in enumerate(to_ras):
        out[int(ras_axis)] = grid.shape[axis]
    return out[0], out[1], out[2]


def slice_extent(grid: VolumeGrid, plane: str) -> tuple[int, int, int]:
    """(width, height) of a slice in `plane` as shown (see `imaging.drawing_grid`), and how
    many slices there are in that plane."""
    shape = ras_shape(grid)
    axis = PLANE_AXES[plane]
    a, b = (n for n in range(3) if n != axis)
    return shape[a], shape[b], shape[axis]


def volume_labels(export: RegionExport, grid: VolumeGrid, regions: list[DrawnRegion]) -> np.ndarray:
    """The label array of one volume, in the file's own voxel order and shape."""
    affine = np.asarray(grid.affine, dtype=np.float64)
    current = orientations.io_orientation(affine)  # type: ignore[no-untyped-call]
    dtype = np.uint8 if len(export.classes) < 256 else np.uint16
    ras = np.zeros(ras_shape(grid), dtype=dtype)
    for region in regions:
        if region.image.plane is None:
            continue
        axis = PLANE_AXES[region.image.plane]
        painted = rasterise(region)
        # oriented_slice shows taken.T[::-1, ::-1]; undo both flips, then the transpose.
        plane_view = painted[::-1, ::-1].T
        where: list[int | slice] = [slice(None)] * 3
        where[axis] = region.image.frame - 1
        target = ras[tuple(where)]
        target[plane_view] = export.label_of(region.region_class)
    back = orientations.ornt_transform(_RAS, current)  # type: ignore[no-untyped-call]
    stored: np.ndarray = orientations.apply_orientation(ras, back)  # type: ignore[no-untyped-call]
    return np.ascontiguousarray(stored)


def write_nifti_masks(export: RegionExport, folder: Path) -> tuple[list[Path], int]:
    """Write a label map and its label table for every volume with regions; the regions on
    photos and DICOM frames have no voxel grid here: left out and counted, as every format
    counts what it cannot hold (the export's figures add up to the database's)."""
    by_volume: dict[str, list[DrawnRegion]] = {}
    left_out = 0
    for region in export.regions:
        if region.image.plane is not None:
            by_volume.setdefault(region.image.relpath, []).append(region)
        else:
            left_out += 1
    table = label_table(export)
    # The label table also stands alone, so an export with no volume drawn on is still valid.
    index = folder / "labels.json"
    with atomic_writer(index) as handle:
        json.dump(table, handle, indent=2, ensure_ascii=False)
        handle.write("\n")
    written: list[Path] = [index]
    names = _unique_names(sorted(by_volume))
    for relpath in sorted(by_volume):
        grid = export.volumes[relpath]
        values = volume_labels(export, grid, by_volume[relpath])
        image: Any = nib.Nifti1Image(values, np.asarray(grid.affine, dtype=np.float64))  # type: ignore[no-untyped-call]
        image.header.set_data_dtype(values.dtype)
        image.header["descrip"] = b"clinlabel region labels"
        path = folder.joinpath(*names[relpath].parts)
        with atomic_binary_writer(path) as handle:
            handle.write(gzip.compress(image.to_bytes(), mtime=0))
        sidecar = path.with_name(path.name[: -len(".nii.gz")] + ".json")
        with atomic_writer(sidecar) as handle:
            json.dump({**table, "source": relpath}, handle, indent=2, ensure_ascii=False)
            handle.write("\n")
        written += [path, sidecar]
    return written, left_out
