"""Attacks on the reading study through the team server: a repeat read given in one tab while
another tab of the same reader shows something else, and an annotator labelling an image that
is not in their worklist."""

from __future__ import annotations

from pathlib import Path

import pytest

from clinlabel.errors import ValidationError
from clinlabel.labelling.accounts import Accounts
from clinlabel.labelling.assignments import StudyDesign, assign_study
from clinlabel.labelling.project import open_project
from clinlabel.store import assignments as assignment_rows
from clinlabel.store import labels as label_rows
from clinlabel.store import people

from .team_server import clients, make_team_project, team_server


def _first_read(project_dir: Path, reader: str, image_id: int) -> str | None:
    with open_project(project_dir) as project, project.store.read() as conn:
        annotator_id = people.find_annotator(conn, reader)
        assert annotator_id is not None
        found = label_rows.current_label(
            conn, image_id=image_id, annotator_id=annotator_id, frame=0
        )
    return None if found is None else found.label


def test_attack13_a_repeat_given_while_another_tab_moved_on_never_overwrites_the_first_read(
    tmp_path: Path,
) -> None:
    project_dir = make_team_project(tmp_path)
    with team_server(project_dir) as team:
        assign_study(
            team.project, ["ann"], StudyDesign("by-case", order="batch", repeats=1.0), seed=5
        )
        with clients(team) as users:
            ann = users["ann"]
            items = ann.get("/api/study/worklist").json()["items"]
            firsts = [i for i in items if not i["repeat"]]
            repeats = [i for i in items if i["repeat"]]
            assert firsts and repeats
            versions: dict[int, int] = {}
            for item in firsts:
                saved = ann.put(
                    f"/api/images/{item['image_id']}/label",
                    json={"label": "Suspicious", "position": item["position"]},
                )
                assert saved.status_code == 200, saved.text
                versions[item["image_id"]] = saved.json()["version"]
            repeat = repeats[0]
            image_id = repeat["image_id"]
            # Tab A shows the repeat; tab B (same login, same session) then opens position 1.
            assert ann.post("/api/session/show", json={"position": repeat["position"]}).is_success
            assert ann.post("/api/session/show", json={"position": 1}).is_success
            # Tab A's answer to the repeat arrives: it is the repeat read, not a new first read.
            answer = ann.put(
                f"/api/images/{image_id}/label",
                json={"label": "Benign", "position": repeat["position"]},
            )
            assert answer.status_code == 200, answer.text
            # Its version is the first read's (unchanged): the page sends it with a later change.
            assert answer.json()["version"] == versions[image_id]
            assert answer.json()["image"]["position"] == repeat["position"]
            assert _first_read(project_dir, "ann", image_id) == "Suspicious"
            after = {i["assignment_id"]: i for i in ann.get("/api/study/worklist").json()["items"]}
            assert after[repeat["assignment_id"]]["repeat_label"] == "Benign"
            # A clear sent from the repeat's tab never removes the first read either.
            cleared = ann.delete(f"/api/images/{image_id}/label?position={repeat['position']}")
            assert cleared.status_code == 422
            assert _first_read(project_dir, "ann", image_id) == "Suspicious"


def test_attack13_an_annotator_cannot_label_an_image_outside_their_worklist(
    tmp_path: Path,
) -> None:
    project_dir = make_team_project(tmp_path)
    with team_server(project_dir) as team:
        assign_study(team.project, ["ann", "bea"], StudyDesign("by-case", order="batch"), seed=5)
        with clients(team) as users:
            mine = {i["image_id"] for i in users["ann"].get("/api/study/worklist").json()["items"]}
            theirs = {
                i["image_id"] for i in users["bea"].get("/api/study/worklist").json()["items"]
            }
            assert mine and theirs and not mine & theirs
            other = sorted(theirs)[0]
            refused = users["ann"].put(f"/api/images/{other}/label", json={"label": "Benign"})
            assert refused.status_code == 409
            assert "not in your worklist" in refused.json()["message"]
            assert _first_read(project_dir, "ann", other) is None
            own = sorted(mine)[0]
            assert users["ann"].put(f"/api/images/{own}/label", json={"label": "Benign"}).is_success


def test_attack13_a_study_leaving_a_reader_without_images_is_refused(tmp_path: Path) -> None:
    project_dir = make_team_project(tmp_path)  # two cases
    with open_project(project_dir) as project:
        with pytest.raises(ValidationError, match="would get no image"):
            assign_study(project, ["ann", "bea", "rev"], StudyDesign("by-case"), seed=1)
        with project.store.read() as conn:
            assert assignment_rows.study_settings(conn) is None
        # With every case shared by all, each reader has a worklist.
        report = assign_study(
            project, ["ann", "bea", "rev"], StudyDesign("by-case", overlap=1.0), seed=1
        )
        assert all(plan.items for plan in report.plans)


def test_attack13_a_reader_who_is_not_a_user_of_a_team_project_is_refused(
    tmp_path: Path,
) -> None:
    project_dir = make_team_project(tmp_path)
    with open_project(project_dir) as project:
        Accounts(project.store).disable("bea", actor="test")
        for readers in (["ann", "Bea"], ["ann", "bea"]):  # a typo; a disabled account
            with pytest.raises(ValidationError, match="Not an active user"):
                assign_study(project, readers, StudyDesign("by-case"), seed=1)
        assert assign_study(project, ["ann", "rev"], StudyDesign("by-case"), seed=1).plans


def test_attack13_a_repeat_read_before_the_first_read_is_refused(tmp_path: Path) -> None:
    project_dir = make_team_project(tmp_path)
    with team_server(project_dir) as team:
        assign_study(
            team.project, ["ann"], StudyDesign("by-case", order="batch", repeats=1.0), seed=5
        )
        with clients(team) as users:
            ann = users["ann"]
            items = ann.get("/api/study/worklist").json()["items"]
            repeat = next(i for i in items if i["repeat"])
            first = next(
                i for i in items if i["image_id"] == repeat["image_id"] and not i["repeat"]
            )
            early = ann.put(
                f"/api/study/worklist/{repeat['assignment_id']}/read", json={"label": "Benign"}
            )
            assert early.status_code == 409 and "not read yet" in early.json()["message"]
            # Through the page's own label call at the repeat's position, likewise.
            via_page = ann.put(
                f"/api/images/{repeat['image_id']}/label",
                json={"label": "Benign", "position": repeat["position"]},
            )
            assert via_page.status_code == 409
            assert _first_read(project_dir, "ann", repeat["image_id"]) is None
            assert ann.put(
                f"/api/images/{first['image_id']}/label",
                json={"label": "Suspicious", "position": first["position"]},
            ).is_success
            assert ann.put(
                f"/api/study/worklist/{repeat['assignment_id']}/read", json={"label": "Benign"}
            ).is_success


def test_attack13_a_reviewer_who_is_also_a_reader_sees_no_other_reads_before_finishing(
    tmp_path: Path,
) -> None:
    project_dir = make_team_project(tmp_path)
    with team_server(project_dir) as team:
        assign_study(team.project, ["ann", "rev"], StudyDesign("by-case", overlap=1.0), seed=5)
        with clients(team) as users:
            ann, rev, adm = users["ann"], users["rev"], users["adm"]
            for item in ann.get("/api/study/worklist").json()["items"]:
                assert ann.put(
                    f"/api/images/{item['image_id']}/label", json={"label": "Benign"}
                ).is_success
            mine = rev.get("/api/study/worklist").json()["items"]
            image_id = mine[0]["image_id"]
            for url in ("/api/adjudication", f"/api/team/images/{image_id}/readers"):
                refused = rev.get(url)
                assert refused.status_code == 403, url
                assert "read(s) to go" in refused.json()["message"]
                assert "Benign" not in refused.text
            assert (
                rev.put(f"/api/adjudication/{image_id}", json={"label": "Benign"}).status_code
                == 403
            )
            # An admin who reads nothing is not held back.
            assert adm.get("/api/adjudication").status_code == 200
            for item in mine:
                assert rev.put(
                    f"/api/images/{item['image_id']}/label", json={"label": "Suspicious"}
                ).is_success
            assert rev.get("/api/adjudication").status_code == 200
            assert rev.get(f"/api/team/images/{image_id}/readers").status_code == 200
