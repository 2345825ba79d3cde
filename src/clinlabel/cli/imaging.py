"""`clinlabel render` and `clinlabel info`: one image file, exactly as the viewer sees it."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import click

from clinlabel.atomic import atomic_binary_writer
from clinlabel.domain.labels import MAX_FRAME
from clinlabel.errors import DecodeError, ValidationError

if TYPE_CHECKING:
    from clinlabel.imaging.windowing import Window

# As `imaging.budget.DEFAULT_BYTES`; not imported from there so `--help` stays light.
_DEFAULT_BUDGET_MB = 512


def _window(value: str | None) -> Window | None:
    from clinlabel.imaging.windowing import parse_window

    if value is None:
        return None
    try:
        return parse_window(value)
    except ValueError as exc:
        raise ValidationError(f"--window: {exc}.", hint="Example: --window 40,80") from None


def memory_budget_option(command: Callable[..., None]) -> Callable[..., None]:
    """`--memory-budget-mb`: how much one decoded image may take (`imaging.budget`)."""
    return click.option(
        "--memory-budget-mb",
        "memory_budget_mb",
        type=click.IntRange(min=1),
        default=_DEFAULT_BUDGET_MB,
        show_default=True,
        help="Refuse an image whose header declares more than this many MiB of pixels "
        "(per NIfTI volume, DICOM frame or photo).",
    )(command)


def budget_bytes(megabytes: int) -> int:
    return megabytes * 1024 * 1024


@click.command("render")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "--frame",
    type=click.IntRange(min=1, max=MAX_FRAME),
    default=1,
    show_default=True,
    help="Frame or slice, from 1.",
)
@click.option(
    "--plane",
    type=click.Choice(["axial", "coronal", "sagittal"]),
    default="axial",
    show_default=True,
    help="Plane of a NIfTI volume.",
)
@click.option("--window", "window_text", metavar="CENTER,WIDTH", help="Window, e.g. 40,80.")
@click.option(
    "--preset", metavar="NAME", help="full, a CT preset (brain, lung, ...) or the file's."
)
@click.option("--invert", is_flag=True, help="Show grey-scale images inverted.")
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path, dir_okay=False),
    required=True,
    help="PNG file to write (never FILE itself, never inside a batch or over a project's "
    "database).",
)
@click.option("--force", is_flag=True, help="Replace a file already at the -o path.")
@memory_budget_option
def render_command(
    file: Path,
    frame: int,
    plane: str,
    window_text: str | None,
    preset: str | None,
    invert: bool,
    output: Path,
    force: bool,
    memory_budget_mb: int,
) -> None:
    """Render FILE (photo, DICOM or NIfTI) as the 8-bit PNG the viewer shows, at its own size."""
    from clinlabel.imaging.reader import DirectReader
    from clinlabel.imaging.render import kind_of, render_png
    from clinlabel.labelling.overwrite import check_output_target

    if window_text is not None and preset is not None:
        raise ValidationError("Use --window or --preset, not both.")
    _exists(file)
    # The one rule for every output's place (render, export, report), checked before decoding.
    check_output_target(output, "png", force=force, source=file)

    window = _window(window_text)
    data = render_png(
        file,
        kind_of(file),
        frame=frame,
        plane=plane,
        window=window,
        preset=preset,
        invert=invert,
        reader=DirectReader(memory_budget=budget_bytes(memory_budget_mb)),
    )
    with atomic_binary_writer(output) as handle:
        handle.write(data)
    click.echo(f"Wrote {output}")


_MASKED = "<masked>"


@click.command("info")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
@click.option(
    "--show-identifying",
    is_flag=True,
    help="Print identifying values (names, IDs, dates, UIDs...: PS3.15 Table E.1-1) in clear.",
)
@memory_budget_option
def info_command(file: Path, as_json: bool, show_identifying: bool, memory_budget_mb: int) -> None:
    """Print the geometry (rows, frames, bits, transfer syntax, plugin) and metadata of FILE.

    Identifying values are masked, as in the viewer, unless --show-identifying is given.
    """
    from clinlabel.imaging.info import describe
    from clinlabel.imaging.render import kind_of

    _exists(file)
    info = describe(file, kind_of(file), memory_budget=budget_bytes(memory_budget_mb))
    hidden = 0 if show_identifying else sum(row.identifying for row in info.attributes)
    if as_json:
        data = info.as_dict()
        for row in data["attributes"]:
            row["masked"] = row["identifying"] and not show_identifying
            if row["masked"]:
                row["value"] = None
        data["masked"] = hidden
        click.echo(json.dumps(data, indent=2, default=str))
        return
    click.echo(f"{file}  ({info.kind})")
    for key, value in info.geometry.items():
        if isinstance(value, dict):
            for inner, inner_value in value.items():
                click.echo(f"  {key}.{inner}: {inner_value}")
        else:
            click.echo(f"  {key}: {value}")
    if info.attributes:
        click.echo("")
        for row in info.attributes:
            indent = "  " * row.depth
            shown = row.value if show_identifying or not row.identifying else _MASKED
            mark = " [identifying]" if row.identifying else ""
            click.echo(f"{indent}{row.tag} {row.vr} {row.keyword}: {shown}{mark}")
    if hidden:
        click.echo(f"\n{hidden} identifying value(s) masked; --show-identifying prints them.")


def _exists(file: Path) -> None:
    if not file.exists():
        raise DecodeError(f"{file} does not exist.")
    if not file.is_file():
        raise DecodeError(f"{file} is not a file.")
