"""Attack of a sealed first read (issue 13, second pass): a reader must not learn their first read
of an image while its blinded repeat is pending, by any answer of the API, nor by which answers
differ when they guess it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from clinlabel.labelling.assignments import StudyDesign, assign_study

from .team_server import clients, make_team_project, team_server

FIRST = "Suspicious"


def _sealed_first_read(ann: TestClient) -> tuple[int, dict[str, Any]]:
    items: list[dict[str, Any]] = ann.get("/api/study/worklist").json()["items"]
    repeat = next(i for i in items if i["repeat"])
    first = next(i for i in items if i["image_id"] == repeat["image_id"] and not i["repeat"])
    given = ann.put(
        f"/api/images/{first['image_id']}/label",
        json={"label": FIRST, "comment": "nodule", "position": first["position"]},
    )
    assert given.status_code == 200, given.text
    assert given.json()["image"]["sealed"] is True
    return int(first["image_id"]), first


def test_attack13b_a_stale_save_or_clear_of_a_sealed_first_read_does_not_show_it(
    tmp_path: Path,
) -> None:
    project_dir = make_team_project(tmp_path)
    with team_server(project_dir) as team:
        assign_study(
            team.project, ["ann"], StudyDesign("by-case", order="batch", repeats=1.0), seed=5
        )
        with clients(team) as users:
            ann = users["ann"]
            image_id, first = _sealed_first_read(ann)
            # A stale version (another tab's, or made up) would be answered with "the current
            # value": for a sealed read, that is the read itself.
            for answer in (
                ann.put(
                    f"/api/images/{image_id}/label",
                    json={"label": "Benign", "position": first["position"], "version": 1},
                ),
                ann.put(
                    f"/api/images/{image_id}/label",
                    json={"label": "Benign", "position": first["position"]},
                    headers={"If-Match": '"99999"'},
                ),
                ann.delete(
                    f"/api/images/{image_id}/label?position={first['position']}",
                    headers={"If-Match": "1"},
                ),
            ):
                assert answer.status_code == 409, answer.text
                assert FIRST not in answer.text and "nodule" not in answer.text
                assert "final" in answer.json()["message"]


def test_attack13b_guessing_a_sealed_first_read_gets_the_same_answer_right_or_wrong(
    tmp_path: Path,
) -> None:
    project_dir = make_team_project(tmp_path)
    with team_server(project_dir) as team:
        assign_study(
            team.project, ["ann"], StudyDesign("by-case", order="batch", repeats=1.0), seed=5
        )
        with clients(team) as users:
            ann = users["ann"]
            image_id, first = _sealed_first_read(ann)
            answers = {
                (label, comment): ann.put(
                    f"/api/images/{image_id}/label",
                    json={"label": label, "comment": comment, "position": first["position"]},
                )
                for label, comment in ((FIRST, "nodule"), (FIRST, ""), ("Benign", ""))
            }
            # Were the right guess answered 200 and a wrong one 409, each label could be tried
            # in turn: the answer would tell the sealed read.
            seen = {(a.status_code, a.json().get("message")) for a in answers.values()}
            assert len(seen) == 1, seen
            assert next(iter(seen))[0] == 409
            record = ann.get(f"/api/images/{image_id}").json()
            assert record["sealed"] is True and record["label"] is None


def test_attack13b_the_regions_of_a_sealed_first_read_are_hidden_and_kept_as_drawn(
    tmp_path: Path,
) -> None:
    project_dir = make_team_project(tmp_path)
    with team_server(project_dir) as team:
        assign_study(
            team.project, ["ann"], StudyDesign("by-case", order="batch", repeats=1.0), seed=5
        )
        with clients(team) as users:
            ann = users["ann"]
            items: list[dict[str, Any]] = ann.get("/api/study/worklist").json()["items"]
            repeat = next(i for i in items if i["repeat"])
            image_id = repeat["image_id"]
            box = {"x": 2, "y": 2, "w": 4, "h": 4}
            drawn = {"image_id": image_id, "class": "Lesion", "tool": "box", "geometry": box}
            drawn["comment"] = "spiculated margin"
            assert ann.put("/api/regions/r-first", json=drawn).status_code == 200
            _sealed_first_read(ann)
            # The outline drawn at the first read is part of it: the repeat must not show it.
            shown = ann.get(f"/api/images/{image_id}/regions")
            assert shown.status_code == 200, shown.text
            assert shown.json()["regions"] == [] and "spiculated" not in shown.text
            # Nor may it be changed or drawn over (that would rewrite the first read).
            for answer in (
                ann.put("/api/regions/r-first", json={**drawn, "comment": "smooth"}),
                ann.put("/api/regions/r-new", json={**drawn, "comment": None}),
                ann.delete("/api/regions/r-first"),
            ):
                assert answer.status_code == 409, answer.text
                assert "spiculated" not in answer.text
            read = ann.put(
                f"/api/images/{image_id}/label",
                json={"label": "Benign", "position": repeat["position"]},
            )
            assert read.status_code == 200, read.text
            shown = ann.get(f"/api/images/{image_id}/regions").json()["regions"]
            assert [r["comment"] for r in shown] == ["spiculated margin"]
