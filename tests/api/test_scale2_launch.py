"""`clinlabel label` on an existing project: nothing before the server answers walks the images
(issue 14: the first image under 2 s at a million images).

The launch opens the project (lock, schema check, session, first image) before serving; the
background rescan, which walks the batch and reads every image of the project to compare, is
held until the server answers. Checked three ways: the open's database work (SQLite's virtual
machine steps) is the same for a project of 12 images and of 6,000; a held rescan walks
nothing until the server says it answers, then finds what changed; and the real command starts
the walk only after uvicorn's startup is done.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import event
from sqlalchemy.engine import Engine

from clinlabel.discovery.scan import scan_batch
from clinlabel.domain import ImageKind, ImageRef, ScanResult
from clinlabel.labelling import rescan as rescan_module
from clinlabel.labelling.project import init_project
from clinlabel.store import images as image_rows
from clinlabel.store import labels as label_rows
from clinlabel.store import people
from clinlabel.store.store import Store
from clinlabel.web.config import WebSettings
from clinlabel.web.workbench import Workbench

from .conftest import PORT, TOKEN

SRC = Path(__file__).resolve().parents[2] / "src"


@pytest.fixture
def project(batch: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "project"
    init_project(batch, folder)
    return folder


def _add_image(batch: Path) -> None:
    folder = batch / "Case_009" / "Visit_1" / "XC_CLINICAL"
    folder.mkdir(parents=True)
    Image.new("RGB", (32, 32), (9, 9, 9)).save(folder / "img1.jpg")


def _grown(batch: Path, folder: Path, extra: int) -> Path:
    """The batch's project with `extra` more images (rows only) recorded after its own, half
    of all labelled: a project as big as the test wants without writing files."""
    init_project(batch, folder)
    store = Store.open_dir(folder)
    refs = list(scan_batch(batch, ScanResult()))
    refs += [
        ImageRef(
            relpath=f"Case_9{i // 100:04d}/Visit_1/XC_CLINICAL/img{i % 100}.jpg",
            case=f"Case_9{i // 100:04d}",
            visit="Visit_1",
            folder="XC_CLINICAL",
            file=f"XC_CLINICAL/img{i % 100}.jpg",
            kind=ImageKind.RASTER,
            size=9,
            mtime_ns=1,
        )
        for i in range(extra)
    ]
    with store.write() as conn:
        image_rows.sync_scan(
            conn, [[image_rows.scan_row(s, ref) for s, ref in enumerate(refs, 1)]], now="t1"
        )
        who = people.annotator_id(conn, "alice", now="t1")
        for image_id in range(1, len(refs) + 1, 2):
            label_rows.put_label(
                conn,
                image_id=image_id,
                annotator_id=who,
                frame=0,
                label="NA",
                comment="",
                labelled_at="t1",
                sha256=None,
                event_id=1,
                exists=False,
            )
    store.close()
    return folder


def _open_steps(batch: Path, project: Path) -> int:
    """SQLite virtual machine steps run by the launch's open of `project`, the
    background rescan held as the command holds it."""
    steps = [0]

    def count() -> int:
        steps[0] += 1
        return 0  # go on

    def on_connect(conn: Any) -> None:
        raw = conn.connection.driver_connection
        if isinstance(raw, sqlite3.Connection):
            raw.set_progress_handler(count, 1)

    settings = WebSettings(
        batch=batch, token=TOKEN, port=PORT, project_dir=project, annotator="alice"
    )
    bench = Workbench(settings)
    bench.hold_background()
    event.listen(Engine, "engine_connect", on_connect)
    try:
        bench.call_now(bench.open, project, "alice")
        assert bench.rescan is not None and bench.rescan.status.state == "waiting"
    finally:
        event.remove(Engine, "engine_connect", on_connect)
        bench.shutdown()
    return steps[0]


def test_opening_the_project_does_not_grow_with_it(batch: Path, tmp_path: Path) -> None:
    """The open's database work is the same for 12 images and for 6,000: no statement before
    the first answer walks the images or the labels (each would add thousands of steps)."""
    small = _open_steps(batch, _grown(batch, tmp_path / "small", 0))
    large = _open_steps(batch, _grown(batch, tmp_path / "large", 6000))
    assert small > 0
    # A walk of 6,000 images or 3,000 labels would add tens of thousands of steps.
    assert large <= small + 2000, (small, large)


def test_a_held_rescan_walks_nothing_until_the_server_answers(
    batch: Path, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _add_image(batch)
    walked = threading.Event()
    real_scan_rows = rescan_module.scan_rows

    def scan_rows(*args: Any, **kwargs: Any) -> Any:
        walked.set()
        return real_scan_rows(*args, **kwargs)

    monkeypatch.setattr(rescan_module, "scan_rows", scan_rows)
    settings = WebSettings(
        batch=batch, token=TOKEN, port=PORT, project_dir=project, annotator="alice"
    )
    bench = Workbench(settings)
    bench.hold_background()
    try:
        bench.call_now(bench.open, project, "alice")
        assert bench.rescan is not None
        # Held: the thread waits (a bound, not a timing: it must not begin at all).
        assert not walked.wait(0.5)
        assert bench.rescan.status.state == "waiting"
        bench.answering()
        status = bench.rescan.wait(60)
        assert walked.is_set()
        assert (status.state, status.added) == ("done", 1)
    finally:
        bench.shutdown()


# The real command, traced: uvicorn's startup end and the rescan's walk print a line each.
_TRACED = """
import sys, uvicorn
from clinlabel.labelling import rescan
startup = uvicorn.Server.startup
async def traced(self, *args, **kwargs):
    await startup(self, *args, **kwargs)
    print("@@ answering", flush=True)
uvicorn.Server.startup = traced
scan_rows = rescan.scan_rows
def walking(*args, **kwargs):
    print("@@ walk begins", flush=True)
    return scan_rows(*args, **kwargs)
rescan.scan_rows = walking
from clinlabel.cli import main
sys.argv = ["clinlabel", *sys.argv[1:]]
main()
"""


def test_the_label_command_walks_the_batch_only_once_it_answers(batch: Path, project: Path) -> None:
    _add_image(batch)
    env = {**os.environ, "PYTHONPATH": f"{SRC}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    command = [sys.executable, "-c", _TRACED, "label", str(batch), "--out", str(project)]
    command += ["--annotator", "alice", "--no-browser"]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env
    )
    marks: list[str] = []
    try:
        assert process.stdout is not None
        for line in process.stdout:
            if line.startswith("@@ "):
                marks.append(line[3:].strip())
            if "walk begins" in marks:
                break
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=60)
    assert marks == ["answering", "walk begins"]
