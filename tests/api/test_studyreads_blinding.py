"""A reader of a study with repeats is blinded to their own first read of an image until they have
read its repeat: no answer of the API shows it (the image record, the queue the page keeps, going
back to it, the review table and its filters and orders, an export), and it cannot be changed,
cleared or undone (it is final once given). After the repeat, both reads are shown."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from clinlabel.labelling.assignments import StudyDesign, assign_study
from clinlabel.labelling.project import Project

from .team_server import clients, make_team_project, team_server

FIRST = "Suspicious"
SECOND = "Benign"


def _items(client: TestClient) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = client.get("/api/study/worklist").json()["items"]
    return items


def _at(client: TestClient, position: int) -> dict[str, Any]:
    view: dict[str, Any] = client.get(f"/api/queue?start={position}&count=1").json()[0]
    return view


def _answers_showing_the_first_read(client: TestClient, image_id: int, first: int) -> list[str]:
    """Every reader-facing answer about the image, as text: none may hold the first read."""
    return [
        client.get(f"/api/images/{image_id}").text,
        client.get("/api/queue?start=1&count=50").text,
        client.post("/api/session/show", json={"position": first}).text,
        client.get("/api/review?limit=50").text,
        client.get("/api/progress").text,
        client.get("/api/cases").text,
        client.get("/api/study/worklist").text,
    ]


def test_studyreads_a_first_read_is_hidden_and_final_until_its_repeat_is_read(
    tmp_path: Path,
) -> None:
    project_dir = make_team_project(tmp_path)
    with team_server(project_dir) as team:
        assign_study(
            team.project, ["ann"], StudyDesign("by-case", order="batch", repeats=1.0), seed=5
        )
        with clients(team) as users:
            ann = users["ann"]
            items = _items(ann)
            repeat = next(i for i in items if i["repeat"])
            image_id = repeat["image_id"]
            first = next(i for i in items if i["image_id"] == image_id and not i["repeat"])
            given = ann.put(
                f"/api/images/{image_id}/label",
                json={"label": FIRST, "position": first["position"]},
            )
            assert given.status_code == 200, given.text
            # Even the answer to the read itself keeps it: the page caches that record.
            assert given.json()["image"]["label"] is None and given.json()["image"]["sealed"]
            assert given.json()["progress"]["labelled"] == 1

            for text in _answers_showing_the_first_read(ann, image_id, first["position"]):
                assert FIRST not in text
            record = ann.get(f"/api/images/{image_id}").json()
            assert record["label"] is None and record["sealed"] is True
            back = ann.post("/api/session/show", json={"position": first["position"]}).json()
            assert back["image"]["label"] is None and back["image"]["sealed"] is True
            assert _at(ann, repeat["position"])["sealed"] is False
            row = next(
                r for r in ann.get("/api/review?limit=50").json()["rows"] if r["id"] == image_id
            )
            assert row["label"] is None and row["sealed"] is True
            # A filter or an order by label would give it away.
            assert ann.get(f"/api/review?label={FIRST}").json()["total"] == 0
            assert ann.get("/api/review?unlabelled=true").json()["total"] == 3
            refused = ann.get("/api/review?sort=label")
            assert refused.status_code == 422 and "hidden" in refused.json()["message"]

            # Final once given: no change, clear or undo, from any tab.
            for answer in (
                ann.put(
                    f"/api/images/{image_id}/label",
                    json={"label": SECOND, "position": first["position"]},
                ),
                ann.delete(f"/api/images/{image_id}/label?position={first['position']}"),
                ann.post("/api/session/undo"),
            ):
                assert answer.status_code == 409, answer.text
                assert "final" in answer.json()["message"]
                assert FIRST not in answer.text
            # The same label sent again changes nothing and is answered as any other: a 200 for
            # the right guess would tell the read (test_attack13b_blinding).
            again = ann.put(
                f"/api/images/{image_id}/label",
                json={"label": FIRST, "position": first["position"]},
            )
            assert again.status_code == 409 and FIRST not in again.text

            read = ann.put(
                f"/api/images/{image_id}/label",
                json={"label": SECOND, "position": repeat["position"]},
            )
            assert read.status_code == 200, read.text
            # The repeat read: both reads are shown, each as its own record.
            record = ann.get(f"/api/images/{image_id}").json()
            assert record["label"] == FIRST and record["sealed"] is False
            assert _at(ann, first["position"])["label"] == FIRST
            assert _at(ann, repeat["position"])["label"] == SECOND
            row = next(
                r for r in ann.get("/api/review?limit=50").json()["rows"] if r["id"] == image_id
            )
            assert row["label"] == FIRST and not row["sealed"]
            assert ann.get(f"/api/review?label={FIRST}").json()["total"] == 1
            assert ann.get("/api/review?sort=label").status_code == 200
            # Still final: the retest pair stays the two reads as given.
            assert (
                ann.put(
                    f"/api/images/{image_id}/label",
                    json={"label": SECOND, "position": first["position"]},
                ).status_code
                == 409
            )


def _project(client: TestClient) -> Project:
    project = client.app.state.workbench.project  # type: ignore[attr-defined]
    assert isinstance(project, Project)
    return project


def test_studyreads_the_local_server_writes_no_export_while_a_first_read_is_sealed(
    tmp_path: Path, batch: Path
) -> None:
    from clinlabel.web.app import create_app
    from clinlabel.web.config import WebSettings
    from clinlabel.web.workbench import Workbench

    from .conftest import ORIGIN, PORT, TOKEN

    project_dir = tmp_path / "project"
    settings = WebSettings(
        batch=batch, token=TOKEN, port=PORT, project_dir=project_dir, annotator="alice"
    )
    # The study is assigned before `clinlabel label` opens the reader's session.
    first_bench = Workbench(settings)
    with TestClient(
        create_app(settings, workbench=first_bench),
        base_url=ORIGIN,
        headers={"X-Clinlabel-Token": TOKEN, "Origin": ORIGIN},
    ) as opened:
        assign_study(
            _project(opened),
            ["alice"],
            StudyDesign("by-case", order="batch", repeats=0.5),
            seed=3,
        )
    first_bench.shutdown()
    bench = Workbench(settings)
    try:
        with TestClient(
            create_app(settings, workbench=bench),
            base_url=ORIGIN,
            headers={"X-Clinlabel-Token": TOKEN, "Origin": ORIGIN},
        ) as client:
            items = _items(client)
            repeat = next(i for i in items if i["repeat"])
            first = next(
                i for i in items if i["image_id"] == repeat["image_id"] and not i["repeat"]
            )
            client.put(
                f"/api/images/{first['image_id']}/label",
                json={"label": "Suspicious", "position": first["position"]},
            ).raise_for_status()
            for url in ("/api/outputs/progress", "/api/outputs/final"):
                refused = client.post(url, json={} if url.endswith("final") else None)
                assert refused.status_code == 409, refused.text
                assert "repeats" in refused.json()["message"]
            assert not (project_dir / "clinical_labels.csv").exists()
            client.put(
                f"/api/images/{repeat['image_id']}/label",
                json={"label": "NA", "comment": "blurred", "position": repeat["position"]},
            ).raise_for_status()
            assert client.post("/api/outputs/progress").status_code == 200
    finally:
        bench.shutdown()
