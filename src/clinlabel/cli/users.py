"""`clinlabel users add|disable|enable|reset-password|role|list`: who may log in to `serve`."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from clinlabel.labelling.accounts import Accounts

ROLE_CHOICE = click.Choice(["annotator", "reviewer", "admin"], case_sensitive=False)
PROJECT = click.argument("project_dir", metavar="PROJECT", type=click.Path(path_type=Path))


def _password(from_stdin: bool) -> str:
    """From standard input (one line, for scripts) or typed twice at a hidden prompt."""
    if from_stdin:
        line = sys.stdin.readline()
        return line[:-1] if line.endswith("\n") else line
    text: str = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    return text


@contextlib.contextmanager
def _changing(project_dir: Path, saved: str) -> Iterator[Accounts]:
    """PROJECT's accounts, for one change (`saved` names it) whose outcome is printed inside
    the block: a Ctrl+C once the change is committed (raised as its commit returns, while the
    outcome is printed, as the project closes) says it was saved, not "nothing was changed"."""
    from clinlabel.labelling.accounts import Accounts
    from clinlabel.labelling.project import open_project
    from clinlabel.labelling.saving import Saving

    with (
        Saving() as saving,
        open_project(project_dir) as project,
        saving.commit(project.store, saved),
    ):
        yield Accounts(project.store)


@click.group("users")
def users_group() -> None:
    """Manage the accounts of the multi-user server (`clinlabel serve`)."""


@users_group.command("add")
@PROJECT
@click.argument("name")
@click.option("--role", type=ROLE_CHOICE, required=True, help="What the user may do.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def add_command(project_dir: Path, name: str, role: str, password_stdin: bool) -> None:
    """Add a user NAME to PROJECT (the password is asked for, or read with --password-stdin)."""
    from clinlabel.labelling.accounts import check_password, parse_role
    from clinlabel.labelling.project import system_user

    password = check_password(_password(password_stdin))
    with _changing(project_dir, f"the new user {name} ({role.lower()})") as accounts:
        user = accounts.add(name, parse_role(role), password, actor=system_user())
        click.echo(f"Added {user.name} ({user.role}).")


@users_group.command("disable")
@PROJECT
@click.argument("name")
def disable_command(project_dir: Path, name: str) -> None:
    """No more logins for NAME (open logins end now); their labels stay."""
    from clinlabel.labelling.project import system_user

    with _changing(project_dir, f"the disabling of the user {name}") as accounts:
        user = accounts.disable(name, actor=system_user())
        click.echo(f"Disabled {user.name}.")


@users_group.command("enable")
@PROJECT
@click.argument("name")
def enable_command(project_dir: Path, name: str) -> None:
    """Let a disabled user NAME log in again."""
    from clinlabel.labelling.project import system_user

    with _changing(project_dir, f"the enabling of the user {name}") as accounts:
        user = accounts.enable(name, actor=system_user())
        click.echo(f"Enabled {user.name}.")


@users_group.command("reset-password")
@PROJECT
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def reset_password_command(project_dir: Path, name: str, password_stdin: bool) -> None:
    """Give NAME a new password; their open logins end."""
    from clinlabel.labelling.accounts import check_password
    from clinlabel.labelling.project import system_user

    password = check_password(_password(password_stdin))
    with _changing(project_dir, f"the new password of the user {name}") as accounts:
        user = accounts.reset_password(name, password, actor=system_user())
        click.echo(f"New password set for {user.name}; their open logins have ended.")


@users_group.command("role")
@PROJECT
@click.argument("name")
@click.argument("role", type=ROLE_CHOICE)
def role_command(project_dir: Path, name: str, role: str) -> None:
    """Change the role of NAME; their open logins end."""
    from clinlabel.labelling.accounts import parse_role
    from clinlabel.labelling.project import system_user

    with _changing(project_dir, f"the new role of the user {name} ({role.lower()})") as accounts:
        user = accounts.set_role(name, parse_role(role), actor=system_user())
        click.echo(f"{user.name} is now {user.role}.")


@users_group.command("list")
@PROJECT
def list_command(project_dir: Path) -> None:
    """The users of PROJECT: name, role, and whether they may log in."""
    from clinlabel.labelling.accounts import Accounts
    from clinlabel.labelling.project import open_project

    with open_project(project_dir, read_only=True) as project:
        found = Accounts(project.store).list()
    if not found:
        click.echo("No users yet: add one with `clinlabel users add PROJECT NAME --role admin`.")
    for user in found:
        state = "disabled" if user.disabled else "active"
        click.echo(f"{user.name}\t{user.role}\t{state}")
