"""The reading-study API: the reviewer's adjudication queue and final labels, a reader's
worklist (repeats blinded), repeat reads and locked progression answered 409."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from clinlabel.audit.log import verify_chain
from clinlabel.labelling.assignments import StudyDesign, assign_study
from clinlabel.labelling.project import Project
from clinlabel.labelling.service import LabellingSession
from clinlabel.store import events as event_rows
from clinlabel.web.routes.study_access import ROUTE_ROLES


def _project(client: TestClient) -> Project:
    project = client.app.state.workbench.project  # type: ignore[attr-defined]
    assert isinstance(project, Project)
    return project


def _read_as(project: Project, reader: str, labels: dict[int, str]) -> None:
    session = LabellingSession(project, annotator=reader)
    session.start()
    for image_id, label in labels.items():
        session.save_label(image_id, label, "blurred" if label == "NA" else None)
    session.close()


def test_the_reviewer_sees_disagreements_side_by_side_and_gives_the_final_label(
    client: TestClient,
) -> None:
    ids = [v["id"] for v in client.get("/api/queue?start=1&count=12").json()]
    for image_id in ids[:3]:
        client.put(f"/api/images/{image_id}/label", json={"label": "Suspicious"})
    _read_as(
        _project(client), "Dr B", {ids[0]: "Suspicious", ids[1]: "NA", ids[2]: "Non-Suspicious"}
    )
    queue = client.get("/api/adjudication").json()
    assert [item["image_id"] for item in queue["items"]] == [ids[1], ids[2]]
    assert queue["readers"] == ["alice", "Dr B"] and queue["remaining"] == 2
    first = queue["items"][0]
    assert [(r["reader"], r["label"], r["comment"]) for r in first["reads"]] == [
        ("alice", "Suspicious", ""),
        ("Dr B", "NA", "blurred"),
    ]
    assert first["disagree"] and first["consensus"] is None
    every = client.get("/api/adjudication?scope=all").json()
    assert every["total"] == 3
    assert client.get("/api/adjudication?scope=some").status_code == 422

    # Readers disagree: a reason is required.
    refused = client.put(f"/api/adjudication/{ids[1]}", json={"label": "Suspicious"})
    assert refused.status_code == 422 and "reason" in refused.json()["message"]
    saved = client.put(
        f"/api/adjudication/{ids[1]}",
        json={"label": "Suspicious", "reason": "lesion visible at the border"},
    ).json()
    assert saved["final"]["label"] == "Suspicious" and saved["final"]["reviewer"] == "alice"
    assert client.get("/api/adjudication").json()["remaining"] == 1
    # An image no reader read cannot be adjudicated; a label outside the schema is refused.
    assert (
        client.put(f"/api/adjudication/{ids[5]}", json={"label": "NA", "reason": "x"}).status_code
        == 422
    )
    assert (
        client.put(
            f"/api/adjudication/{ids[2]}", json={"label": "Maybe", "reason": "x"}
        ).status_code
        == 422
    )
    # Readers who agree need no reason for their label.
    assert (
        client.put(f"/api/adjudication/{ids[0]}", json={"label": "Suspicious"}).status_code == 200
    )

    with _project(client).store.read() as conn:
        events = [e for e in event_rows.iter_events(conn) if e["kind"] == "image_adjudicated"]
        assert verify_chain(conn).ok
    assert len(events) == 2 and events[0]["actor"] == "alice"
    assert client.get("/adjudicate").status_code == 200


def test_a_readers_worklist_blinds_repeats_and_locked_cases_answer_409(client: TestClient) -> None:
    project = _project(client)
    assign_study(
        project, ["alice"], StudyDesign("by-case", order="batch", locked=True, repeats=0.5), seed=3
    )
    client.get("/api/session")  # the page, reloaded after the study was assigned
    worklist = client.get("/api/study/worklist").json()
    assert worklist["reader"] == "alice" and worklist["locked"]
    items = worklist["items"]
    firsts = [i for i in items if not i["repeat"]]
    repeats = [i for i in items if i["repeat"]]
    assert len(firsts) == 12 and len(repeats) == 6
    assert worklist["next"]["position"] == 1
    # The first case (6 images) is open; the second is not.
    assert [i["open"] for i in firsts] == [True] * 6 + [False] * 6
    locked = client.put(f"/api/images/{firsts[6]['image_id']}/label", json={"label": "Suspicious"})
    assert locked.status_code == 409 and "not open yet" in locked.json()["message"]
    for item in firsts[:6]:
        assert (
            client.put(
                f"/api/images/{item['image_id']}/label", json={"label": "Suspicious"}
            ).status_code
            == 200
        )
    assert client.get("/api/study/worklist").json()["done"] == 6
    for item in firsts[6:]:
        assert (
            client.put(
                f"/api/images/{item['image_id']}/label", json={"label": "Suspicious"}
            ).status_code
            == 200
        )
    after = client.get("/api/study/worklist").json()
    repeat = after["next"]
    # Every first read done: the repeats are open, each shown without the first read.
    assert repeat["repeat"] and repeat["open"] and repeat["repeat_label"] is None
    saved = client.put(
        f"/api/study/worklist/{repeat['assignment_id']}/read", json={"label": "Non-Suspicious"}
    ).json()
    assert saved["done"] and saved["repeat_label"] == "Non-Suspicious"
    # Its own record: the first read stands.
    assert client.get(f"/api/images/{repeat['image_id']}").json()["label"] == "Suspicious"
    assert client.get("/api/study").json() == {"study": True, "locked": True, "case_labels": []}
    missing = client.put("/api/study/worklist/999999/read", json={"label": "Suspicious"})
    assert missing.status_code == 422
    case = client.get(f"/api/study/cases/{firsts[0]['case']}").json()
    assert case["complete"] and not case["asks_diagnosis"]  # the default schema asks none
    refused = client.put(f"/api/study/cases/{firsts[0]['case']}/diagnosis", json={"label": "x"})
    assert refused.status_code == 422


def test_every_study_route_declares_its_role(client: TestClient) -> None:
    declared = {(method, path) for method, path in ROUTE_ROLES}
    served = {
        (method, route.path)  # type: ignore[attr-defined]
        for route in client.app.routes  # type: ignore[attr-defined]
        for method in getattr(route, "methods", ())
        if str(getattr(route, "path", "")).startswith(
            ("/api/study", "/api/adjudication", "/api/dashboard")
        )
    }
    assert served <= declared


def test_the_dashboard_counts_each_readers_work_and_each_case(client: TestClient) -> None:
    ids = [v["id"] for v in client.get("/api/queue?start=1&count=12").json()]
    for image_id in ids[:4]:
        client.put(f"/api/images/{image_id}/label", json={"label": "Suspicious"})
    _read_as(_project(client), "Dr B", {ids[0]: "Suspicious", ids[1]: "NA", ids[2]: "Suspicious"})
    data = client.get("/api/dashboard").json()
    assert not data["study"] and data["na_labels"] == ["NA"]
    readers = {r["reader"]: r for r in data["readers"]}
    assert readers["alice"]["done"] == 4 and readers["alice"]["na_rate"] == 0
    assert readers["Dr B"]["done"] == 3
    assert readers["Dr B"]["na_rate"] == pytest.approx(1 / 3)
    # ids 0 and 2: both agree; id 1: a tie between the two, left out.
    assert readers["Dr B"]["consensus_n"] == 2 and readers["Dr B"]["consensus_percent"] == 100
    cases = {c["case"]: c for c in data["cases"]}
    assert cases["Case_001"]["images"] == 6 and cases["Case_001"]["done"] == 7
    assert cases["Case_001"]["expected"] == 12
    assert sum(d["labels"] for d in data["days"]) == 7
    assert client.get("/dashboard").status_code == 200
