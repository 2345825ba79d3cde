"""Attack on the sealed first reads (blinded test-retest study): the local server's adjudication
list, the terminal's, and a tampered event met by a page's resend."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from clinlabel.labelling.assignments import StudyDesign, assign_study
from clinlabel.labelling.project import Project

from .conftest import ORIGIN, PORT, TOKEN

FIRST = "Suspicious"


def _project(client: TestClient) -> Project:
    project = client.app.state.workbench.project  # type: ignore[attr-defined]
    assert isinstance(project, Project)
    return project


@contextmanager
def _local_reader(
    tmp_path: Path, batch: Path, readers: tuple[str, ...] = ("alice",)
) -> Iterator[TestClient]:
    """`clinlabel label` of the reader alice, whose study (half her images repeated) was
    assigned before the server started."""
    from clinlabel.web.app import create_app
    from clinlabel.web.config import WebSettings
    from clinlabel.web.workbench import Workbench

    settings = WebSettings(
        batch=batch, token=TOKEN, port=PORT, project_dir=tmp_path / "project", annotator="alice"
    )
    headers = {"X-Clinlabel-Token": TOKEN, "Origin": ORIGIN}
    first_bench = Workbench(settings)
    with TestClient(
        create_app(settings, workbench=first_bench), base_url=ORIGIN, headers=headers
    ) as opened:
        design = (
            StudyDesign("by-case", order="batch", repeats=0.5)
            if len(readers) == 1
            else StudyDesign("per-image", per_image=len(readers), order="batch", repeats=0.5)
        )
        assign_study(_project(opened), list(readers), design, seed=3)
    first_bench.shutdown()
    bench = Workbench(settings)
    try:
        with TestClient(
            create_app(settings, workbench=bench), base_url=ORIGIN, headers=headers
        ) as client:
            yield client
    finally:
        bench.shutdown()


def _sealed_first_read(client: TestClient) -> tuple[dict[str, Any], dict[str, Any]]:
    """Gives the first read of an image that comes back as a repeat; (first, repeat) items."""
    items = client.get("/api/study/worklist").json()["items"]
    repeat = next(i for i in items if i["repeat"])
    first = next(i for i in items if i["image_id"] == repeat["image_id"] and not i["repeat"])
    client.put(
        f"/api/images/{first['image_id']}/label",
        json={"label": FIRST, "comment": "nodule", "position": first["position"]},
    ).raise_for_status()
    return first, repeat


def test_attack22_local_adjudication_list_hides_a_sealed_first_read(
    tmp_path: Path, batch: Path
) -> None:
    with _local_reader(tmp_path, batch) as client:
        first, repeat = _sealed_first_read(client)
        for scope in ("all", "disagreements"):
            answer = client.get("/api/adjudication", params={"scope": scope})
            assert answer.status_code == 409, answer.text
            assert FIRST not in answer.text and "nodule" not in answer.text, answer.text
            assert "repeat" in answer.json()["message"]
        # Nor a final label given over it, which would answer with every read of the image.
        final = client.put(
            f"/api/adjudication/{first['image_id']}",
            json={"label": "Non-Suspicious", "reason": "x"},
        )
        assert final.status_code == 409 and FIRST not in final.text, final.text
        # Once the repeat is read, both reads are the reader's own to see again.
        client.put(
            f"/api/images/{repeat['image_id']}/label",
            json={"label": "Non-Suspicious", "position": repeat["position"]},
        ).raise_for_status()
        shown = client.get("/api/adjudication", params={"scope": "all"})
        assert shown.status_code == 200, shown.text
        reads = [r for item in shown.json()["items"] for r in item["reads"]]
        assert {"reader": "alice", "label": FIRST, "comment": "nodule"} in reads


def test_attack22_local_agreement_hides_a_sealed_first_read(tmp_path: Path, batch: Path) -> None:
    """Two readers taking turns on one laptop: alice's page's agreement (her matrices against
    bob's, per case) counts her sealed first read, so it is refused to her until she reads the
    repeat."""
    from clinlabel.labelling.service import LabellingSession
    from clinlabel.labelling.worklist import reader_worklist

    with _local_reader(tmp_path, batch, ("alice", "bob")) as client:
        project = _project(client)
        bob = LabellingSession(project, annotator="bob", interface="test")
        bob.start()
        for item in reader_worklist(project, "bob").items:
            if not item.repeat:
                bob.save_label(item.image_id, "Non-Suspicious", position=item.position)
        bob.close()
        _, repeat = _sealed_first_read(client)
        refused = client.get("/api/agreement")
        assert refused.status_code == 409, refused.text
        assert "agreement" in refused.json()["message"] and FIRST not in refused.text
        client.put(
            f"/api/images/{repeat['image_id']}/label",
            json={"label": "Non-Suspicious", "position": repeat["position"]},
        ).raise_for_status()
        shown = client.get("/api/agreement")
        assert shown.status_code == 200, shown.text


KEY = "ann-change-0123456789abcdef"
OTHER_KEY = "ann-other-0123456789abcdef"


def _sealed_pair(client: TestClient) -> list[dict[str, Any]]:
    """Two of the reader's first reads that come back as repeats, given with their own keys."""
    items = client.get("/api/study/worklist").json()["items"]
    repeated = {i["image_id"] for i in items if i["repeat"]}
    firsts = [i for i in items if not i["repeat"] and i["image_id"] in repeated][:2]
    for first, key in zip(firsts, (KEY, OTHER_KEY), strict=True):
        given = client.put(
            f"/api/images/{first['image_id']}/label",
            json={"label": FIRST, "position": first["position"], "change_key": key},
        )
        assert given.status_code == 200 and given.json()["image"]["sealed"], given.text
    return firsts


def test_attack22_a_resend_meeting_a_tampered_event_is_refused_as_any_guess(
    tmp_path: Path, database_url: str | None
) -> None:
    """An event whose data is no longer the app's, or a label row moved onto another event of
    the reader's: the resend is no resend, and gets the one "final" answer, never a 500 that a
    right label alone would meet (the key was looked at only once the label matched)."""
    from sqlalchemy import select, text, update

    from clinlabel.store.schema import annotators, events, labels

    from .team_server import clients, make_team_project, team_server

    project_dir = make_team_project(tmp_path, database_url=database_url)
    with team_server(project_dir) as team:
        assign_study(
            team.project, ["ann"], StudyDesign("by-case", order="batch", repeats=1.0), seed=5
        )
        with clients(team) as users:
            ann = users["ann"]
            x, y = _sealed_pair(ann)

            def label_event(image_id: int) -> int:
                with team.project.store.read() as conn:
                    return int(
                        conn.execute(
                            select(labels.c.event_id)
                            .join(annotators, annotators.c.id == labels.c.annotator_id)
                            .where(labels.c.image_id == image_id, annotators.c.name == "ann")
                        ).scalar_one()
                    )

            def resend(item: dict[str, Any], label: str, key: str) -> tuple[int, str]:
                answer = ann.put(
                    f"/api/images/{item['image_id']}/label",
                    json={"label": label, "position": item["position"], "change_key": key},
                )
                return answer.status_code, answer.json().get("message", "")

            final = resend(x, "Benign", KEY)  # a wrong guess: the one answer to compare with
            assert final[0] == 409 and "final" in final[1]
            final_y = resend(y, "Benign", OTHER_KEY)
            # Y's label row pointed at X's event (the same label, X's key).
            with team.project.store.write() as conn:
                conn.execute(
                    update(labels)
                    .where(labels.c.image_id == y["image_id"])
                    .values(event_id=label_event(x["image_id"]))
                )
            assert resend(y, FIRST, KEY) == final_y
            # X's event's data edited into what is not JSON, then into a list.
            for data in ("{not json", "[1, 2]"):
                with team.project.store.write() as conn:
                    # Past the append-only guard, as someone editing the database file would.
                    trigger = "events_no_change ON events" if database_url else "events_no_update"
                    conn.execute(text(f"DROP TRIGGER IF EXISTS {trigger}"))
                    conn.execute(
                        update(events)
                        .where(events.c.id == label_event(x["image_id"]))
                        .values(data=data)
                    )
                assert resend(x, FIRST, KEY) == final
                assert resend(x, "Benign", KEY) == final


def test_attack22_a_change_saved_before_a_study_was_assigned_is_saved_when_sent_again(
    client: TestClient,
) -> None:
    """The page's change reached the server and was saved, its answer lost; a study that repeats
    the image is assigned meanwhile (the labels given before it are its first reads, sealed).
    The page keeps the change through the "study assigned" answer and sends it again after its
    reload: the server answers it as saved, as any sealed read's own change, not "final"."""
    queue = client.get("/api/queue?start=1&count=12").json()
    keys = {view["id"]: f"change-before-study-{view['id']:04d}" for view in queue}
    for view in queue:
        client.put(
            f"/api/images/{view['id']}/label",
            json={"label": FIRST, "change_key": keys[view["id"]]},
        ).raise_for_status()
    assign_study(
        _project(client), ["alice"], StudyDesign("by-case", order="batch", repeats=1.0), seed=3
    )
    image_id = queue[0]["id"]
    change = {"label": FIRST, "change_key": keys[image_id]}
    told = client.put(f"/api/images/{image_id}/label", json=change)
    assert told.status_code == 409 and "study was assigned" in told.json()["message"]
    session = client.get("/api/session")  # the page's reload
    assert session.status_code == 200, session.text
    items = client.get("/api/study/worklist").json()["items"]
    first = next(i for i in items if i["image_id"] == image_id and not i["repeat"])
    assert any(i["image_id"] == image_id and i["repeat"] for i in items)
    resent = client.put(
        f"/api/images/{image_id}/label", json={**change, "position": first["position"]}
    )
    assert resent.status_code == 200, resent.text
    assert resent.json()["image"]["sealed"] is True
    # Any other attempt on it is still final.
    other = client.put(
        f"/api/images/{image_id}/label",
        json={"label": "NA", "comment": "x", "position": first["position"]},
    )
    assert other.status_code == 409 and "final" in other.json()["message"]


def test_attack22_a_change_from_before_the_study_is_never_taken_as_the_repeat_read(
    client: TestClient,
) -> None:
    """A change made before a study was assigned carries its place in the batch's queue; the
    page keeps it through "study assigned" and sends it after the reload. Where that number is
    now the image's repeat in the worklist, the change was taken as the reader's repeat read: a
    second read never given blind, the same label as the first, for test-retest agreement.
    The change's key is the first read's own, so it is that first read sent again: saved, and
    the repeat still to be read. (Positions coincide by chance in a real study; here the
    page's kept position is the repeat's.)"""
    queue = client.get("/api/queue?start=1&count=12").json()
    keys = {view["id"]: f"change-before-study-{view['id']:04d}" for view in queue}
    for view in queue:
        client.put(
            f"/api/images/{view['id']}/label",
            json={"label": FIRST, "position": view["position"], "change_key": keys[view["id"]]},
        ).raise_for_status()
    assign_study(
        _project(client), ["alice"], StudyDesign("by-case", order="batch", repeats=1.0), seed=3
    )
    assert client.post("/api/session/show", json={"position": 1}).status_code == 409
    assert client.get("/api/session").status_code == 200  # the page's reload
    items = client.get("/api/study/worklist").json()["items"]
    repeat = next(i for i in items if i["repeat"])
    image_id = repeat["image_id"]
    resent = client.put(
        f"/api/images/{image_id}/label",
        json={"label": FIRST, "position": repeat["position"], "change_key": keys[image_id]},
    )
    assert resent.status_code == 200, resent.text
    items = client.get("/api/study/worklist").json()["items"]
    still = next(i for i in items if i["assignment_id"] == repeat["assignment_id"])
    assert still["done"] is False and still["repeat_label"] is None
    # The repeat read itself, a new change with its own key, is the reader's second read.
    read = client.put(
        f"/api/images/{image_id}/label",
        json={"label": "NA", "comment": "x", "position": repeat["position"],
              "change_key": "repeat-read-0123456789"},
    )  # fmt: skip
    assert read.status_code == 200, read.text
    items = client.get("/api/study/worklist").json()["items"]
    done = next(i for i in items if i["assignment_id"] == repeat["assignment_id"])
    assert done["done"] is True and done["repeat_label"] == "NA"
