"""A small batch in the seed layout, written by code (tiny files: the scan reads only their first
bytes, so each starts with its format's signature and no pixels follow)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from clinlabel.labelling.project import Project, init_project, open_project

LAYOUT = {
    "Case_1/Visit_1/XC_CLINICAL": ["img1.jpg", "img2.jpg", "img10.jpg"],
    "Case_1/Visit_2/CLINICAL_IMAGES": ["img1.jpg"],
    "Case_2/Visit_1/XC": ["a.png", "b.png"],
}


SIGNATURES = {".jpg": b"\xff\xd8\xff\xe0", ".png": b"\x89PNG\r\n\x1a\n"}


def image_bytes(name: str, text: str) -> bytes:
    """Bytes that start as the image `name` says (its signature), then `text`: an image for the
    queue, which the viewer cannot show (no pixels)."""
    return SIGNATURES[Path(name).suffix.lower()] + text.encode()


def make_batch(root: Path, layout: dict[str, list[str]] = LAYOUT) -> Path:
    for folder, names in layout.items():
        (root / folder).mkdir(parents=True, exist_ok=True)
        for name in names:
            (root / folder / name).write_bytes(image_bytes(name, f"synthetic {folder}/{name}"))
    return root


@pytest.fixture
def batch(tmp_path: Path) -> Path:
    return make_batch(tmp_path / "Batch")


@pytest.fixture
def project(tmp_path: Path, batch: Path, database_url: str | None) -> Iterator[Project]:
    init_project(batch, tmp_path / "project", database_url=database_url)
    with open_project(tmp_path / "project") as opened:
        yield opened


def label_two(project: Project) -> tuple[int, int]:
    """Dr A labels the first two images (Suspicious; NA "blurred"); their ids."""
    from clinlabel.labelling.service import LabellingSession

    session = LabellingSession(project, annotator="Dr A")
    first = session.start().view
    second = session.next().view
    session.save_label(first.id, "Suspicious")
    session.save_label(second.id, "NA", "blurred")
    session.close()
    return first.id, second.id


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds
