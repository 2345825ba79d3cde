"""Window functions and the C.11 chain against values computed by hand from PS3.3's formulas."""

from __future__ import annotations

import numpy as np
import pytest

from clinlabel.imaging import rendering, windowing
from clinlabel.imaging.rendering import GreyTransform
from clinlabel.imaging.windowing import Window


def test_linear_c40_w80_by_hand() -> None:
    # Bounds: c - 0.5 - (w-1)/2 = 0 and c - 0.5 + (w-1)/2 = 79.
    # x=20: ((20 - 39.5)/79 + 0.5) * 255 = 64.557; x=40: ((40 - 39.5)/79 + 0.5) * 255 = 129.114
    y = windowing.linear(np.array([-100, 0, 20, 40, 79, 80]), 40, 80)
    assert y[0] == 0 and y[1] == 0 and y[5] == 255
    assert y[2] == pytest.approx(64.557, abs=1e-3)
    assert y[3] == pytest.approx(129.114, abs=1e-3)
    assert y[4] == pytest.approx(255.0)


def test_linear_exact_c40_w80_by_hand() -> None:
    # x <= c - w/2 = 0 -> 0; x > c + w/2 = 80 -> 255; x=20: (-0.25 + 0.5) * 255 = 63.75
    y = windowing.linear_exact(np.array([0, 20, 40, 80, 81]), 40, 80)
    assert list(y) == pytest.approx([0, 63.75, 127.5, 255, 255])


def test_sigmoid_c40_w80_by_hand() -> None:
    # y = 255 / (1 + exp(-4 (x - 40) / 80)):
    # x=0 -> 255/8.389056 = 30.397; x=80 -> 255/1.135335 = 224.603
    y = windowing.sigmoid(np.array([0, 40, 80]), 40, 80)
    assert list(y) == pytest.approx([30.397, 127.5, 224.603], abs=1e-3)


def test_linear_width_one_is_a_threshold() -> None:
    assert list(windowing.linear(np.array([9, 10, 11]), 10, 1)) == [0, 255, 255]


def test_invalid_widths_are_refused() -> None:
    with pytest.raises(ValueError):
        windowing.linear(np.array([0]), 0, 0.5)
    with pytest.raises(ValueError):
        windowing.linear_exact(np.array([0]), 0, 0)


def test_signed_data_with_slope_and_intercept() -> None:
    # Modality: HU = 0.5 * stored - 1024. Stored 2048 -> 0 HU, stored 2128 -> 40 HU, -4000 -> -3024.
    transform = GreyTransform(signed=True, bits_stored=16, slope=0.5, intercept=-1024)
    stored = np.array([2048, 2128, -4000], dtype=np.int16)
    shown = rendering.display_values(stored, transform, window=Window(40, 80))
    assert list(shown) == [0, 129, 0]


def test_monochrome1_is_inverted_after_voi() -> None:
    # Signed, c=0 w=21: x=-10 -> ((-10 + 0.5)/20 + 0.5) * 255 = 6.375 -> 6, inverted -> 249.
    mono2 = GreyTransform(signed=True, bits_stored=16)
    mono1 = GreyTransform(signed=True, bits_stored=16, monochrome1=True)
    stored = np.array([-10, 20], dtype=np.int16)
    assert list(rendering.display_values(stored, mono2, window=Window(0, 21))) == [6, 255]
    assert list(rendering.display_values(stored, mono1, window=Window(0, 21))) == [249, 0]
    assert list(rendering.display_values(stored, mono1, window=Window(0, 21), invert=True)) == [
        6,
        255,
    ]


@pytest.mark.parametrize("function", windowing.VOI_FUNCTIONS)
@pytest.mark.parametrize("dtype", [np.int16, np.uint16, np.uint8, np.dtype(">i2")])
def test_lookup_table_equals_the_formulas(function: windowing.VoiFunction, dtype: object) -> None:
    rng = np.random.default_rng(0)
    dt = np.dtype(dtype)  # type: ignore[call-overload]
    info = np.iinfo(dt)
    stored = rng.integers(info.min, info.max, size=(40, 30), endpoint=True).astype(dt)
    transform = GreyTransform(
        signed=dt.kind == "i",
        bits_stored=8 * dt.itemsize,
        slope=1.5,
        intercept=-100,
        monochrome1=True,
    )
    window = Window(120, 900, function)
    lut = rendering.display_lut(dt.newbyteorder("="), transform, window=window)
    by_table = rendering.apply_display_lut(stored, lut)
    by_formula = rendering.display_values(
        stored.astype(dt.newbyteorder("=")), transform, window=window
    )
    assert np.array_equal(by_table, by_formula)


def test_modality_and_voi_lut_sequences() -> None:
    table = rendering.LutTable(first_mapped=10, bits=8, data=np.array([5.0, 6.0, 7.0]))
    # Below the first mapped value: first entry; above the last: last entry (C.11.1.1.1).
    assert list(rendering.lut_lookup(np.array([0, 10, 11, 12, 99]), table)) == [5, 5, 6, 7, 7]
    voi = rendering.LutTable(first_mapped=0, bits=8, data=np.arange(256.0))
    assert list(rendering.voi_values(np.array([0, 128, 255]), window=None, voi_lut=voi)) == [
        0,
        128,
        255,
    ]


def test_presets_and_parsing() -> None:
    assert windowing.preset("Brain") == Window(40, 80, explanation="brain")
    assert windowing.preset("lung").center == -600
    assert windowing.parse_window("-600, 1500") == Window(-600, 1500, explanation="custom")
    with pytest.raises(ValueError):
        windowing.parse_window("40")
    with pytest.raises(KeyError):
        windowing.preset("nope")
    full = windowing.full_range_window(-1024, 3071)
    assert list(windowing.linear(np.array([-1024, 3071]), full.center, full.width)) == [0, 255]
