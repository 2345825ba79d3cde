"""An open tab survives a server restart and a reload: nothing queued is lost, nothing is sent
twice, and the page never says "saved" while anything is waiting (issue 10)."""

from __future__ import annotations

import json
import re
import signal
import socket
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from PIL import Image
from playwright.sync_api import Page, Route, expect

from clinlabel.labelling.audit_trail import read_events

pytestmark = pytest.mark.e2e

LABELS = "**/api/images/*/label"


def label_events(project: Path) -> Counter[str]:
    """How many label events (saved or changed) each image has in the audit trail."""
    return Counter(
        event["image"]
        for event in read_events(project, limit=0)
        if event["kind"] in ("label_saved", "label_changed")
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def stop(server: Any, how: str) -> None:
    if how == "SIGKILL":
        server.kill()
    else:
        server.proc.send_signal(signal.SIGTERM)
        server.proc.wait(timeout=30)


def start_labelled(
    page: Page, tmp_path: Path, batch_maker: Callable[..., list[str]], start_server: Any, *args: str
) -> tuple[Any, Path, Path, list[str]]:
    """A 6-image batch served for annotator "ann"; the first image labelled and saved."""
    batch = tmp_path / "batch"
    relpaths = batch_maker(batch, cases=1, visits=1, images=6)
    out = tmp_path / "project"
    server = start_server(batch, "--out", str(out), "--annotator", "ann", *args)
    page.on("dialog", lambda dialog: dialog.accept())  # "leave with changes waiting?": yes
    page.goto(server.url)
    expect(page.locator("#position-text")).to_have_text("Image 1 of 6")
    page.keyboard.press("1")
    expect(page.locator("#position-text")).to_have_text("Image 2 of 6")
    expect(page.locator("#save-status")).to_have_text("All labels saved")
    # The page holds the next images' records, so keys keep working while the server is away.
    page.wait_for_function("() => window.clinlabel.images.viewAt(5) !== undefined")
    return server, batch, out, relpaths


@pytest.mark.parametrize(
    ("how", "fixed_port"), [("SIGTERM", False), ("SIGKILL", False), ("SIGKILL", True)]
)
def test_labels_queued_while_the_server_restarts_are_saved_once(
    page: Page,
    tmp_path: Path,
    batch_maker: Callable[..., list[str]],
    start_server: Any,
    how: str,
    fixed_port: bool,
) -> None:
    port_args = ("--port", str(free_port())) if fixed_port else ()
    server, batch, out, relpaths = start_labelled(
        page, tmp_path, batch_maker, start_server, *port_args
    )
    stop(server, how)

    page.keyboard.press("2")  # image 2
    expect(page.locator("#position-text")).to_have_text("Image 3 of 6")
    page.keyboard.press("1")  # image 3
    expect(page.locator("#position-text")).to_have_text("Image 4 of 6")
    status = page.locator("#save-status")
    expect(page.locator("#error-banner")).to_contain_text("2 label change(s) waiting")
    expect(status).not_to_have_text("All labels saved")

    again = start_server(batch, "--out", str(out), "--annotator", "ann", *port_args)
    # The project's port and token: the open tab's address and cookie are still good.
    assert urlsplit(again.url).port == urlsplit(server.url).port
    expect(status).to_have_text("All labels saved", timeout=20_000)
    expect(page.locator("#error-banner")).to_be_hidden()
    # Until issue 10, "All labels saved" came with these two refused: "Wrong token".
    page.keyboard.press("ArrowLeft")
    expect(page.locator("#current-label")).to_contain_text("Suspicious — saved")
    page.keyboard.press("ArrowLeft")
    expect(page.locator("#current-label")).to_contain_text("Non-Suspicious — saved")
    assert urlsplit(again.url).query == urlsplit(server.url).query
    again.stop()

    events = label_events(out)
    assert events == {relpaths[0]: 1, relpaths[1]: 1, relpaths[2]: 1}, events


def test_a_queued_label_goes_to_its_image_after_a_rescan(
    page: Page, tmp_path: Path, batch_maker: Callable[..., list[str]], start_server: Any
) -> None:
    server, batch, out, relpaths = start_labelled(page, tmp_path, batch_maker, start_server)
    stop(server, "SIGKILL")
    page.keyboard.press("2")  # image 2 (position 2 now)
    expect(page.locator("#position-text")).to_have_text("Image 3 of 6")
    # Meanwhile a case that sorts first joins the batch: every position moves by one.
    folder = batch / "Case_000" / "Visit_1" / "XC_CLINICAL"
    folder.mkdir(parents=True)
    Image.new("RGB", (64, 64), (9, 9, 9)).save(folder / "first.jpg")
    subprocess.run(
        [sys.executable, "-m", "clinlabel", "init", str(batch), "--out", str(out)],
        check=True,
        capture_output=True,
    )
    again = start_server(batch, "--out", str(out), "--annotator", "ann")
    expect(page.locator("#save-status")).to_have_text("All labels saved", timeout=20_000)
    again.stop()
    assert label_events(out) == {relpaths[0]: 1, relpaths[1]: 1}


def test_a_new_token_keeps_the_queue_until_the_new_link_is_opened(
    page: Page, tmp_path: Path, batch_maker: Callable[..., list[str]], start_server: Any
) -> None:
    server, batch, out, relpaths = start_labelled(page, tmp_path, batch_maker, start_server)
    stop(server, "SIGKILL")
    page.keyboard.press("2")  # image 2
    expect(page.locator("#position-text")).to_have_text("Image 3 of 6")

    again = start_server(batch, "--out", str(out), "--annotator", "ann", "--new-token")
    assert urlsplit(again.url).port == urlsplit(server.url).port
    assert urlsplit(again.url).query != urlsplit(server.url).query
    # The old token is refused: the label is neither dropped nor claimed saved.
    banner = page.locator("#error-banner")
    expect(banner).to_contain_text("Open the link printed in the terminal", timeout=20_000)
    expect(banner).to_contain_text("1 label change(s) waiting")
    expect(page.locator("#save-status")).not_to_have_text("All labels saved")
    assert label_events(out) == {relpaths[0]: 1}

    # Opening the new link (a reload) sends what this browser kept.
    page.goto(again.url)
    expect(page.locator("#save-status")).to_have_text("All labels saved", timeout=20_000)
    again.stop()
    assert label_events(out) == {relpaths[0]: 1, relpaths[1]: 1}


def test_a_reload_keeps_unacknowledged_labels_and_sends_each_once(
    page: Page, tmp_path: Path, batch_maker: Callable[..., list[str]], start_server: Any
) -> None:
    server, _, out, relpaths = start_labelled(page, tmp_path, batch_maker, start_server)
    answered = {"first": False}

    def lost_answers(route: Route) -> None:
        # The first change reaches the server, but its answer is lost; the others never arrive.
        if not answered["first"]:
            answered["first"] = True
            route.fetch()
        route.abort("connectionreset")

    page.route(LABELS, lost_answers)
    page.keyboard.press("2")  # image 2: saved, but the page does not know
    page.keyboard.press("1")  # image 3: not saved
    expect(page.locator("#position-text")).to_have_text("Image 4 of 6")
    status = page.locator("#save-status")
    banner = page.locator("#error-banner")
    expect(banner).to_contain_text("2 label change(s) waiting")
    assert label_events(out) == {relpaths[0]: 1, relpaths[1]: 1}

    page.reload()
    # Still waiting after the reload, and the page says how many and where they are kept.
    expect(banner).to_contain_text("2 label change(s) waiting")
    expect(status).to_have_text("Not saved yet: 2 label change(s) waiting")
    expect(banner).to_contain_text("kept in this browser until the server has them")
    expect(page.locator("#notice")).to_contain_text("2 label change(s) made before")
    page.unroute(LABELS)
    expect(status).to_have_text("All labels saved", timeout=20_000)
    # After another reload nothing is left to send.
    page.reload()
    expect(page.locator("#position-text")).to_be_visible()
    expect(status).to_have_text("All labels saved")
    expect(page.locator("#notice")).not_to_contain_text("made before")
    server.stop()
    # Image 2's label reached the server twice; it is one event, as is every other label.
    assert label_events(out) == {relpaths[0]: 1, relpaths[1]: 1, relpaths[2]: 1}


def test_a_frame_label_kept_across_a_reload_goes_to_its_frame(
    page: Page, tmp_path: Path, start_server: Any
) -> None:
    from clinlabel.demo.medical import write_demo_medical

    folder = "Case_001/Visit_1/XC_CLINICAL"
    batch = tmp_path / "batch"
    write_demo_medical(batch / folder, seed=7)
    out = tmp_path / "project"
    server = start_server(batch, "--out", str(out), "--annotator", "ann")
    page.on("dialog", lambda dialog: dialog.accept())
    page.goto(server.url)
    page.wait_for_function("() => window.clinlabel !== undefined")
    page.evaluate("() => window.clinlabel.go(4)")  # the XA run (30 frames)
    readout = page.locator("#frame-readout")
    expect(readout).to_have_text("Frame 1 / 30")
    page.keyboard.press("PageDown")
    expect(readout).to_have_text("Frame 2 / 30")
    page.route(LABELS, lambda route: route.abort("connectionreset"))
    page.keyboard.press("l")  # label this frame only
    expect(page.locator("#frame-toggle")).to_be_checked()
    page.keyboard.press("1")
    expect(page.locator("#error-banner")).to_contain_text("1 label change(s) waiting")

    page.reload()
    expect(page.locator("#save-status")).to_have_text("Not saved yet: 1 label change(s) waiting")
    page.unroute(LABELS)
    expect(page.locator("#save-status")).to_have_text("All labels saved", timeout=20_000)
    server.stop()
    labels = [
        (event["image"], event["frame"], json.loads(event["data"])["new"]["label"])
        for event in read_events(out, limit=0)
        if event["kind"] in ("label_saved", "label_changed")
    ]
    assert labels == [(f"{folder}/xa_run.dcm", 2, "Suspicious")], labels


def test_a_frame_label_goes_to_the_frame_the_readout_names_while_its_pixels_load(
    page: Page, tmp_path: Path, start_server: Any
) -> None:
    # PageDown names frame 2 at once; its pixels may take a while (held here). A frame label
    # pressed meanwhile goes to frame 2, the frame the annotator chose, not to frame 1.
    from clinlabel.demo.medical import write_demo_medical

    folder = "Case_001/Visit_1/XC_CLINICAL"
    batch = tmp_path / "batch"
    write_demo_medical(batch / folder, seed=7)
    out = tmp_path / "project"
    server = start_server(batch, "--out", str(out), "--annotator", "ann")
    held: list[Route] = []
    page.route("**/api/images/*/pixels?frame=2*", lambda route: held.append(route))
    page.goto(server.url)
    page.wait_for_function("() => window.clinlabel !== undefined")
    page.evaluate("() => window.clinlabel.go(4)")  # the XA run (30 frames)
    readout = page.locator("#frame-readout")
    expect(readout).to_have_text("Frame 1 / 30")
    page.keyboard.press("PageDown")
    expect(readout).to_have_text("Frame 2 / 30")
    page.keyboard.press("l")  # label this frame only
    expect(page.locator("#frame-toggle")).to_be_checked()
    page.keyboard.press("1")
    expect(page.locator("#frame-label-list li")).to_have_text(re.compile(r"^Frame 2: Suspicious"))
    for route in held:
        route.continue_()
    expect(page.locator("#save-status")).to_have_text("All labels saved")
    server.stop()
    labels = [
        (event["image"], event["frame"], json.loads(event["data"])["new"]["label"])
        for event in read_events(out, limit=0)
        if event["kind"] in ("label_saved", "label_changed")
    ]
    assert labels == [(f"{folder}/xa_run.dcm", 2, "Suspicious")], labels


def test_without_browser_storage_the_page_says_to_keep_it_open(
    page: Page, tmp_path: Path, batch_maker: Callable[..., list[str]], start_server: Any
) -> None:
    # A browser with no IndexedDB (a locked-down profile): the waiting labels live in the page
    # only, and the page must not claim they are kept in the browser; they are sent all the same.
    page.add_init_script("Object.defineProperty(window, 'indexedDB', {value: undefined})")
    server, batch, out, relpaths = start_labelled(page, tmp_path, batch_maker, start_server)
    stop(server, "SIGKILL")
    page.keyboard.press("2")
    expect(page.locator("#position-text")).to_have_text("Image 3 of 6")
    banner = page.locator("#error-banner")
    expect(banner).to_contain_text(
        "1 label change(s) waiting, held by this page only: keep it open"
    )
    expect(banner).not_to_contain_text("kept in this browser")
    again = start_server(batch, "--out", str(out), "--annotator", "ann")
    expect(page.locator("#save-status")).to_have_text("All labels saved", timeout=20_000)
    again.stop()
    assert label_events(out) == {relpaths[0]: 1, relpaths[1]: 1}
