"""The agreement page's figures come from the same functions as `clinlabel agreement --json`:
the same document, for the same project, whichever face asks."""

from __future__ import annotations

from fastapi.testclient import TestClient

from clinlabel.labelling.agreement import project_agreement
from clinlabel.labelling.project import Project
from clinlabel.labelling.service import LabellingSession
from clinlabel.reports.agreement import agreement_document


def _project(client: TestClient) -> Project:
    project = client.app.state.workbench.project  # type: ignore[attr-defined]
    assert isinstance(project, Project)
    return project


def test_the_agreement_api_answers_what_the_command_prints(client: TestClient) -> None:
    ids = [v["id"] for v in client.get("/api/queue?start=1&count=12").json()]
    mine = ["Suspicious", "Suspicious", "Non-Suspicious", "NA", "Non-Suspicious", "Suspicious"]
    theirs = ["Suspicious", "Non-Suspicious", "Non-Suspicious", "NA", "Suspicious", "Suspicious"]
    for image_id, label in zip(ids, mine, strict=False):
        body = {"label": label, "comment": "blurred" if label == "NA" else None}
        assert client.put(f"/api/images/{image_id}/label", json=body).status_code == 200
    other = LabellingSession(_project(client), annotator="Dr B")
    other.start()
    for image_id, label in zip(ids, theirs, strict=False):
        other.save_label(image_id, label, "blurred" if label == "NA" else None)
    other.close()

    answer = client.get("/api/agreement")
    assert answer.status_code == 200, answer.text
    document = answer.json()
    assert document == agreement_document(project_agreement(_project(client)))
    assert document["readers"] == ["alice", "Dr B"] and document["images"] == 6
    (pair,) = document["pairs"]
    assert pair["n"] == 6 and pair["percent"] == 4 / 6 * 100
    # Only some labels, as `--labels`; a list naming none is refused with a clear message.
    only = client.get("/api/agreement?labels=Suspicious,Non-Suspicious").json()
    assert only["labels"] == ["Suspicious", "Non-Suspicious"] and only["images"] == 5
    assert client.get("/api/agreement?labels=,").status_code == 422


def test_one_reader_gets_a_clear_refusal_not_figures(client: TestClient) -> None:
    first = client.get("/api/queue?start=1&count=1").json()[0]
    client.put(f"/api/images/{first['id']}/label", json={"label": "Suspicious"})
    answer = client.get("/api/agreement")
    assert answer.status_code == 422
    assert "two readers" in answer.json()["message"]
