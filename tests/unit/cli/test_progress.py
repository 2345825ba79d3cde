"""Progress bars: on a terminal a bar with counts and rate (stderr); elsewhere nothing extra."""

from __future__ import annotations

import os
import select
import subprocess
import sys
from pathlib import Path

import pytest

from clinlabel.demo.batch import make_bench_tree

from .cli_run import run
from .interrupting import SRC


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("progress") / "Batch"
    make_bench_tree(root, images=3000, cases=20)
    return root


def _on_a_terminal(args: list[object]) -> tuple[int, str, str]:
    """Run `clinlabel ARGS` with stderr on a pseudo-terminal; (status, stdout, terminal text)."""
    controller, terminal = os.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "clinlabel", *map(str, args)],
        stdout=subprocess.PIPE,
        stderr=terminal,
        env={**os.environ, "PYTHONPATH": SRC, "TERM": "xterm-256color", "COLUMNS": "120"},
    )
    os.close(terminal)
    seen = bytearray()
    while True:
        ready, _, _ = select.select([controller], [], [], 60)
        if not ready:
            break
        try:
            chunk = os.read(controller, 65536)
        except OSError:  # the terminal's other end closed: the command ended
            break
        if not chunk:
            break
        seen += chunk
    os.close(controller)
    assert process.stdout is not None
    stdout = process.stdout.read().decode()
    return process.wait(60), stdout, seen.decode(errors="replace")


def test_a_terminal_sees_a_bar_with_counts_and_rate(batch: Path, tmp_path: Path) -> None:
    status, stdout, terminal = _on_a_terminal(["init", batch, "--out", tmp_path / "project"])
    assert status == 0, terminal
    assert "Scanning the batch" in terminal
    assert "3,000" in terminal or "2,000" in terminal  # the count, with thousands separators
    assert "/s" in terminal  # the rate
    assert "Created project" in stdout and "\x1b[" not in stdout  # the bar is on stderr only


def test_no_terminal_no_bar(batch: Path, tmp_path: Path) -> None:
    result = run("init", batch, "--out", tmp_path / "project")
    assert result.exit_code == 0
    assert "Scanning" not in result.output and "\x1b[" not in result.output
    assert result.stderr == ""
    result = run("export", tmp_path / "project")
    assert result.exit_code == 0
    assert result.stderr == "" and "\x1b[" not in result.output
