"""The team server's logins: cookie, wrong passwords slowed and audited, logout, idle log-off."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from clinlabel.labelling.audit_trail import read_events, verify_project
from clinlabel.web.app import create_app
from clinlabel.web.auth import COOKIE

from .team_server import BASE, PASSWORD, clients, make_team_project, team_server


@pytest.fixture
def project_dir(tmp_path: Path) -> Path:
    return make_team_project(tmp_path)


@pytest.fixture
def app_client(project_dir: Path) -> Iterator[TestClient]:
    with (
        team_server(project_dir) as team,
        TestClient(create_app(team.base.settings, team=team), base_url=BASE) as client,
    ):
        yield client


def _kinds(project_dir: Path) -> list[tuple[str, str]]:
    return [(e["kind"], e["actor"]) for e in reversed(read_events(project_dir, limit=0))]


def test_login_sets_a_strict_httponly_cookie_and_opens_the_readers_session(
    app_client: TestClient, project_dir: Path
) -> None:
    answer = app_client.post("/api/auth/login", json={"name": "ann", "password": PASSWORD})
    assert answer.status_code == 200
    assert answer.json()["role"] == "annotator"
    cookie = answer.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE}=")
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Secure" not in cookie
    session = app_client.get("/api/session").json()
    assert session["started"] and session["annotator"] == "ann"
    assert ("login", "ann") in _kinds(project_dir)


def test_the_page_redirects_to_the_login_page_until_logged_in(app_client: TestClient) -> None:
    answer = app_client.get("/", follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/login"
    page = app_client.get("/login")
    assert page.status_code == 200 and 'id="login-form"' in page.text
    refused = app_client.get("/api/queue")
    assert refused.status_code == 401
    assert refused.headers["x-clinlabel-refused"] == "login"


def test_a_forged_cookie_is_not_a_login(app_client: TestClient) -> None:
    app_client.cookies.set(COOKIE, "made-up-session.made-up-signature")
    assert app_client.get("/api/session").status_code == 401


def test_wrong_password_is_refused_audited_and_slowed(project_dir: Path) -> None:
    with team_server(project_dir) as team:
        team.accounts._clock = lambda: 5000.0  # the attempts come at one instant
        with TestClient(create_app(team.base.settings, team=team), base_url=BASE) as client:
            _refused_then_slowed(client)
    failed = [actor for kind, actor in _kinds(project_dir) if kind == "login_failed"]
    assert failed == ["ann"]
    assert verify_project(project_dir).ok


def _refused_then_slowed(app_client: TestClient) -> None:
    first = app_client.post("/api/auth/login", json={"name": "ann", "password": "wrong one!!"})
    assert first.status_code == 401
    assert "Wrong name or password" in first.json()["message"]
    # Right away again, even with the right password: the account waits (exponential).
    second = app_client.post("/api/auth/login", json={"name": "ann", "password": PASSWORD})
    assert second.status_code == 429
    assert int(second.headers["retry-after"]) >= 1
    unknown = app_client.post("/api/auth/login", json={"name": "nobody", "password": "x" * 12})
    # The address waits too, whatever the name.
    assert unknown.status_code == 429


def test_logout_ends_the_login_everywhere(app_client: TestClient, project_dir: Path) -> None:
    app_client.post("/api/auth/login", json={"name": "bea", "password": PASSWORD})
    kept = app_client.cookies.get(COOKIE)
    assert app_client.get("/api/session").status_code == 200
    assert app_client.post("/api/auth/logout").status_code == 204
    app_client.cookies.set(COOKIE, kept or "")  # a copy of the cookie kept from before
    assert app_client.get("/api/session").status_code == 401
    kinds = _kinds(project_dir)
    assert ("logout", "bea") in kinds and ("session_closed", "bea") in kinds


def test_idle_login_ends_and_is_recorded(project_dir: Path) -> None:
    now = [1000.0]
    with team_server(project_dir) as team:
        team.accounts._clock = lambda: now[0]
        with TestClient(create_app(team.base.settings, team=team), base_url=BASE) as client:
            client.post("/api/auth/login", json={"name": "ann", "password": PASSWORD})
            now[0] += 14 * 60
            assert client.get("/api/session").status_code == 200  # activity: kept alive
            now[0] += 14 * 60
            assert client.get("/api/session").status_code == 200
            now[0] += 16 * 60
            gone = client.get("/api/session")
            assert gone.status_code == 401
            assert "without activity" in gone.json()["message"]
            # Logging in again works, and finds the same reader's work.
            again = client.post("/api/auth/login", json={"name": "ann", "password": PASSWORD})
            assert again.status_code == 200
    events = read_events(project_dir, limit=0)
    assert any(e["kind"] == "logout" and '"idle"' in str(e["data"]) for e in events)


def test_admin_manages_users_from_the_page_and_each_change_is_audited(
    project_dir: Path,
) -> None:
    with team_server(project_dir) as team, clients(team) as by:
        admin = by["adm"]
        added = admin.post(
            "/api/admin/users", json={"name": "cat", "role": "annotator", "password": PASSWORD}
        )
        assert added.status_code == 200
        short = admin.post(
            "/api/admin/users", json={"name": "dan", "role": "annotator", "password": "short"}
        )
        assert short.status_code == 422
        assert (
            admin.post("/api/admin/users/role", json={"name": "cat", "role": "reviewer"}).json()[
                "role"
            ]
            == "reviewer"
        )
        assert admin.post("/api/admin/users/disable", json={"name": "bea"}).json()["disabled"]
        # bea's open login ended with the account.
        assert by["bea"].get("/api/session").status_code == 401
        reset = admin.post(
            "/api/admin/users/password", json={"name": "ann", "password": "another password"}
        )
        assert reset.status_code == 200
        assert by["ann"].get("/api/session").status_code == 401
        names = {u["name"]: u for u in admin.get("/api/admin/users").json()}
        assert names["cat"]["role"] == "reviewer" and names["bea"]["disabled"]
        assert admin.get("/admin").status_code == 200
    kinds = [kind for kind, actor in _kinds(project_dir) if actor == "adm"]
    for kind in ("user_added", "role_changed", "user_disabled", "password_reset"):
        assert kind in kinds
    assert verify_project(project_dir).ok


def test_secure_cookies_behind_tls(project_dir: Path) -> None:
    with team_server(project_dir) as team:
        team.secure_cookies = True
        app = create_app(team.base.settings, team=team)
        with TestClient(app, base_url="https://team.example") as client:
            answer = client.post("/api/auth/login", json={"name": "ann", "password": PASSWORD})
            assert "Secure" in answer.headers["set-cookie"]
            # A foreign page cannot make the logged-in browser change anything.
            foreign = client.post("/api/session/touch", headers={"Origin": "https://evil.example"})
            assert foreign.status_code == 403


def test_the_local_label_server_is_unchanged_and_its_reader_is_the_annotator(
    client: TestClient,
) -> None:
    """`clinlabel label`: no login page, no login call; the reader is `--annotator`."""
    from starlette.requests import Request

    from clinlabel.web.auth import current_reader

    assert client.get("/login").status_code == 404
    assert client.get("/api/auth/me").status_code == 204  # the page's quiet "no logins here"
    assert client.post("/api/auth/login", json={"name": "a", "password": "b"}).status_code == 404
    assert client.get("/api/session").json()["annotator"] == "alice"
    request = Request({"type": "http", "app": client.app, "headers": [], "state": {}})
    assert current_reader(request) == "alice"
