"""Every input to the API is bounded: body size, whole numbers, text, frames, project folders."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from .conftest import ORIGIN, PORT, TOKEN, make_batch

BIG = 2**70
CHUNK = 64 * 1024
CAP = 1024 * 1024


def raw_request(
    client: TestClient, method: str, path: str, chunks: Iterator[bytes], headers: dict[str, str]
) -> tuple[int, dict[str, Any], int]:
    """Drive the ASGI app directly, so a body is produced only as fast as the server reads it.

    (The test client would read a streamed body whole before sending it.) Returns the status,
    the JSON answer and how many chunks the server pulled.
    """
    pulled = 0
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        nonlocal pulled
        chunk = next(chunks, None)
        if chunk is None:
            return {"type": "http.request", "body": b"", "more_body": False}
        pulled += 1
        return {"type": "http.request", "body": chunk, "more_body": True}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    all_headers = {
        "host": f"127.0.0.1:{PORT}",
        "origin": ORIGIN,
        "x-clinlabel-token": TOKEN,
        "content-type": "application/json",
        **headers,
    }
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(k.encode(), v.encode()) for k, v in all_headers.items()],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", PORT),
    }
    # In a thread of its own: Playwright's sync API keeps an event loop running in this one
    # when browser tests share the worker.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, client.app(scope, receive, send)).result()  # type: ignore[arg-type]
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return int(start["status"]), json.loads(body), pulled


def comment_chunks(total: int) -> Iterator[bytes]:
    """A label body whose comment makes it `total` bytes long, in 64 KiB pieces."""
    yield b'{"label":"NA","comment":"'
    for _ in range(total // CHUNK):
        yield b"x" * CHUNK
    yield b'"}'


def first_id(client: TestClient) -> int:
    return int(client.get("/api/queue?start=1&count=1").json()[0]["id"])


def test_a_body_declared_over_the_cap_is_refused_unread(client: TestClient) -> None:
    image_id = first_id(client)
    declared = 300 * 1024 * 1024
    status, answer, pulled = raw_request(
        client,
        "PUT",
        f"/api/images/{image_id}/label",
        comment_chunks(declared),  # would be 300 MB if it were ever read
        {"content-length": str(declared)},
    )
    assert status == 413 and pulled == 0
    assert answer["error"] == "too_large" and "1024 KiB" in answer["message"]
    assert client.get(f"/api/images/{image_id}").json()["label"] is None


def test_a_chunked_body_is_cut_off_once_it_passes_the_cap(client: TestClient) -> None:
    image_id = first_id(client)
    status, answer, pulled = raw_request(
        client, "PUT", f"/api/images/{image_id}/label", comment_chunks(8 * CAP), {}
    )
    assert status == 413 and answer["error"] == "too_large"
    assert pulled <= CAP // CHUNK + 2  # stopped at the cap, not at the end of the 8 MiB
    assert client.get(f"/api/images/{image_id}").json()["label"] is None
    # A body within the cap, sent the same way, is saved.
    pieces = iter([b'{"label":"NA",', b'"comment":"blurred"', b"}"])
    status, answer, _ = raw_request(client, "PUT", f"/api/images/{image_id}/label", pieces, {})
    assert status == 200, answer
    assert answer["image"]["label"] == "NA"


def test_a_refused_body_is_not_echoed_back(client: TestClient) -> None:
    image_id = first_id(client)
    secret = "PATIENT-NAME-" + "y" * 20_000
    answer = client.put(f"/api/images/{image_id}/label", json={"label": "NA", "comment": secret})
    assert answer.status_code == 422
    assert answer.json()["error"] == "validation" and "comment" in answer.json()["message"]
    assert "PATIENT-NAME" not in answer.text and len(answer.text) < 500


@pytest.mark.parametrize(
    ("method", "url", "body"),
    [
        ("GET", f"/api/images/{BIG}", None),
        ("GET", f"/api/images/{BIG}/rendition", None),
        ("GET", f"/api/images/{BIG}/pixels", None),
        ("GET", f"/api/images/{BIG}/metadata", None),
        ("PUT", f"/api/images/{BIG}/label", {"label": "Suspicious"}),
        ("DELETE", f"/api/images/{BIG}/label", None),
        ("GET", f"/api/queue?start={BIG}", None),
        ("GET", f"/api/images/FIRST/rendition?frame={BIG}", None),
        ("GET", f"/api/images/FIRST/pixels?frame={BIG}", None),
        ("DELETE", f"/api/images/FIRST/label?frame={BIG}", None),
        ("PUT", "/api/images/FIRST/label", {"label": "Suspicious", "then_show": BIG}),
        ("PUT", "/api/images/FIRST/label", {"label": "Suspicious", "frame": BIG}),
        ("POST", "/api/session/show", {"position": BIG}),
        ("POST", "/api/session/show", {"position": 2**63}),
    ],
)
def test_whole_numbers_past_the_database_range_are_422(
    client: TestClient, method: str, url: str, body: dict[str, Any] | None
) -> None:
    url = url.replace("FIRST", str(first_id(client)))
    answer = client.request(method, url, json=body)
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"] == "validation"


def test_a_lone_surrogate_in_a_comment_is_422(client: TestClient) -> None:
    image_id = first_id(client)
    answer = client.put(
        f"/api/images/{image_id}/label",
        content='{"label": "NA", "comment": "blurred \\ud800 edge"}',
        headers={"Content-Type": "application/json"},
    )
    assert answer.status_code == 422
    assert "surrogate" in answer.json()["message"]
    assert client.get(f"/api/images/{image_id}").json()["label"] is None


def test_frame_labels_only_for_frames_that_exist(client: TestClient) -> None:
    image_id = first_id(client)
    for frame in (2, 7, 2**31 - 1):
        answer = client.put(
            f"/api/images/{image_id}/label", json={"label": "Suspicious", "frame": frame}
        )
        assert answer.status_code == 422
        assert f"img1.jpg has 1 frame; frame {frame} does not exist" in answer.json()["message"]
    for negative in (
        client.put(f"/api/images/{image_id}/label", json={"label": "Suspicious", "frame": -1}),
        client.delete(f"/api/images/{image_id}/label?frame=-1"),
    ):
        assert negative.status_code == 422
    assert client.get(f"/api/images/{image_id}").json()["frame_labels"] == []
    saved = client.put(f"/api/images/{image_id}/label", json={"label": "Suspicious", "frame": 1})
    assert saved.status_code == 200


def start(client: TestClient, folder: Path) -> Any:
    return client.post("/api/session", json={"project_dir": str(folder), "annotator": "bo"})


def test_the_start_page_keeps_projects_out_of_any_batch(
    bare_client: TestClient, tmp_path: Path
) -> None:
    # Another batch (last month's), next to this one: a project inside it, at any depth, is refused.
    other = make_batch(tmp_path / "other", cases=1, visits=1, images=1)
    for inside in (other / "project", other / "Case_001" / "notes" / "project"):
        answer = start(bare_client, inside)
        assert answer.status_code == 422, answer.text
        assert f"inside the batch folder {other.resolve()}" in answer.json()["message"]
        assert not inside.exists()


def test_the_start_page_refuses_a_folder_of_other_files(
    bare_client: TestClient, tmp_path: Path
) -> None:
    documents = tmp_path / "Documents"
    documents.mkdir()
    (documents / "thesis.docx").write_bytes(b"mine")
    Image.new("RGB", (4, 4)).save(documents / "holiday.jpg")
    answer = start(bare_client, documents)
    assert answer.status_code == 422
    assert "not a clinlabel project" in answer.json()["message"]
    assert sorted(p.name for p in documents.iterdir()) == ["holiday.jpg", "thesis.docx"]
    file_instead = tmp_path / "a-file"
    file_instead.write_text("x")
    assert start(bare_client, file_instead).status_code == 422
    # An empty folder (hidden files aside) is fine.
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / ".DS_Store").write_bytes(b"")
    assert start(bare_client, empty).json()["started"] is True


def test_the_start_page_reopens_an_existing_project(
    bare_client: TestClient, batch: Path, tmp_path: Path
) -> None:
    from clinlabel.labelling.project import init_project

    init_project(batch, tmp_path / "project")
    answer = start(bare_client, tmp_path / "project")
    assert answer.status_code == 200, answer.text
    assert answer.json()["started"] is True


def test_the_server_refuses_a_nifti_bomb_from_its_header(tmp_path: Path) -> None:
    import gzip

    import nibabel as nib
    import numpy as np

    from clinlabel.web.config import WebSettings

    from .conftest import _client

    batch = make_batch(tmp_path / "batch", cases=1, visits=1, images=1)
    header = nib.Nifti1Image(np.zeros((2, 2, 2), np.int16), np.eye(4)).header.copy()
    header.set_data_shape((2048, 2048, 256))  # 2 GiB of int16 in a 1 KB file
    bomb = batch / "Case_001" / "Visit_1" / "XC_CLINICAL" / "zz_bomb.nii.gz"
    bomb.write_bytes(gzip.compress(header.binaryblock + b"\0" * 65540))
    settings = WebSettings(
        batch=batch, token=TOKEN, port=PORT, project_dir=tmp_path / "p", annotator="a"
    )
    for client in _client(settings):
        views = client.get("/api/queue?start=1&count=5").json()
        image_id = next(v["id"] for v in views if v["file"].endswith("zz_bomb.nii.gz"))
        for url in (
            f"/api/images/{image_id}/pixels?plane=axial&frame=1",
            f"/api/images/{image_id}/rendition",
        ):
            for _ in range(4):
                answer = client.get(url)
                assert answer.status_code == 422, answer.text
                assert "too large to decode" in answer.json()["message"]
        # It can still be labelled (NA with the reason as comment, say).
        saved = client.put(
            f"/api/images/{image_id}/label", json={"label": "NA", "comment": "too large"}
        )
        assert saved.status_code == 200


def test_the_servers_memory_budget_comes_from_its_settings(tmp_path: Path) -> None:
    from clinlabel.web.config import WebSettings

    from .conftest import _client

    batch = make_batch(tmp_path / "batch", cases=1, visits=1, images=1)
    big = batch / "Case_001" / "Visit_1" / "XC_CLINICAL" / "zz_big.png"
    Image.new("RGB", (2000, 2000), (9, 9, 9)).save(big)  # 11 MiB decoded
    settings = WebSettings(
        batch=batch,
        token=TOKEN,
        port=PORT,
        project_dir=tmp_path / "p",
        annotator="a",
        memory_budget_bytes=4 * 1024 * 1024,
    )
    for client in _client(settings):
        views = client.get("/api/queue?start=1&count=5").json()
        image_id = next(v["id"] for v in views if v["file"].endswith("zz_big.png"))
        answer = client.get(f"/api/images/{image_id}/rendition")
        assert answer.status_code == 422
        assert "memory budget of 4 MiB" in answer.json()["message"]
        # Remembered: asked again, the same refusal without opening the file again.
        again = client.get(f"/api/images/{image_id}/rendition")
        assert again.status_code == 422 and again.json()["message"] == answer.json()["message"]


@pytest.mark.parametrize(
    ("typed", "why"),
    [
        ("a\x00b", "control character"),
        ("~no-such-user-here/project", "home folder"),
        ("project", "full path"),
        ("\u202e", "full path"),
        ("/proc/self/clinlabel-project", "Cannot create"),
    ],
)
def test_a_project_path_that_cannot_be_used_is_422(
    bare_client: TestClient, typed: str, why: str
) -> None:
    before = sorted(Path.cwd().iterdir())
    answer = bare_client.post("/api/session", json={"project_dir": typed, "annotator": "bo"})
    assert answer.status_code == 422, answer.text
    assert why in answer.json()["message"]
    assert sorted(Path.cwd().iterdir()) == before  # nothing made where the server was started
