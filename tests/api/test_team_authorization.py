"""Every route x role x owner of the team server, guessed ids included.

The routes are enumerated from the app itself: a route added without a rule in
`web.auth.ROUTE_RULES` fails `test_every_route_has_a_rule`, and is refused to everyone until it
has one.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from starlette.routing import Mount

from clinlabel.labelling.accounts import Role
from clinlabel.web.auth import NOBODY, PUBLIC, ROUTE_RULES

from .team_server import USERS, clients, make_team_project, team_server

ROLES = {"anon": None, **{name: role for name, role in USERS.items()}}


@pytest.fixture(scope="module")
def team(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, TestClient]]:
    project_dir = make_team_project(tmp_path_factory.mktemp("team"))
    with team_server(project_dir) as server, clients(server) as by:
        yield by


def _flat(routes: list[Any]) -> Iterator[Any]:
    """Every route, also those of included routers (FastAPI keeps those as one entry each)."""
    for route in routes:
        nested = getattr(route, "effective_route_contexts", None)
        if nested is not None:
            yield from nested()
        else:
            yield route


def _routes(client: TestClient) -> set[tuple[str, str]]:
    found = set()
    for route in _flat(client.app.routes):  # type: ignore[attr-defined]
        if isinstance(route, Mount):
            continue  # /static: the page's code, no data
        for method in getattr(route, "methods", None) or ():
            if method != "HEAD":
                found.add((method, route.path))
    assert len(found) > 30
    return found


def test_every_route_has_a_rule(team: dict[str, TestClient]) -> None:
    routes = _routes(team["anon"])
    assert routes - set(ROUTE_RULES) == set(), "routes without a rule in web.auth.ROUTE_RULES"
    assert set(ROUTE_RULES) - routes == set(), "rules for routes that do not exist"


def _ids(client: TestClient) -> list[int]:
    return [view["id"] for view in client.get("/api/queue?start=1&count=50").json()]


def _body(method: str, path: str, image_id: int) -> dict[str, object] | None:
    """A plausible body for each state change; targets nobody real where it could harm the
    run (an admin call names a user who does not exist)."""
    if method not in ("POST", "PUT"):
        return None
    if path.startswith("/api/admin/users"):
        return {"name": "zed-nobody", "role": "annotator", "password": "x" * 12}
    if path.endswith("/label"):
        return {"label": "Benign"}
    if path.startswith("/api/regions/{uid}"):
        return {
            "image_id": image_id,
            "class": "Lesion",
            "tool": "box",
            "geometry": {"x": 1, "y": 1, "w": 5, "h": 5},
        }
    if path == "/api/session/show":
        return {"position": 1}
    if path == "/api/session":
        return {"project_dir": "/tmp/elsewhere", "annotator": "mallory"}
    if path == "/api/regions/interpolate":
        return {"first": "guessed-1", "last": "guessed-2"}
    if path == "/api/auth/login":
        return {"name": "nobody", "password": "wrong password"}
    return {}


def _url(path: str, image_id: int) -> str:
    return (
        path.replace("{image_id}", str(image_id))
        .replace("{uid}", "someone-elses-region")
        .replace("{which}", "csv")
    )


def _allowed(rule: Role | str, role: Role | None) -> bool:
    if rule == PUBLIC:
        return True
    if rule == NOBODY or role is None:
        return False
    assert isinstance(rule, Role)
    return role.value in [r.value for r in Role][[r.value for r in Role].index(rule.value) :]


@pytest.mark.parametrize("who", list(ROLES))
def test_every_route_for_every_role(team: dict[str, TestClient], who: str) -> None:
    client = team[who]
    image_id = _ids(team["adm"])[0]
    for method, path in sorted(ROUTE_RULES):
        if path in ("/api/auth/logout", "/api/auth/login") and who != "anon":
            continue  # would end this client's login; the anonymous client covers them
        rule = ROUTE_RULES[(method, path)]
        answer = client.request(
            method,
            _url(path, image_id),
            json=_body(method, path, image_id),
            follow_redirects=False,
        )
        where = f"{who} {method} {path} -> {answer.status_code} {answer.text[:120]}"
        if _allowed(rule, ROLES[who]):
            # (The login call's own 401 is its answer to a wrong password, not a refusal.)
            assert answer.status_code != 403, where
            assert answer.status_code != 401 or rule == PUBLIC, where
        elif who == "anon" and rule != NOBODY:
            # Pages send the anonymous to the login page; the API answers 401.
            assert answer.status_code in (401, 303), where
        else:
            assert answer.status_code == 403, where


def test_guessed_ids_never_reach_another_readers_work(team: dict[str, TestClient]) -> None:
    ann, bea, rev, adm = team["ann"], team["bea"], team["rev"], team["adm"]
    # The second image: the first one has each reader's own label from the test above, and
    # bea's here too, whether or not that test ran first on this worker (xdist may split the
    # module): with two readers the team CSV names them.
    image_id = _ids(ann)[1]
    first = bea.put(f"/api/images/{_ids(bea)[0]}/label", json={"label": "Benign"})
    assert first.status_code == 200, first.text
    before = bea.get("/api/progress").json()["labelled"]
    saved = ann.put(f"/api/images/{image_id}/label", json={"label": "NA", "comment": "blurred"})
    assert saved.status_code == 200
    region = ann.put(
        "/api/regions/ann-region-1",
        json={
            "image_id": image_id,
            "class": "Lesion",
            "tool": "box",
            "geometry": {"x": 1, "y": 1, "w": 5, "h": 5},
        },
    )
    assert region.status_code == 200, region.text
    # bea sees the image, never ann's label: not in the image, the queue, the review table,
    # the progress or the regions.
    assert bea.get(f"/api/images/{image_id}").json()["label"] is None
    queue = bea.get("/api/queue?start=1&count=50").json()
    assert all(v["label"] in (None, "Benign") and v["annotator"] in (None, "bea") for v in queue)
    rows = bea.get("/api/review?limit=100").json()["rows"]
    assert all(row["label"] in (None, "Benign") for row in rows)
    assert all(row["annotator"] in (None, "bea") for row in rows)
    assert bea.get("/api/progress").json()["labelled"] == before
    assert bea.get(f"/api/images/{image_id}/regions").json()["regions"] == []
    assert "blurred" not in bea.get("/api/review?limit=100").text
    # Guessing ann's region id does not let bea change or delete it.
    changed = bea.put(
        "/api/regions/ann-region-1",
        json={
            "image_id": image_id,
            "class": "Lesion",
            "tool": "box",
            "geometry": {"x": 2, "y": 2, "w": 5, "h": 5},
        },
    )
    assert changed.status_code == 422
    assert bea.delete("/api/regions/ann-region-1").status_code in (404, 422)
    assert ann.get(f"/api/images/{image_id}/regions").json()["regions"][0]["geometry"]["x"] == 1
    # Nor the other readers' labels, nor exports (which hold every reader).
    assert bea.get(f"/api/team/images/{image_id}/readers").status_code == 403
    assert bea.post("/api/outputs/progress").status_code == 403
    assert bea.get("/api/outputs/csv").status_code == 403
    # A reviewer sees every reader; a guessed image id is a 404, not someone's data.
    readers = rev.get(f"/api/team/images/{image_id}/readers").json()
    assert [(r["reader"], r["label"], r["comment"]) for r in readers] == [("ann", "NA", "blurred")]
    assert rev.get("/api/team/images/987654/readers").status_code == 404
    assert bea.get("/api/images/987654").status_code in (404, 422)
    # The admin exports (every reader: the CSV with a column per reader is "team-study"s).
    written = adm.post("/api/outputs/progress")
    assert written.status_code == 200, written.text
    # A team CSV names the reader of each label it carries (the adjudicated label, else theirs).
    assert "NA,ann: blurred" in adm.get("/api/outputs/csv").text


def test_the_study_routes_rules_are_the_team_servers() -> None:
    # The study's own table is read from the server's: every study page and call, with its role.
    from clinlabel.labelling.accounts import Role
    from clinlabel.web.routes.study_access import ROUTE_ROLES

    assert ROUTE_ROLES[("GET", "/api/study/worklist")] == Role.ANNOTATOR
    assert ROUTE_ROLES[("PUT", "/api/adjudication/{image_id}")] == Role.REVIEWER
    assert ROUTE_ROLES[("GET", "/api/agreement")] == Role.REVIEWER
    assert all(ROUTE_RULES[key] == role for key, role in ROUTE_ROLES.items())
