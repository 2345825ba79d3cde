"""Attack on the sealed first reads (blinded test-retest study): the local server's adjudication
list, the terminal's, and a tampered event met by a page's resend."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from clinlabel.labelling.assignments import StudyDesign, assign_study
from clinlabel.labelling.project import Project

from .conftest import ORIGIN, PORT, TOKEN

FIRST = "Suspicious"


def _project(client: TestClient) -> Project:
    project = client.app.state.workbench.project  # type: ignore[attr-defined]
    assert isinstance(project, Project)
    return project


@contextmanager
def _local_reader(tmp_path: Path, batch: Path) -> Iterator[TestClient]:
    """`clinlabel label` of the reader alice, whose study (half her images repeated) was
    assigned before the server started."""
    from clinlabel.web.app import create_app
    from clinlabel.web.config import WebSettings
    from clinlabel.web.workbench import Workbench

    settings = WebSettings(
        batch=batch, token=TOKEN, port=PORT, project_dir=tmp_path / "project", annotator="alice"
    )
    headers = {"X-Clinlabel-Token": TOKEN, "Origin": ORIGIN}
    first_bench = Workbench(settings)
    with TestClient(
        create_app(settings, workbench=first_bench), base_url=ORIGIN, headers=headers
    ) as opened:
        assign_study(
            _project(opened), ["alice"], StudyDesign("by-case", order="batch", repeats=0.5), seed=3
        )
    first_bench.shutdown()
    bench = Workbench(settings)
    try:
        with TestClient(
            create_app(settings, workbench=bench), base_url=ORIGIN, headers=headers
        ) as client:
            yield client
    finally:
        bench.shutdown()


def _sealed_first_read(client: TestClient) -> tuple[dict[str, Any], dict[str, Any]]:
    """Gives the first read of an image that comes back as a repeat; (first, repeat) items."""
    items = client.get("/api/study/worklist").json()["items"]
    repeat = next(i for i in items if i["repeat"])
    first = next(i for i in items if i["image_id"] == repeat["image_id"] and not i["repeat"])
    client.put(
        f"/api/images/{first['image_id']}/label",
        json={"label": FIRST, "comment": "nodule", "position": first["position"]},
    ).raise_for_status()
    return first, repeat


def test_attack22_local_adjudication_list_hides_a_sealed_first_read(
    tmp_path: Path, batch: Path
) -> None:
    with _local_reader(tmp_path, batch) as client:
        first, repeat = _sealed_first_read(client)
        for scope in ("all", "disagreements"):
            answer = client.get("/api/adjudication", params={"scope": scope})
            assert answer.status_code == 409, answer.text
            assert FIRST not in answer.text and "nodule" not in answer.text, answer.text
            assert "repeat" in answer.json()["message"]
        # Nor a final label given over it, which would answer with every read of the image.
        final = client.put(
            f"/api/adjudication/{first['image_id']}",
            json={"label": "Non-Suspicious", "reason": "x"},
        )
        assert final.status_code == 409 and FIRST not in final.text, final.text
        # Once the repeat is read, both reads are the reader's own to see again.
        client.put(
            f"/api/images/{repeat['image_id']}/label",
            json={"label": "Non-Suspicious", "position": repeat["position"]},
        ).raise_for_status()
        shown = client.get("/api/adjudication", params={"scope": "all"})
        assert shown.status_code == 200, shown.text
        reads = [r for item in shown.json()["items"] for r in item["reads"]]
        assert {"reader": "alice", "label": FIRST, "comment": "nodule"} in reads
