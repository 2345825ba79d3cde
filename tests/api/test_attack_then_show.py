"""A save refused with 422 that was saved anyway (found by the attack on issue 9).

PUT /api/images/{id}/label with a `then_show` position outside the queue answers 422 ("Position
N is outside the queue"), yet the label was stored and audited before the show failed. A client
(or the page) told "refused" believes nothing changed; either the position is checked before
anything is written, or the answer says the label was saved.
"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from clinlabel.errors import ValidationError
from clinlabel.labelling.service import LabellingSession, Shown


def test_a_save_refused_for_its_then_show_leaves_no_label(client: TestClient) -> None:
    views = client.get("/api/queue").json()
    image = views[0]["id"]
    total = client.get("/api/progress").json()["total"]
    response = client.put(
        f"/api/images/{image}/label", json={"label": "Suspicious", "then_show": total + 1}
    )
    after = client.get(f"/api/images/{image}").json()
    if response.status_code >= 400:
        assert after["label"] is None, (
            f"answered {response.status_code} {response.json()['message']!r} but stored "
            f"the label {after['label']!r}"
        )


def test_a_position_outside_the_queue_is_refused_before_saving(client: TestClient) -> None:
    image = client.get("/api/queue").json()[0]["id"]
    total = client.get("/api/progress").json()["total"]
    response = client.put(
        f"/api/images/{image}/label", json={"label": "Suspicious", "then_show": total + 1}
    )
    assert response.status_code == 422
    assert "not saved" in response.json()["message"]
    assert client.get(f"/api/images/{image}").json()["label"] is None


def test_a_show_failing_after_the_save_still_says_saved(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The queue can change between the check and the show (a rescan): the label is durable."""

    def fail(self: LabellingSession, position: int) -> Shown:
        raise ValidationError(f"Position {position} is outside the queue.")

    image = client.get("/api/queue").json()[0]["id"]
    monkeypatch.setattr(LabellingSession, "show", fail)
    response = client.put(
        f"/api/images/{image}/label", json={"label": "Suspicious", "then_show": 2}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["image"]["label"] == "Suspicious" and body["shown"] is None
    monkeypatch.undo()
    assert client.get(f"/api/images/{image}").json()["label"] == "Suspicious"
