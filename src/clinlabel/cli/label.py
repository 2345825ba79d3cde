"""`clinlabel label BATCH`: the labelling server for one batch, opened in the browser."""

from __future__ import annotations

import math
import socket
import webbrowser
from pathlib import Path
from typing import TYPE_CHECKING

import click

from clinlabel.cli.imaging import budget_bytes, memory_budget_option
from clinlabel.errors import ClinlabelError

if TYPE_CHECKING:
    import uvicorn

    from clinlabel.labelling.remembered import ProjectMemory
    from clinlabel.web.workbench import Workbench


def _bind(host: str, port: int) -> socket.socket:
    """Bind now (port 0 = a free one), so the printed URL is right before the server starts."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Accepted connections inherit this. Without it, a small JSON answer written in two pieces
    # waits for the client's delayed ACK (Nagle): measured 44 ms per request instead of 1 ms.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise ClinlabelError(
            f"Cannot listen on {host}:{port}: {exc.strerror}.", hint="Choose another --port."
        ) from exc
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def _choose_project(memory: ProjectMemory, batch: Path, chosen: Path | None) -> Path | None:
    """The project to open: `--out`, else the one this batch was labelled into last time.

    Says which, in one line: a clinician restarting the next morning must not land in a second,
    empty project without knowing it.
    """
    remembered = memory.recall(batch)
    if remembered is None or (chosen is not None and chosen.resolve() == remembered.project_dir):
        return chosen
    if not remembered.exists:
        if chosen is None:
            click.echo(
                f"The project {remembered.project_dir} chosen for this batch on "
                f"{remembered.chosen_on} is no longer there; choose a folder on the start page."
            )
        return chosen
    if chosen is None:
        click.echo(
            f"Reopening the project {remembered.project_dir} chosen for this batch on "
            f"{remembered.chosen_on}; --out chooses another."
        )
        return remembered.project_dir
    click.echo(
        f"Note: this batch's labels so far are in the project {remembered.project_dir} "
        f"(chosen on {remembered.chosen_on}); using {chosen.resolve()} instead, as --out says. "
        "Leave out --out to reopen the earlier one."
    )
    return chosen


def _answering_server(config: uvicorn.Config, bench: Workbench) -> uvicorn.Server:
    """uvicorn's server, telling `bench` once it answers (its startup done, sockets served)."""
    import uvicorn

    class Answering(uvicorn.Server):
        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await super().startup(sockets=sockets)
            bench.answering()

    return Answering(config)


def _finite(ctx: click.Context, param: click.Parameter, value: float) -> float:
    # FloatRange lets "nan" through (no comparison with NaN is true).
    if not math.isfinite(value):
        raise click.BadParameter(f"{value} is not a number.")
    return value


@click.command("label")
@click.argument(
    "batch", type=click.Path(exists=True, file_okay=False, path_type=Path, resolve_path=True)
)
@click.option(
    "--out",
    "project_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Project folder (database and outputs). Left out: the project this batch was "
    "labelled into last time, or asked on the start page.",
)
@click.option("--annotator", help="Your name or initials. Asked on the start page if left out.")
@click.option(
    "--schema",
    "schema_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Label schema (TOML or JSON) for a new project.",
)
@click.option("--port", type=click.IntRange(0, 65535), default=0, help="Port; 0 = a free one.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--new-token",
    is_flag=True,
    help="Replace the project's access token (open pages must then use the new link).",
)
@click.option("--no-browser", is_flag=True, help="Print the URL only; do not open a browser.")
@click.option(
    "--idle-minutes",
    type=click.FloatRange(min=0.5, max=24 * 60),
    callback=_finite,
    default=5.0,
    show_default=True,
    help="Time without activity after which time on an image stops counting.",
)
@click.option(
    "--cache-gb",
    type=click.FloatRange(min=0.1, max=1_000_000),
    callback=_finite,
    default=2.0,
    show_default=True,
    help="Disk space for decoded images kept in the project (least recently used go first).",
)
@memory_budget_option
def label_command(
    batch: Path,
    project_dir: Path | None,
    annotator: str | None,
    schema_path: Path | None,
    port: int,
    host: str,
    new_token: bool,
    no_browser: bool,
    idle_minutes: float,
    cache_gb: float,
    memory_budget_mb: int,
) -> None:
    """Label the images of BATCH in the browser (Ctrl+C stops; everything saved is kept)."""
    import uvicorn

    from clinlabel.labelling.remembered import ProjectMemory
    from clinlabel.labelling.server_access import load_server_access
    from clinlabel.web.app import create_app
    from clinlabel.web.config import WebSettings
    from clinlabel.web.security import make_token
    from clinlabel.web.workbench import Workbench

    memory = ProjectMemory(warn=lambda text: click.echo(f"Warning: {text}", err=True))
    project_dir = _choose_project(memory, batch, project_dir)
    # The project's last token and port (`labelling.server_access`): an open page reconnects.
    remembered = load_server_access(project_dir.resolve()) if project_dir is not None else None
    sock = None
    if port == 0 and remembered is not None:
        try:
            sock = _bind(host, remembered.port)
        except ClinlabelError:
            click.echo(
                f"Port {remembered.port}, used by this project last time, is busy: a page "
                "still open on it must be opened again with the link below."
            )
    if sock is None:
        sock = _bind(host, port)
    token = remembered.token if remembered is not None and not new_token else make_token()
    settings = WebSettings(
        batch=batch,
        token=token,
        port=sock.getsockname()[1],
        host=host,
        project_dir=project_dir.resolve() if project_dir else None,
        annotator=annotator,
        schema_path=schema_path,
        idle_threshold_s=idle_minutes * 60.0,
        rendition_cache_bytes=int(cache_gb * 1024**3),
        # For every image this server decodes: a file past it is refused with a clear message.
        memory_budget_bytes=budget_bytes(memory_budget_mb),
    )
    bench = Workbench(settings)
    # The background rescan walks the batch and reads every image: held until the server
    # answers, so it never competes with the launch for the first image (issue 14).
    bench.hold_background()
    try:
        if project_dir is not None and annotator:
            # Open before serving so a busy or misplaced project is one clear line, not a log.
            shown = bench.call_now(bench.open, settings.project_dir, annotator)
            memory.remember(batch, project_dir)
            click.echo(
                f"Project {bench.project.dir if bench.project else project_dir}: "
                f"{shown.progress.labelled} of {shown.progress.total} labelled; "
                f"resuming at image {shown.view.position}."
            )
            if bench.rescan is not None:
                click.echo(
                    "Checking the batch for new and missing files in the background; the page "
                    "says when it is done."
                )
        app = create_app(settings, workbench=bench)
        shown_host = "127.0.0.1" if host in ("127.0.0.1", "0.0.0.0") else host
        url = f"http://{shown_host}:{settings.port}/?token={settings.token}"
        click.echo(f"clinlabel is serving {batch}")
        click.echo(f"Open: {url}", color=False)
        click.echo("Press Ctrl+C to stop.")
        if not no_browser:
            webbrowser.open(url)
        config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on")
        _answering_server(config, bench).run(sockets=[sock])
    finally:
        bench.shutdown()
        sock.close()
    click.echo("Session closed; every label shown as saved is in the project.")
