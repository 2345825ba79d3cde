"""Where a command takes a PostgreSQL URL from, keeping its password off the command line.

A command line is visible to every local user for as long as the process runs (`ps`, `/proc`),
so a password in `--database-url` or `--to` is shown to them all. The URL can come instead from
a file that only its owner can read (`--database-url-file`, refused unless mode 0600) or from the
environment (`CLINLABEL_DATABASE_URL`, which only the process's owner can read), and the password
can stay out of the URL altogether: PostgreSQL's client library reads it from `PGPASSWORD` or
`~/.pgpass`. A password given on the command line still works, with a one-line warning (a
refusal would break scripts that have no other way yet; the warning says what to do).
A password is never printed: URLs are shown with it masked.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path

import click

from clinlabel.errors import ValidationError
from clinlabel.store.urls import url_has_password

ENVIRONMENT = "CLINLABEL_DATABASE_URL"

FILE_HELP = (
    "Read the database URL from this file (mode 0600: it may hold the password). Or set "
    f"{ENVIRONMENT}; or leave the password out of the URL and keep it in ~/.pgpass or PGPASSWORD."
)


def url_file_option(command: Callable[..., None]) -> Callable[..., None]:
    """`--database-url-file` (the command's `url_file` argument), for `chosen_url`."""
    return click.option(
        "--database-url-file",
        "url_file",
        type=click.Path(path_type=Path, dir_okay=False),
        help=FILE_HELP,
    )(command)


WARNING = (
    "clinlabel: warning: the database password in {option} is visible to every user of this "
    "machine while the command runs; keep it in ~/.pgpass or PGPASSWORD, or give the URL with "
    "--database-url-file or CLINLABEL_DATABASE_URL."
)


def read_url_file(path: Path) -> str:
    """The URL in `path` (its first non-empty line), refused when others may read the file."""
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            raise ValidationError(f"{path} is not a file.")
        if stat.S_IMODE(info.st_mode) & 0o077:
            raise ValidationError(
                f"{path} can be read by other users of this machine, and it may hold the "
                "database password; nothing was done.",
                hint=f"Run: chmod 600 {path}",
            )
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ValidationError(f"Cannot read {path}: {exc.strerror}.") from exc
    except UnicodeDecodeError:
        raise ValidationError(f"{path} is not a text file.") from None
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines:
        raise ValidationError(f"{path} is empty.")
    return lines[0]


def chosen_url(given: str | None, file: Path | None, *, option: str) -> str | None:
    """The URL from the command line (`option`), the file, or the environment; None for none.

    One source only: two that disagree would leave the user unsure which database is used.
    """
    if given is not None and file is not None:
        raise ValidationError(f"Give {option} or --database-url-file, not both.")
    if file is not None:
        return read_url_file(file)
    if given is not None:
        if url_has_password(given):
            click.echo(WARNING.format(option=option), err=True)
        return given
    from_environment = os.environ.get(ENVIRONMENT, "").strip()
    return from_environment or None
