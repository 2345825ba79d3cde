"""Regions: the classes a schema declares, and the shapes an annotator draws (boxes, polygons,
brush masks, points), in the image's own pixel coordinates.

A shape is checked here, once, for every way in (the page, an import): finite numbers, inside
the image, a polygon with at least three vertices, a mask whose runs cover exactly its grid.
Its canonical JSON (sorted keys, no spaces) is what the database keeps and what its SHA-256,
recorded in the audit trail, is computed over.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from clinlabel.errors import ValidationError

TOOLS: tuple[str, ...] = ("box", "polygon", "brush", "point")
"""What a region class may allow, in the order the page lists them. The brush makes masks."""

#: Tools whose shape is a mask: the brush, an accepted vessel-assist proposal, and a slice filled
#: in by interpolation between two drawn slices (marked so until someone edits it).
MASK_TOOLS: tuple[str, ...] = ("brush", "assist:frangi", "interpolated")

#: The keys the page gives the drawing tools (and hide, assist, smart brush): a schema with
#: regions cannot give one to a label, or a key press would both label and pick a tool.
TOOL_KEYS: frozenset[str] = frozenset("bgdekahsBGDEKAHS")

PLANES: tuple[str, ...] = ("axial", "coronal", "sagittal")

#: More vertices than anyone draws by hand; a bound so one request cannot fill the database.
MAX_VERTICES = 100_000
#: A mask's grid at most this many pixels (a 16k x 16k photo): beyond it the page draws boxes.
MAX_MASK_PIXELS = 16_384 * 16_384

_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
_DEFAULT_COLOURS = ("#e4572e", "#29335c", "#f3a712", "#669bbc", "#a8c686", "#8e5572")


@dataclass(frozen=True, slots=True)
class Code:
    """A coded concept (DICOM's code value, coding scheme designator, code meaning)."""

    code: str
    scheme: str
    meaning: str

    def to_dict(self) -> dict[str, str]:
        return {"code": self.code, "scheme": self.scheme, "meaning": self.meaning}


#: The DICOM SEG segmented property category when a class names none: SNOMED CT
#: "Morphologically Altered Structure" (CID 7150), what a drawn finding usually is. The type then
#: defaults to a code of clinlabel's own scheme holding the class's name (`default_type`).
DEFAULT_CATEGORY = Code("49755003", "SCT", "Morphologically Altered Structure")
LOCAL_SCHEME = "99CLINLABEL"


@dataclass(frozen=True, slots=True)
class RegionClass:
    """A kind of region a project asks for: its name, its colour and the tools that draw it,
    and optionally its DICOM SEG segmented property category and type codes."""

    name: str
    colour: str
    tools: tuple[str, ...] = TOOLS
    category: Code | None = None
    type: Code | None = None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"name": self.name, "colour": self.colour, "tools": list(self.tools)}
        # Only when given, so a schema without codes keeps the text it had.
        if self.category is not None:
            data["category"] = self.category.to_dict()
        if self.type is not None:
            data["type"] = self.type.to_dict()
        return data

    def default_type(self) -> Code:
        """The class's own name as a code of clinlabel's private scheme (values of at most
        16 characters, as DICOM's Code Value allows)."""
        value = "".join(c for c in self.name.upper() if c.isalnum())[:16] or "REGION"
        return Code(value, LOCAL_SCHEME, self.name[:64])


def _code(raw: object, where: str, mistakes: list[str]) -> Code | None:
    if raw is None:
        return None
    if not isinstance(raw, dict) or set(raw) != {"code", "scheme", "meaning"}:
        mistakes.append(
            f"{where} must be a table with 'code', 'scheme' and 'meaning', e.g. "
            '{ code = "52988006", scheme = "SCT", meaning = "Lesion" }.'
        )
        return None
    values = [raw["code"], raw["scheme"], raw["meaning"]]
    if not all(isinstance(v, str) and v.strip() for v in values):
        mistakes.append(f"{where}: 'code', 'scheme' and 'meaning' must be non-empty text.")
        return None
    code, scheme, meaning = (str(v).strip() for v in values)
    if len(code) > 16 or len(scheme) > 16 or len(meaning) > 64:
        mistakes.append(f"{where}: DICOM allows codes and schemes of 16 characters, meanings 64.")
        return None
    return Code(code, scheme, meaning)


def parse_region_classes(raw: object, mistakes: list[str]) -> tuple[RegionClass, ...]:
    """The schema's `[[regions]]` tables; each mistake is added to `mistakes` as one line."""
    if raw is None:
        return ()
    if not isinstance(raw, list):
        mistakes.append("'regions' must be a list of tables ([[regions]] in TOML).")
        return ()
    found: list[RegionClass] = []
    seen: set[str] = set()
    for i, item in enumerate(raw, start=1):
        where = f"Region class {i}"
        if not isinstance(item, dict):
            mistakes.append(f"{where} must be a table with a 'name'.")
            continue
        unknown = sorted(set(item) - {"name", "colour", "color", "tools", "category", "type"})
        if unknown:
            mistakes.append(f"{where} has unknown field(s): {', '.join(unknown)}.")
        name = item.get("name")
        if not isinstance(name, str) or not name.strip():
            mistakes.append(f"{where} needs a non-empty 'name'.")
            continue
        name = " ".join(name.split())
        where = f"Region class {name!r}"
        if name in seen:
            mistakes.append(f"{where} is declared twice.")
        seen.add(name)
        colour = item.get("colour", item.get("color", _DEFAULT_COLOURS[(i - 1) % 6]))
        if not isinstance(colour, str) or not _COLOUR.match(colour):
            mistakes.append(f"{where}: colour {colour!r} is not of the form '#rrggbb'.")
            colour = _DEFAULT_COLOURS[(i - 1) % 6]
        tools_raw = item.get("tools", list(TOOLS))
        if not isinstance(tools_raw, list) or not tools_raw:
            mistakes.append(f"{where}: 'tools' must be a non-empty list of {', '.join(TOOLS)}.")
            tools_raw = list(TOOLS)
        bad = [t for t in tools_raw if t not in TOOLS]
        if bad:
            mistakes.append(
                f"{where}: unknown tool(s) {', '.join(map(repr, bad))}; "
                f"the tools are {', '.join(TOOLS)}."
            )
        tools = tuple(t for t in TOOLS if t in tools_raw)
        category = _code(item.get("category"), f"{where}: 'category'", mistakes)
        kind = _code(item.get("type"), f"{where}: 'type'", mistakes)
        found.append(RegionClass(name, colour.lower(), tools or TOOLS, category, kind))
    return tuple(found)


# -- shapes --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Extent:
    """The pixel grid a shape is drawn on: the frame's or the slice's columns and rows."""

    width: int
    height: int


@dataclass(frozen=True, slots=True)
class Shape:
    """A checked shape: its tool and its canonical geometry (JSON text and SHA-256)."""

    tool: str
    geometry: str
    sha256: str

    @property
    def data(self) -> dict[str, Any]:
        loaded: dict[str, Any] = json.loads(self.geometry)
        return loaded


def _number(value: object, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValidationError(f"The region's {what} is not a number.")
    try:
        number = float(value)
    except OverflowError:  # a JSON integer beyond any float (10**400)
        number = math.inf
    if not math.isfinite(number):
        raise ValidationError(f"The region's {what} is not a finite number.")
    return number


def _inside(x: float, y: float, extent: Extent | None, what: str) -> None:
    # Coordinates are continuous: the pixel (0, 0) covers [0, 1) x [0, 1), so the far edge of
    # the image is x = width.
    if x < 0 or y < 0 or (extent is not None and (x > extent.width or y > extent.height)):
        bounds = "" if extent is None else f" (0..{extent.width} x 0..{extent.height})"
        raise ValidationError(f"The region's {what} ({x:g}, {y:g}) is outside the image{bounds}.")


def _round(value: float) -> float:
    # Sub-pixel precision to 1/1000 px: enough for any display, and the same JSON every time
    # (a float printed with 17 digits would hash differently after a round trip in JavaScript).
    return round(value, 3) + 0.0


def _point(raw: object, extent: Extent | None, what: str) -> list[float]:
    if not isinstance(raw, Sequence) or isinstance(raw, str) or len(raw) != 2:
        raise ValidationError(f"The region's {what} must be a pair [x, y].")
    x, y = _number(raw[0], what), _number(raw[1], what)
    _inside(x, y, extent, what)
    return [_round(x), _round(y)]


def _box(raw: Mapping[str, Any], extent: Extent | None) -> dict[str, Any]:
    x, y = _number(raw.get("x"), "x"), _number(raw.get("y"), "y")
    w, h = _number(raw.get("w"), "width"), _number(raw.get("h"), "height")
    # Checked as kept (rounded to 1/1000 px): a width of 1e-9 would be stored as a 0 x 0 box.
    if _round(w) <= 0 or _round(h) <= 0:
        raise ValidationError("A box needs a width and a height above zero.")
    _inside(x, y, extent, "corner")
    _inside(x + w, y + h, extent, "far corner")
    return {"x": _round(x), "y": _round(y), "w": _round(w), "h": _round(h)}


def _polygon(raw: Mapping[str, Any], extent: Extent | None) -> dict[str, Any]:
    points = raw.get("points")
    if not isinstance(points, list) or len(points) < 3:
        raise ValidationError("A polygon needs at least three vertices.")
    if len(points) > MAX_VERTICES:
        raise ValidationError(f"A polygon may have at most {MAX_VERTICES} vertices.")
    checked = [_point(p, extent, "vertex") for p in points]
    if _area(checked) == 0:
        raise ValidationError("The polygon encloses no area (its vertices lie on one line).")
    return {"points": checked}


def _area(points: list[list[float]]) -> float:
    twice = 0.0
    for (x0, y0), (x1, y1) in zip(points, points[1:] + points[:1], strict=True):
        twice += x0 * y1 - x1 * y0
    return abs(twice) / 2


def _mask(raw: Mapping[str, Any], extent: Extent | None) -> dict[str, Any]:
    width, height = raw.get("width"), raw.get("height")
    if not isinstance(width, int) or not isinstance(height, int) or width <= 0 or height <= 0:
        raise ValidationError("A mask needs its grid's whole-number 'width' and 'height'.")
    if extent is not None and (width, height) != (extent.width, extent.height):
        raise ValidationError(
            f"The mask is {width} x {height} but the image is {extent.width} x {extent.height}: "
            "masks are kept at the image's own resolution."
        )
    if width * height > MAX_MASK_PIXELS:
        raise ValidationError("The mask's grid is larger than any image clinlabel masks.")
    runs = raw.get("rle")
    if not isinstance(runs, list) or not all(
        isinstance(r, int) and not isinstance(r, bool) and r >= 0 for r in runs
    ):
        raise ValidationError("A mask's 'rle' must be a list of run lengths (whole numbers).")
    if sum(runs) != width * height:
        raise ValidationError(
            f"The mask's runs cover {sum(runs)} pixels, not its {width} x {height} grid."
        )
    if not any(runs[1::2]):
        raise ValidationError("The mask is empty (no pixel painted).")
    return {"width": width, "height": height, "rle": _normal_runs(runs)}


def _normal_runs(runs: list[int]) -> list[int]:
    """The same mask with empty runs merged away: one encoding per mask, so one hash."""
    pairs: list[list[int]] = []  # [value, length], value 0 or 1
    for index, length in enumerate(runs):
        value = index % 2
        if length == 0:
            continue
        if pairs and pairs[-1][0] == value:
            pairs[-1][1] += length
        else:
            pairs.append([value, length])
    out = [length for _, length in pairs]
    # The runs start with unpainted pixels: a mask whose first pixel is painted starts with 0.
    return [0, *out] if pairs and pairs[0][0] == 1 else out


_SHAPES = {"box": _box, "polygon": _polygon, "point": None, "brush": _mask}


def check_shape(tool: str, raw: object, extent: Extent | None) -> Shape:
    """A shape from the page or an import, checked; `extent` is the grid it is drawn on."""
    if tool not in _SHAPES and tool not in MASK_TOOLS:
        raise ValidationError(f"Unknown region tool {tool!r}; the tools are {', '.join(TOOLS)}.")
    if not isinstance(raw, Mapping):
        raise ValidationError("The region's geometry must be an object.")
    if tool == "point":
        x, y = _number(raw.get("x"), "x"), _number(raw.get("y"), "y")
        _inside(x, y, extent, "point")
        data: dict[str, Any] = {"x": _round(x), "y": _round(y)}
    elif tool in MASK_TOOLS:
        data = _mask(raw, extent)
    else:
        checker = _SHAPES[tool]
        assert checker is not None
        data = checker(raw, extent)
    text = json.dumps(data, sort_keys=True, separators=(",", ":"))
    return Shape(tool, text, geometry_sha256(text))


def geometry_sha256(text: str) -> str:
    """The hash a geometry's canonical JSON is kept and recorded under (events, verify)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def mask_from_array(painted: Sequence[Sequence[bool]] | Any) -> dict[str, Any]:
    """Run lengths (row-major, starting with unpainted pixels) of a 2-D boolean array."""
    import numpy as np

    grid = np.asarray(painted, dtype=bool)
    flat = grid.ravel()
    change = np.flatnonzero(flat[1:] != flat[:-1]) + 1
    edges = np.concatenate(([0], change, [flat.size]))
    runs = np.diff(edges).tolist()
    if flat.size and flat[0]:
        runs = [0, *runs]
    return {"width": int(grid.shape[1]), "height": int(grid.shape[0]), "rle": runs}


def mask_to_array(width: int, height: int, runs: Sequence[int]) -> Any:
    """The boolean array of a mask's run lengths (inverse of `mask_from_array`)."""
    import numpy as np

    values = np.zeros(len(runs), dtype=bool)
    values[1::2] = True
    return np.repeat(values, np.asarray(runs, dtype=np.int64)).reshape(height, width)


@dataclass(frozen=True, slots=True)
class Region:
    """A region as the project holds it: who drew what, where, of which class."""

    uid: str
    image_id: int
    relpath: str
    annotator: str
    frame: int
    plane: str | None
    region_class: str
    tool: str
    geometry: str
    sha256: str
    comment: str
    updated_at: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "uid": self.uid,
            "image_id": self.image_id,
            "relpath": self.relpath,
            "annotator": self.annotator,
            "frame": self.frame,
            "plane": self.plane,
            "class": self.region_class,
            "tool": self.tool,
            "geometry": json.loads(self.geometry),
            "sha256": self.sha256,
            "comment": self.comment,
            "updated_at": self.updated_at,
        }
