"""Running the CLI in tests, and what a user error must look like."""

from __future__ import annotations

from click.testing import CliRunner, Result

from clinlabel.cli.app import cli


def run(*args: object) -> Result:
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def assert_user_error(result: Result, *fragments: str) -> None:
    """Exit status 2 and one line on stderr, naming what went wrong; never a traceback."""
    assert result.exit_code == 2, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("clinlabel: "), result.stderr
    assert "Traceback" not in result.output
    for fragment in fragments:
        assert fragment in lines[0]
