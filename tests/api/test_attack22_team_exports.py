"""The team server's exports by an admin who is no reader, while a reader's first read is
sealed: written (the admin may), and their events say how many sealed reads they held, as the
terminal's `--include-sealed` exports do, so the trail shows an export held reads still hidden
from their readers whichever way it was written."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy import select

from clinlabel.labelling.assignments import StudyDesign, assign_study
from clinlabel.labelling.project import Project
from clinlabel.store.schema import events

from .team_server import clients, make_team_project, team_server


def _exports(project: Project) -> list[dict[str, Any]]:
    with project.store.read() as conn:
        rows = conn.execute(
            select(events.c.data).where(events.c.kind == "export_written").order_by(events.c.id)
        ).all()
    return [json.loads(row[0]) for row in rows]


def test_attack22_an_admins_page_export_records_the_sealed_reads_it_held(tmp_path: Path) -> None:
    project_dir = make_team_project(tmp_path)
    with team_server(project_dir) as team:
        assign_study(
            team.project, ["ann"], StudyDesign("by-case", order="batch", repeats=1.0), seed=5
        )
        with clients(team) as users:
            ann, adm = users["ann"], users["adm"]
            items = ann.get("/api/study/worklist").json()["items"]
            repeat = next(i for i in items if i["repeat"])
            first = next(
                i for i in items if i["image_id"] == repeat["image_id"] and not i["repeat"]
            )
            ann.put(
                f"/api/images/{first['image_id']}/label",
                json={"label": "Suspicious", "position": first["position"]},
            ).raise_for_status()
            saved = adm.post("/api/outputs/progress")
            assert saved.status_code == 200, saved.text
            exports = [e for e in _exports(team.project) if "output" in e]
            assert exports and all(e["sealed_first_reads"] == 1 for e in exports), exports
            before = len(_exports(team.project))
            finished = adm.post("/api/outputs/final", json={"formats": ["coco"]})
            assert finished.status_code == 200, finished.text
            # Each file's event (the finish's own closing event names no file).
            later = [e for e in _exports(team.project)[before:] if "output" in e]
            assert {e.get("output") for e in later} >= {"labels_csv", "summary_report"}
            assert any(e["output"].startswith("regions") for e in later), later
            assert all(e["sealed_first_reads"] == 1 for e in later), later
