"""`clinlabel render` and `clinlabel info`: one image file, exactly as the viewer sees it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import click

from clinlabel.atomic import atomic_binary_writer
from clinlabel.errors import DecodeError, ValidationError

if TYPE_CHECKING:
    from clinlabel.imaging.windowing import Window


def _window(value: str | None) -> Window | None:
    from clinlabel.imaging.windowing import parse_window

    if value is None:
        return None
    try:
        return parse_window(value)
    except ValueError as exc:
        raise ValidationError(f"--window: {exc}.", hint="Example: --window 40,80") from None


@click.command("render")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--frame", type=int, default=1, show_default=True, help="Frame or slice, from 1.")
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
    help="PNG file to write.",
)
def render_command(
    file: Path,
    frame: int,
    plane: str,
    window_text: str | None,
    preset: str | None,
    invert: bool,
    output: Path,
) -> None:
    """Render FILE (photo, DICOM or NIfTI) as the 8-bit PNG the viewer shows, at its own size."""
    from clinlabel.imaging.render import kind_of, render_png

    if window_text is not None and preset is not None:
        raise ValidationError("Use --window or --preset, not both.")
    if frame < 1:
        raise ValidationError(f"--frame counts from 1, got {frame}.")
    _exists(file)
    window = _window(window_text)
    data = render_png(
        file, kind_of(file), frame=frame, plane=plane, window=window, preset=preset, invert=invert
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
def info_command(file: Path, as_json: bool, show_identifying: bool) -> None:
    """Print the geometry (rows, frames, bits, transfer syntax, plugin) and metadata of FILE.

    Identifying values are masked, as in the viewer, unless --show-identifying is given.
    """
    from clinlabel.imaging.info import describe
    from clinlabel.imaging.render import kind_of

    _exists(file)
    info = describe(file, kind_of(file))
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
