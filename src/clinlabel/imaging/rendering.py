"""The grey-scale pipeline of DICOM PS3.3 C.11 as one lookup table, and colour to 8-bit RGB.

C.11 chains three transforms: the Modality LUT (C.11.1: Rescale Slope/Intercept or a Modality LUT
Sequence) gives modality values such as Hounsfield units; the VOI LUT (C.11.2: a window with its
VOI LUT Function, or a VOI LUT Sequence) picks the range to see; the Presentation LUT (C.11.6 and
C.7.6.3.1.2: MONOCHROME1 is shown inverted) gives display values. All three depend only on the
stored value, so for 8- and 16-bit data we evaluate them once for every possible stored value and
look each pixel up in the table: one pass over the image however many steps there are.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from clinlabel.imaging import windowing
from clinlabel.imaging.windowing import Window

# A DICOM rendition may fall this far short of `max_side` to be reduced by a whole factor.
GREY_SLACK = 0.7


@dataclass(frozen=True, slots=True, eq=False)
class LutTable:
    """A LUT Descriptor (first entry count, first stored value mapped, bits) and its data."""

    first_mapped: int
    bits: int
    data: np.ndarray = field(repr=False)


@dataclass(frozen=True, slots=True)
class GreyTransform:
    """What C.11 needs to know about one grey-scale frame."""

    signed: bool
    bits_stored: int
    slope: float = 1.0
    intercept: float = 0.0
    modality_lut: LutTable | None = None
    monochrome1: bool = False
    """The Presentation LUT's polarity: the least VOI output is shown white. Set for MONOCHROME1
    and for a Presentation LUT Shape of INVERSE (`dicom_display.shown_inverted`), so that every
    face (renditions, `clinlabel render`, the page's window/level) inverts from this one flag."""


def modality_values(stored: np.ndarray, transform: GreyTransform) -> np.ndarray:
    """Modality LUT, PS3.3 C.11.1, as float64.

    With a Modality LUT Sequence (0028,3000) the value x maps to LUT[x - first_mapped], clamped to
    the first and last entries (C.11.1.1.1); otherwise y = Rescale Slope * x + Rescale Intercept.
    """
    x = np.asarray(stored, dtype=np.float64)
    if transform.modality_lut is not None:
        return lut_lookup(x, transform.modality_lut).astype(np.float64)
    return x * transform.slope + transform.intercept


def lut_lookup(x: np.ndarray, table: LutTable) -> np.ndarray:
    """Map values through a LUT: below the first mapped value the first entry, above the last the
    last entry (PS3.3 C.11.1.1.1 for Modality LUTs, C.11.2.1.1 for VOI LUTs)."""
    index = np.clip(np.rint(x - table.first_mapped), 0, len(table.data) - 1).astype(np.intp)
    result: np.ndarray = table.data[index]
    return result


def voi_values(
    modality: np.ndarray, *, window: Window | None, voi_lut: LutTable | None
) -> np.ndarray:
    """VOI LUT, PS3.3 C.11.2, onto 0..255.

    A window is applied with its own function (LINEAR, LINEAR_EXACT or SIGMOID, C.11.2.1.2 and
    C.11.2.1.3). A VOI LUT Sequence maps through the table, whose output range is 0 to 2^n - 1 with
    n the third value of its LUT Descriptor (C.11.2.1.1), then scaled to 0..255.
    """
    if window is not None:
        return windowing.apply_window(modality, window)
    if voi_lut is None:
        raise ValueError("either a window or a VOI LUT is needed")
    top = max(float((1 << voi_lut.bits) - 1), float(voi_lut.data.max()), 1.0)
    return lut_lookup(modality, voi_lut).astype(np.float64) * (255.0 / top)


def display_values(
    stored: np.ndarray,
    transform: GreyTransform,
    *,
    window: Window | None,
    voi_lut: LutTable | None = None,
    invert: bool = False,
) -> np.ndarray:
    """The whole C.11 chain by formula: stored values -> 8-bit display values.

    Presentation: MONOCHROME1 means the minimum value is shown white after VOI (C.7.6.3.1.2), and
    a Presentation LUT Shape INVERSE says the same (C.11.6): `transform.monochrome1` holds either,
    and the values are inverted; `invert` (the viewer's Invert button) flips that once more.
    """
    shown = windowing.to_uint8(
        voi_values(modality_values(stored, transform), window=window, voi_lut=voi_lut)
    )
    if transform.monochrome1 != invert:
        shown = windowing.invert(shown)
    return shown


def display_lut(
    dtype: np.dtype,
    transform: GreyTransform,
    *,
    window: Window | None,
    voi_lut: LutTable | None = None,
    invert: bool = False,
    bits: int | None = None,
) -> np.ndarray:
    """`display_values` for every bit pattern of a 1- or 2-byte integer dtype (256 or 65,536).

    With `bits` (Bits Stored, when the decoder has already dropped the unused high bits as
    PS3.5 8.1.1 says) only the 2^bits patterns of the low bits are evaluated and the table is
    repeated for every value of the high bits: 4,096 evaluations instead of 65,536 for 12-bit CT,
    and the same answer for every pattern such a frame can hold.
    """
    width = 8 * dtype.itemsize
    if bits is None or not 0 < bits < width:
        return display_values(
            all_values(dtype), transform, window=window, voi_lut=voi_lut, invert=invert
        )
    low = np.arange(1 << bits, dtype=np.int64)
    if dtype.kind == "i":
        low = np.where(low >= 1 << (bits - 1), low - (1 << bits), low)  # two's complement
    small = display_values(low, transform, window=window, voi_lut=voi_lut, invert=invert)
    # Pattern p holds the value of its low `bits` bits: table[p] = small[p mod 2^bits].
    return np.tile(small, 1 << (width - bits))


@functools.lru_cache(maxsize=64)
def cached_display_lut(
    dtype: str,
    transform: GreyTransform,
    window: Window | None,
    table: LutTable | None,
    invert: bool,
    bits: int | None = None,
) -> np.ndarray:
    """`display_lut`, remembered: dragging through frames or slices reuses one table."""
    lut = display_lut(
        np.dtype(dtype).newbyteorder("="),
        transform,
        window=window,
        voi_lut=table,
        invert=invert,
        bits=bits,
    )
    lut.setflags(write=False)
    return lut


@dataclass(frozen=True, slots=True)
class Affine:
    """A display table that is a straight line: y = floor(scale * x + offset + 1/2), clipped to
    0..255, computed in float32 straight from the stored values.

    A LINEAR or LINEAR_EXACT window after a Rescale Slope/Intercept (and MONOCHROME1 or Invert)
    is such a line between its two clamps (C.11.2.1.2, C.11.2.1.3.2). NumPy's table look-up
    costs about 0.2 ms on a 512 x 512 frame, mostly converting 16-bit indices to 64-bit; these
    four vectorised passes take about half that. `cached_display_affine` hands one out only when
    it gives the table's value for every stored value a frame can hold, so the two routes never
    differ (a value whose line lands exactly on a half rounds by its own rule in each).
    """

    scale: float
    offset: float

    def apply(self, values: np.ndarray, out: np.ndarray, *, clip: bool = True) -> None:
        """Write the display values of `values` (native-order integers) into uint8 `out`.

        `clip=False` only when `within` holds for the values' least and greatest.
        """
        # A plain cast then float32 arithmetic: the same values as multiplying with
        # dtype=float32 (integers below 2^24 convert exactly), without the ufunc's slower
        # buffered casting loop.
        line = values.astype(np.float32)
        np.multiply(line, np.float32(self.scale), out=line)
        np.add(line, np.float32(self.offset + 0.5), out=line)
        if clip:
            np.clip(line, 0.0, 255.0, out=line)
        # The cast truncates toward zero, which is floor for values clipped to 0..255, and for
        # unclipped ones in (-1, 256) gives what clipping first would: (-1, 0) -> 0, [255, 256)
        # -> 255.
        np.copyto(out, line, casting="unsafe")

    def within(self, low: int, high: int, dtype: np.dtype) -> bool:
        """True when every value from `low` to `high` lands in (-1, 256) before the cast, so
        `apply` needs no clip pass. Computed by the same float32 operations as `apply`, whose
        correctly rounded steps never reverse order, so the two ends bound every value between.
        """
        ends = np.multiply(
            np.array([low, high], dtype=dtype), np.float32(self.scale), dtype=np.float32
        )
        np.add(ends, np.float32(self.offset + 0.5), out=ends)
        return bool(np.all((ends > -1.0) & (ends < 256.0)))


def display_affine(
    transform: GreyTransform, window: Window | None, voi_lut: LutTable | None, invert: bool
) -> Affine | None:
    """The straight line of `display_values` between its clamps, or None when it is not one.

    Modality: m = slope x + intercept (C.11.1). LINEAR (C.11.2.1.2.1), between its clamps:
    y = ((m - (c - 0.5)) / (w - 1) + 0.5) * 255; LINEAR_EXACT (C.11.2.1.3.2):
    y = ((m - c) / w + 0.5) * 255. MONOCHROME1 or Invert (and not both): 255 - y.
    """
    if window is None or voi_lut is not None or transform.modality_lut is not None:
        return None
    if window.function == "LINEAR" and window.width > 1:
        gain = 255.0 / (window.width - 1)
        start = window.center - 0.5
    elif window.function == "LINEAR_EXACT" and window.width > 0:
        gain = 255.0 / window.width
        start = window.center
    else:
        return None
    scale = transform.slope * gain
    offset = (transform.intercept - start) * gain + 127.5
    if transform.monochrome1 != invert:
        scale, offset = -scale, 255.0 - offset
    return Affine(scale=scale, offset=offset)


@functools.lru_cache(maxsize=64)
def cached_display_affine(
    dtype: str,
    transform: GreyTransform,
    window: Window | None,
    table: LutTable | None,
    invert: bool,
    bits: int | None = None,
) -> Affine | None:
    """`display_affine` when it gives `display_values` (same arguments) for every stored value
    of `dtype` within `bits` (every value of an 8-bit dtype); None otherwise, and for 16-bit data
    whose unused high bits were not cleared (65,536 checks would cost more than a frame).
    """
    native = np.dtype(dtype).newbyteorder("=")
    width = 8 * native.itemsize
    if bits is None or not 0 < bits < width:
        if native.itemsize != 1:
            return None
        bits = width
    line = display_affine(transform, window, table, invert)
    if line is None:
        return None
    if native.kind == "i":
        values = np.arange(-(1 << (bits - 1)), 1 << (bits - 1), dtype=native)
    else:
        values = np.arange(1 << bits, dtype=native)
    shown = np.empty(values.shape, dtype=np.uint8)
    line.apply(values, shown)
    expected = display_values(values, transform, window=window, voi_lut=table, invert=invert)
    return line if np.array_equal(shown, expected) else None


def line_rows(
    stored: np.ndarray, line: Affine, *, span: tuple[int, int] | None = None
) -> LookUpRows:
    """The rows of a 2-D frame computed by its display line (`cached_display_affine`): the
    values `look_up_rows` would give with the display table, without the table.

    The whole frame is computed in one go and the rows copied out: a copy costs less than
    running NumPy's five calls once per stored block of the PNG. `span`, the frame's least and
    greatest stored value when the caller knows them (the full-range window is made from them),
    spares the clip pass (a tenth of the pipeline beyond the decode) when the line keeps them
    on screen.
    """
    values = stored if stored.dtype.isnative else stored.astype(stored.dtype.newbyteorder("="))
    height, width = int(values.shape[0]), int(values.shape[1])
    shown = np.empty((height, width), dtype=np.uint8)
    clip = span is None or not line.within(span[0], span[1], values.dtype)
    line.apply(values, shown, clip=clip)

    def fill(out: np.ndarray, first: int, stop: int) -> None:
        out[...] = shown[first:stop]

    return LookUpRows(height, width, fill)


def all_values(dtype: np.dtype) -> np.ndarray:
    """Every value of a 1- or 2-byte integer dtype, ordered by its unsigned bit pattern."""
    unsigned = np.dtype(f"u{dtype.itemsize}")
    patterns = np.arange(1 << (8 * dtype.itemsize), dtype=np.uint32).astype(unsigned)
    values: np.ndarray = patterns.view(np.dtype(dtype.kind + str(dtype.itemsize)))
    return values


def grey_reduction(width: int, height: int, max_side: int) -> int:
    """The integer factor a DICOM rendition is reduced by for a `max_side` screen.

    The smallest factor that brings the long side within `max_side`, unless that leaves less than
    `GREY_SLACK` of it (then one less; the browser scales the rest). A 3,000 px CR becomes 1,500 px
    for 2,048 and 1,000 px for 1,024; a 2,100 px one stays whole for 2,048 (1,050 would be too
    short). The rendition is the first paint: live window/level works on the full-depth pixels
    the browser fetches separately (see docs/adr/0003-dicom-decoding.md).
    """
    long_side = max(width, height)
    factor = max(1, -(-long_side // max(1, max_side)))
    while factor > 1 and long_side / factor < GREY_SLACK * max_side:
        factor -= 1
    return factor


def apply_display_lut(stored: np.ndarray, lut: np.ndarray) -> np.ndarray:
    """Look every pixel up in a table made by `display_lut` (one pass, no float arithmetic)."""
    native = stored if stored.dtype.isnative else stored.astype(stored.dtype.newbyteorder("="))
    index = native.view(np.dtype(f"u{native.dtype.itemsize}"))
    result = np.empty(index.shape, dtype=lut.dtype)
    # Every unsigned pattern indexes the 256- or 65,536-entry table, so no bound can be crossed;
    # "clip" skips the "raise" mode's buffered output.
    np.take(lut, index, out=result, mode="clip")
    return result


def box_reduce(stored: np.ndarray, factor: int, *, bits: int | None = None) -> np.ndarray:
    """Integer stored values box-filtered by `factor`: each output value the rounded mean
    (half up) of a factor x factor block, in the input's dtype; edges padded by repetition.

    The mean of values lies between them, so the result holds only values the frame could hold
    (Bits Stored included) and the display table applies to it unchanged. Rows are summed first
    (whole contiguous rows), then columns; in uint16 when the sum cannot overflow (unsigned
    values below 2^`bits`, when given, else the frame's maximum), else int64.
    """
    if factor < 2:
        return stored
    cells = factor * factor
    total = _block_sums(stored, factor, _sum_dtype(stored, cells, bits))
    total += cells // 2
    if cells & (cells - 1) == 0:
        total >>= cells.bit_length() - 1  # floor division by a power of two
    else:
        total //= cells
    result: np.ndarray = total.astype(stored.dtype, copy=False)
    return result


def reduce_and_look_up(
    stored: np.ndarray, lut: np.ndarray, factor: int, *, bits: int | None
) -> np.ndarray:
    """`apply_display_lut(box_reduce(stored, factor, bits=bits), lut)` in fewer passes.

    For unsigned values below 2^`bits` whose block sums fit in uint16, the rounding and division
    of the mean are folded into the table: entry s holds the display value of the mean
    (s + factor^2 // 2) // factor^2, so the sums are looked up directly.
    """
    cells = factor * factor
    if bits is None or stored.dtype.kind != "u" or _sum_dtype(stored, cells, bits) != np.uint16:
        return apply_display_lut(box_reduce(stored, factor, bits=bits), lut)
    sums = _block_sums(stored, factor, np.dtype(np.uint16))
    means = (np.arange(cells * ((1 << bits) - 1) + 1) + cells // 2) // cells
    table = lut[means]
    result = np.empty(sums.shape, dtype=np.uint8)
    np.take(table, sums, out=result, mode="clip")
    return result


@dataclass(frozen=True, slots=True)
class LookUpRows:
    """Display rows made on demand: `fill(out, first, stop)` writes rows `first` to `stop`
    (from 0) of a height x width 8-bit image into `out` (for `png_writer.grey_png_stored`)."""

    height: int
    width: int
    fill: Callable[[np.ndarray, int, int], None]


def look_up_rows(
    stored: np.ndarray, lut: np.ndarray, factor: int = 1, *, bits: int | None = None
) -> LookUpRows:
    """`apply_display_lut` (factor 1) or `reduce_and_look_up` of a 2-D frame, row by row, so the
    look-up can write straight into its destination; the same table and indices as those two."""
    if factor < 2:
        index = _unsigned(stored)
        table = lut
    elif (
        bits is not None
        and stored.dtype.kind == "u"
        and _sum_dtype(stored, factor * factor, bits) == np.uint16
    ):
        cells = factor * factor
        index = _block_sums(stored, factor, np.dtype(np.uint16))
        table = lut[(np.arange(cells * ((1 << bits) - 1) + 1) + cells // 2) // cells]
    else:
        index = _unsigned(box_reduce(stored, factor, bits=bits))
        table = lut

    def fill(out: np.ndarray, first: int, stop: int) -> None:
        np.take(table, index[first:stop], out=out, mode="clip")

    return LookUpRows(int(index.shape[0]), int(index.shape[1]), fill)


def _unsigned(stored: np.ndarray) -> np.ndarray:
    """The unsigned bit patterns of native-order integers (the display table's index)."""
    native = stored if stored.dtype.isnative else stored.astype(stored.dtype.newbyteorder("="))
    return native.view(np.dtype(f"u{native.dtype.itemsize}"))


def _sum_dtype(stored: np.ndarray, cells: int, bits: int | None) -> np.dtype:
    """uint16 when the sum of `cells` values cannot overflow it, else int64."""
    if np.iinfo(stored.dtype).min < 0:
        return np.dtype(np.int64)
    top = (1 << bits) - 1 if bits is not None else int(stored.max())
    return np.dtype(np.uint16 if top * cells <= 0xFFFF else np.int64)


def _block_sums(stored: np.ndarray, factor: int, accumulator: np.dtype) -> np.ndarray:
    """Sums of factor x factor blocks (edges padded by repetition), rows first (factor >= 2)."""
    height, width = stored.shape
    pad_h, pad_w = -height % factor, -width % factor
    if pad_h or pad_w:
        stored = np.pad(stored, ((0, pad_h), (0, pad_w)), mode="edge")
    # The first add of each direction allocates, the others accumulate in place.
    rows = np.add(stored[0::factor], stored[1::factor], dtype=accumulator)
    for step in range(2, factor):
        rows += stored[step::factor]
    total: np.ndarray = np.add(rows[:, 0::factor], rows[:, 1::factor])
    for step in range(2, factor):
        total += rows[:, step::factor]
    return total


def within_bits(stored: np.ndarray, bits: int) -> bool:
    """True when every value fits in `bits` bits of the array's signedness (one min/max pass)."""
    if bits >= 8 * stored.dtype.itemsize:
        return True
    if stored.dtype.kind == "i":
        return bool(stored.min() >= -(1 << (bits - 1)) and stored.max() < 1 << (bits - 1))
    return bool(stored.max() < 1 << bits)


def table_friendly(stored: np.ndarray) -> bool:
    """True when the LUT route applies: 8- or 16-bit integers."""
    return stored.dtype.kind in "iu" and stored.dtype.itemsize <= 2


def full_range(
    stored: np.ndarray, transform: GreyTransform, *, span: tuple[int, int] | None = None
) -> Window:
    """A window spanning the frame's own modality values (the "full range" preset); `span` is
    the frame's least and greatest stored value when already known (`stored_span`).

    Floating-point values count only where finite: one NaN voxel would otherwise make the
    window NaN and the whole image black (NaN itself is shown as the lowest grey, `to_uint8`).
    """
    if stored.dtype.kind not in "iu":
        low_value, high_value = finite_span(stored)
        ends = modality_values(np.array([low_value, high_value]), transform)
        return windowing.full_range_window(float(ends.min()), float(ends.max()))
    low, high = span if span is not None else stored_span(stored)
    if transform.modality_lut is None:
        ends = modality_values(np.array([low, high]), transform)
    else:
        ends = modality_values(np.arange(low, high + 1), transform)
    return windowing.full_range_window(float(ends.min()), float(ends.max()))


def finite_span(values: np.ndarray) -> tuple[float, float]:
    """The least and greatest finite value ((0, 0) when there is none): NaN and infinities,
    which float NIfTI volumes use for "no data", are left out."""
    if values.dtype.kind in "iu":
        return float(values.min()), float(values.max())
    # fmin/fmax skip NaN without copying the volume (a boolean mask of a 78 M voxel volume and
    # its compressed copy would cost 400 MB); only infinities need the masked second look.
    low = float(np.fmin.reduce(values, axis=None))
    high = float(np.fmax.reduce(values, axis=None))
    if np.isfinite(low) and np.isfinite(high):
        return low, high
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return 0.0, 0.0
    return float(finite.min()), float(finite.max())


def nan_count(values: np.ndarray) -> int:
    """How many values are NaN (0 for integer data, without a pass over them)."""
    return 0 if values.dtype.kind in "iu" else int(np.count_nonzero(np.isnan(values)))


def stored_span(stored: np.ndarray) -> tuple[int, int]:
    """The least and greatest stored value of an integer frame (a float frame's, truncated)."""
    return int(stored.min()), int(stored.max())


def colour_to_uint8(pixels: np.ndarray, *, bits_stored: int) -> np.ndarray:
    """RGB samples of more than 8 bits scaled to 8 bits by their stored depth (C.7.6.3.1.2)."""
    if pixels.dtype == np.uint8:
        return pixels
    shift = max(0, bits_stored - 8)
    result: np.ndarray = np.clip(pixels.astype(np.int64) >> shift, 0, 255).astype(np.uint8)
    return result
