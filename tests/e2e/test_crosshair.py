"""The linked crosshair of the three-plane view in Chromium, on a NIfTI volume stored neither in
RAS order nor with square voxels (0.8 x 1.6 x 3 mm, axes permuted and flipped by its affine):
a click, a drag and the arrow keys set the 3-D point; every pane then shows the slice through it
and draws the other planes' lines through the point, checked against the engine's own oriented
slices (`nifti.oriented_slice`: patient left on screen right), not against the page's arithmetic."""

from __future__ import annotations

import dataclasses
import io
from pathlib import Path
from typing import Any

import nibabel as nib
import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import Page, expect

from clinlabel.imaging import nifti, windowing
from clinlabel.imaging.windowing import Window

from .conftest import canvas_pixels

pytestmark = pytest.mark.e2e

FOLDER = "Case_001/Visit_1/XC_CLINICAL"
PLANES = ("axial", "coronal", "sagittal")
# The page's plane colours (tri-view.js PLANE_COLOURS): each plane's line is drawn in its colour.
COLOURS = {"axial": "#d55e00", "coronal": "#009e73", "sagittal": "#f0e442"}


def write_volume(path: Path) -> None:
    """Random values (every slice differs from its neighbours) on voxel axes (S, L, A): axis 0
    runs superior at 3 mm, axis 1 towards the patient's left at 0.8 mm, axis 2 anterior at
    1.6 mm. In RAS order that is 36 (x) x 28 (y) x 20 (z) voxels."""
    stored = np.random.default_rng(11).integers(0, 1000, size=(20, 36, 28), dtype=np.int16)
    affine = np.zeros((4, 4))
    affine[2, 0], affine[0, 1], affine[1, 2], affine[3, 3] = 3.0, -0.8, 1.6, 1.0
    path.parent.mkdir(parents=True, exist_ok=True)
    nib.Nifti1Image(stored, affine).to_filename(path)


class Volume:
    """The engine's view of the file: oriented slices of its values and of its voxel numbers."""

    def __init__(self, path: Path) -> None:
        self.values = nifti.read_volume(path)
        numbers = np.arange(self.values.data.size).reshape(self.values.data.shape)
        self.numbers = dataclasses.replace(self.values, data=numbers)
        self.shape = self.values.data.shape

    def voxel_at(self, plane: str, index: int, column: int, row: int) -> tuple[int, int, int]:
        """The RAS voxel (from 0) shown at pixel (column, row) of slice `index` of `plane`."""
        shown, _, _ = nifti.oriented_slice(self.numbers, plane=plane, index=index)
        found = np.unravel_index(int(shown[row, column]), self.shape)
        return int(found[0]), int(found[1]), int(found[2])

    def pixel_of(self, plane: str, voxel: tuple[int, int, int]) -> tuple[int, int]:
        """Where `voxel` is on its slice of `plane`, as (column, row)."""
        index = voxel[nifti.PLANE_AXES[plane]] + 1
        shown, _, _ = nifti.oriented_slice(self.numbers, plane=plane, index=index)
        rows, columns = np.nonzero(shown == np.ravel_multi_index(voxel, self.shape))
        return int(columns[0]), int(rows[0])


def slices_through(voxel: tuple[int, int, int]) -> dict[str, int]:
    return {plane: voxel[nifti.PLANE_AXES[plane]] + 1 for plane in PLANES}


def pane(page: Page, plane: str) -> Any:
    return page.locator(f'.tri-cell[data-plane="{plane}"]')


def screen_point(page: Page, plane: str, column: float, row: float) -> tuple[float, float]:
    """The screen position of pixel (column, row)'s centre on `plane`'s pane."""
    canvas = pane(page, plane).locator("canvas")
    box = canvas.bounding_box()
    assert box is not None
    size = canvas.evaluate("c => [c.width, c.height]")
    return (
        box["x"] + (column + 0.5) * box["width"] / size[0],
        box["y"] + (row + 0.5) * box["height"] / size[1],
    )


def expect_point(page: Page, volume: Volume, voxel: tuple[int, int, int]) -> None:
    """Every pane shows the slice through `voxel` and crosses its lines on it."""
    slices = slices_through(voxel)
    x, y, z = volume.shape
    counts = {"sagittal": x, "coronal": y, "axial": z}
    for plane in PLANES:
        caption = pane(page, plane).locator("figcaption")
        expect(caption).to_have_text(f"{plane.capitalize()} {slices[plane]} / {counts[plane]}")
    # The panes and the overlay are painted in the same task that keeps the slices, and no
    # newer point may be waiting for its slices.
    page.wait_for_function(
        "s => ['axial', 'coronal', 'sagittal'].every("
        "p => window.clinlabel.medical.tri.data[p].header.frame === s[p])"
        " && !window.clinlabel.medical.tri.pendingPoint",
        arg=slices,
    )
    _settled(page)
    transform = volume.values.transform
    window = page.evaluate("() => window.clinlabel.medical.window")
    win = Window(window["center"], window["width"], window["function"])
    for plane in PLANES:
        stored, row_spacing, column_spacing = nifti.oriented_slice(
            volume.values, plane=plane, index=slices[plane]
        )
        modality = stored.astype(np.float64) * transform.slope + transform.intercept
        wanted = windowing.to_uint8(windowing.apply_window(modality, win))
        np.testing.assert_array_equal(pane_grey(page, plane), wanted)
        # The pane keeps the voxel spacing's aspect (so a click lands on the voxel under it).
        box = pane(page, plane).locator("canvas").bounding_box()
        assert box is not None
        rows, columns = stored.shape
        assert box["height"] / box["width"] == pytest.approx(
            rows * row_spacing / (columns * column_spacing), rel=0.02
        )
        expect_crosshair(page, plane, volume.pixel_of(plane, voxel))


def _settled(page: Page) -> None:
    """Until the page's scroll and the panes' boxes have stayed put for a few frames: the points
    compared below (the pixel's centre, each line's box, a screenshot's clip) are read one after
    the other, and a layout still moving (the panes fitted to the cell, the page scrolled to the
    focused pane) made them disagree by whole pixels now and then."""
    page.evaluate(
        """() => new Promise(done => {
            let last = null, same = 0;
            const step = () => {
                const boxes = [...document.querySelectorAll('.tri-cell canvas, .tri-cell svg')]
                    .map(e => { const r = e.getBoundingClientRect();
                                return [r.x, r.y, r.width, r.height]; });
                const now = JSON.stringify([window.scrollX, window.scrollY, boxes]);
                same = now === last ? same + 1 : 0;
                last = now;
                if (same >= 5) done(); else requestAnimationFrame(step);
            };
            requestAnimationFrame(step);
        })"""
    )


def pane_grey(page: Page, plane: str) -> np.ndarray:
    return canvas_pixels(pane(page, plane).locator("canvas"))


def expect_crosshair(page: Page, plane: str, pixel: tuple[int, int]) -> None:
    """On `plane`'s pane, a vertical and a horizontal line cross at `pixel`'s centre on screen,
    each in the colour of the plane it stands for, and they are visible in a screenshot."""
    cx, cy = screen_point(page, plane, *pixel)
    lines = (
        pane(page, plane)
        .locator("svg line")
        .evaluate_all(
            """ls => ls.map(l => {
            const r = l.getBoundingClientRect();
            return {plane: l.dataset.plane, stroke: l.getAttribute('stroke'),
                    x: r.left + r.width / 2, y: r.top + r.height / 2, w: r.width, h: r.height};
        })"""
        )
    )
    others = [p for p in PLANES if p != plane]
    assert sorted({line["plane"] for line in lines}) == sorted(others)
    for line in lines:
        assert line["stroke"].lower() == COLOURS[line["plane"]]
        if line["h"] > line["w"]:  # vertical: where the column's plane cuts this pane
            assert abs(line["x"] - cx) <= 1.0, (plane, line, cx)
        else:
            assert abs(line["y"] - cy) <= 1.0, (plane, line, cy)
    vertical = next(line for line in lines if line["h"] > line["w"])
    horizontal = next(line for line in lines if line["w"] > line["h"])
    # Seen on screen: the line's colour a little way along each arm (away from the gap).
    for line, (sx, sy) in ((vertical, (cx, cy - 14)), (horizontal, (cx - 14, cy))):
        if line["h"] > line["w"] and vertical["y"] - vertical["h"] / 2 > sy:
            sy = cy + 14  # the point is at the pane's top edge: look below it
        if line["w"] > line["h"] and horizontal["x"] - horizontal["w"] / 2 > sx:
            sx = cx + 14
        shot = page.screenshot(clip={"x": sx - 2, "y": sy - 2, "width": 5, "height": 5})
        patch = np.asarray(Image.open(io.BytesIO(shot)).convert("RGB"), dtype=np.int32)
        colour = bytes.fromhex(COLOURS[line["plane"]][1:])
        distance = np.abs(patch - np.array(list(colour))).sum(axis=2).min()
        assert distance <= 60, (plane, line["plane"], patch.reshape(-1, 3).tolist())


def open_volume(page: Page, tmp_path: Path, start_server: Any) -> tuple[Any, Volume]:
    """The volume and a photo after it in one visit, served and opened at the volume."""
    batch = tmp_path / "batch"
    path = batch / FOLDER / "a_volume.nii.gz"
    write_volume(path)
    Image.new("RGB", (64, 48), (90, 90, 90)).save(batch / FOLDER / "b_photo.jpg")
    volume = Volume(path)
    assert volume.shape == (36, 28, 20)
    server = start_server(batch, "--out", str(tmp_path / "project"), "--annotator", "Dr Point")
    page.goto(server.url)
    page.wait_for_function("() => Boolean(window.clinlabel?.medical.current)")
    return server, volume


def test_click_drag_and_keys_move_the_linked_point(
    page: Page, tmp_path: Path, start_server: Any
) -> None:
    server, volume = open_volume(page, tmp_path, start_server)
    position = page.locator("#position-text")
    expect(position).to_have_text("Image 1 of 2")

    page.keyboard.press("t")
    expect(page.locator("#tri-view")).to_be_visible()
    # The volume opens at the middle slice of every plane: the point is the middle voxel.
    start = (18 - 1, 14 - 1, 10 - 1)
    expect_point(page, volume, start)

    # ---- a click in the axial pane: coronal and sagittal jump to the slices through it ------
    column, row = 25, 7  # towards the patient's left (screen right) and anterior (top)
    target = volume.voxel_at("axial", 10, column, row)
    assert target[2] == 9 and target[:2] != start[:2]
    page.mouse.click(*screen_point(page, "axial", column, row))
    expect_point(page, volume, target)
    expect(page.locator("#frame-readout")).to_have_text("Axial slice 10 / 20")

    # ---- a drag in the sagittal pane: the point follows to where the button is released -----
    sagittal = target[0] + 1
    begin = volume.pixel_of("sagittal", target)
    end = (3, 16)
    page.mouse.move(*screen_point(page, "sagittal", *begin))
    page.mouse.down()
    for step in range(1, 9):
        t = step / 8
        page.mouse.move(
            *screen_point(
                page,
                "sagittal",
                begin[0] + (end[0] - begin[0]) * t,
                begin[1] + (end[1] - begin[1]) * t,
            )
        )
    page.mouse.up()
    dragged = volume.voxel_at("sagittal", sagittal, *end)
    assert dragged[0] == target[0]  # the sagittal pane's own slice stays
    expect_point(page, volume, dragged)
    expect(page.locator("#frame-readout")).to_have_text(f"Sagittal slice {sagittal} / 36")

    # ---- keys: the clicked pane has the focus; arrows move the point on screen --------------
    expect(pane(page, "sagittal")).to_be_focused()
    page.keyboard.press("ArrowUp")
    page.keyboard.press("Shift+ArrowRight")
    moved = volume.voxel_at("sagittal", sagittal, end[0] + 10, end[1] - 1)
    expect_point(page, volume, moved)
    page.keyboard.press("PageDown")  # the focused pane's own slice, as before
    moved = (moved[0] + 1, moved[1], moved[2])
    expect_point(page, volume, moved)
    page.keyboard.press("ArrowLeft")
    expect(position).to_have_text("Image 1 of 2")  # arrows stayed in the pane
    column, row = volume.pixel_of("sagittal", moved)
    moved = volume.voxel_at("sagittal", moved[0] + 1, column - 1, row)
    expect_point(page, volume, moved)

    # Tab reaches a pane too; Escape hands the arrows back to image navigation.
    page.keyboard.press("Shift+Tab")
    expect(pane(page, "coronal")).to_be_focused()
    page.keyboard.press("ArrowDown")
    column, row = volume.pixel_of("coronal", moved)
    moved = volume.voxel_at("coronal", moved[1] + 1, column, row + 1)
    expect_point(page, volume, moved)
    page.keyboard.press("Escape")
    expect(page.locator("#stage")).to_be_focused()
    page.keyboard.press("t")  # one plane again: the active (coronal) plane at the point
    expect(page.locator("#frame-readout")).to_have_text(f"Coronal slice {moved[1] + 1} / 28")
    page.keyboard.press("ArrowRight")
    expect(position).to_have_text("Image 2 of 2")
    page.keyboard.press("ArrowLeft")
    expect(position).to_have_text("Image 1 of 2")

    # Label keys keep working with a pane focused: "1" labels the volume and moves on.
    page.wait_for_function("() => Boolean(window.clinlabel.medical.current)")
    page.keyboard.press("t")
    expect(page.locator("#tri-view")).to_be_visible()
    page.wait_for_function("() => window.clinlabel.medical.tri.data !== null")
    page.mouse.click(*screen_point(page, "axial", 5, 5))
    expect(pane(page, "axial")).to_be_focused()
    page.keyboard.press("1")
    expect(position).to_have_text("Image 2 of 2")
    page.keyboard.press("ArrowLeft")
    expect(position).to_have_text("Image 1 of 2")
    expect(page.locator("#current-label")).to_contain_text("Suspicious")
    assert server.stop() in (0, 130)


def test_the_panes_fit_their_cells_again_when_the_stage_changes_size(
    page: Page, tmp_path: Path, start_server: Any
) -> None:
    # A window made smaller (or the visit strip appearing under the stage a moment after the
    # view opens): every pane is fitted to its cell again, inside it, and a click still lands on
    # the voxel under the pointer, with the lines crossing there.
    server, volume = open_volume(page, tmp_path, start_server)
    page.keyboard.press("t")
    expect(page.locator("#tri-view")).to_be_visible()
    start = (18 - 1, 14 - 1, 10 - 1)
    expect_point(page, volume, start)
    before = {p: pane(page, p).locator("canvas").bounding_box() for p in PLANES}

    viewport = page.viewport_size
    assert viewport is not None
    page.set_viewport_size({"width": viewport["width"] - 200, "height": viewport["height"] - 240})
    _settled(page)
    for plane in PLANES:
        cell = pane(page, plane).bounding_box()
        box = pane(page, plane).locator("canvas").bounding_box()
        assert cell is not None and box is not None and before[plane] is not None
        assert box["height"] < before[plane]["height"]  # fitted again, smaller
        assert cell["x"] <= box["x"] and box["x"] + box["width"] <= cell["x"] + cell["width"]
        assert cell["y"] <= box["y"] and box["y"] + box["height"] <= cell["y"] + cell["height"]
        # and as large as the cell allows, along one side at least (4 px: the cell's border)
        assert box["width"] >= cell["width"] - 5 or box["height"] >= cell["height"] - 40
    expect_point(page, volume, start)  # the lines cross on the point in the new layout

    column, row = 6, 15
    target = volume.voxel_at("coronal", start[1] + 1, column, row)
    page.mouse.click(*screen_point(page, "coronal", column, row))
    expect_point(page, volume, target)
    assert server.stop() in (0, 130)


def test_a_narrow_window_keeps_the_viewer_and_its_tools_in_their_column(
    page: Page, tmp_path: Path, start_server: Any
) -> None:
    # Half a screen or a small laptop: the panes and every tool (the window's list, W/L drag,
    # the plane buttons) wrap inside the viewer's column, never under the label panel's keys.
    page.set_viewport_size({"width": 1100, "height": 700})
    server, _ = open_volume(page, tmp_path, start_server)
    outside = """() => {
        const column = document.getElementById('viewer-area').getBoundingClientRect();
        const labels = document.getElementById('labels').getBoundingClientRect();
        return [...document.querySelectorAll(
                '#viewer-area button, #viewer-area select, #viewer-area output, .tri-cell')]
            .filter(e => e.offsetParent !== null)
            .map(e => [e.id || e.className || e.tagName, e.getBoundingClientRect()])
            .filter(([, r]) => r.right > column.right + 0.5 || r.right > labels.left + 0.5
                               || r.left < column.left - 0.5)
            .map(([name, r]) => `${name} ${Math.round(r.left)}-${Math.round(r.right)}`);
    }"""
    expect(page.locator("#wl-tools")).to_be_visible()
    assert page.evaluate(outside) == []
    page.keyboard.press("t")
    expect(page.locator("#tri-view")).to_be_visible()
    page.wait_for_function("() => window.clinlabel.medical.tri.data !== null")
    _settled(page)
    assert page.evaluate(outside) == []
    assert server.stop() in (0, 130)
