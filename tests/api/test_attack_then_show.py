"""A save refused with 422 that was saved anyway (found by the attack on issue 9).

PUT /api/images/{id}/label with a `then_show` position outside the queue answers 422 ("Position
N is outside the queue"), yet the label was stored and audited before the show failed. A client
(or the page) told "refused" believes nothing changed; either the position is checked before
anything is written, or the answer says the label was saved.
"""

from __future__ import annotations

from fastapi.testclient import TestClient


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
