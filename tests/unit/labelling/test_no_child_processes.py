"""A labelling server runs threads (the event loop, decoders, the checkpointer), so nothing it
calls may fork, and it starts no child processes at all: scanning, labelling, verifying and
writing the outputs all happen in the process (issue 9, part 5)."""

from __future__ import annotations

import multiprocessing.process
import os
from pathlib import Path

import pytest

from clinlabel.labelling.outputs import save_outputs
from clinlabel.labelling.project import init_project, open_project
from clinlabel.labelling.service import LabellingSession


def test_the_server_path_forks_and_spawns_nothing(
    tmp_path: Path, batch: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("a child process was started on the server path")

    monkeypatch.setattr(os, "fork", refuse)
    monkeypatch.setattr(multiprocessing.process.BaseProcess, "start", refuse)
    init_project(batch, tmp_path / "p")  # what the start page does
    with open_project(tmp_path / "p") as project:
        session = LabellingSession(project, annotator="Dr A")
        image = session.start().view
        session.save_label(image.id, "Suspicious")
        first = save_outputs(project, actor="Dr A")
        session.save_label(session.next().view.id, "Non-Suspicious")
        second = save_outputs(project, final=True, actor="Dr A")
        session.close()
    assert first.audit.ok and second.audit.ok
    assert second.audit.events > first.audit.events
    assert init_project(batch, tmp_path / "p").total == 6  # a rescan, too
