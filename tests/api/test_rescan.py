"""`clinlabel label` on an existing project serves at once and rescans its batch meanwhile.

The page asks `GET /api/rescan` how far it got; labels saved during the rescan are kept, and the
image on screen keeps its place by identity when new images are queued before it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from clinlabel.labelling import rescan as rescan_module
from clinlabel.labelling.project import init_project, open_project
from clinlabel.store import events as event_rows
from clinlabel.web.app import create_app
from clinlabel.web.config import WebSettings
from clinlabel.web.workbench import Workbench

from .conftest import ORIGIN, PORT, TOKEN


@pytest.fixture
def project(batch: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "project"
    init_project(batch, folder)
    return folder


def _serve(batch: Path, project: Path) -> Iterator[tuple[TestClient, Workbench]]:
    settings = WebSettings(
        batch=batch, token=TOKEN, port=PORT, project_dir=project, annotator="alice"
    )
    bench = Workbench(settings)
    app = create_app(settings, workbench=bench)
    headers = {"X-Clinlabel-Token": TOKEN, "Origin": ORIGIN}
    try:
        with TestClient(app, base_url=ORIGIN, headers=headers) as client:
            yield client, bench
    finally:
        bench.shutdown()


def _finished(bench: Workbench) -> None:
    assert bench.rescan is not None
    bench.rescan.wait(60)


def _event_count(project: Path) -> int:
    with open_project(project, read_only=True) as opened, opened.store.read() as conn:
        return event_rows.last_id(conn)


def _add_case_first(batch: Path) -> None:
    """Two new images in a case that sorts before every other: every position moves by two."""
    folder = batch / "Case_000" / "Visit_1" / "XC_CLINICAL"
    folder.mkdir(parents=True)
    for number in (1, 2):
        Image.new("RGB", (32, 24), (9, 9, 9)).save(folder / f"img{number}.jpg")


class _Gate:
    """Holds the rescan's walk after its first chunk until released (no timing in tests)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.walking = threading.Event()
        self.release = threading.Event()
        real = rescan_module.scan_rows

        def gated(*args: object, **kwargs: object) -> Iterator[object]:
            for chunk in real(*args, **kwargs):  # type: ignore[arg-type]
                self.walking.set()
                assert self.release.wait(60)
                yield chunk

        monkeypatch.setattr(rescan_module, "scan_rows", gated)


def test_unchanged_batch_writes_nothing_and_says_no_changes(batch: Path, project: Path) -> None:
    before = _event_count(project)
    for client, bench in _serve(batch, project):
        _finished(bench)
        status = client.get("/api/rescan").json()
        assert status["state"] == "done"
        assert status["message"] == "Batch checked: no changes."
        assert (status["added"], status["missing"], status["applied"]) == (0, 0, False)
        assert status["done"] == status["total"] == 12
    # Only the session's own events (opened, time on the image, closed): no scan was recorded.
    with open_project(project, read_only=True) as opened, opened.store.read() as conn:
        kinds = [e["kind"] for e in event_rows.iter_events(conn) if e["id"] > before]
    assert kinds[0] == "session_opened" and kinds[-1] == "session_closed"
    assert "batch_scanned" not in kinds


def test_new_and_missing_files_are_found_and_the_image_on_screen_keeps_its_place(
    batch: Path, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    gate = _Gate(monkeypatch)
    gone = batch / "Case_002" / "Visit_2" / "XC_CLINICAL" / "img3.jpg"
    gone.unlink()
    _add_case_first(batch)
    for client, bench in _serve(batch, project):
        # Served before the rescan got anywhere: the first image, at its old position.
        shown = client.get("/api/session").json()["shown"]
        assert shown["image"]["position"] == 1
        first = shown["image"]
        assert gate.walking.wait(60)
        walking = client.get("/api/rescan").json()
        assert walking["state"] == "running" and walking["total"] == 12
        assert walking["message"].startswith("Checking the batch for new and missing files…")
        # A label saved while the rescan runs.
        saved = client.put(f"/api/images/{first['id']}/label", json={"label": "Suspicious"})
        assert saved.status_code == 200
        gate.release.set()
        _finished(bench)
        status = client.get("/api/rescan").json()
        assert status["state"] == "done" and status["applied"] is True
        assert (status["added"], status["missing"]) == (2, 1)
        assert status["message"] == "Batch checked: 2 new, 1 missing."
        now = client.get("/api/session").json()["shown"]
        # The same image on screen, now third (two new ones before it), its label kept.
        assert now["image"]["id"] == first["id"] and now["image"]["position"] == 3
        assert now["image"]["label"] == "Suspicious"
        assert now["progress"]["total"] == 13 and now["progress"]["labelled"] == 1


def test_the_image_on_screen_gone_shows_the_one_now_in_its_place(
    batch: Path, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    gate = _Gate(monkeypatch)
    (batch / "Case_001" / "Visit_1" / "XC_CLINICAL" / "img2.jpg").unlink()  # position 2
    for client, bench in _serve(batch, project):
        assert gate.walking.wait(60)
        at_two = client.post("/api/session/show", json={"position": 2}).json()["image"]
        assert (at_two["case"], at_two["visit"], at_two["file"]) == (
            "Case_001",
            "Visit_1",
            "XC_CLINICAL/img2.jpg",
        )
        gate.release.set()
        _finished(bench)
        assert client.get("/api/rescan").json()["missing"] == 1
        now = client.get("/api/session").json()["shown"]["image"]
        assert now["position"] == 2 and now["id"] != at_two["id"]


def test_a_new_project_has_no_background_rescan(client: TestClient) -> None:
    assert client.get("/api/rescan").json()["state"] == "none"


def test_closing_the_server_mid_walk_stops_the_rescan_and_records_nothing(
    batch: Path, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    gate = _Gate(monkeypatch)
    _add_case_first(batch)
    for _client, bench in _serve(batch, project):
        assert gate.walking.wait(60)
        rescan = bench.rescan
        bench.call_now(bench.close)  # what Ctrl+C on the server does first
        gate.release.set()
    assert rescan is not None
    assert rescan.wait(60).state == "stopped"
    with open_project(project, read_only=True) as opened, opened.store.read() as conn:
        from clinlabel.store import images as image_rows

        assert image_rows.queue_length(conn) == 12


def test_another_batch_for_the_project_is_scanned_before_serving(
    project: Path, batch: Path, tmp_path: Path
) -> None:
    """A project given a batch other than its own (moved: its old folder is gone) is rescanned
    first, as `init` would: the page never opens on the old batch's queue."""
    import shutil

    from .conftest import make_batch

    other = make_batch(tmp_path / "moved", cases=1, visits=1, images=2)
    shutil.rmtree(batch)
    for client, bench in _serve(other, project):
        assert bench.rescan is None
        assert client.get("/api/rescan").json()["state"] == "none"
        assert client.get("/api/session").json()["shown"]["progress"]["total"] == 2


def test_a_project_is_not_served_on_another_batch_while_its_own_is_there(
    project: Path, batch: Path, tmp_path: Path
) -> None:
    """`label OTHER --out P` with P made for a batch still on disk (a mistyped --out) is refused
    with the way to do it on purpose; the project's images are left as they were."""
    from clinlabel.errors import ValidationError

    from .conftest import make_batch

    other = make_batch(tmp_path / "other", cases=1, visits=1, images=2)
    with pytest.raises(ValidationError, match="belongs to the batch"):
        for _ in _serve(other, project):
            pass
    with open_project(project, read_only=True) as opened, opened.store.read() as conn:
        from clinlabel.store import images as image_rows

        assert image_rows.queue_length(conn) == 12
