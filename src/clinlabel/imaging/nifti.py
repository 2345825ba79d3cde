"""NIfTI volumes (`.nii`, `.nii.gz`) through nibabel: three planes, the right way round.

A volume is loaded as its stored integer type (never float64), reoriented to RAS+ by its
affine (as views: flips and transposes, no copy); the open project's viewing service keeps it,
keyed by the file's identity. A slice in any plane is then a view, one table look-up for the
window and, when voxels are not square in that plane, one resize.

Display conventions (radiological): axial, patient left on screen right and anterior up; coronal,
patient left on screen right and superior up; sagittal, anterior on screen left and superior up.
Slices are numbered from 1, starting inferior (axial), posterior (coronal) and right (sagittal).
"""

from __future__ import annotations

import contextlib
import logging
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import nibabel as nib
import numpy as np
from nibabel import orientations
from PIL import Image

from clinlabel.errors import DecodeError
from clinlabel.imaging import budget, rendering, windowing
from clinlabel.imaging.file_identity import FileIdentity, check_unchanged, identify
from clinlabel.imaging.reader import DIRECT, ImageReader
from clinlabel.imaging.rendering import GreyTransform
from clinlabel.imaging.windowing import Window

PLANE_AXES = {"sagittal": 0, "coronal": 1, "axial": 2}


@dataclass(frozen=True, eq=False)
class Volume:
    """A volume in RAS+ voxel order (axis 0 towards patient right... left, see `_to_ras`)."""

    path: Path
    data: np.ndarray
    """Stored values, axes ordered x (R->L flipped to RAS), y (P->A), z (I->S)."""
    spacing: tuple[float, float, float]
    transform: GreyTransform
    default_window: Window
    identity: FileIdentity | None = None
    """The file this volume was read from, exactly (path, size, mtime, inode)."""

    def slices(self, plane: str) -> int:
        return int(self.data.shape[_axis(plane)])


def read_volume(
    path: Path,
    *,
    identity: FileIdentity | None = None,
    memory_budget: int = budget.DEFAULT_BYTES,
) -> Volume:
    """The RAS+ volume of `path`, checked to come from the file with `identity` (taken now when
    not given)."""
    identity = identity or identify(path)
    if identity.size == 0:
        raise DecodeError(f"{path.name} is empty (0 bytes).")
    volume = replace(_load(Path(identity.path), memory_budget), identity=identity)
    check_unchanged(identity)
    return volume


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    """Keep numpy's and nibabel's warnings from the user (they cannot act on them).

    nibabel fixes odd headers (a negative pixdim, say) and says so through its own logger, which
    prints to stderr; numpy warns about NaN and infinite voxels while they are windowed. What
    matters reaches the user as a `DecodeError` or in the metadata. `np.errstate` is per thread;
    `catch_warnings` is not, so it is only used around loading, once per file.
    """
    logger = logging.getLogger("nibabel.global")
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        level = logger.level
        logger.setLevel(logging.CRITICAL + 1)
        try:
            yield
        finally:
            logger.setLevel(level)


def _load(path: Path, memory_budget: int) -> Volume:
    with quiet():
        return _decode_volume(path, memory_budget)


def _decode_volume(path: Path, memory_budget: int) -> Volume:
    try:
        image: Any = nib.load(path)
        refuse_cifti(image, path)
        _check_budget(path, image.header, memory_budget)
        _check_voxels(path, image.header)
        proxy = image.dataobj
        # The unscaled array keeps the stored type (int16 stays int16); scl_slope/scl_inter are
        # applied through the display table instead, like a DICOM Rescale Slope/Intercept.
        stored = np.asarray(proxy.get_unscaled() if hasattr(proxy, "get_unscaled") else proxy)
        slope = float(getattr(proxy, "slope", 1.0) or 1.0)
        intercept = float(getattr(proxy, "inter", 0.0) or 0.0)
        affine = np.asarray(image.affine, dtype=np.float64)
        header = image.header
    except DecodeError:
        raise
    except Exception as exc:  # nibabel, gzip and zlib raise many types for damaged files
        raise DecodeError(f"{path.name} cannot be read as NIfTI ({exc}).") from exc
    if stored.ndim < 3:
        stored = stored.reshape(stored.shape + (1,) * (3 - stored.ndim))
    while stored.ndim > 3:
        stored = stored[..., 0]  # a 4-D series: show its first volume
    if stored.dtype.kind == "f" and stored.dtype.itemsize > 4:
        stored = stored.astype(np.float32)
    if stored.dtype.kind not in "iuf" or (stored.dtype.itemsize > 4 and stored.dtype.kind != "f"):
        stored = stored.astype(np.float32)
    data, spacing = _to_ras(stored, affine)
    transform = GreyTransform(
        signed=data.dtype.kind == "i",
        bits_stored=8 * data.dtype.itemsize,
        slope=slope,
        intercept=intercept,
    )
    return Volume(
        path=path,
        data=data,
        spacing=spacing,
        transform=transform,
        default_window=_default_window(data, transform, header),
    )


def refuse_cifti(image: Any, path: Path) -> None:
    """A CIFTI-2 file (`.dtseries.nii`, `.dscalar.nii`, ...) is a NIfTI-2 container of
    grayordinates (surface vertices and voxels), not a volume with an affine: say so."""
    if isinstance(image, nib.Cifti2Image):
        raise DecodeError(
            f"{path.name} is a CIFTI-2 file (grayordinate data on surfaces and voxels), not a "
            "NIfTI volume; clinlabel shows NIfTI-1 and NIfTI-2 volumes only."
        )


def _check_budget(path: Path, header: Any, limit: int) -> None:
    """Refuse a volume whose header declares more than the memory budget, before inflating it."""
    shape = tuple(int(n) for n in header.get_data_shape())
    dtype = np.dtype(header.get_data_dtype())
    budget.check(
        budget.nifti_bytes(shape, dtype.itemsize),
        name=path.name,
        what=f"its volume ({' x '.join(map(str, shape))} {dtype.name})",
        limit=limit,
    )


def _check_voxels(path: Path, header: Any) -> None:
    """Refuse a header with a zero dimension: there is nothing to show, and every statistic of
    an empty array (the default window's minimum first) would fail deep inside numpy."""
    shape = tuple(int(n) for n in header.get_data_shape())
    if not shape or 0 in shape:
        raise DecodeError(
            f"{path.name} holds no voxels: its NIfTI header gives the dimensions "
            f"{' x '.join(map(str, shape)) or '(none)'}."
        )


def _to_ras(
    stored: np.ndarray, affine: np.ndarray
) -> tuple[np.ndarray, tuple[float, float, float]]:
    """Reorder the voxel axes to the closest RAS+ orientation of the affine (views only).

    `io_orientation` finds, for each voxel axis, the world axis it runs along and its direction;
    `apply_orientation` transposes and flips the array to match RAS+.
    """
    current = orientations.io_orientation(affine)  # type: ignore[no-untyped-call]
    target = orientations.axcodes2ornt(("R", "A", "S"))  # type: ignore[no-untyped-call]
    change = orientations.ornt_transform(current, target)  # type: ignore[no-untyped-call]
    data: np.ndarray = orientations.apply_orientation(stored, change)  # type: ignore[no-untyped-call]
    zooms = np.sqrt((affine[:3, :3] ** 2).sum(axis=0))
    spacing = [1.0, 1.0, 1.0]
    for voxel_axis, (ras_axis, _flip) in enumerate(change):
        spacing[int(ras_axis)] = float(zooms[voxel_axis]) or 1.0
    return data, (spacing[0], spacing[1], spacing[2])


def _default_window(data: np.ndarray, transform: GreyTransform, header: object) -> Window:
    """cal_min/cal_max when the header sets a display range, else the range of the volume's
    finite values (NaN voxels, "no data" in float volumes, would make the window NaN)."""
    cal_min = float(getattr(header, "get", lambda *_: 0)("cal_min") or 0)
    cal_max = float(getattr(header, "get", lambda *_: 0)("cal_max") or 0)
    if np.isfinite(cal_min) and np.isfinite(cal_max) and cal_max > cal_min:
        return windowing.full_range_window(cal_min, cal_max)
    low, high = rendering.finite_span(data)
    ends = rendering.modality_values(np.array([low, high]), transform)
    return windowing.full_range_window(float(ends.min()), float(ends.max()))


def _axis(plane: str) -> int:
    try:
        return PLANE_AXES[plane.lower()]
    except KeyError:
        raise DecodeError(f"Unknown plane {plane!r}: use axial, coronal or sagittal.") from None


def oriented_slice(volume: Volume, *, plane: str, index: int) -> tuple[np.ndarray, float, float]:
    """Stored values of slice `index` (from 1) as shown on screen, with row and column spacing.

    In RAS+ order every plane's 2-D slice has (left-to-right axis, bottom-to-top axis) as
    (array axis a, array axis b) with a < b; transposing puts b on the rows and flipping both makes
    rows run superior/anterior first and columns run towards the patient's left (or posterior).
    """
    axis = _axis(plane)
    count = volume.data.shape[axis]
    if not 1 <= index <= count:
        raise DecodeError(f"{volume.path.name} has {count} {plane} slices; {index} does not exist.")
    # Basic indexing gives a view; np.take along an axis would copy through a slow generic path.
    where: list[int | slice] = [slice(None)] * 3
    where[axis] = index - 1
    taken = volume.data[tuple(where)]
    shown = taken.T[::-1, ::-1]
    in_plane = [volume.spacing[a] for a in range(3) if a != axis]
    return shown, in_plane[1], in_plane[0]


def slice_axes(volume: Volume, plane: str) -> dict[str, dict[str, Any]]:
    """Which plane's slices the columns and rows of `plane`'s slices run through, and which way.

    Column c (from 0) of a slice lies in slice c + 1 of `columns.plane`, or n - c when
    `reversed` (n that plane's slice count); the same for rows. A linked crosshair maps a click to
    the other two planes' slices with this. It is read off `oriented_slice` itself, on a
    2 x 2 x 2 volume of voxel numbers with this volume's orientation, so it always agrees with
    what is shown (radiological orientation) and states that convention nowhere else.
    """

    probe = np.arange(8).reshape(2, 2, 2)
    shown, _, _ = oriented_slice(replace(volume, data=probe), plane=plane, index=1)
    plane_of_axis = {axis: name for name, axis in PLANE_AXES.items()}
    origin = np.unravel_index(int(shown[0, 0]), probe.shape)
    axes: dict[str, dict[str, Any]] = {}
    for name, neighbour in (("columns", shown[0, 1]), ("rows", shown[1, 0])):
        moved = np.unravel_index(int(neighbour), probe.shape)
        axis = next(a for a in range(3) if moved[a] != origin[a])
        axes[name] = {"plane": plane_of_axis[axis], "reversed": bool(moved[axis] < origin[axis])}
    return axes


#: Which way the patient lies along each RAS+ voxel axis, towards its higher then lower index.
_RAS_LETTERS = (("R", "L"), ("A", "P"), ("S", "I"))


def slice_orientation(volume: Volume, plane: str) -> dict[str, str]:
    """The patient directions at the edges of `plane`'s slices as shown: {"top", "bottom",
    "left", "right"} -> one of R, L, A, P, S, I (the letters radiology viewers put at the edges).

    Read off `oriented_slice` on a 2 x 2 x 2 probe, like `slice_axes`, so the letters always
    describe what is on screen.
    """
    probe = np.arange(8).reshape(2, 2, 2)
    shown, _, _ = oriented_slice(replace(volume, data=probe), plane=plane, index=1)
    origin = np.unravel_index(int(shown[0, 0]), probe.shape)
    edges: dict[str, str] = {}
    for (low, high), neighbour in (
        (("left", "right"), shown[0, 1]),
        (("top", "bottom"), shown[1, 0]),
    ):
        moved = np.unravel_index(int(neighbour), probe.shape)
        axis = next(a for a in range(3) if moved[a] != origin[a])
        towards, away = _RAS_LETTERS[axis]
        # Moving right (or down) on screen goes towards the axis' higher voxel index or not.
        increasing = moved[axis] > origin[axis]
        edges[high] = towards if increasing else away
        edges[low] = away if increasing else towards
    return edges


def display_slice(
    path: Path,
    *,
    index: int = 1,
    plane: str = "axial",
    window: Window | None = None,
    preset: str | None = None,
    invert: bool = False,
    reader: ImageReader = DIRECT,
) -> np.ndarray:
    """8-bit pixels of one slice, windowed, with square display pixels."""
    volume = reader.volume(path)
    with np.errstate(all="ignore"):  # NaN and infinite voxels: see `quiet`
        return _display_slice(volume, index, plane, window, preset, invert)


def _display_slice(
    volume: Volume,
    index: int,
    plane: str,
    window: Window | None,
    preset: str | None,
    invert: bool,
) -> np.ndarray:
    stored, row_spacing, column_spacing = oriented_slice(volume, plane=plane, index=index)
    if window is None and preset is not None:
        window = _preset(preset, volume)
    window = window or volume.default_window
    if rendering.table_friendly(stored):
        lut = rendering.cached_display_lut(stored.dtype.str, volume.transform, window, None, invert)
        shown = rendering.apply_display_lut(stored, lut)
    else:
        shown = rendering.display_values(stored, volume.transform, window=window, invert=invert)
    return square_pixels(shown, row_spacing=row_spacing, column_spacing=column_spacing)


def square_pixels(pixels: np.ndarray, *, row_spacing: float, column_spacing: float) -> np.ndarray:
    """Resize so one display pixel covers the same distance both ways (the finer spacing wins)."""
    if abs(row_spacing - column_spacing) <= 1e-3 * max(row_spacing, column_spacing):
        return np.ascontiguousarray(pixels)
    finest = min(row_spacing, column_spacing)
    rows = max(1, round(pixels.shape[0] * row_spacing / finest))
    columns = max(1, round(pixels.shape[1] * column_spacing / finest))
    image = Image.fromarray(np.ascontiguousarray(pixels), mode="L")
    return np.asarray(image.resize((columns, rows), Image.Resampling.BILINEAR))


def _preset(name: str, volume: Volume) -> Window:
    if name.strip().lower() in ("full", "full-range", "full_range"):
        return volume.default_window
    try:
        return windowing.preset(name)
    except KeyError as exc:
        raise DecodeError(str(exc.args[0])) from None
