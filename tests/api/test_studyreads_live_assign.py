"""A study assigned while the labelling server runs (`clinlabel study assign` in another process,
on the same SQLite project) is followed without a restart: the reader's next request is refused
with the reason (nothing saved, nothing silently moved), and once their page has read the session
again their queue is their worklist."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from fastapi.testclient import TestClient

from clinlabel.labelling.project import open_project
from clinlabel.store import assignments as assignment_rows
from clinlabel.store import labels as label_rows
from clinlabel.store import people


def _assign_in_another_process(project_dir: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "clinlabel",
            "study",
            "assign",
            str(project_dir),
            "--readers",
            "alice,bob",
            "--by-case",
            "--order",
            "batch",
            "--seed",
            "7",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "Study assigned" in done.stdout


def _alices_worklist(project_dir: Path) -> list[int]:
    with open_project(project_dir) as project, project.store.read() as conn:
        annotator_id = people.find_annotator(conn, "alice")
        assert annotator_id is not None
        return [item.image_id for item in assignment_rows.worklist(conn, annotator_id=annotator_id)]


def _labels_of_alice(project_dir: Path) -> dict[int, str]:
    with open_project(project_dir) as project, project.store.read() as conn:
        annotator_id = people.find_annotator(conn, "alice")
        assert annotator_id is not None
        return {
            image_id: found.label
            for image_id in range(1, 13)
            if (
                found := label_rows.current_label(
                    conn, image_id=image_id, annotator_id=annotator_id, frame=0
                )
            )
            is not None
        }


def test_studyreads_a_study_assigned_while_the_server_runs_is_followed_and_told(
    client: TestClient, tmp_path: Path
) -> None:
    project_dir = tmp_path / "project"
    assert client.get("/api/session").json()["shown"]["progress"]["total"] == 12
    queue = client.get("/api/queue?start=1&count=12").json()
    assert client.put(f"/api/images/{queue[0]['id']}/label", json={"label": "NA", "comment": "x"})
    assert client.post("/api/session/show", json={"position": 8}).is_success

    _assign_in_another_process(project_dir)
    mine = _alices_worklist(project_dir)
    assert 0 < len(mine) < 12

    # Mid-case, the next request is told why, and nothing of it is done.
    told = client.post("/api/session/show", json={"position": 9})
    assert told.status_code == 409
    assert "study was assigned while you were working" in told.json()["message"]
    assert "Reload the page" in told.json()["message"]
    other = queue[8]["id"]
    refused = client.put(f"/api/images/{other}/label", json={"label": "Suspicious"})
    assert refused.status_code == 409
    assert client.get("/api/queue?start=1&count=5").status_code == 409
    assert other not in _labels_of_alice(project_dir)

    # The page reads the session again (a reload): from then on the worklist is the queue.
    session = client.get("/api/session")
    assert session.status_code == 200, session.text
    assert session.json()["shown"]["progress"]["total"] == len(mine)
    views = client.get(f"/api/queue?start=1&count={len(mine)}").json()
    assert [v["id"] for v in views] == mine
    own = mine[-1]
    assert client.put(f"/api/images/{own}/label", json={"label": "Suspicious"}).is_success
    outside = next(v["id"] for v in queue if v["id"] not in mine)
    refused = client.put(f"/api/images/{outside}/label", json={"label": "Suspicious"})
    assert refused.status_code == 409 and "not in your worklist" in refused.json()["message"]
    assert _labels_of_alice(project_dir)[own] == "Suspicious"
