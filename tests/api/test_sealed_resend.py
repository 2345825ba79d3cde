"""A sealed first read sent again by the page that gave it (its answer lost; the page keeps every
change until answered and sends it again after a reload) is answered as saved, with the page's
own key of that change, and makes no second event; any other attempt on the sealed read still
gets the one "final" refusal, so the answer tells a reader nothing they did not send."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from clinlabel.labelling.assignments import StudyDesign, assign_study
from clinlabel.labelling.project import Project
from clinlabel.store.schema import events

from .team_server import clients, make_team_project, team_server

FIRST = "Suspicious"
ANN_KEY = "ann-change-0123456789abcdef"
BEA_KEY = "bea-change-0123456789abcdef"


def _items(client: TestClient) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = client.get("/api/study/worklist").json()["items"]
    return items


def _first_read_with_a_repeat(client: TestClient) -> dict[str, Any]:
    items = _items(client)
    repeat = next(i for i in items if i["repeat"])
    first: dict[str, Any] = next(
        i for i in items if i["image_id"] == repeat["image_id"] and not i["repeat"]
    )
    return first


def _label_events(project: Project, image_id: int) -> list[tuple[str, str]]:
    """(actor, kind) of every label event of the image."""
    with project.store.read() as conn:
        rows = conn.execute(
            select(events.c.actor, events.c.kind)
            .where(events.c.image_id == image_id, events.c.kind.like("label_%"))
            .order_by(events.c.id)
        ).all()
    return [(str(actor), str(kind)) for actor, kind in rows]


def _event_count(project: Project) -> int:
    with project.store.read() as conn:
        return int(conn.execute(select(func.count()).select_from(events)).scalar_one())


def test_sealed_resend_of_the_same_change_is_saved_once_and_anything_else_is_final(
    tmp_path: Path, database_url: str | None
) -> None:
    project_dir = make_team_project(tmp_path, database_url=database_url)
    with team_server(project_dir) as team:
        # Both readers read every image, each with repeats: the same image is sealed for both.
        assign_study(
            team.project,
            ["ann", "bea"],
            StudyDesign("per-image", per_image=2, order="batch", repeats=1.0),
            seed=5,
        )
        with clients(team) as users:
            ann, bea = users["ann"], users["bea"]
            first = _first_read_with_a_repeat(ann)
            image_id = first["image_id"]
            url = f"/api/images/{image_id}/label"
            change = {
                "label": FIRST,
                "comment": "nodule",
                "position": first["position"],
                "version": 0,
                "change_key": ANN_KEY,
            }
            given = ann.put(url, json=change)
            assert given.status_code == 200, given.text
            assert given.json()["image"]["sealed"] is True
            assert _label_events(team.project, image_id) == [("ann", "label_saved")]
            events_after_the_save = _event_count(team.project)

            # The page did not get that answer: after its reload it sends the change again.
            resent = ann.put(url, json=change)
            assert resent.status_code == 200, resent.text
            assert resent.json()["image"] == given.json()["image"]
            assert resent.json()["version"] == given.json()["version"]
            assert resent.json()["progress"]["labelled"] == given.json()["progress"]["labelled"]
            assert FIRST not in resent.text and "nodule" not in resent.text
            assert _event_count(team.project) == events_after_the_save
            assert _label_events(team.project, image_id) == [("ann", "label_saved")]

            # Bea reads the same image otherwise, with her own key.
            bea_first = next(
                i for i in _items(bea) if i["image_id"] == image_id and not i["repeat"]
            )
            bea_change = {
                "label": "Benign",
                "position": bea_first["position"],
                "change_key": BEA_KEY,
            }
            assert bea.put(url, json=bea_change).status_code == 200

            refusals = {
                "no key": {**change, "change_key": None},
                "another key": {**change, "change_key": "ann-other-0123456789abcdef"},
                "the same key, another label": {**change, "label": "Benign", "comment": None},
                "the same key, another comment": {**change, "comment": "mass"},
                "bea's key and label": {**change, **bea_change, "position": first["position"]},
            }
            answers = {why: ann.put(url, json=body) for why, body in refusals.items()}
            # Every one answered as any other attempt on the sealed read: one answer, 409.
            seen = {(a.status_code, a.json().get("message")) for a in answers.values()}
            assert len(seen) == 1, {why: a.text for why, a in answers.items()}
            status, message = next(iter(seen))
            assert status == 409 and "final" in message
            # Ann's key sent by bea, with ann's read, on bea's own sealed read of the image:
            # answered as bea's wrong guess without a key is.
            from_bea = bea.put(url, json={**change, "position": bea_first["position"]})
            guessed = bea.put(
                url, json={**change, "change_key": None, "position": bea_first["position"]}
            )
            assert from_bea.status_code == 409 and "final" in from_bea.json()["message"]
            assert from_bea.json() == guessed.json()
            for answer in (*answers.values(), from_bea):
                assert FIRST not in answer.text and "nodule" not in answer.text
                assert "Benign" not in answer.text
            assert _label_events(team.project, image_id) == [
                ("ann", "label_saved"),
                ("bea", "label_saved"),
            ]
            record = ann.get(f"/api/images/{image_id}").json()
            assert record["label"] is None and record["sealed"] is True


def test_sealed_resend_a_key_not_drawn_by_the_page_is_refused(tmp_path: Path) -> None:
    project_dir = make_team_project(tmp_path)
    with team_server(project_dir) as team, clients(team) as users:
        answer = users["ann"].put(
            "/api/images/1/label", json={"label": FIRST, "change_key": "short"}
        )
        assert answer.status_code == 422, answer.text


def _repeat_events(project: Project, image_id: int) -> list[dict[str, Any]]:
    with project.store.read() as conn:
        rows = conn.execute(
            select(events.c.data)
            .where(events.c.image_id == image_id, events.c.kind == "repeat_read_saved")
            .order_by(events.c.id)
        ).all()
    return [json.loads(row[0]) for row in rows]


def test_sealed_resend_a_repeat_read_sent_again_makes_no_second_event(tmp_path: Path) -> None:
    project_dir = make_team_project(tmp_path)
    with team_server(project_dir) as team:
        assign_study(
            team.project, ["ann"], StudyDesign("by-case", order="batch", repeats=1.0), seed=5
        )
        with clients(team) as users:
            ann = users["ann"]
            first = _first_read_with_a_repeat(ann)
            image_id = first["image_id"]
            url = f"/api/images/{image_id}/label"
            ann.put(url, json={"label": FIRST, "position": first["position"]}).raise_for_status()
            repeat = next(i for i in _items(ann) if i["image_id"] == image_id and i["repeat"])
            read = {"label": "Benign", "position": repeat["position"], "change_key": ANN_KEY}
            given = ann.put(url, json=read)
            assert given.status_code == 200, given.text
            # Its answer lost, the page sends it again.
            resent = ann.put(url, json=read)
            assert resent.status_code == 200, resent.text
            assert resent.json()["image"] == given.json()["image"]
            assert [e["new"]["label"] for e in _repeat_events(team.project, image_id)] == ["Benign"]
            # A repeat read can still be changed: that is a change, recorded.
            changed = ann.put(url, json={**read, "label": "Suspicious", "change_key": BEA_KEY})
            assert changed.status_code == 200, changed.text
            assert [e["new"]["label"] for e in _repeat_events(team.project, image_id)] == [
                "Benign",
                "Suspicious",
            ]
