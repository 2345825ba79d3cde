"""Region exports (issue 12): COCO, PNG masks, NIfTI label maps, with patient-safe splits.

The use case: read the current regions (one annotator's or everyone's), find the grid each was
drawn on, hand them to the format's writer (a pure function, `exports.region_formats`), and
record the export as one audit event naming the SHA-256 of every file written.

The files are written into a hidden staging folder beside the output folder first; the event
is appended and the files renamed into place in one write transaction, so no export appears
without its event, and a failure half-way leaves the previous export as it was.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from clinlabel.atomic import publish
from clinlabel.audit.events import EventKind, NewEvent
from clinlabel.audit.landing import watching
from clinlabel.audit.log import append_event
from clinlabel.discovery.batch_like import enclosing_batch
from clinlabel.domain.images import ImageKind
from clinlabel.domain.regions import MASK_TOOLS, Extent
from clinlabel.errors import (
    ClinlabelError,
    OutputError,
    SavedThenInterrupted,
    ValidationError,
)
from clinlabel.exports.nifti_masks import read_volume_grid, slice_extent
from clinlabel.exports.region_data import DrawnImage, DrawnRegion, RegionExport, VolumeGrid
from clinlabel.exports.region_formats import REGION_FORMATS, RegionFormat, region_format
from clinlabel.exports.splits import (
    SPLITS_CSV,
    SplitSpec,
    assign_splits,
    write_splits_csv,
)
from clinlabel.imaging.drawing_grid import drawing_grid
from clinlabel.labelling.project import Project, file_sha256
from clinlabel.store import region_rows
from clinlabel.store.region_rows import ExportRow

NO_STRATUM = "(unlabelled)"


@dataclass(frozen=True, slots=True)
class RegionExportResult:
    folder: Path
    files: list[Path]
    regions: int
    left_out: int
    splits: dict[str, str] = field(default_factory=dict)
    """Each case's split, when a split was asked for."""


def default_folder(project: Project, fmt: str) -> Path:
    return project.dir / "exports" / fmt


@dataclass(frozen=True, slots=True)
class RegionExportPlan:
    """An export read and checked, nothing written yet: the page's Finish plans every format it
    was asked for before writing any, so a region that cannot be exported (its file replaced)
    stops the whole finish before a file changes."""

    format: RegionFormat
    folder: Path
    whole: RegionExport
    parts: dict[str, RegionExport]
    annotator: str | None
    split: SplitSpec | None
    assigned: dict[str, str]
    strata: dict[str, str]


def export_regions(
    project: Project,
    fmt: str,
    *,
    out: Path | None = None,
    annotator: str | None = None,
    split: SplitSpec | None = None,
    actor: str,
    sealed: int = 0,
) -> RegionExportResult:
    """Write the `fmt` export of the project's regions into `out` and record it (`sealed`: the
    study's sealed first reads it holds, in its event: `worklist.check_terminal_export`)."""
    plan = plan_region_export(project, fmt, out=out, annotator=annotator, split=split)
    return write_region_export(project, plan, actor=actor, sealed=sealed)


def plan_region_export(
    project: Project,
    fmt: str,
    *,
    out: Path | None = None,
    annotator: str | None = None,
    split: SplitSpec | None = None,
) -> RegionExportPlan:
    """Read and check what the `fmt` export of the project's regions would hold."""
    chosen = region_format(fmt)
    if chosen is None:
        raise ValidationError(
            f"Unknown export format {fmt!r}; the formats are csv, {', '.join(REGION_FORMATS)}.",
            hint="clinlabel export --list-formats says what each writes.",
        )
    folder = _check_folder(project, out or default_folder(project, chosen.name))
    with project.store.read() as conn:
        if annotator is not None and not region_rows.annotator_exists(conn, annotator):
            raise ValidationError(f"No annotator called {annotator!r} has worked in this project.")
        rows = list(region_rows.iter_export_rows(conn, annotator=annotator))
        label_counts = region_rows.case_label_counts(conn)
    whole = _gather(project, rows, chosen)
    parts: dict[str, RegionExport] = {"": whole}
    assigned: dict[str, str] = {}
    strata: dict[str, str] = {}
    if split is not None:
        strata = _strata(whole, label_counts)
        assigned = assign_splits(strata, split)
        parts = {
            name: _subset(whole, {c for c, s in assigned.items() if s == name})
            for name in split.names
        }
    return RegionExportPlan(chosen, folder, whole, parts, annotator, split, assigned, strata)


def write_region_export(
    project: Project, plan: RegionExportPlan, *, actor: str, sealed: int = 0
) -> RegionExportResult:
    """Write a planned export into its folder and record it (one event, every file's SHA-256)."""
    chosen, folder, whole, split = plan.format, plan.folder, plan.whole, plan.split
    assigned = plan.assigned
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:  # a file on the way, no permission, a full disk
        raise OutputError(f"Cannot write {folder}: {exc.strerror or exc}.") from exc
    # Staged beside the folder, at the same depth: labelme's imagePath, relative to the file,
    # is then the same once the file is moved into place.
    # The name is cut so the staging folder's own stays within 255 bytes whatever the folder's.
    try:
        staging = Path(
            tempfile.mkdtemp(prefix=f".{folder.name[:32]}.clinlabel-export-", dir=folder.parent)
        )
    except OSError as exc:
        raise OutputError(
            f"Cannot write beside {folder}: {exc.strerror or exc}.",
            hint="An export is staged in the folder that holds it; choose a folder you can write.",
        ) from exc
    try:
        staged: list[Path] = []
        left_out = 0
        for name, part in plan.parts.items():
            for sub, piece in _per_annotator(part, chosen):
                target = staging / name / sub if name else staging / sub
                files, skipped = chosen.write(piece, target)
                staged += files
                left_out += skipped
        if split is not None:
            images = Counter(image.case for image in whole.images)
            staged.append(write_splits_csv(staging / SPLITS_CSV, assigned, plan.strata, images))
        written = _publish(
            project,
            staging,
            folder,
            staged,
            chosen,
            actor=actor,
            data={
                "regions": len(whole.regions),
                "left_out": left_out,
                "annotator": plan.annotator,
                "split": None
                if split is None
                else {
                    "fractions": split.as_dict(),
                    "seed": split.seed,
                    "cases": {n: sum(1 for s in assigned.values() if s == n) for n in split.names},
                },
                **({"sealed_first_reads": sealed} if sealed else {}),
            },
        )
    except OutputError as exc:
        # Named where the user will look (the folder), not the hidden staging folder that is
        # gone by the time the message is read.
        raise OutputError(exc.message.replace(str(staging), str(folder)), hint=exc.hint) from exc
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return RegionExportResult(folder, written, len(whole.regions), left_out, assigned)


def _check_folder(project: Project, out: Path) -> Path:
    target = out.expanduser().resolve()
    batch = project.batch.resolve()
    inside = batch if target.is_relative_to(batch) else enclosing_batch(target)
    if inside is not None and inside != batch:
        # The PNG masks' and labelme's trees mirror the batch, so an earlier export into this
        # folder looks like a batch: written into again when the trail says it is an export.
        with project.store.read() as conn:
            if region_rows.region_export_written_to(conn, str(inside)):
                inside = None
    if inside is not None:
        raise OutputError(
            f"{out} is inside the batch folder {inside}; clinlabel never writes inside a batch.",
            hint="Choose a folder outside it, e.g. in the project folder.",
        )
    if target.exists() and not target.is_dir():
        raise OutputError(f"{out} is a file; an export is written into a folder.")
    return target


def _gather(project: Project, rows: list[ExportRow], chosen: RegionFormat) -> RegionExport:
    schema = project.schema
    grids: dict[tuple[str, str], tuple[Extent, int]] = {}
    volumes: dict[str, VolumeGrid] = {}
    images: dict[tuple[str, int, str], DrawnImage] = {}
    regions: list[DrawnRegion] = []
    for row in rows:
        key = (row.relpath, row.plane or "")
        if key not in grids:
            _check_relpath(row.relpath)
            grids[key] = _grid(project, row, volumes)
        extent, frames = grids[key]
        geometry = json.loads(row.geometry)
        _check_fits(row, geometry, extent, frames)
        image = DrawnImage(
            row.relpath,
            row.frame,
            row.plane,
            row.case,
            row.kind,
            extent.width,
            extent.height,
            frames,
        )
        image = images.setdefault(image.key, image)
        regions.append(
            DrawnRegion(
                row.uid, image, row.annotator, row.region_class, row.tool,
                geometry, row.comment,
            )
        )  # fmt: skip
    classes = tuple(c.name for c in schema.regions)
    unknown = sorted({r.region_class for r in regions} - set(classes))
    if unknown:
        raise OutputError(
            f"Region class(es) {', '.join(map(repr, unknown))} are no longer in the schema; "
            "the export cannot number them."
        )
    return RegionExport(
        classes=classes,
        colours=tuple(c.colour for c in schema.regions),
        regions=tuple(regions),
        images=tuple(sorted(images.values())),
        volumes=volumes,
        annotators=tuple(sorted({r.annotator for r in regions})),
        batch=project.batch,
        region_classes=schema.regions,
    )


def _check_relpath(relpath: str) -> None:
    """An image's path as the exports mirror it below their folder: plain names only. A scan
    never stores another; one edited into the database (`a/../../Batch/x.png`, which still
    resolves into the batch) would lead the files out of the export folder, into the batch."""
    parts = relpath.split("/")
    if relpath.startswith("/") or any(p in ("", ".", "..") for p in parts):
        raise OutputError(
            f"The project's database names an image {relpath!r}, which is not a path below the "
            "batch; nothing was exported.",
            hint="clinlabel audit verify tells whether the database was changed by hand.",
        )


def _grid(project: Project, row: ExportRow, volumes: dict[str, VolumeGrid]) -> tuple[Extent, int]:
    """The drawing grid of a region's image, read from the file's header."""
    try:
        path = project.image_path(row.relpath)
        if row.plane is not None:
            grid = volumes.get(row.relpath) or read_volume_grid(path, row.relpath)
            volumes[row.relpath] = grid
            width, height, slices = slice_extent(grid, row.plane)
            return Extent(width, height), slices
        return drawing_grid(path, ImageKind(row.kind), plane=None)
    except ClinlabelError as exc:
        raise OutputError(
            f"Cannot read the pixel grid of {row.relpath}, which has regions: {exc.message}",
            hint="Put the file back in the batch (clinlabel rescan tells what changed).",
        ) from exc


def _check_fits(row: ExportRow, geometry: dict[str, Any], extent: Extent, frames: int) -> None:
    """Refuse a region its file no longer holds: the file was replaced by another of other
    dimensions (or fewer frames) after the region was drawn. Drawn on, clipped or cropped
    silently, the region would mark the wrong pixels."""
    size = f"{extent.width} x {extent.height}"
    if row.tool in MASK_TOOLS:
        drawn = (int(geometry["width"]), int(geometry["height"]))
        fits = drawn == (extent.width, extent.height)
        reason = f"its masks were drawn on a {drawn[0]} x {drawn[1]} grid"
    else:
        if row.tool == "box":
            xs = [geometry["x"] + geometry["w"]]
            ys = [geometry["y"] + geometry["h"]]
        elif row.tool == "polygon":
            xs = [p[0] for p in geometry["points"]]
            ys = [p[1] for p in geometry["points"]]
        else:
            xs, ys = [geometry["x"]], [geometry["y"]]
        fits = max(xs) <= extent.width and max(ys) <= extent.height
        reason = "a region drawn on it reaches beyond that"
    if not fits:
        raise OutputError(
            f"{row.relpath} is now {size} but {reason}; the file was replaced after its regions "
            "were drawn.",
            hint="Put the original file back in the batch (clinlabel rescan tells what changed).",
        )
    if row.frame > frames:
        raise OutputError(
            f"{row.relpath} now has {frames} {'slices' if row.plane else 'frames'} but a region "
            f"is on number {row.frame}; the file was replaced after its regions were drawn.",
            hint="Put the original file back in the batch (clinlabel rescan tells what changed).",
        )


def _strata(export: RegionExport, label_counts: list[tuple[str, str, int]]) -> dict[str, str]:
    """Each case's stratum: its most frequent image label, else its most frequent region class
    (ties broken by the schema's order), else NO_STRATUM."""
    cases = {image.case for image in export.images}
    labels: dict[str, Counter[str]] = {}
    for case, label, count in label_counts:
        labels.setdefault(case, Counter())[label] += count
    classes: dict[str, Counter[str]] = {}
    for region in export.regions:
        classes.setdefault(region.image.case, Counter())[region.region_class] += 1
    strata: dict[str, str] = {}
    for case in cases:
        counts = labels.get(case) or classes.get(case)
        if not counts:
            strata[case] = NO_STRATUM
            continue
        best = max(counts.values())
        strata[case] = min(name for name, n in counts.items() if n == best)
    return strata


def _subset(export: RegionExport, cases: set[str]) -> RegionExport:
    return replace(
        export,
        regions=tuple(r for r in export.regions if r.image.case in cases),
        images=tuple(i for i in export.images if i.case in cases),
    )


def _per_annotator(export: RegionExport, chosen: RegionFormat) -> list[tuple[str, RegionExport]]:
    if not chosen.per_annotator or len(export.annotators) < 2:
        return [("", export)]
    out: list[tuple[str, RegionExport]] = []
    taken: set[str] = set()
    for name in export.annotators:
        mine = tuple(r for r in export.regions if r.annotator == name)
        keys = {r.image.key for r in mine}
        images = tuple(i for i in export.images if i.key in keys)
        # "Dr A" and "Dr_A" (or "dr_a", on a case-blind disk) clean to one folder: the later
        # name gets a number, or one annotator's files would be written over the other's.
        base = folder = _folder_name(name)
        number = 2
        while folder.casefold() in taken:
            folder = f"{base}-{number}"
            number += 1
        taken.add(folder.casefold())
        out.append((folder, replace(export, regions=mine, images=images, annotators=(name,))))
    return out


def _folder_name(annotator: str) -> str:
    """An annotator's name as one safe folder name (no separators, no leading dot)."""
    cleaned = "".join(c if c.isalnum() or c in "-_ " else "_" for c in annotator).strip()
    return cleaned.replace(" ", "_") or "annotator"


def _publish(
    project: Project,
    staging: Path,
    folder: Path,
    staged: list[Path],
    chosen: RegionFormat,
    *,
    actor: str,
    data: dict[str, object],
) -> list[Path]:
    relative = [p.relative_to(staging) for p in staged]
    hashes = {p.as_posix(): file_sha256(s) for p, s in zip(relative, staged, strict=True)}
    event = NewEvent(
        EventKind.EXPORT_WRITTEN,
        actor,
        {"output": f"regions_{chosen.name}", "path": str(folder), "files": hashes, **data},
    )
    targets = [folder / p for p in relative]
    replaced = staging / ".replaced"
    undo: list[tuple[Path, Path, bool]] = []
    made: list[Path] = []
    published: dict[tuple[int, int], Path] = {}
    try:
        with watching(project.store) as landing, project.store.write() as conn:
            earlier = region_rows.last_region_export_files(
                conn, str(folder), f"regions_{chosen.name}"
            )
            append_event(conn, event)
            for number, (source, target) in enumerate(zip(staged, targets, strict=True)):
                _swap_in(source, folder, target, replaced / str(number), undo, made, published)
    except KeyboardInterrupt:
        if not landing.landed():
            _swap_back(undo, made)
            raise
        # Raised as the commit returned (SQLite commits in C): the files are in place with
        # their event, which must not be left describing files taken back. The earlier
        # export's leftovers go as they would have (a few removals): the folder is this one.
        _remove_stale(folder, earlier, set(hashes))
        raise SavedThenInterrupted(f"the {chosen.name} export of the regions to {folder}") from None
    except BaseException:
        # A full disk, a file that cannot be replaced or Ctrl+C half-way through the renames:
        # the event is rolled back, and so are the files, so no export appears half-written.
        _swap_back(undo, made)
        raise
    _remove_stale(folder, earlier, set(hashes))
    return targets


def _swap_in(
    source: Path,
    folder: Path,
    target: Path,
    backup: Path,
    undo: list[tuple[Path, Path, bool]],
    made: list[Path],
    published: dict[tuple[int, int], Path],
) -> None:
    """Rename `source` over `target`, keeping what `target` held at `backup` (beside the export,
    so on its file system) until the export is recorded. The undo record is written before
    anything moves, so an interruption at any point can be undone by `_swap_back`."""
    missing: list[Path] = []
    parent = target.parent
    while not parent.exists():
        missing.append(parent)
        parent = parent.parent
    if not parent.resolve().is_relative_to(folder):
        # A link in the folder (`Case_A` -> the batch's `Case_A`): followed, the export would be
        # written inside the batch, or anywhere.
        raise OutputError(
            f"{parent} leads out of {folder} (a link); an export is written below its folder only.",
            hint="Remove the link, or export into another folder.",
        )
    made += reversed(missing)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        had = target.exists() or target.is_symlink()
        if had:
            held = os.lstat(target)
            other = published.get((held.st_dev, held.st_ino))
            if other is not None:
                # A disk blind to case (or to how an accent is encoded), as a USB stick or a
                # Mac's: two images' files would be one, the later written over the earlier.
                raise OutputError(
                    f"{other.relative_to(folder)} and {target.relative_to(folder)} are one file "
                    f"on the disk of {folder}, which does not tell their names apart.",
                    hint="Export to a disk that does (most Linux disks), or rename one image.",
                )
        undo.append((target, backup, had))
        if had:
            backup.parent.mkdir(parents=True, exist_ok=True)
            os.replace(target, backup)
    except OSError as exc:
        raise OutputError(f"Cannot write {target}: {exc.strerror or exc}.") from exc
    publish(source, target)
    with contextlib.suppress(OSError):
        written = os.lstat(target)
        published[written.st_dev, written.st_ino] = target


def _swap_back(undo: list[tuple[Path, Path, bool]], made: list[Path]) -> None:
    """Put back what the renames of an export that failed replaced, newest first, and remove
    the files and folders it made."""
    for target, backup, had in reversed(undo):
        with contextlib.suppress(OSError):
            if not had:
                target.unlink(missing_ok=True)
            elif backup.exists():
                os.replace(backup, target)
    for made_folder in reversed(made):
        with contextlib.suppress(OSError):
            made_folder.rmdir()


def _remove_stale(folder: Path, earlier: dict[str, str], written: set[str]) -> None:
    """Remove what the previous export of this format into `folder` wrote and this one did not
    (the mask of a region deleted since): left there, it would be taken for part of this export.
    Only a file still as that export recorded it: one changed or put there by hand is kept."""
    for name in sorted(set(earlier) - written):
        path = (folder / name).resolve()
        if not path.is_relative_to(folder) or not path.is_file():
            continue
        try:
            if file_sha256(path) != earlier[name]:
                continue
            path.unlink()
        except OSError:
            continue  # a file that cannot be removed stays; the event says what this export is
        # Folders the removal emptied (a case's tree) go too, up to the export's own.
        parent = path.parent
        while parent != folder and parent.is_relative_to(folder):
            try:
                parent.rmdir()
            except OSError:
                break
            parent = parent.parent
