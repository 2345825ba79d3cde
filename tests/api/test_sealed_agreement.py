"""The agreement figures (`/api/agreement`) count every first read: a reader whose first reads
are sealed (given, their repeats still to be read) is refused them with one message naming how
many and what to do, never a label, as their exports are. The local server's one annotator
holds every role; on the team server a reviewer who is also a reader is held back until their
worklist is done (the figures show other readers' reads too), an admin who reads nothing is
not."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from clinlabel.labelling.assignments import StudyDesign, assign_study
from clinlabel.labelling.project import Project
from clinlabel.labelling.service import LabellingSession
from clinlabel.labelling.worklist import reader_worklist

from .team_server import clients, make_team_project, team_server

FIRST = "Suspicious"


def read_all(client: TestClient, label: str, *, repeats: bool) -> int:
    """The client's reader reads their first reads (or repeats) as `label`; returns how many."""
    items: list[dict[str, Any]] = client.get("/api/study/worklist").json()["items"]
    chosen = [i for i in items if i["repeat"] == repeats]
    for item in chosen:
        client.put(
            f"/api/images/{item['image_id']}/label",
            json={"label": label, "comment": "blurred" if label == "NA" else None,
                  "position": item["position"]},
        ).raise_for_status()  # fmt: skip
    return len(chosen)


def _other_reader_reads(project: Project, reader: str, label: str) -> None:
    session = LabellingSession(project, annotator=reader, interface="test")
    session.start()
    for item in reader_worklist(project, reader).items:
        session.save_label(item.image_id, label, position=item.position)
    session.close()


@contextlib.contextmanager
def local_reader_with_sealed_reads(tmp_path: Path, batch: Path) -> Iterator[tuple[TestClient, int]]:
    """`clinlabel label` of reader alice, who has given every first read (Suspicious) of a
    study where Dr B has read everything (Non-Suspicious): the client and how many of alice's
    first reads are sealed."""
    from clinlabel.web.app import create_app
    from clinlabel.web.config import WebSettings
    from clinlabel.web.workbench import Workbench

    from .conftest import ORIGIN, PORT, TOKEN

    settings = WebSettings(
        batch=batch, token=TOKEN, port=PORT, project_dir=tmp_path / "project", annotator="alice"
    )
    headers = {"X-Clinlabel-Token": TOKEN, "Origin": ORIGIN}
    # The study is assigned before `clinlabel label` opens the reader's session.
    first_bench = Workbench(settings)
    with TestClient(
        create_app(settings, workbench=first_bench), base_url=ORIGIN, headers=headers
    ) as opened:
        project = opened.app.state.workbench.project  # type: ignore[attr-defined]
        design = StudyDesign("by-case", overlap=1.0, repeats=0.5, order="batch")
        assign_study(project, ["alice", "Dr B"], design, seed=3)
        _other_reader_reads(project, "Dr B", "Non-Suspicious")
    first_bench.shutdown()
    bench = Workbench(settings)
    try:
        with TestClient(
            create_app(settings, workbench=bench), base_url=ORIGIN, headers=headers
        ) as client:
            read_all(client, FIRST, repeats=False)
            sealed = sum(
                1 for i in client.get("/api/study/worklist").json()["items"] if i["repeat"]
            )
            assert sealed
            yield client, sealed
    finally:
        bench.shutdown()


def test_sealed_agreement_the_local_server_refuses_its_reader_with_sealed_reads(
    tmp_path: Path, batch: Path
) -> None:
    with local_reader_with_sealed_reads(tmp_path, batch) as (client, sealed):
        refused = client.get("/api/agreement")
        assert refused.status_code == 409, refused.text
        message = refused.json()["message"]
        assert f"{sealed} first read(s) of yours" in message and "repeats" in message
        assert FIRST not in refused.text and "kappa" not in refused.text
        # Only some labels: refused the same (which labels are left would tell the read).
        assert client.get("/api/agreement?labels=NA").status_code == 409

        read_all(client, "NA", repeats=True)
        shown = client.get("/api/agreement")
        assert shown.status_code == 200, shown.text
        assert shown.json()["readers"] == ["alice", "Dr B"]


def test_sealed_agreement_a_team_reviewer_who_reads_sees_no_figures_until_done(
    tmp_path: Path, database_url: str | None
) -> None:
    project_dir = make_team_project(tmp_path, database_url=database_url)
    with team_server(project_dir) as team:
        design = StudyDesign("by-case", overlap=1.0, repeats=0.5, order="batch")
        assign_study(team.project, ["ann", "bea", "rev"], design, seed=5)
        with clients(team) as users:
            ann, rev, adm = users["ann"], users["rev"], users["adm"]
            for done in (ann, users["bea"]):
                read_all(done, "Benign", repeats=False)
                read_all(done, "Benign", repeats=True)
            assert adm.get("/api/agreement").status_code == 200
            # Before any read of theirs: the figures would show the others' reads.
            early = rev.get("/api/agreement")
            assert early.status_code == 403, early.text
            assert "read(s) to go" in early.json()["message"]
            assert "Benign" not in early.text

            read_all(rev, FIRST, repeats=False)
            sealed = sum(1 for i in rev.get("/api/study/worklist").json()["items"] if i["repeat"])
            refused = rev.get("/api/agreement")
            assert refused.status_code == 403, refused.text
            message = refused.json()["message"]
            assert f"{sealed} first read(s) sealed until you read their repeats" in message
            assert FIRST not in refused.text and "Benign" not in refused.text
            # Nor the dashboard (which counts their reads' NA labels) until the repeats.
            dashboard = rev.get("/api/dashboard")
            assert dashboard.status_code == 409 and "the dashboard would show you" in dashboard.text
            assert rev.get("/api/adjudication").status_code == 403
            # An admin who reads nothing sees them, sealed reads counted (as their exports).
            assert adm.get("/api/agreement").status_code == 200
            # An annotator is not a reviewer.
            assert ann.get("/api/agreement").status_code == 403

            read_all(rev, "Benign", repeats=True)
            shown = rev.get("/api/agreement")
            assert shown.status_code == 200, shown.text
            assert shown.json()["readers"] == ["ann", "bea", "rev"]
            assert rev.get("/api/dashboard").status_code == 200


def test_sealed_agreement_a_reviewer_reader_stays_held_back_by_a_sealed_read_of_a_gone_image(
    tmp_path: Path,
) -> None:
    # The images of rev's pending repeats are gone from the batch (moved, a disk not mounted)
    # and the batch rescanned: the worklist leaves them out until their files are back, so rev
    # has no read "to go", but those first reads stay sealed: the team server keeps holding rev
    # back from the routes that show every reader's labels, the one image's readers too.
    from clinlabel.labelling.rescan import DONE, BackgroundRescan

    project_dir = make_team_project(tmp_path)
    with team_server(project_dir) as team:
        design = StudyDesign("by-case", overlap=1.0, repeats=0.5, order="batch")
        assign_study(team.project, ["ann", "bea", "rev"], design, seed=5)
        with clients(team) as users:
            rev = users["rev"]
            for done in (users["ann"], users["bea"]):
                read_all(done, "Benign", repeats=False)
                read_all(done, "Benign", repeats=True)
            read_all(rev, FIRST, repeats=False)
            items = reader_worklist(team.project, "rev").items
            gone = {i.image_id: i.relpath for i in items if i.repeat}
            assert gone
            for relpath in gone.values():
                (team.project.batch / relpath).unlink()
            rescan = BackgroundRescan(team.project, write=lambda step: step())
            rescan.start()
            assert rescan.wait(120).state == DONE
            left = reader_worklist(team.project, "rev").items
            assert left and all(i.done for i in left)  # nothing to go in what it shows
            for image_id in gone:
                refused = rev.get(f"/api/team/images/{image_id}/readers")
                assert refused.status_code == 403, refused.text
                assert FIRST not in refused.text
                assert f"{len(gone)} first read(s) sealed" in refused.json()["message"]
            assert rev.get("/api/agreement").status_code == 403
            # An admin who reads nothing still sees every reader's label of the image.
            image_id = next(iter(gone))
            shown = users["adm"].get(f"/api/team/images/{image_id}/readers")
            assert shown.status_code == 200 and FIRST in shown.text, shown.text
