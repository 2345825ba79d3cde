"""End-to-end fixtures: a real `clinlabel label` server on a free port, driven by Chromium."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image, ImageDraw

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
URL_LINE = re.compile(r"Open: (http://\S+)")
# Switches on the page's test instrumentation (key-to-paint times, repaint times and the paint
# count the pixel checks wait on) before its scripts run; a page opened by a user has none.
INSTRUMENT = "window.__clinlabelInstrument = true;"

pytestmark = pytest.mark.e2e


def make_batch(
    root: Path, *, cases: int, visits: int, images: int, size: tuple[int, int] = (480, 360)
) -> list[str]:
    """A seed-layout batch of small JPEGs; returns the relative paths in queue order."""
    relpaths: list[str] = []
    for c in range(1, cases + 1):
        for v in range(1, visits + 1):
            folder = root / f"Case_{c:03d}" / f"Visit_{v}" / "XC_CLINICAL"
            folder.mkdir(parents=True)
            for i in range(1, images + 1):
                image = Image.new("RGB", size, ((50 * c) % 256, (90 * v) % 256, (25 * i) % 256))
                if size[0] >= 100:
                    ImageDraw.Draw(image).text((10, 10), f"C{c} V{v} #{i}", fill="white")
                image.save(folder / f"img{i}.jpg", quality=80)
                relpaths.append(f"Case_{c:03d}/Visit_{v}/XC_CLINICAL/img{i}.jpg")
    return relpaths


class LabelServer:
    """`clinlabel label BATCH ...` as a subprocess; its output goes to a log file."""

    def __init__(self, batch: Path, log: Path, *args: str) -> None:
        self.log = log
        handle = log.open("w")
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "clinlabel", "label", str(batch), "--no-browser", *args],
            stdout=handle,
            stderr=subprocess.STDOUT,
            env=env,
        )
        handle.close()
        self.url = self._wait_for_url()

    def _wait_for_url(self) -> str:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            found = URL_LINE.search(self.log.read_text())
            if found:
                return found.group(1)
            if self.proc.poll() is not None:
                raise RuntimeError(f"clinlabel label exited:\n{self.log.read_text()}")
            time.sleep(0.05)
        raise RuntimeError(f"no URL printed:\n{self.log.read_text()}")

    def stop(self) -> int:
        """Ctrl+C: the session is closed cleanly."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
        return self.proc.wait(timeout=30)

    def kill(self) -> None:
        """SIGKILL: no chance to clean up; everything shown as saved must still be there."""
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=30)


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not CHROMIUM.exists():
        pytest.skip("Debian's Chromium (/usr/bin/chromium) is not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        yield chromium
        chromium.close()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """Keeps each phase's report on the test item, so fixtures can tell a failed test."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


# What the page was doing when a test failed: the queue of requests, keys waiting for an image,
# the save line. A failure seen once on a busy machine then says where it stood.
PAGE_STATE = """() => {
    const app = window.clinlabel;
    if (!app) return "no labeller on the page";
    return JSON.stringify({
        position: app.view?.position ?? null,
        navigating: Boolean(app.navigating),
        buffered: app.buffered?.length,
        queue: app.queue?.items.map((item) => `${item.method} ${item.url}`),
        queueError: app.queue?.error?.message ?? null,
        saveStatus: document.getElementById("save-status")?.textContent,
        focus: document.activeElement?.id || document.activeElement?.tagName,
        openDialogs: [...document.querySelectorAll("dialog[open]")].map((d) => d.id),
        keys: app.keyLog,
    }, null, 1);
}"""


@pytest.fixture
def page(browser: object, request: pytest.FixtureRequest) -> Iterator[object]:
    context = browser.new_context(viewport={"width": 1400, "height": 860})  # type: ignore[attr-defined]
    context.set_default_timeout(15_000)
    # The assertions' waits as long as the actions': CI runs two browsers and their servers on
    # two shared cores, where a page's answer now and then took longer than expect's 5 s default.
    from playwright.sync_api import expect

    expect.set_options(timeout=15_000)
    context.add_init_script(INSTRUMENT)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    # Shown with a failing test's output: what the server refused, and why.
    page.on(
        "response",
        lambda r: r.status >= 400 and print(f"HTTP {r.status} {r.request.method} {r.url}"),
    )
    page.on("console", lambda m: m.type == "error" and print(f"console: {m.text}"))
    yield page
    failed = getattr(request.node, "report_call", None)
    if failed is not None and failed.failed and not page.is_closed():
        try:
            print("page state:", page.evaluate(PAGE_STATE))
        except Exception as error:  # a page that cannot answer: say so, keep the real failure
            print("page state unavailable:", error)
    banner = page.locator("#error-banner")
    if banner.count() and banner.is_visible():
        print("error banner:", banner.inner_text())
    context.close()
    assert not errors, errors


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[list[LabelServer]]:
    """Servers started by a test; whatever is still running at the end is stopped."""
    started: list[LabelServer] = []
    yield started
    for server in started:
        server.kill()
        # The server's own log, shown with a failing test's output (the last lines).
        print(f"--- {server.log.name} (last lines) ---")
        print("\n".join(server.log.read_text(errors="replace").splitlines()[-40:]))


@pytest.fixture
def start_server(servers: list[LabelServer], tmp_path: Path) -> object:
    def start(batch: Path, *args: str) -> LabelServer:
        server = LabelServer(batch, tmp_path / f"server-{len(servers)}.log", *args)
        servers.append(server)
        return server

    return start


@pytest.fixture
def batch_maker() -> object:
    return make_batch


def paint_count(page: Any) -> int:
    """How many times the medical viewer has painted its canvas or panes (instrumentation)."""
    return int(page.evaluate("() => window.clinlabel.medical.paints"))


def wait_for_repaint(page: Any, since: int) -> None:
    """Until the viewer has painted since `paint_count` was `since` and has no repaint pending,
    so the canvas shows the latest window, invert and point (the context's default deadline)."""
    page.wait_for_function(
        """n => {
            const m = window.clinlabel.medical;
            return m.paints > n && !m.pendingPaint && !m.tri.pendingPoint;
        }""",
        arg=since,
    )


def wait_until(
    page: Any, condition: Callable[[], object], what: str, *, seconds: float = 15
) -> None:
    """Poll `condition` (state on the test's side, e.g. a held request) until it holds, or fail
    after `seconds` saying `what` never happened: no wait without a deadline. The page's own
    timer does the polling, so Playwright delivers its events (route handlers) meanwhile."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {seconds} s")
        page.wait_for_timeout(20)


def viewer_pixels(page: Any) -> np.ndarray:
    """The grey channel of the viewer's canvas (`canvas_pixels`)."""
    return canvas_pixels(page.locator("#stage > canvas"))


def canvas_pixels(canvas: Any) -> np.ndarray:
    """The grey channel of a canvas (a Playwright locator), rows x columns, read with
    getImageData."""
    found = canvas.evaluate(
        """c => {
            const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
            const grey = new Array(c.width * c.height);
            for (let i = 0; i < grey.length; i++) grey[i] = d[4 * i];
            return {w: c.width, h: c.height, grey};
        }"""
    )
    return np.asarray(found["grey"], dtype=np.uint8).reshape(found["h"], found["w"])


def open_medical_image(page: Any, position: int, *, total: int) -> None:
    """Go to queue `position` and wait until the medical viewer shows that image."""
    from playwright.sync_api import expect

    page.wait_for_function("() => window.clinlabel !== undefined")
    page.evaluate("p => window.clinlabel.go(p)", position)
    expect(page.locator("#position-text")).to_have_text(f"Image {position} of {total}")
    page.wait_for_function(
        "p => window.clinlabel.medical.current !== null"
        " && window.clinlabel.medical.view.position === p",
        arg=position,
    )
