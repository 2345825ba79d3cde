"""The team server's login page and automatic log-off, in Chromium: a comment being typed
survives the log-off and the login again, and is saved under the same reader."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from clinlabel.labelling.accounts import Accounts, Role
from clinlabel.labelling.audit_trail import read_events, verify_project
from clinlabel.labelling.project import init_project, open_project

pytestmark = pytest.mark.e2e

PASSWORD = "a long enough password"
OPEN_LINE = re.compile(r"Open: (http://\S+/)")


class TeamProcess:
    """`clinlabel serve PROJECT --port 0` as a subprocess."""

    def __init__(self, project_dir: Path, log: Path) -> None:
        self.log = log
        with log.open("w") as handle:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "clinlabel", "serve", str(project_dir), "--port", "0"],
                stdout=handle,
                stderr=subprocess.STDOUT,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            found = OPEN_LINE.search(log.read_text())
            if found:
                self.url = found.group(1)
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        raise RuntimeError(f"clinlabel serve did not start:\n{log.read_text()}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=30)


@pytest.fixture
def team_url(tmp_path: Path, batch_maker: Callable[..., list[str]]) -> Iterator[str]:
    batch = tmp_path / "batch"
    batch_maker(batch, cases=1, visits=1, images=3)
    project_dir = tmp_path / "project"
    init_project(batch, project_dir)
    with open_project(project_dir) as project:
        accounts = Accounts(project.store)
        accounts.add("ann", Role.ANNOTATOR, PASSWORD, actor="test")
        accounts.add("adm", Role.ADMIN, PASSWORD, actor="test")
    server = TeamProcess(project_dir, tmp_path / "serve.log")
    try:
        yield server.url
    finally:
        server.stop()


def test_login_then_idle_log_off_keeps_the_typed_comment(
    page: Page, team_url: str, tmp_path: Path
) -> None:
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    # The page's clock is the test's: the inactivity is fast-forwarded, not waited for.
    page.clock.install()
    page.goto(team_url)
    expect(page).to_have_url(re.compile(r"/login$"))
    expect(page.get_by_label("Name")).to_be_focused()
    page.get_by_label("Name").fill("ann")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("#position-text")).to_have_text("Image 1 of 3")
    expect(page.locator("#team-user")).to_have_text("ann (annotator)")

    # NA needs a comment: the annotator is typing it when they are called away.
    page.keyboard.press("3")
    comment = page.get_by_role("textbox", name="Comment")
    expect(comment).to_be_focused()
    comment.type("contrast too low to judge")
    page.clock.fast_forward("16:00")
    relogin = page.locator("#relogin")
    expect(relogin).to_be_visible()
    expect(page.locator("body")).to_have_class(re.compile("logged-off"))
    # The image is not left on the screen of an unattended workstation.
    expect(page.locator("#position-text")).to_be_hidden()

    page.locator("#relogin-password").fill("not the password")
    page.locator("#relogin-submit").click()
    expect(page.locator("#relogin-message")).to_contain_text("Wrong name or password")
    # A wrong password slows the next attempt (1 s, doubling); the page says so and the
    # annotator tries again.
    page.locator("#relogin-password").fill(PASSWORD)
    deadline = time.monotonic() + 30
    answered = (
        "() => !document.getElementById('relogin').open"
        " || document.getElementById('relogin-message').textContent !== ''"
    )
    while True:
        page.locator("#relogin-submit").click()
        page.wait_for_function(answered)
        if page.locator("#relogin").is_hidden() or time.monotonic() > deadline:
            break
        expect(page.locator("#relogin-message")).to_contain_text("try again in")
        page.wait_for_timeout(500)
    expect(relogin).to_be_hidden()
    expect(comment).to_have_value("contrast too low to judge")
    comment.click()
    page.keyboard.press("Control+Enter")
    expect(page.locator("#save-status")).to_have_text("All labels saved", timeout=60_000)

    origin = team_url.rstrip("/")
    assert all(url.startswith(origin) for url in requested), "a request left the server"
    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(re.compile(r"/login$"))

    project_dir = tmp_path / "project"
    events = read_events(project_dir, limit=0)
    kinds = [(e["kind"], e["actor"]) for e in reversed(events)]
    assert ("login_failed", "ann") in kinds
    assert kinds.count(("login", "ann")) == 2 and kinds.count(("logout", "ann")) == 2
    saved = [e for e in events if e["kind"] == "label_saved"]
    assert saved and saved[0]["actor"] == "ann"
    assert "contrast too low to judge" in str(saved[0]["data"])
    assert verify_project(project_dir).ok


def test_the_admin_page_adds_and_disables_a_user(page: Page, team_url: str) -> None:
    page.goto(team_url + "login?next=/admin")
    page.get_by_label("Name").fill("adm")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/admin$"))
    rows = page.locator("table.admin-users tbody tr")
    expect(rows).to_have_count(2)
    page.get_by_label("Name", exact=True).fill("cat")
    page.locator("form.admin-add select").select_option("reviewer")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Add").click()
    expect(page.locator(".admin-message")).to_have_text("Added cat.")
    expect(rows).to_have_count(3)
    cat = rows.filter(has_text="cat")
    expect(cat.get_by_label("Role of cat")).to_have_value("reviewer")
    cat.get_by_role("button", name="Disable").click()
    expect(page.locator(".admin-message")).to_have_text("cat: disabled.")
    expect(rows.filter(has_text="cat")).to_contain_text("disabled")
