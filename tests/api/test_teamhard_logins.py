"""An adversary's pass over the team server's logins and sessions: another login in the same
browser, a page asking as someone else, cookies from elsewhere or altered, session fixation,
live sessions of a disabled user or after a password reset, look-alike names, very long
passwords, and cross-site logins."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient

from clinlabel.errors import ValidationError
from clinlabel.labelling.accounts import Accounts, Role
from clinlabel.labelling.audit_trail import read_events
from clinlabel.labelling.project import open_project
from clinlabel.web.app import create_app
from clinlabel.web.auth import COOKIE

from .team_server import BASE, PASSWORD, make_team_project, team_server

READER_HEADER = "X-Clinlabel-Reader"


@pytest.fixture
def project_dir(tmp_path: Path) -> Path:
    return make_team_project(tmp_path)


@pytest.fixture
def client(project_dir: Path) -> Iterator[TestClient]:
    with (
        team_server(project_dir) as team,
        TestClient(create_app(team.base.settings, team=team), base_url=BASE) as client,
    ):
        yield client


def _login(client: TestClient, name: str, password: str = PASSWORD) -> str:
    answer = client.post("/api/auth/login", json={"name": name, "password": password})
    assert answer.status_code == 200, answer.text
    cookie = client.cookies.get(COOKIE)
    assert cookie
    return cookie


def _me(client: TestClient, cookie: str) -> int:
    client.cookies.clear()
    client.cookies.set(COOKIE, cookie, domain="team.example")
    return client.get("/api/auth/me").status_code


def _events(project_dir: Path, kind: str) -> list[tuple[str, dict[str, object]]]:
    return [
        (e["actor"], json.loads(e["data"]))
        for e in read_events(project_dir, limit=0)
        if e["kind"] == kind
    ]


# -- another login in the same browser --------------------------------------------------------


def test_teamhard_a_login_in_a_browser_holding_another_ends_that_one(
    client: TestClient, project_dir: Path
) -> None:
    ann = _login(client, "ann")
    assert client.get("/api/session").json()["annotator"] == "ann"
    bea = _login(client, "bea")
    assert bea != ann
    assert _events(project_dir, "logout") == [("ann", {"reason": "another login"})]
    # ann's cookie, kept from before, is refused from now on; bea's works.
    assert _me(client, ann) == 401
    assert _me(client, bea) == 200
    assert client.get("/api/session").json()["annotator"] == "bea"


def test_teamhard_the_same_user_logging_in_again_gets_a_new_session_and_the_old_one_ends(
    client: TestClient, project_dir: Path
) -> None:
    first = _login(client, "ann")
    second = _login(client, "ann")
    assert first != second
    assert _me(client, first) == 401 and _me(client, second) == 200
    assert _events(project_dir, "logout") == [("ann", {"reason": "another login"})]


def test_teamhard_a_failed_login_leaves_the_browsers_login_alone(
    client: TestClient, project_dir: Path
) -> None:
    ann = _login(client, "ann")
    refused = client.post("/api/auth/login", json={"name": "bea", "password": "not it at all"})
    assert refused.status_code == 401
    assert _me(client, ann) == 200
    assert _events(project_dir, "logout") == []


def test_teamhard_a_page_opened_for_one_reader_is_refused_once_another_logged_in(
    client: TestClient, project_dir: Path
) -> None:
    _login(client, "ann")
    image = client.get("/api/queue?start=1&count=1").json()[0]["id"]
    _login(client, "bea")
    # ann's page, still open, sends her waiting label: refused, never saved as bea's.
    put = client.put(
        f"/api/images/{image}/label",
        json={"label": "Suspicious"},
        headers={READER_HEADER: "ann"},
    )
    assert put.status_code == 401
    assert put.headers["x-clinlabel-refused"] == "reader"
    assert "bea has logged in" in put.json()["message"]
    for path in ("/api/session", "/api/queue?start=1&count=5", "/api/progress"):
        answer = client.get(path, headers={READER_HEADER: "ann"})
        assert answer.status_code == 401 and answer.headers["x-clinlabel-refused"] == "reader"
    assert _events(project_dir, "label_saved") == []
    # bea's own page works, and so do requests that say no reader (the login page, scripts).
    own = client.put(
        f"/api/images/{image}/label", json={"label": "Benign"}, headers={READER_HEADER: "bea"}
    )
    assert own.status_code == 200, own.text
    assert [actor for actor, _ in _events(project_dir, "label_saved")] == ["bea"]
    assert client.get("/api/progress").status_code == 200


def test_teamhard_a_reader_named_outside_ascii_is_matched(tmp_path: Path) -> None:
    project_dir = make_team_project(tmp_path)
    with open_project(project_dir) as project:
        Accounts(project.store).add("Zoë Ŝmith", Role.ANNOTATOR, PASSWORD, actor="test")
    with (
        team_server(project_dir) as team,
        TestClient(create_app(team.base.settings, team=team), base_url=BASE) as client,
    ):
        _login(client, "Zoë Ŝmith")
        mine = client.get("/api/session", headers={READER_HEADER: quote("Zoë Ŝmith")})
        assert mine.status_code == 200, mine.text
        other = client.get("/api/session", headers={READER_HEADER: quote("Zoe Smith")})
        assert other.status_code == 401


# -- cookies ----------------------------------------------------------------------------------


def test_teamhard_a_cookie_of_another_project_is_not_a_login(tmp_path: Path) -> None:
    first = make_team_project(tmp_path / "one")
    second = make_team_project(tmp_path / "two")
    with (
        team_server(first) as team,
        TestClient(create_app(team.base.settings, team=team), base_url=BASE) as client,
    ):
        foreign = _login(client, "ann")
    with (
        team_server(second) as team,
        TestClient(create_app(team.base.settings, team=team), base_url=BASE) as client,
    ):
        assert _me(client, foreign) == 401
        # Nor its session id signed again with this project's secret: the id is unknown here.
        from clinlabel.web.auth import cookie_value

        session_id = foreign.rpartition(".")[0]
        assert _me(client, cookie_value(team.secret, session_id)) == 401


def test_teamhard_a_tampered_cookie_is_not_a_login(client: TestClient) -> None:
    good = _login(client, "ann")
    session_id, _, signature = good.rpartition(".")
    flipped = signature[:-1] + ("A" if signature[-1] != "A" else "B")
    for value in (
        f"{session_id}.{flipped}",
        f"{session_id[:-1]}x.{signature}",
        f"{session_id}",
        f".{signature}",
        f"{session_id}.{signature}.{signature}",
        "",
        "." * 5000,
    ):
        assert _me(client, value) == 401, value
    assert _me(client, good) == 200


def test_teamhard_a_planted_cookie_is_replaced_and_ended_by_the_login(
    client: TestClient, project_dir: Path
) -> None:
    """Session fixation: a cookie the attacker planted (their own login) does not survive the
    victim's login, so the attacker cannot ride on it."""
    planted = _login(client, "bea")  # the attacker's own account, cookie set in the victim's
    victims = _login(client, "ann")
    assert victims != planted
    assert _me(client, planted) == 401
    # An unsigned made-up cookie is simply replaced.
    client.cookies.clear()
    client.cookies.set(COOKIE, "attacker-chosen-id.signature", domain="team.example")
    assert _login(client, "ann") != "attacker-chosen-id.signature"


# -- live sessions ----------------------------------------------------------------------------


def test_teamhard_disabling_a_user_or_resetting_their_password_ends_their_live_sessions(
    project_dir: Path,
) -> None:
    with team_server(project_dir) as team:
        clock = [time.time()]
        team.accounts._clock = lambda: clock[0]
        app = create_app(team.base.settings, team=team)
        with (
            TestClient(app, base_url=BASE) as ann,
            TestClient(app, base_url=BASE) as bea,
            TestClient(app, base_url=BASE) as adm,
        ):
            _login(ann, "ann")
            _login(bea, "bea")
            _login(adm, "adm")
            assert ann.get("/api/session").status_code == 200
            done = adm.post("/api/admin/users/disable", json={"name": "ann"})
            assert done.status_code == 200, done.text
            assert ann.get("/api/session").status_code == 401
            assert ann.put("/api/images/1/label", json={"label": "Benign"}).status_code == 401
            # Nor can the disabled user log in again.
            again = ann.post("/api/auth/login", json={"name": "ann", "password": PASSWORD})
            assert again.status_code == 401
            # That refused login is a failure from this address (every test client's): the next
            # login from it waits a second (as colleagues behind one address would).
            clock[0] += 2
            reset = adm.post(
                "/api/admin/users/password", json={"name": "bea", "password": "a brand new one!"}
            )
            assert reset.status_code == 200, reset.text
            assert bea.get("/api/session").status_code == 401
            assert _login(bea, "bea", "a brand new one!")
    assert ("adm", {"user": "ann", "logins_ended": 1}) in _events(project_dir, "user_disabled")


# -- names and passwords ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    ["Ann", "ANN", "ａｎｎ", "\u0430nn", "ann\u200b"],
)
def test_teamhard_a_look_alike_name_never_logs_in_as_the_user(project_dir: Path, name: str) -> None:
    with (
        team_server(project_dir) as team,
        TestClient(create_app(team.base.settings, team=team), base_url=BASE) as client,
    ):
        answer = client.post("/api/auth/login", json={"name": name, "password": PASSWORD})
        assert answer.status_code == 401
        assert "Wrong name or password" in answer.json()["message"]
    with open_project(project_dir) as project:
        accounts = Accounts(project.store)
        # Nor can such a name be added beside "ann".
        with pytest.raises(ValidationError, match=r"looks like|mixes alphabets|invisible"):
            accounts.add(name, Role.ANNOTATOR, PASSWORD, actor="test")


def test_teamhard_a_very_long_password_is_refused_before_any_hashing(
    client: TestClient, project_dir: Path
) -> None:
    long = client.post("/api/auth/login", json={"name": "ann", "password": "x" * 1025})
    assert long.status_code == 422
    assert "x" * 100 not in long.text  # the input is not echoed back
    huge = client.post("/api/auth/login", json={"name": "ann", "password": "x" * 2_000_000})
    assert huge.status_code in (413, 422)
    # Neither counts as a guess: the right password logs in at once.
    assert _events(project_dir, "login_failed") == []
    _login(client, "ann")
    # The longest allowed (1,024 characters, 4 bytes each in UTF-8) hashes and checks.
    with open_project(project_dir) as project:
        Accounts(project.store).reset_password("bea", "𝔸" * 1024, actor="test")
    assert _login(client, "bea", "𝔸" * 1024)


# -- cross-site logins ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "https://evil.example"},
        {"Origin": "null"},
        {"Origin": "http://team.example:8000.evil.example"},
        {"Sec-Fetch-Site": "cross-site"},
    ],
)
def test_teamhard_a_cross_site_login_or_logout_is_refused(
    client: TestClient, project_dir: Path, headers: dict[str, str]
) -> None:
    """Login CSRF: a foreign page posting the attacker's credentials would make the victim
    label as the attacker. The cookie is SameSite=Strict, and the origin is checked."""
    login = client.post(
        "/api/auth/login", json={"name": "bea", "password": PASSWORD}, headers=headers
    )
    assert login.status_code == 403
    assert COOKIE not in login.headers.get("set-cookie", "")
    ann = _login(client, "ann")
    logout = client.post("/api/auth/logout", headers=headers)
    assert logout.status_code == 403
    assert _me(client, ann) == 200
    assert _events(project_dir, "logout") == []


def test_teamhard_a_login_form_posted_as_text_is_refused(client: TestClient) -> None:
    """A cross-site HTML form can send text/plain without a preflight: it is not JSON here."""
    body = '{"name": "bea", "password": "' + PASSWORD + '", "x": "="}'
    answer = client.post("/api/auth/login", content=body, headers={"Content-Type": "text/plain"})
    assert answer.status_code in (415, 422)
    assert COOKIE not in answer.headers.get("set-cookie", "")


def test_teamhard_colleagues_behind_one_address_logging_in_at_once_all_get_in(
    project_dir: Path,
) -> None:
    """Eight readers behind one router log in at the same moment: each login is checked after
    the one before it from that address, none is refused as a "failed login"."""
    import asyncio

    import httpx

    names = [f"reader{i}" for i in range(8)]
    with open_project(project_dir) as project:
        accounts = Accounts(project.store)
        for name in names:
            accounts.add(name, Role.ANNOTATOR, PASSWORD, actor="test")

    async def all_at_once(app: object) -> list[int]:
        transport = httpx.ASGITransport(app=app, client=("10.3.3.3", 40000))  # type: ignore[arg-type]
        async with httpx.AsyncClient(transport=transport, base_url=BASE) as client:
            answers = await asyncio.gather(
                *(
                    client.post("/api/auth/login", json={"name": n, "password": PASSWORD})
                    for n in names
                )
            )
        return [answer.status_code for answer in answers]

    with team_server(project_dir) as team:
        statuses = asyncio.run(all_at_once(create_app(team.base.settings, team=team)))
    assert statuses == [200] * len(names)
    assert _events(project_dir, "login_failed") == []
    assert len(_events(project_dir, "login")) == len(names)
