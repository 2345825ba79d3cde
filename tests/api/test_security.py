"""The local server's guard: token, Host (DNS rebinding), Origin, no reads outside the project."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient


def _bare(client: TestClient) -> TestClient:
    """The same app with no token, no Origin: what a stranger's request looks like."""
    return TestClient(client.app, base_url=str(client.base_url))


def test_no_token_is_401_and_a_wrong_one_403(client: TestClient) -> None:
    stranger = _bare(client)
    assert stranger.get("/api/session").status_code == 401
    assert stranger.get("/").status_code == 401
    assert stranger.get("/static/js/main.js").status_code == 401
    assert stranger.get("/api/session", headers={"X-Clinlabel-Token": "nope"}).status_code == 403
    assert stranger.get("/?token=nope").status_code == 403
    assert client.get("/api/session").status_code == 200


def test_launch_url_sets_a_cookie_and_drops_the_token(client: TestClient) -> None:
    token = client.headers["x-clinlabel-token"]
    browser = _bare(client)
    response = browser.get(f"/?token={token}&prefetch=0", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/?prefetch=0"
    cookie = response.headers["set-cookie"]
    assert "httponly" in cookie.lower() and "samesite=strict" in cookie.lower()
    assert browser.get("/").status_code == 200  # the cookie is enough from now on
    assert "content-security-policy" in browser.get("/").headers


@pytest.mark.parametrize("host", ["evil.example:8123", "attacker.test", "127.0.0.1:9999", ""])
def test_foreign_host_header_is_refused(client: TestClient, host: str) -> None:
    assert client.get("/api/session", headers={"Host": host}).status_code == 421


def test_localhost_name_is_accepted(client: TestClient) -> None:
    port = client.base_url.port
    assert client.get("/api/session", headers={"Host": f"localhost:{port}"}).status_code == 200


def test_state_changes_need_our_origin(client: TestClient) -> None:
    token = client.headers["x-clinlabel-token"]
    image_id = client.get("/api/queue?start=1&count=1").json()[0]["id"]
    url = f"/api/images/{image_id}/label"
    body = {"label": "Suspicious"}
    foreign = client.put(url, json=body, headers={"Origin": "http://evil.example"})
    assert foreign.status_code == 403
    browser = _bare(client)
    browser.cookies.set(f"clinlabel_token_{client.base_url.port}", token)
    assert browser.put(url, json=body).status_code == 403  # cookie but no Origin: refused
    assert client.put(url, json=body).status_code == 200


def test_no_state_change_on_get_and_odd_methods_refused(client: TestClient) -> None:
    for path in ("/api/outputs/progress", "/api/outputs/final", "/api/session/show"):
        assert 400 <= client.get(path).status_code < 500
    assert client.get("/api/outputs/csv").status_code == 404  # nothing was written by a GET
    assert client.request("TRACE", "/api/session").status_code == 405
    assert client.request("OPTIONS", "/api/session").status_code == 405
    assert client.request("PATCH", "/api/session").status_code == 405


@pytest.mark.parametrize(
    "path",
    [
        "/static/",
        "/static",
        "/static/js/",
        "/static/../../../../etc/passwd",
        "/static/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
        "/static/..%2f..%2f..%2f..%2fetc%2fpasswd",
        "/static/%252e%252e/%252e%252e/etc/passwd",
        "/static/....//....//etc/passwd",
        "/api/images/..%2f..%2f..%2fetc%2fpasswd/rendition",
        "/api/images/1%2f..%2f..%2fetc%2fpasswd/rendition",
        "/api/images/%2e%2e/rendition",
        "/api/images/-1/rendition",
        "/api/images/99999/rendition",
        "/api/outputs/..%2f..%2fclinlabel.db",
        "/api/outputs/%2e%2e%2fclinlabel.db",
        "/api/images/1/rendition/../../../../etc/passwd",
        "/etc/passwd",
        "/..%2f..%2fetc/passwd",
    ],
)
def test_no_listing_and_no_path_escapes(client: TestClient, path: str) -> None:
    response = client.get(path, follow_redirects=False)
    assert response.status_code in (301, 302, 307, 308, 400, 404, 405, 422), response.status_code
    assert b"root:" not in response.content
    assert b"SQLite format" not in response.content
    assert b"<li>" not in response.content  # no directory index


def test_a_request_cannot_choose_the_file_an_image_id_reads(client: TestClient) -> None:
    # Extra query parameters naming paths are ignored: only the id picks the file.
    response = client.get("/api/images/1/rendition?path=/etc/passwd&relpath=../../etc/passwd")
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/jpeg"


def test_token_refusals_say_so_and_other_refusals_do_not(client: TestClient) -> None:
    """The page keeps its unsent labels on a token refusal (the server restarted with a new
    token) and reports other refusals; the header tells them apart."""
    stranger = _bare(client)
    for response in (
        stranger.get("/api/session"),
        stranger.put("/api/images/1/label", headers={"X-Clinlabel-Token": "nope"}, json={}),
        stranger.get("/?token=nope"),
    ):
        assert response.headers["x-clinlabel-refused"] == "token"
    foreign = client.put(
        "/api/images/1/label", headers={"Origin": "http://evil.example"}, json={"label": "NA"}
    )
    assert foreign.status_code == 403
    assert "x-clinlabel-refused" not in foreign.headers
