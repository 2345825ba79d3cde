"""Window (VOI) functions of DICOM PS3.3 C.11.2 as pure NumPy functions, and the named presets.

Each function maps modality values `x` (after the Modality LUT, C.11.1) to display values in
[`y_min`, `y_max`] (0..255 here, an 8-bit display). They are written exactly as the standard's
pseudo-code so that a reviewer can check them line by line; `rendering` turns them into a lookup
table so that an image costs one table look-up per pixel.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

VoiFunction = Literal["LINEAR", "LINEAR_EXACT", "SIGMOID"]
VOI_FUNCTIONS: tuple[VoiFunction, ...] = ("LINEAR", "LINEAR_EXACT", "SIGMOID")


@dataclass(frozen=True, slots=True)
class Window:
    """Window Center (0028,1050), Window Width (0028,1051) and VOI LUT Function (0028,1056)."""

    center: float
    width: float
    function: VoiFunction = "LINEAR"
    explanation: str = ""


# Common CT presets as (level, width) in Hounsfield units, from Radiopaedia, "Windowing (CT)"
# (https://radiopaedia.org/articles/windowing-ct): brain W:80 L:40, subdural W:215 L:75 (the
# article's range is W:130-300 L:50-100), stroke W:40 L:40, lungs W:1500 L:-600, mediastinum
# W:350 L:50, abdomen (soft tissue) W:400 L:50, liver W:160 L:60, bone W:1800 L:400.
CT_PRESETS: dict[str, Window] = {
    "brain": Window(40, 80, explanation="brain"),
    "subdural": Window(75, 215, explanation="subdural"),
    "stroke": Window(40, 40, explanation="stroke"),
    "lung": Window(-600, 1500, explanation="lung"),
    "mediastinum": Window(50, 350, explanation="mediastinum"),
    "abdomen": Window(50, 400, explanation="abdomen"),
    "liver": Window(60, 160, explanation="liver"),
    "bone": Window(400, 1800, explanation="bone"),
}


def linear(
    x: np.ndarray, center: float, width: float, *, y_min: float = 0.0, y_max: float = 255.0
) -> np.ndarray:
    """VOI LUT Function LINEAR, PS3.3 C.11.2.1.2.1 (the default when (0028,1056) is absent).

    if x <= c - 0.5 - (w-1)/2: y = y_min
    elif x > c - 0.5 + (w-1)/2: y = y_max
    else: y = ((x - (c - 0.5)) / (w-1) + 0.5) * (y_max - y_min) + y_min

    Window Width must be >= 1 for this function; a width of exactly 1 is a threshold at c - 0.5.
    """
    if width < 1:
        raise ValueError(f"Window Width must be >= 1 for LINEAR, not {width}")
    x = np.asarray(x, dtype=np.float64)
    low = center - 0.5 - (width - 1) / 2
    high = center - 0.5 + (width - 1) / 2
    if width == 1:
        return np.where(x <= low, y_min, y_max).astype(np.float64)
    y = ((x - (center - 0.5)) / (width - 1) + 0.5) * (y_max - y_min) + y_min
    return np.where(x <= low, y_min, np.where(x > high, y_max, y))


def linear_exact(
    x: np.ndarray, center: float, width: float, *, y_min: float = 0.0, y_max: float = 255.0
) -> np.ndarray:
    """VOI LUT Function LINEAR_EXACT, PS3.3 C.11.2.1.3.2.

    if x <= c - w/2: y = y_min
    elif x > c + w/2: y = y_max
    else: y = ((x - c) / w + 0.5) * (y_max - y_min) + y_min

    Window Width must be > 0.
    """
    if width <= 0:
        raise ValueError(f"Window Width must be > 0 for LINEAR_EXACT, not {width}")
    x = np.asarray(x, dtype=np.float64)
    y = ((x - center) / width + 0.5) * (y_max - y_min) + y_min
    return np.where(x <= center - width / 2, y_min, np.where(x > center + width / 2, y_max, y))


def sigmoid(
    x: np.ndarray, center: float, width: float, *, y_min: float = 0.0, y_max: float = 255.0
) -> np.ndarray:
    """VOI LUT Function SIGMOID, PS3.3 C.11.2.1.3.1.

    y = (y_max - y_min) / (1 + exp(-4 * (x - c) / w)) + y_min

    Window Width must be > 0.
    """
    if width <= 0:
        raise ValueError(f"Window Width must be > 0 for SIGMOID, not {width}")
    x = np.asarray(x, dtype=np.float64)
    # exp overflows to inf far below the centre, which correctly gives y_min.
    with np.errstate(over="ignore"):
        return (y_max - y_min) / (1.0 + np.exp(-4.0 * (x - center) / width)) + y_min


def apply_window(
    x: np.ndarray, window: Window, *, y_min: float = 0.0, y_max: float = 255.0
) -> np.ndarray:
    """Apply `window` with its own VOI LUT Function (C.11.2.1.2 / C.11.2.1.3) as float64 values."""
    functions = {"LINEAR": linear, "LINEAR_EXACT": linear_exact, "SIGMOID": sigmoid}
    function = functions[window.function]
    return function(x, window.center, window.width, y_min=y_min, y_max=y_max)


def full_range_window(low: float, high: float) -> Window:
    """A LINEAR window that maps [`low`, `high`] onto the whole display range."""
    if high <= low:
        return Window(center=low + 0.5, width=1.0, explanation="full range")
    # With LINEAR, x = low maps to y_min and x = high to y_max when c - 0.5 - (w-1)/2 = low and
    # c - 0.5 + (w-1)/2 = high, i.e. w = high - low + 1, c = (low + high + 1) / 2.
    return Window(center=(low + high + 1) / 2, width=high - low + 1, explanation="full range")


def to_uint8(y: np.ndarray) -> np.ndarray:
    """Round display values to the nearest 8-bit integer (0..255); NaN (a NaN voxel through the
    window) becomes 0, the lowest grey, before any Presentation inversion."""
    y = np.asarray(y, dtype=np.float64)
    if np.isnan(y).any():
        y = np.nan_to_num(y, nan=0.0)
    result: np.ndarray = np.clip(np.rint(y), 0, 255).astype(np.uint8)
    return result


def invert(pixels: np.ndarray) -> np.ndarray:
    """Presentation LUT INVERSE / MONOCHROME1 (PS3.3 C.11.6, C.7.6.3.1.2): y' = 255 - y."""
    result: np.ndarray = np.subtract(255, pixels, dtype=np.uint8)
    return result


def parse_window(text: str) -> Window:
    """Parse "CENTER,WIDTH" (for example "40,80" or "-600,1500") into a LINEAR window."""
    parts = text.replace(" ", "").split(",")
    if len(parts) != 2:
        raise ValueError(f"expected CENTER,WIDTH, got {text!r}")
    center, width = float(parts[0]), float(parts[1])
    if width < 1:
        raise ValueError(f"the window width must be at least 1, got {width:g}")
    return Window(center=center, width=width, explanation="custom")


def preset(name: str) -> Window:
    """A CT preset by name (case-insensitive); `KeyError` lists the known names."""
    try:
        return CT_PRESETS[name.lower()]
    except KeyError:
        raise KeyError(f"unknown preset {name!r}; known: {', '.join(CT_PRESETS)}") from None
