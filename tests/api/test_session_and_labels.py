"""The seed's workflow through the API: start, label, NA rule, move, clear, progress, cases."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient


def test_start_page_asks_then_opens(bare_client: TestClient, batch: Path, tmp_path: Path) -> None:
    state = bare_client.get("/api/session").json()
    assert state["started"] is False
    assert state["suggested_project_dir"] == str(batch.parent / "batch-clinlabel")
    assert bare_client.get("/api/progress").status_code == 409
    inside = bare_client.post(
        "/api/session", json={"project_dir": str(batch / "out"), "annotator": "bo"}
    )
    assert inside.status_code == 422
    assert "inside the batch" in inside.json()["message"]
    assert not (batch / "out").exists()
    blank = bare_client.post(
        "/api/session", json={"project_dir": str(tmp_path / "p"), "annotator": " "}
    )
    assert blank.status_code == 422
    opened = bare_client.post(
        "/api/session", json={"project_dir": str(tmp_path / "p"), "annotator": "Bo Li"}
    ).json()
    assert opened["started"] is True
    assert opened["annotator"] == "Bo Li"
    assert [d["name"] for d in opened["labels"]] == ["Suspicious", "Non-Suspicious", "NA"]
    assert [d["key"] for d in opened["labels"]] == ["1", "2", "3"]
    assert opened["shown"]["image"]["position"] == 1
    again = bare_client.post(
        "/api/session", json={"project_dir": str(tmp_path / "p"), "annotator": "x"}
    )
    assert again.status_code == 422


def test_label_rules_and_moves(client: TestClient) -> None:
    views = client.get("/api/queue?start=1&count=100").json()
    assert len(views) == 12
    assert views[0]["relpath"] == "Case_001/Visit_1/XC_CLINICAL/img1.jpg"
    first, second = views[0]["id"], views[1]["id"]

    saved = client.put(f"/api/images/{first}/label", json={"label": "Suspicious"}).json()
    assert saved["image"]["label"] == "Suspicious"
    assert saved["progress"]["labelled"] == 1

    no_comment = client.put(f"/api/images/{second}/label", json={"label": "NA", "comment": "  "})
    assert no_comment.status_code == 422
    assert "comment" in no_comment.json()["message"]
    unknown = client.put(f"/api/images/{second}/label", json={"label": "Maybe"})
    assert unknown.status_code == 422

    na = client.put(
        f"/api/images/{second}/label", json={"label": "NA", "comment": 'blurry, "motion"\nretake'}
    ).json()
    assert na["image"]["comment"] == 'blurry, "motion"\nretake'

    relabel = client.put(f"/api/images/{first}/label", json={"label": "Non-Suspicious"}).json()
    assert relabel["image"]["label"] == "Non-Suspicious"
    assert relabel["progress"]["labelled"] == 2

    cleared = client.delete(f"/api/images/{first}/label").json()
    assert cleared["image"]["label"] is None
    assert cleared["progress"]["labelled"] == 1
    assert client.get(f"/api/images/{second}").json()["label"] == "NA"
    assert client.get("/api/images/424242").status_code == 422


def test_show_reports_case_changes_and_next_unlabelled(client: TestClient) -> None:
    assert client.post("/api/session/show", json={"position": 6}).json()["case_changed"] is False
    shown = client.post("/api/session/show", json={"position": 7}).json()
    assert shown["case_changed"] is True
    assert shown["previous_case"] == "Case_001"
    assert shown["image"]["case"] == "Case_002"
    assert client.post("/api/session/show", json={"position": 0}).status_code == 422
    assert client.post("/api/session/show", json={"position": 99}).status_code == 422
    views = client.get("/api/queue?start=7&count=2").json()
    client.put(f"/api/images/{views[1]['id']}/label", json={"label": "Suspicious"})
    client.post("/api/session/show", json={"position": 7})
    client.put(f"/api/images/{views[0]['id']}/label", json={"label": "Suspicious"})
    nxt = client.post("/api/session/next-unlabelled").json()
    assert nxt["image"]["position"] == 9
    assert client.post("/api/session/touch").status_code == 204


def test_cases_list_visits_for_the_sidebar(client: TestClient) -> None:
    cases = client.get("/api/cases").json()
    assert [c["case"] for c in cases] == ["Case_001", "Case_002"]
    assert cases[1]["first_position"] == 7
    assert [(v["visit"], v["first_position"], v["total"]) for v in cases[1]["visits"]] == [
        ("Visit_1", 7, 3),
        ("Visit_2", 10, 3),
    ]
    assert client.get("/api/progress").json() == {
        "total": 12,
        "labelled": 0,
        "remaining": 12,
        "percent": 0.0,
    }


def test_outputs_progress_then_final(client: TestClient) -> None:
    assert client.get("/api/outputs/csv").status_code == 404
    first = client.get("/api/queue?start=1&count=1").json()[0]
    client.put(f"/api/images/{first['id']}/label", json={"label": "NA", "comment": "=1+1"})
    partial = client.post("/api/outputs/progress").json()
    assert partial["final"] is False
    assert Path(partial["csv"]).is_file() and Path(partial["report"]).is_file()
    final = client.post("/api/outputs/final").json()
    assert final["final"] is True
    assert "SUMMARY" in final["report_text"].upper()
    csv_text = client.get("/api/outputs/csv").content.decode("utf-8-sig")
    assert csv_text.splitlines()[0] == "case,visit,file,label,comment"
    assert "Case_001,Visit_1,XC_CLINICAL/img1.jpg,NA," in csv_text
    assert client.get("/api/outputs/report").status_code == 200
    assert final["trail_ok"] is True and final["trail_problem"] is None


def test_errors_become_statuses_in_one_place() -> None:
    import errno

    from clinlabel.errors import OutputError, ProjectInUseError, StoreError, ValidationError
    from clinlabel.web.errors import status_for

    assert status_for(ValidationError("x"))[0] == 422
    assert status_for(ProjectInUseError("x"))[0] == 409
    assert status_for(StoreError("x"))[0] == 503
    assert status_for(OutputError("inside the batch"))[0] == 422
    full = OutputError("disk full")
    full.__cause__ = OSError(errno.ENOSPC, "No space left on device")
    assert status_for(full)[0] == 507


def test_label_and_next_show_in_one_request(client: TestClient) -> None:
    views = client.get("/api/queue?start=6&count=2").json()
    client.post("/api/session/show", json={"position": 6})
    saved = client.put(
        f"/api/images/{views[0]['id']}/label", json={"label": "Suspicious", "then_show": 7}
    ).json()
    assert saved["image"]["label"] == "Suspicious"
    assert saved["shown"]["image"]["position"] == 7
    assert saved["shown"]["case_changed"] is True
    assert saved["progress"]["labelled"] == 1
    # A refused label records no show either: the page stays where it was.
    refused = client.put(
        f"/api/images/{views[1]['id']}/label", json={"label": "NA", "then_show": 8}
    )
    assert refused.status_code == 422


def test_labels_and_keys_come_from_the_project_schema(batch: Path, tmp_path: Path) -> None:
    from clinlabel.web.app import create_app
    from clinlabel.web.config import WebSettings
    from clinlabel.web.workbench import Workbench

    schema = tmp_path / "labels.toml"
    schema.write_text(
        '[[labels]]\nname = "Benign"\nkey = "b"\n'
        '[[labels]]\nname = "Malignant"\nkey = "m"\n'
        '[[labels]]\nname = "Ungradable"\nkey = "u"\nrequires_comment = true\n',
        encoding="utf-8",
    )
    settings = WebSettings(
        batch=batch,
        token="t" * 20,
        port=8124,
        project_dir=tmp_path / "custom",
        annotator="z",
        schema_path=schema,
    )
    bench = Workbench(settings)
    headers = {"X-Clinlabel-Token": "t" * 20, "Origin": "http://127.0.0.1:8124"}
    try:
        with TestClient(
            create_app(settings, workbench=bench), base_url="http://127.0.0.1:8124", headers=headers
        ) as custom:
            labels = custom.get("/api/session").json()["labels"]
            assert [(d["name"], d["key"], d["requires_comment"]) for d in labels] == [
                ("Benign", "b", False),
                ("Malignant", "m", False),
                ("Ungradable", "u", True),
            ]
            first = custom.get("/api/queue?start=1&count=1").json()[0]["id"]
            assert custom.put(f"/api/images/{first}/label", json={"label": "NA"}).status_code == 422
            refused = custom.put(f"/api/images/{first}/label", json={"label": "Ungradable"})
            assert refused.status_code == 422
    finally:
        bench.shutdown()


def test_a_comment_with_control_characters_gets_422_and_nothing_is_saved(
    client: TestClient,
) -> None:
    image = client.get("/api/queue?start=1&count=1").json()[0]["id"]
    for comment in ("blurred\u0000", "a\u001bb", "\u200b\u200d"):
        refused = client.put(f"/api/images/{image}/label", json={"label": "NA", "comment": comment})
        assert refused.status_code == 422, comment
        assert "comment" in refused.json()["message"]
    assert client.get(f"/api/images/{image}").json()["label"] is None


def test_a_file_gone_or_linked_out_of_the_batch_gets_409(
    client: TestClient, batch: Path, tmp_path: Path
) -> None:
    views = client.get("/api/queue?start=1&count=2").json()
    (batch / views[0]["relpath"]).unlink()
    gone = client.put(f"/api/images/{views[0]['id']}/label", json={"label": "Suspicious"})
    assert gone.status_code == 409
    assert "no longer in the batch" in gone.json()["message"]
    outside = tmp_path / "elsewhere.jpg"
    outside.write_bytes(b"someone else's photograph")
    linked = batch / views[1]["relpath"]
    linked.unlink()
    linked.symlink_to(outside)
    refused = client.put(f"/api/images/{views[1]['id']}/label", json={"label": "Suspicious"})
    assert refused.status_code == 409
    assert "outside the batch" in refused.json()["message"]
    assert client.get("/api/progress").json()["labelled"] == 0


def test_undo_restores_the_label_before_the_last_change(client: TestClient) -> None:
    first = client.get("/api/queue?start=1&count=1").json()[0]["id"]
    client.put(f"/api/images/{first}/label", json={"label": "Suspicious"})
    client.delete(f"/api/images/{first}/label")
    undone = client.post("/api/session/undo")
    assert undone.status_code == 200
    body = undone.json()
    assert (body["image"]["id"], body["image"]["label"], body["label"]) == (
        first,
        "Suspicious",
        "Suspicious",
    )
    assert body["progress"]["labelled"] == 1
    assert client.post("/api/session/undo").json()["image"]["label"] is None
    refused = client.post("/api/session/undo")
    assert refused.status_code == 422
    assert "Nothing to undo" in refused.json()["message"]


def test_ending_the_session_records_it_and_keeps_the_outputs(client: TestClient) -> None:
    first = client.get("/api/queue?start=1&count=1").json()[0]["id"]
    client.put(f"/api/images/{first}/label", json={"label": "Suspicious"})
    assert client.post("/api/outputs/final").status_code == 200
    assert client.post("/api/session/end").status_code == 204
    assert client.get("/api/session").json()["started"] is False
    # The files just written can still be downloaded; labelling cannot go on.
    assert client.get("/api/outputs/csv").status_code == 200
    assert client.put(f"/api/images/{first}/label", json={"label": "NA"}).status_code == 409
    assert client.post("/api/session/end").status_code == 409
