"""Finish and export with a region format (issue 12), in Chromium: the finish bar offers the
region exports the project's schema makes sensible, the annotator ticks COCO, and the file
written into the output folder loads in pycocotools with the regions drawn in the page."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from playwright.sync_api import expect
from pycocotools.coco import COCO

from clinlabel.labelling.audit_trail import read_events, verify_project

pytestmark = pytest.mark.e2e

SCHEMA = """
[[labels]]
name = "Suspicious"
key = "1"
[[labels]]
name = "Non-Suspicious"
key = "2"

[[regions]]
name = "Lesion"
colour = "#e4572e"

[[regions]]
name = "Vessel"
colour = "#29b6f6"
tools = ["polygon"]
"""

READY = """() => {
    const layer = window.clinlabel?.regions;
    const svg = document.querySelector('svg.region-layer');
    return layer?.grid && window.clinlabel.viewer.img && svg && svg.style.display !== 'none';
}"""

SETTLED = """async () => {
    // The stage refits the image when the visit strip appears: read coordinates once the
    // layer has kept its place for half a second.
    const layer = document.querySelector('svg.region-layer');
    const box = () => JSON.stringify(layer.getBoundingClientRect());
    let last = box(), since = performance.now();
    while (performance.now() - since < 500) {
        await new Promise((r) => setTimeout(r, 50));
        const now = box();
        if (now !== last) { last = now; since = performance.now(); }
    }
}"""


def _to_screen(page: Any, x: float, y: float) -> tuple[float, float]:
    box = page.evaluate(
        """() => {
            const r = document.querySelector('svg.region-layer').getBoundingClientRect();
            const grid = window.clinlabel.regions.grid;
            return {x: r.x, y: r.y, w: r.width, h: r.height, gw: grid.width, gh: grid.height};
        }"""
    )
    return box["x"] + x / box["gw"] * box["w"], box["y"] + y / box["gh"] * box["h"]


def _put_polygon(page: Any, uid: str, points: list[list[float]]) -> None:
    """A polygon saved as the page saves one (its own request, with the page's credentials)."""
    status = page.evaluate(
        """async ([uid, points]) => {
            const body = {image_id: window.clinlabel.view.id, class: 'Vessel', tool: 'polygon',
                          geometry: {points}};
            const r = await fetch(`/api/regions/${uid}`, {
                method: 'PUT', credentials: 'same-origin',
                headers: {'Content-Type': 'application/json'}, body: JSON.stringify(body)});
            return r.status;
        }""",
        [uid, points],
    )
    assert status == 200


def test_finish_offers_coco_and_writes_a_file_pycocotools_loads(
    page: Any, start_server: Any, batch_maker: Any, tmp_path: Path
) -> None:
    batch = tmp_path / "batch"
    batch_maker(batch, cases=1, visits=1, images=2, size=(480, 360))
    schema = tmp_path / "schema.toml"
    schema.write_text(SCHEMA)
    project = tmp_path / "project"
    server = start_server(
        batch, "--out", str(project), "--annotator", "Dr F", "--schema", str(schema)
    )
    page.goto(server.url)
    page.wait_for_function(READY)
    page.evaluate(SETTLED)

    # A box drawn with the mouse on the first image, a polygon saved on it too.
    page.keyboard.press("b")
    start, end = _to_screen(page, 40, 50), _to_screen(page, 200, 150)
    page.mouse.move(*start)
    page.mouse.down()
    page.mouse.move(*end, steps=8)
    page.mouse.up()
    _put_polygon(page, "e2e-polygon", [[300, 100], [420, 120], [360, 300]])
    page.evaluate("() => window.clinlabel.queue.idle()")
    page.keyboard.press("1")  # labelled: the CSV gets a row as always
    page.keyboard.press("2")

    # Finish: the bar offers the formats a project of photos with region classes can use.
    page.get_by_role("button", name="Finish and export").click()
    bar = page.get_by_role("group", name="Finish and export")
    expect(bar).to_contain_text("All 2 images are labelled")
    offered = bar.get_by_role("group", name="Also export the regions as")
    expect(offered.get_by_role("checkbox")).to_have_count(3)
    for title in ("COCO", "PNG masks", "labelme JSON"):
        expect(offered.get_by_role("checkbox", name=title)).not_to_be_checked()
    expect(offered.get_by_role("checkbox", name="DICOM SEG")).to_have_count(0)
    expect(offered.get_by_role("checkbox", name="NIfTI label maps")).to_have_count(0)
    offered.get_by_role("checkbox", name="COCO").check()
    bar.get_by_role("button", name="Export", exact=True).click()

    # The page says what was written, and where.
    exported = page.get_by_role("dialog", name="Exported")
    expect(exported).to_be_visible()
    line = exported.locator("li.region-export[data-format='coco']")
    expect(line).to_contain_text("COCO: 2 region(s) in 1 file(s)")
    folder = Path(line.locator("code").inner_text())
    assert folder == (project / "exports" / "coco").resolve()
    assert Path(exported.locator("#outputs-csv").inner_text()).is_file()

    coco = COCO(str(folder / "instances.json"))
    assert [c["name"] for c in coco.loadCats(coco.getCatIds())] == ["Lesion", "Vessel"]
    (image,) = coco.loadImgs(coco.getImgIds())
    assert (image["width"], image["height"]) == (480, 360)
    anns = {coco.loadCats(a["category_id"])[0]["name"]: a for a in coco.loadAnns(coco.getAnnIds())}
    x, y, w, h = anns["Lesion"]["bbox"]
    assert x == pytest.approx(40, abs=2) and y == pytest.approx(50, abs=2)
    assert w == pytest.approx(160, abs=3) and h == pytest.approx(100, abs=3)
    mask = coco.annToMask(anns["Vessel"])
    assert mask.shape == (360, 480) and mask[180, 360] == 1 and mask[50, 50] == 0
    assert int(np.sum(mask)) == pytest.approx(anns["Vessel"]["area"], rel=0.05)

    server.stop()
    events = [json.loads(e["data"]) for e in read_events(project, limit=0)]
    (recorded,) = [d for d in events if d.get("output") == "regions_coco"]
    assert set(recorded["files"]) == {"instances.json"}
    assert verify_project(project).ok
