"""Logging in as another user in the same browser, in Chromium: the earlier login ends (a
logout in the trail, its cookie refused), the earlier user's open page is covered at once (no
image, queue or typed comment shown to the new user), and their label changes still waiting
are never sent as the new user's: they stay kept for them and are saved when they log in
again, under their own name."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, Response, expect

from clinlabel.labelling.accounts import Accounts, Role
from clinlabel.labelling.audit_trail import read_events, verify_project
from clinlabel.labelling.project import init_project, open_project

from .test_team_login import TeamProcess

pytestmark = pytest.mark.e2e

PASSWORD = "a long enough password"
NOTE = "ann's own note, not for bea"

# The label changes this page keeps in the browser until the server has them (pending-store.js).
KEPT = """() => new Promise((resolve, reject) => {
    const opened = indexedDB.open("clinlabel", 1);
    opened.onerror = () => reject(opened.error);
    opened.onsuccess = () => {
        const store = opened.result.transaction("pending-labels").objectStore("pending-labels");
        const all = store.getAll();
        all.onsuccess = () => resolve(all.result.map((r) => r.owner.split("\\n").pop()));
        all.onerror = () => reject(all.error);
    };
})"""


@pytest.fixture
def served(tmp_path: Path, batch_maker: Callable[..., list[str]]) -> Iterator[tuple[str, Path]]:
    batch = tmp_path / "batch"
    batch_maker(batch, cases=1, visits=1, images=3)
    project_dir = tmp_path / "project"
    init_project(batch, project_dir)
    with open_project(project_dir) as project:
        accounts = Accounts(project.store)
        for name in ("ann", "bea"):
            accounts.add(name, Role.ANNOTATOR, PASSWORD, actor="test")
        accounts.add("adm", Role.ADMIN, PASSWORD, actor="test")
    server = TeamProcess(project_dir, tmp_path / "serve.log")
    try:
        yield server.url, project_dir
    finally:
        server.stop()


def _log_in(page: Page, url: str, name: str) -> None:
    page.goto(url + "login")
    page.get_by_label("Name").fill(name)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("#team-user")).to_have_text(f"{name} (annotator)")
    expect(page.locator("#position-text")).to_have_text("Image 1 of 3")


def _cookie(page: Page) -> str:
    return next(c["value"] for c in page.context.cookies() if c["name"] == "clinlabel_session")


def _me_status(url: str, cookie: str) -> int:
    request = urllib.request.Request(
        url + "api/auth/me", headers={"Cookie": f"clinlabel_session={cookie}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as refused:
        return int(refused.code)


def _wait_for(page: Page, condition: Callable[[], bool]) -> None:
    """Until `condition` holds, checked between the page's own events (bounded, not timed)."""
    for _ in range(300):
        if condition():
            return
        page.wait_for_timeout(100)
    raise AssertionError("the page never got there")


def _saved_by(project_dir: Path) -> list[str]:
    return [e["actor"] for e in read_events(project_dir, limit=0) if e["kind"] == "label_saved"]


def test_teamhard_another_login_in_the_same_browser_covers_and_keeps_the_first_users_work(
    page: Page, served: tuple[str, Path]
) -> None:
    url, project_dir = served
    _log_in(page, url, "ann")
    ann_cookie = _cookie(page)

    # ann labels the first image while the network drops the save: it waits, kept in the
    # browser for ann; then she starts an NA comment.
    page.route(re.compile(r".*/api/images/\d+/label.*"), lambda route: route.abort())
    page.keyboard.press("1")
    _wait_for(page, lambda: page.evaluate(KEPT) == ["ann"])
    page.keyboard.press("3")
    comment = page.get_by_role("textbox", name="Comment")
    expect(comment).to_be_focused()
    comment.type(NOTE)

    # bea logs in in another tab of the same browser.
    other = page.context.new_page()
    _log_in(other, url, "bea")
    assert _cookie(other) != ann_cookie

    # ann's page is covered at once: no image, no queue, no typed comment for bea to see.
    covered = page.locator("#reader-changed")
    expect(covered).to_be_visible()
    expect(covered).to_contain_text("bea has logged in in this browser")
    expect(page.locator("#position-text")).to_be_hidden()
    expect(comment).to_be_hidden()
    # ann's login has ended: in the trail, and her cookie is refused from now on.
    assert _me_status(url, ann_cookie) == 401
    logouts = [
        e for e in read_events(project_dir, limit=0) if (e["kind"], e["actor"]) == ("logout", "ann")
    ]
    assert [json.loads(e["data"])["reason"] for e in logouts] == ["another login"]

    # The network is back: ann's waiting change is refused as bea's, and stays kept for ann.
    refusals: list[str] = []

    def seen(response: Response) -> None:
        if "/label" in response.url and response.request.method == "PUT":
            refusals.append(response.headers.get("x-clinlabel-refused", ""))

    page.on("response", seen)
    page.unroute(re.compile(r".*/api/images/\d+/label.*"))
    _wait_for(page, lambda: "reader" in refusals)
    assert _saved_by(project_dir) == []
    assert page.evaluate(KEPT) == ["ann"]

    # "Continue as bea": the page is bea's own, with nothing of ann's.
    page.get_by_role("button", name="Continue as bea").click()
    expect(page.locator("#team-user")).to_have_text("bea (annotator)")
    expect(page.locator("#position-text")).to_have_text("Image 1 of 3")
    expect(page.locator("body")).not_to_contain_text(NOTE)
    expect(page.locator("#save-status")).not_to_contain_text("waiting")
    assert _saved_by(project_dir) == []
    assert page.evaluate(KEPT) == ["ann"]

    # ann logs in again (the other tab): her change is sent under her name, and bea's page,
    # in this tab, is covered in turn.
    _log_in(other, url, "ann")
    expect(other.locator("#save-status")).to_have_text("All labels saved", timeout=60_000)
    expect(page.locator("#reader-changed")).to_contain_text("ann has logged in")
    assert _saved_by(project_dir) == ["ann"]
    assert other.evaluate(KEPT) == []
    assert verify_project(project_dir).ok
