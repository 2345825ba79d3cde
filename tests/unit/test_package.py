"""Package-level promises: a light import, and the command line's help lists every command."""

from __future__ import annotations

import subprocess
import sys

from click.testing import CliRunner

from clinlabel.cli.app import COMMANDS, cli


def test_importing_clinlabel_and_its_cli_pulls_in_nothing_heavy() -> None:
    code = (
        "import sys, clinlabel, clinlabel.cli; "
        "heavy = {'numpy', 'pydicom', 'fastapi', 'sqlalchemy', 'PIL', 'nibabel'}; "
        "heavy &= set(sys.modules); "
        "print(sorted(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_help_lists_every_command() -> None:
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0
    for name in COMMANDS:
        assert name in result.output


def test_python_dash_m_runs_the_cli() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "clinlabel", "--version"], capture_output=True, text=True, check=True
    )
    assert "clinlabel" in out.stdout
