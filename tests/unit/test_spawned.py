"""Spawned work stops with its caller: a failure (or Ctrl+C) terminates the other workers."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from clinlabel.spawned import start_spawned


def _children() -> set[int]:
    me = os.getpid()
    found = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) != me or fields[0] == "Z":
                continue
            # multiprocessing's resource tracker lives as long as this process: not a worker.
            if b"resource_tracker" not in Path(f"/proc/{entry}/cmdline").read_bytes():
                found.add(int(entry))
    return found


def test_a_failed_call_terminates_the_others_instead_of_waiting_for_them() -> None:
    before = _children()
    # int("x") fails at once; the other call would run for ten minutes (past the test's
    # timeout): the results must come back with the failure, the sleeper terminated.
    results = start_spawned([(int, ("x",)), (time.sleep, (600,))])
    with pytest.raises(ValueError):
        results()
    deadline = time.monotonic() + 30
    while _children() - before:
        assert time.monotonic() < deadline, "a spawned worker outlived the failed call"
        time.sleep(0.05)
