"""Ctrl+C during `clinlabel db copy` to PostgreSQL: the target is left empty (the copy is one
transaction, rolled back), the project untouched and still on SQLite, one line said, exit 130;
a second run copies.

The real command runs in a child process with one test hook (not in the shipped path): each
table copied, and the check of the copy, report a line on stderr and pause, so the test knows
how far the copy got and presses Ctrl+C there (no timing).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from clinlabel.cli.app import cli
from clinlabel.labelling.accounts import Accounts, Role
from clinlabel.labelling.importer import import_labels
from clinlabel.labelling.project import init_project, open_project
from clinlabel.store import copy as copy_rows
from clinlabel.store.store import Store

from .cli_run import two_case_batch
from .interrupting import SRC, WAIT_S, project_state

pytestmark = pytest.mark.postgres

_CHILD = r"""
import signal, sys, time
signal.signal(signal.SIGINT, signal.default_int_handler)
import clinlabel.store.copy as copy_rows
import clinlabel.labelling.db_copy as db_copy

def report(what):
    sys.stderr.write(f"STEP|{what}\n")
    sys.stderr.flush()
    time.sleep(0.3)

real_copy = copy_rows.copy_table
def copy_table(source, target, table):
    count = real_copy(source, target, table)
    report(f"copied {table.name}")
    return count
copy_rows.copy_table = copy_table

import clinlabel.audit.log as audit_log
real_verify = audit_log.verify_chain
def verify_chain(conn, **kwargs):
    report("checking the copy")
    return real_verify(conn, **kwargs)
db_copy.verify_chain = audit_log.verify_chain = verify_chain
from clinlabel.cli.app import main
sys.argv = ["clinlabel", *sys.argv[1:]]
main()
"""


def _project(root: Path) -> Path:
    project_dir = root / "project"
    init_project(two_case_batch(root / "Batch"), project_dir)
    table = root / "labels.csv"
    table.write_text(
        "case,visit,file,label,comment\n"
        "Case_1,Visit_1,img1.jpg,Suspicious,\n"
        "Case_2,Visit_1,img2.jpg,NA,blurred\n",
        encoding="utf-8",
    )
    with open_project(project_dir) as project:
        Accounts(project.store).add("adm", Role.ADMIN, "a long enough password", actor="test")
        assert import_labels(project, table, annotator="ann").imported == 2
    return project_dir


def _interrupt_at(step: str, args: list[str]) -> tuple[int, list[str]]:
    env = {**os.environ, "PYTHONPATH": SRC}
    process = subprocess.Popen(
        [sys.executable, "-c", _CHILD, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert process.stderr is not None
    seen: list[str] = []
    for line in process.stderr:
        seen.append(line)
        if line.rstrip("\n") == f"STEP|{step}":
            process.send_signal(signal.SIGINT)
            break
    else:
        process.wait(WAIT_S)
        raise AssertionError(f"the copy ended before {step!r}: {''.join(seen)}")
    try:
        _, rest = process.communicate(timeout=WAIT_S)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        raise AssertionError(f"Ctrl+C did not stop the copy within {WAIT_S} s") from None
    said = [
        line
        for line in (*seen, *rest.splitlines())
        if line.strip() and not line.startswith("STEP|")
    ]
    return process.returncode, [line.rstrip("\n") for line in said]


def _rows_in(url: str) -> list[str]:
    store = Store.open_url(url)
    try:
        with store.read() as conn:
            return copy_rows.non_empty(conn)
    finally:
        store.close()


@pytest.mark.parametrize("step", ["copied images", "checking the copy"])
def test_teamhard_ctrl_c_during_db_copy_leaves_target_empty_and_project_as_it_was(
    tmp_path: Path, postgres_server: object, step: str
) -> None:
    project_dir = _project(tmp_path)
    before = project_state(project_dir)
    settings = (
        (project_dir / "project.toml").read_bytes()
        if (project_dir / "project.toml").exists()
        else None
    )
    url = postgres_server.create_database()  # type: ignore[attr-defined]
    returncode, said = _interrupt_at(step, ["db", "copy", str(project_dir), "--to", url])
    assert returncode == 130, said
    assert said == ["Interrupted: nothing was changed."]
    assert _rows_in(url) == []
    assert project_state(project_dir) == before
    after = (
        (project_dir / "project.toml").read_bytes()
        if (project_dir / "project.toml").exists()
        else None
    )
    assert after == settings  # still on its SQLite file
    with open_project(project_dir) as project:
        assert project.store.dialect == "sqlite"
    # A second run into the same database copies everything.
    again = CliRunner().invoke(cli, ["db", "copy", str(project_dir), "--to", url])
    assert again.exit_code == 0, again.output
    with open_project(project_dir) as project:
        assert project.store.dialect == "postgresql"
        with project.store.read() as conn:
            assert copy_rows.row_counts(conn)["labels"] == 2
