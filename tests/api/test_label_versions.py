"""Two tabs of one reader: a change based on an older version of the label gets 409 and the
stored value; nothing is overwritten. Two readers never overwrite each other at all."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from clinlabel.labelling.audit_trail import verify_project

from .team_server import clients, make_team_project, team_server


def _first(client: TestClient) -> int:
    return int(client.get("/api/queue?start=1&count=1").json()[0]["id"])


def test_a_stale_write_from_another_tab_gets_409_with_the_current_value(client: TestClient) -> None:
    """The local server (`clinlabel label`): same rule, `version` in the body or If-Match."""
    image = _first(client)
    first = client.put(f"/api/images/{image}/label", json={"label": "Suspicious", "version": 0})
    assert first.status_code == 200
    v1 = first.json()["version"]
    assert v1 > 0
    # Tab B, which also saw v1, changes it: fine, and a new version.
    second = client.put(
        f"/api/images/{image}/label",
        json={"label": "NA", "comment": "motion"},
        headers={"If-Match": f'"{v1}"'},
    )
    assert second.status_code == 200
    v2 = second.json()["version"]
    assert v2 > v1
    # Tab A, still on v1, is refused with the value now stored; nothing changes.
    stale = client.put(f"/api/images/{image}/label", json={"label": "Suspicious", "version": v1})
    assert stale.status_code == 409
    body = stale.json()
    assert body["error"] == "stale"
    assert body["current"] == {"label": "NA", "comment": "motion", "frame": 0, "version": v2}
    assert "motion" in body["message"]
    assert client.get(f"/api/images/{image}").json()["label"] == "NA"
    # A tab that believed there was no label (version 0) is refused too.
    url = f"/api/images/{image}/label"
    assert client.put(url, json={"label": "Non-Suspicious", "version": 0}).status_code == 409
    # Clearing from a stale tab as well.
    cleared = client.delete(f"/api/images/{image}/label", headers={"If-Match": str(v1)})
    assert cleared.status_code == 409
    assert (
        client.delete(f"/api/images/{image}/label", headers={"If-Match": str(v2)}).status_code
        == 200
    )
    # Without a version (an older page, a script): no check, as before.
    assert client.put(url, json={"label": "Non-Suspicious"}).status_code == 200
    bad = client.put(
        f"/api/images/{image}/label", json={"label": "Non-Suspicious"}, headers={"If-Match": "abc"}
    )
    assert bad.status_code == 422


def test_two_readers_never_overwrite_each_other(tmp_path: Path) -> None:
    project_dir = make_team_project(tmp_path)
    with team_server(project_dir) as team, clients(team) as by:
        ann, bea = by["ann"], by["bea"]
        image = _first(ann)
        assert (
            ann.put(
                f"/api/images/{image}/label", json={"label": "Benign", "version": 0}
            ).status_code
            == 200
        )
        # bea's first label of the same image is based on *her* version (none): accepted.
        assert (
            bea.put(
                f"/api/images/{image}/label", json={"label": "NA", "comment": "x", "version": 0}
            ).status_code
            == 200
        )
        assert ann.get(f"/api/images/{image}").json()["label"] == "Benign"
        assert bea.get(f"/api/images/{image}").json()["label"] == "NA"
        readers = by["rev"].get(f"/api/team/images/{image}/readers").json()
        assert {(r["reader"], r["label"]) for r in readers} == {("ann", "Benign"), ("bea", "NA")}
    assert verify_project(project_dir).ok


def test_image_records_carry_the_readers_label_versions(client: TestClient) -> None:
    """What the page bases a change on: the version in every image record it is sent."""
    image = _first(client)
    assert client.get(f"/api/images/{image}").json()["version"] == 0
    saved = client.put(f"/api/images/{image}/label", json={"label": "Suspicious"}).json()
    record = client.get(f"/api/images/{image}").json()
    assert record["version"] == saved["version"] > 0
    window = client.get("/api/queue?start=1&count=2").json()
    assert window[0]["version"] == saved["version"] and window[1]["version"] == 0
    undone = client.post("/api/session/undo").json()  # the label goes: version 0 again
    assert undone["image"]["version"] == 0
