"""The root click group, lazy command loading and the one place errors become messages."""

from __future__ import annotations

import contextlib
import importlib
import logging
import os
import signal
import sys
from typing import Any

import click

from clinlabel import __version__
from clinlabel.cli.shown import shown
from clinlabel.errors import ClinlabelError, SavedThenInterrupted

INTERRUPTED_UNCHANGED = "Interrupted: nothing was changed."
"""What Ctrl+C in a command that changes the project all at once (or nothing) says: its writes
are one transaction rolled back, its files staged and renamed only at the end, its child
processes stopped (docs/adr/0010-interrupt-progress-background-rescan.md)."""
ALL_OR_NOTHING = frozenset(
    {"init", "scan", "import", "export", "report", "audit", "study", "db", "users", "adjudicate"}
)


def saved_then_interrupted(exc: SavedThenInterrupted) -> str:
    """What Ctrl+C says once a command's work is committed (its events in the audit trail):
    what was saved, then what the interruption cut short, if that matters to the user."""
    after = f"; {exc.unfinished}" if exc.unfinished else ""
    return f"interrupted, but {exc.saved} was already saved and recorded in the audit trail{after}."


# name -> "module:attribute"; each module is imported only when its command runs.
COMMANDS: dict[str, tuple[str, str]] = {
    "init": ("clinlabel.cli.project", "init_command"),
    "scan": ("clinlabel.cli.project", "scan_command"),
    "export": ("clinlabel.cli.outputs", "export_command"),
    "report": ("clinlabel.cli.outputs", "report_command"),
    "import": ("clinlabel.cli.outputs", "import_command"),
    "audit": ("clinlabel.cli.audit", "audit_group"),
    "demo": ("clinlabel.cli.demo", "demo_command"),
    "label": ("clinlabel.cli.label", "label_command"),
    "render": ("clinlabel.cli.imaging", "render_command"),
    "info": ("clinlabel.cli.imaging", "info_command"),
    "agreement": ("clinlabel.cli.agreement", "agreement_command"),
    "study": ("clinlabel.cli.study", "study_group"),
    "adjudicate": ("clinlabel.cli.adjudicate", "adjudicate_command"),
    "users": ("clinlabel.cli.users", "users_group"),
    "serve": ("clinlabel.cli.serve", "serve_command"),
    "db": ("clinlabel.cli.db", "db_group"),
}


class LazyGroup(click.Group):
    """A group whose subcommands are imported when used (the click docs' lazy-loading recipe)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(name for name in COMMANDS if self._load(name) is not None)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        return self._load(cmd_name)

    @staticmethod
    def _load(name: str) -> click.Command | None:
        target = COMMANDS.get(name)
        if target is None:
            return None
        module_name, attribute = target
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            # A command whose module is not written yet is simply not offered.
            if exc.name == module_name:
                return None
            raise
        command = getattr(module, attribute)
        assert isinstance(command, click.Command)
        return command

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ClinlabelError as exc:
            # A name from the disk in the message (a labelme file's) may hold a newline.
            click.echo(f"clinlabel: {shown(exc)}", err=True)
            ctx.exit(2)
        except SavedThenInterrupted as exc:
            click.echo(f"clinlabel: {shown(saved_then_interrupted(exc))}", err=True)
            ctx.exit(130)
        except KeyboardInterrupt:
            if ctx.invoked_subcommand in ALL_OR_NOTHING:
                click.echo(INTERRUPTED_UNCHANGED, err=True)
            else:
                click.echo("clinlabel: interrupted; everything saved so far is kept.", err=True)
            ctx.exit(130)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="clinlabel")
def cli() -> None:
    """Label clinical images offline, with a tamper-evident audit trail."""


def _interrupt_once(signum: int, frame: object) -> None:
    """The first Ctrl+C stops the command (KeyboardInterrupt); later ones are ignored while it
    rolls back and stops its child processes, so the cleanup itself is never cut short into a
    traceback and a half-cleaned state."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    raise KeyboardInterrupt


def main() -> None:
    with contextlib.suppress(ValueError):  # not the main thread (an embedding caller)
        if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
            signal.signal(signal.SIGINT, _interrupt_once)
    # SQLAlchemy's pool logs a connection that failed to close, with its traceback, before it
    # raises the error on: with no handler set, Python printed that on stderr. A Ctrl+C while
    # SQLite's last connection closes (its WAL checkpoint, long after a large import) is one.
    # The error itself still reaches the one place above that turns it into a message.
    logging.getLogger("sqlalchemy.pool").addHandler(logging.NullHandler())
    try:
        cli(prog_name="clinlabel")
    except OSError as exc:
        # Only an output stream can fail this far up (stdout on a full disk or a closed pipe):
        # files are written through `atomic`, whose errors are `OutputError`s.
        _output_lost(exc)
    finally:
        _flush_or_drop_stdout()


def _output_lost(exc: OSError) -> None:
    _drop_stdout()
    with contextlib.suppress(OSError):
        click.echo(f"clinlabel: cannot write the output: {exc.strerror or exc}.", err=True)
    sys.exit(2)


def _flush_or_drop_stdout() -> None:
    """Flush stdout now, so a full disk is reported once and not as "Exception ignored" at exit."""
    try:
        sys.stdout.flush()
    except OSError as exc:
        _output_lost(exc)


def _drop_stdout() -> None:
    # The Python docs' recipe for a broken pipe: point stdout at /dev/null, so the interpreter's
    # own final flush of the buffered text has nowhere to fail.
    with contextlib.suppress(OSError, ValueError, AttributeError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
