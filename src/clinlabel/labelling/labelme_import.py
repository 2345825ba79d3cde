"""`clinlabel import PROJECT --labelme DIR`: labelme JSON files taken in as audited regions.

Reads what `exports.labelme` writes and what labelme (and medical-labelme, for multi-frame
DICOM files) saves: rectangles, polygons, points and masks. Every file is read and every shape
checked before anything is written; then all regions are written in one transaction through
`RegionEditor.save_in` (each a region event marked `imported` with its file), with one
`labels_imported` event summing up. Any problem: nothing is imported and one line names the
file (and the shape) and what is wrong.

Which image a file belongs to: its `imagePath` (`image_path` in medical-labelme's form),
relative to the file (a backslash read as a separator, as labelme does), when that leads into
the batch; else the file's place in DIR, which mirrors the batch's tree (`Case/Visit/img.json`
is `Case/Visit/img.*`), provided `imagePath` names a file of that image's name (a copy of it
beside the JSON file, as in a team's labelme folder): a file about another image is refused.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import json
import math
from dataclasses import dataclass
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

import numpy as np
from PIL import Image

from clinlabel.audit.events import EventKind, NewEvent
from clinlabel.audit.log import append_event, utc_now
from clinlabel.domain.images import ImageKind
from clinlabel.domain.regions import Extent, check_shape, mask_from_array
from clinlabel.errors import ClinlabelError, ImportFileError
from clinlabel.imaging.drawing_grid import drawing_grid
from clinlabel.labelling.project import Project
from clinlabel.labelling.regions import RegionEdit, RegionEditor
from clinlabel.labelling.service import LabellingSession, clean_annotator_name
from clinlabel.store import people, region_rows

#: A labelme file larger than this is not one image's shapes (a mask PNG is small).
MAX_FILE_BYTES = 64 * 1024 * 1024
#: A region's comment, as the page takes it (web.region_schemas): a description longer than
#: this is refused, not cut.
MAX_DESCRIPTION = 10_000


@dataclass(frozen=True, slots=True)
class LabelmeImport:
    files: int
    regions: int


@dataclass(frozen=True, slots=True)
class _Planned:
    edit: RegionEdit
    extent: Extent
    frames: int
    file: str
    where: str
    """The file (and frame) and the shape's number in it, for messages."""
    image: str
    """The image's path below the batch."""


def import_labelme(project: Project, folder: Path, *, annotator: str) -> LabelmeImport:
    """Import every `*.json` below `folder` for `annotator`, all or nothing."""
    annotator = clean_annotator_name(annotator)
    if not folder.is_dir():
        raise ImportFileError(f"{folder} is not a folder of labelme JSON files.")
    files = sorted(
        p
        for p in folder.rglob("*.json")
        if not any(part.startswith(".") for part in p.relative_to(folder).parts)
        and p.name not in ("legend.json", "labels.json")
        # Regular files only: a folder named x.json is not one, and reading a pipe (FIFO)
        # named so would wait for a writer for ever.
        and p.is_file()
    )
    if not files:
        raise ImportFileError(f"There is no labelme JSON file in {folder}.")
    with project.store.read() as conn:
        index = region_rows.image_index(conn)
    planned: list[_Planned] = []
    for path in files:
        planned += _plan_file(project, folder, path, index, annotator)
    _check_one_file_per_image(planned)
    editor = RegionEditor(LabellingSession(project, annotator=annotator))
    with project.store.write() as conn:
        annotator_id = people.annotator_id(conn, annotator, now=utc_now())
        for plan in planned:
            try:
                editor.save_in(
                    conn,
                    annotator_id,
                    plan.edit,
                    extent=plan.extent,
                    frames=plan.frames,
                    extra={"imported": {"format": "labelme", "file": plan.file}},
                )
            except ClinlabelError as exc:
                raise ImportFileError(f"{plan.where}: {exc.message}") from exc
        append_event(
            conn,
            NewEvent(
                EventKind.LABELS_IMPORTED,
                annotator,
                {
                    "format": "labelme",
                    "folder": str(folder.resolve()),
                    "files": len(files),
                    "regions": len(planned),
                },
            ),
        )
    return LabelmeImport(len(files), len(planned))


def _check_one_file_per_image(planned: list[_Planned]) -> None:
    """Refuse two files with shapes for one image (or frame): their shapes are numbered from 1 in
    each, so the second file's would silently replace the first's (a copy, an older version)."""
    first: dict[tuple[int, int], str] = {}
    for plan in planned:
        key = (plan.edit.image_id, plan.edit.frame)
        earlier = first.setdefault(key, plan.file)
        if earlier != plan.file:
            frame = f" (frame {plan.edit.frame - 1})" if plan.edit.frame else ""
            raise ImportFileError(
                f"{earlier} and {plan.file} both hold shapes for {plan.image}{frame}; "
                "labelme keeps one file per image: remove the one not meant."
            )


def _read_json(path: Path, shown: str) -> dict[str, Any]:
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise ImportFileError(f"{shown} is larger than any labelme file clinlabel reads.")
        data = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise ImportFileError(f"{shown} is not UTF-8 text.") from None
    except json.JSONDecodeError as exc:
        raise ImportFileError(
            f"{shown} is not valid JSON (line {exc.lineno}: {exc.msg})."
        ) from None
    except OSError as exc:
        raise ImportFileError(f"Cannot read {shown}: {exc.strerror or exc}.") from None
    if not isinstance(data, dict):
        raise ImportFileError(f"{shown} is not a labelme file (no object at the top).")
    return data


def _image_of(
    folder: Path,
    path: Path,
    data: dict[str, Any],
    project: Project,
    index: dict[str, Any],
    shown: str,
) -> str | None:
    named = data.get("imagePath", data.get("image_path"))
    batch = project.batch.resolve()
    target: Path | None = None
    if isinstance(named, str) and named:
        # labelme saved on Windows writes `..\..\img.png`; labelme reads a backslash as a
        # separator wherever the file is opened, and so does the import.
        target = (path.parent / PureWindowsPath(named).as_posix()).resolve()
        if target.is_relative_to(batch):
            relpath = target.relative_to(batch).as_posix()
            if relpath in index:
                return relpath
    # The tree below DIR mirrors the batch: the image with this file's stem in that folder.
    mirrored = PurePosixPath(path.relative_to(folder).as_posix())
    stem = mirrored.name[: -len(".json")]
    parent = mirrored.parent.as_posix()
    candidates = [
        r
        for r in index
        if PurePosixPath(r).parent.as_posix() == parent
        # `img.json`, or `img.png.json` where two images of the folder share the stem.
        and stem in (PurePosixPath(r).name.rsplit(".", 1)[0], PurePosixPath(r).name)
    ]
    if len(candidates) != 1:
        return None
    (found,) = candidates
    if target is not None and target.name != PurePosixPath(found).name:
        # The file names another image (a copy of the batch's keeps its name: a team's labelme
        # folder of images and their JSON files): its shapes are not this image's.
        raise ImportFileError(
            f"{shown}: its imagePath {named!r} is not an image of this project's batch, and "
            f"not a copy of {found}, where the file lies."
        )
    return found


def _plan_file(
    project: Project, folder: Path, path: Path, index: dict[str, tuple[int, str]], annotator: str
) -> list[_Planned]:
    shown = path.relative_to(folder).as_posix()
    data = _read_json(path, shown)
    relpath = _image_of(folder, path, data, project, index, shown)
    if relpath is None:
        raise ImportFileError(
            f"{shown}: its image ({data.get('imagePath', data.get('image_path'))!r}) is not in "
            "this project's batch."
        )
    image_id, kind = index[relpath]
    try:
        extent, frames = drawing_grid(project.image_path(relpath), ImageKind(kind), plane=None)
    except ClinlabelError as exc:
        raise ImportFileError(
            f"{shown}: its image {relpath} cannot be read: {exc.message}"
        ) from exc
    if "frames" in data:
        pages = data["frames"]
        if not isinstance(pages, list):
            raise ImportFileError(f"{shown}: 'frames' must be a list.")
        found: list[tuple[int, Any, Any, Any]] = []
        for page in pages:
            number = page.get("frame") if isinstance(page, dict) else None
            # Numbered from 0 there: -1 (or true) would become frame 0, the whole file.
            if not isinstance(number, int) or isinstance(number, bool) or number < 0:
                raise ImportFileError(
                    f"{shown}: each frame needs a whole-number 'frame' (0 the first)."
                )
            found.append(
                (page["frame"] + 1, page.get("shapes"), page.get("width"), page.get("height"))
            )
    else:
        found = [(0, data.get("shapes"), data.get("imageWidth"), data.get("imageHeight"))]
    planned: list[_Planned] = []
    for frame, shapes, width, height in found:
        where = shown if frame == 0 else f"{shown} (frame {frame - 1})"
        # labelme 6 writes null for a size it was not told (its loader then checks nothing);
        # a size given must be the image's.
        declared = [v for v in (width, height) if v is not None]
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in declared):
            raise ImportFileError(
                f"{where}: the image's width and height must be whole numbers "
                f"(the file says {width!r} x {height!r})."
            )
        if width not in (None, extent.width) or height not in (None, extent.height):
            raise ImportFileError(
                f"{where}: the image is {extent.width} x {extent.height} but the file says "
                f"{width} x {height}."
            )
        if not isinstance(shapes, list):
            raise ImportFileError(f"{where}: 'shapes' must be a list.")
        for n, shape in enumerate(shapes, start=1):
            tool, geometry = _geometry(shape, extent, f"{where}: shape {n}")
            label = shape.get("label")
            uid = (
                "lm-"
                + hashlib.sha256(f"{annotator}\0{relpath}\0{frame}\0{n}".encode()).hexdigest()[:32]
            )
            description = shape.get("description")
            if isinstance(description, str) and len(description) > MAX_DESCRIPTION:
                raise ImportFileError(
                    f"{where}: shape {n}: its description is longer than the "
                    f"{MAX_DESCRIPTION:,} characters a region's comment holds."
                )
            edit = RegionEdit(
                uid,
                image_id,
                str(label),
                tool,
                geometry,
                comment=description if isinstance(description, str) else None,
                frame=frame,
            )
            try:
                project.schema.region_class(str(label))
                check_shape(tool, geometry, extent)
            except ClinlabelError as exc:
                raise ImportFileError(f"{where}: shape {n}: {exc.message}") from exc
            planned.append(_Planned(edit, extent, frames, shown, f"{where}: shape {n}", relpath))
    return planned


def _geometry(shape: object, extent: Extent, where: str) -> tuple[str, dict[str, Any]]:
    if not isinstance(shape, dict):
        raise ImportFileError(f"{where} is not an object.")
    kind = shape.get("shape_type") or "polygon"
    points = shape.get("points")
    if not isinstance(points, list) or not all(isinstance(p, list) and len(p) == 2 for p in points):
        raise ImportFileError(f"{where}: 'points' must be a list of [x, y] pairs.")
    if kind == "rectangle":
        if len(points) != 2:
            raise ImportFileError(f"{where}: a rectangle has two corners.")
        (x0, y0), (x1, y1) = points
        _numbers(where, x0, y0, x1, y1)
        return "box", {
            "x": min(x0, x1),
            "y": min(y0, y1),
            "w": round(abs(x1 - x0), 3),
            "h": round(abs(y1 - y0), 3),
        }
    if kind == "polygon":
        return "polygon", {"points": points}
    if kind == "point":
        if len(points) != 1:
            raise ImportFileError(f"{where}: a point has one [x, y].")
        return "point", {"x": points[0][0], "y": points[0][1]}
    if kind == "mask":
        return "brush", _mask(shape, points, extent, where)
    raise ImportFileError(
        f"{where}: labelme's {kind!r} shapes have no clinlabel region "
        "(rectangle, polygon, point and mask do)."
    )


def _numbers(where: str, *values: object) -> None:
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
        raise ImportFileError(f"{where}: the coordinates must be numbers.")


def _mask(shape: dict[str, Any], points: list[Any], extent: Extent, where: str) -> dict[str, Any]:
    if len(points) != 2 or not isinstance(shape.get("mask"), str):
        raise ImportFileError(f"{where}: a mask needs two corner points and its base64 PNG.")
    (x0, y0), (x1, y1) = points
    _numbers(where, x0, y0, x1, y1)
    # NaN and Infinity are valid in Python's (and labelme's) JSON; int() of them raises.
    if not all(isinstance(v, int) or math.isfinite(v) for v in (x0, y0, x1, y1)):
        raise ImportFileError(f"{where}: the mask's corners must be finite numbers.")
    left, top = int(x0), int(y0)
    try:
        with Image.open(io.BytesIO(base64.b64decode(shape["mask"], validate=True))) as image:
            # The size is in the header: a mask that does not fit (a decompression bomb among
            # them) is refused before its pixels are decoded.
            _check_mask_place(image.size, (left, top), (int(x1), int(y1)), extent, where)
            crop = np.asarray(image.convert("L")) > 0
    except Image.DecompressionBombError:
        # Pillow refuses at open a header of more pixels than it ever decodes.
        raise ImportFileError(
            f"{where}: the mask PNG claims more pixels than any image clinlabel reads."
        ) from None
    except (binascii.Error, OSError, ValueError):
        raise ImportFileError(f"{where}: the mask is not a base64 PNG.") from None
    height, width = crop.shape
    full = np.zeros((extent.height, extent.width), dtype=bool)
    full[top : top + height, left : left + width] = crop
    return mask_from_array(full)


def _check_mask_place(
    size: tuple[int, int], first: tuple[int, int], last: tuple[int, int], extent: Extent, where: str
) -> None:
    width, height = size
    (left, top), (right, bottom) = first, last
    if (right - left + 1, bottom - top + 1) != (width, height):
        raise ImportFileError(
            f"{where}: the mask PNG is {width} x {height} but its corners span "
            f"{right - left + 1} x {bottom - top + 1}."
        )
    if left < 0 or top < 0 or left + width > extent.width or top + height > extent.height:
        raise ImportFileError(f"{where}: the mask lies outside the image.")
