"""The page's "Finish and export" (`POST /api/outputs/final`) writes the same files as
`clinlabel export`: the five-column labels CSV, the frame labels CSV, the summary report."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from clinlabel.cli.app import cli
from clinlabel.demo.medical import write_demo_medical
from clinlabel.web.config import WebSettings

from .conftest import TOKEN, _client


@pytest.fixture
def medical_client(tmp_path: Path) -> Iterator[TestClient]:
    folder = tmp_path / "batch" / "Case_1" / "Visit_1" / "XC"
    folder.mkdir(parents=True)
    write_demo_medical(folder, seed=1)
    settings = WebSettings(
        batch=tmp_path / "batch",
        token=TOKEN,
        port=8123,
        project_dir=tmp_path / "project",
        annotator="alice",
    )
    yield from _client(settings)


def _rows(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.reader(handle))


def test_finish_writes_what_export_writes(medical_client: TestClient, tmp_path: Path) -> None:
    client = medical_client
    queue = client.get("/api/queue?start=1&count=20").json()
    xa = next(item for item in queue if item["file"].endswith("xa_run.dcm"))
    other = next(item for item in queue if item["id"] != xa["id"])
    for image_id, body in [
        (xa["id"], {"label": "Non-Suspicious"}),
        (xa["id"], {"label": "Suspicious", "frame": 4}),
        (other["id"], {"label": "NA", "comment": "no contrast"}),
    ]:
        assert client.put(f"/api/images/{image_id}/label", json=body).status_code == 200
    final = client.post("/api/outputs/final").json()
    labels = Path(final["csv"])
    frames = Path(final["frame_csv"])
    assert frames == labels.parent / "clinical_frame_labels.csv"
    assert _rows(labels)[0] == ["case", "visit", "file", "label", "comment"]
    assert len(_rows(labels)) == 3  # header + one row per labelled image
    assert [row[3:5] for row in _rows(frames)[1:]] == [["4", "Suspicious"]]

    result = CliRunner().invoke(
        cli, ["export", str(tmp_path / "project"), "--csv", str(tmp_path / "cli" / "x.csv")]
    )
    assert result.exit_code == 0, result.output
    assert (tmp_path / "cli" / "x.csv").read_bytes() == labels.read_bytes()
    assert (tmp_path / "cli" / "clinical_frame_labels.csv").read_bytes() == frames.read_bytes()
