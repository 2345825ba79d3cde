"""The review table in a reading study: a reader's lists their own worklist only (no row they
could not open), with the sidebar's counts (`/api/cases`) agreeing with it case by case; a
reviewer or admin sees every image with each reader's label, which an annotator never gets."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from clinlabel.labelling.assignments import StudyDesign, assign_study

from .team_server import clients, make_team_project, team_server


def _rows(client: TestClient, query: str = "") -> dict[str, Any]:
    answer = client.get(f"/api/review?limit=100{query}")
    assert answer.status_code == 200, answer.text
    page: dict[str, Any] = answer.json()
    return page


def test_studyreads_a_readers_table_is_their_worklist_and_a_reviewer_sees_every_reader(
    tmp_path: Path,
) -> None:
    project_dir = make_team_project(tmp_path)  # 2 cases x 2 images
    with team_server(project_dir) as team:
        assign_study(
            team.project,
            ["ann", "bea"],
            StudyDesign("by-case", order="batch", repeats=1.0),
            seed=4,
        )
        with clients(team) as users:
            ann, bea, rev, adm = users["ann"], users["bea"], users["rev"], users["adm"]
            items = ann.get("/api/study/worklist").json()["items"]
            mine = [i for i in items if not i["repeat"]]
            theirs = [i for i in bea.get("/api/study/worklist").json()["items"] if not i["repeat"]]
            assert len(mine) == 2 and len(theirs) == 2
            # ann reads one image; bea reads one and gives another a different label.
            assert ann.put(
                f"/api/images/{mine[0]['image_id']}/label",
                json={"label": "Benign", "position": mine[0]["position"]},
            ).is_success
            assert bea.put(
                f"/api/images/{theirs[0]['image_id']}/label",
                json={"label": "Suspicious", "position": theirs[0]["position"]},
            ).is_success

            page = _rows(ann)
            assert (page["total"], page["all"]) == (2, 2)
            assert [r["id"] for r in page["rows"]] == [i["image_id"] for i in mine]
            assert [r["position"] for r in page["rows"]] == [i["position"] for i in mine]
            assert all(r["readers"] == [] for r in page["rows"])
            assert "Suspicious" not in ann.get("/api/review?limit=100").text
            assert ann.get("/api/review/cases").json() == [mine[0]["case"]]
            assert _rows(ann, "&unlabelled=true")["total"] == 1
            assert _rows(ann, "&sort=file&dir=desc")["total"] == 2
            # The sidebar's counts say the same as the table, case by case and visit by visit.
            cases = ann.get("/api/cases").json()
            assert [c["case"] for c in cases] == [mine[0]["case"]]
            for case in cases:
                table = _rows(ann, f"&case={case['case']}")
                assert case["total"] == table["total"] == sum(v["total"] for v in case["visits"])
                assert case["labelled"] == 1
                assert (case["repeats"], case["repeats_done"]) == (2, 0)
            other_case = theirs[0]["case"]
            assert _rows(ann, f"&case={other_case}")["total"] == 0

            # A reviewer (no worklist) sees every image, with each reader's label.
            for who in (rev, adm):
                seen = _rows(who)
                assert (seen["total"], seen["all"]) == (4, 4)
                readers = {r["id"]: r["readers"] for r in seen["rows"]}
                assert readers[mine[0]["image_id"]] == [{"reader": "ann", "label": "Benign"}]
                assert readers[mine[1]["image_id"]] == [{"reader": "ann", "label": None}]
                assert readers[theirs[0]["image_id"]] == [{"reader": "bea", "label": "Suspicious"}]


def test_studyreads_a_readers_jumps_into_the_unlabelled_stay_in_their_worklist(
    tmp_path: Path,
) -> None:
    """The kept counts that find a jump's row without a walk (per case, per annotator) are the
    whole queue's: a reader's table must not start from them, or a jump lands on a row of
    another reader's case, or past the right one."""
    project_dir = make_team_project(tmp_path)  # 2 cases x 2 images
    with team_server(project_dir) as team:
        assign_study(team.project, ["ann", "bea"], StudyDesign("by-case", order="batch"), seed=4)
        with clients(team) as users:
            for name in ("ann", "bea"):
                reader = users[name]
                mine = [
                    i["image_id"]
                    for i in reader.get("/api/study/worklist").json()["items"]
                    if not i["repeat"]
                ]
                assert len(mine) == 2
                for query in ("&unlabelled=true", "&sort=annotator", "&sort=seconds&dir=desc"):
                    seen = [
                        _rows(reader, f"{query}&limit=1&offset={offset}")["rows"][0]["id"]
                        for offset in (0, 1)
                    ]
                    assert seen == mine, (name, query)
                assert _rows(reader, "&label=Benign")["total"] == 0


def test_studyreads_a_readers_table_walked_by_cursor_shows_each_image_once(
    tmp_path: Path,
) -> None:
    """A reader's rows carry their worklist positions, and the page passes the last one back as
    its cursor (`after`): taken for a position in the queue, the next window started after
    another image of the worklist, skipping or repeating rows."""
    project_dir = make_team_project(tmp_path)  # 2 cases x 2 images
    with team_server(project_dir) as team:
        assign_study(team.project, ["ann", "bea"], StudyDesign("per-image", per_image=2), seed=4)
        with clients(team) as users:
            shuffled = 0
            for name in ("ann", "bea"):
                reader = users[name]
                by_offset = [_rows(reader, f"&limit=1&offset={i}")["rows"][0] for i in range(4)]
                positions = [row["position"] for row in by_offset]
                shuffled += positions != sorted(positions)
                for keyed in (True, False):  # the page, or a client without after_key
                    walked = [by_offset[0]]
                    for offset in range(1, 4):
                        last = walked[-1]
                        cursor = f"&after={last['position']}"
                        cursor += f"&after_key={last['cursor']}" if keyed else ""
                        page = _rows(reader, f"&limit=1&offset={offset}{cursor}")
                        assert not page["moved"], (name, keyed, offset)
                        walked += page["rows"]
                    assert [r["id"] for r in walked] == [r["id"] for r in by_offset], name
            assert shuffled  # a worklist in an order of its own: positions not the queue's
