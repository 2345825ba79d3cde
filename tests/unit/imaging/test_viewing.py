"""The viewing service shows each file's own pixels, whatever the order, threads and churn.

The defect this guards against: the frame cache was keyed by `id(header)`; once a header fell
out of its 64-entry cache its `id` was reused by the next one, and about 1 fetch in 100 over 200
files returned another file's pixels (then stored on disk as that file's rendition).
"""

from __future__ import annotations

import io
import os
import random
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pydicom
import pytest
from PIL import Image

from clinlabel.domain.images import ImageKind
from clinlabel.errors import DecodeError
from clinlabel.imaging import dicom_header
from clinlabel.imaging.pixel_payload import decode, pixel_payload
from clinlabel.imaging.viewing import ViewingService

from .identity_batch import bright_spot, expected_pixels, write_identity_file

FILES = 240


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    folder = tmp_path_factory.mktemp("identity")
    return [write_identity_file(folder / f"f{i:03d}.dcm", i) for i in range(FILES)]


def _payload_values(body: bytes) -> np.ndarray:
    _, values = decode(body)
    assert values is not None
    return values


def test_every_fetch_returns_its_own_files_pixels_under_concurrency(
    files: list[Path], tmp_path: Path
) -> None:
    # Small caches, so that headers and frames are evicted and parsed again all the time.
    service = ViewingService(
        rendition_folder=tmp_path / "renditions", header_items=8, frame_bytes=16 * 512
    )
    order = [(index, what) for index in range(FILES) for what in ("frame", "pixels", "png")] * 3
    random.Random(7).shuffle(order)

    def fetch(item: tuple[int, str]) -> str | None:
        index, what = item
        path = files[index]
        if what == "frame":
            got = service.frame(service.render_header(path), 1)
            ok = np.array_equal(got, expected_pixels(index))
        elif what == "pixels":
            got = _payload_values(
                service.pixels(path, ImageKind.DICOM, frame=1, plane="axial").body
            )
            ok = np.array_equal(got, expected_pixels(index))
        else:
            cached = service.rendition(path, ImageKind.DICOM, max_side=1024)
            shown = np.asarray(Image.open(io.BytesIO(cached.path.read_bytes())))
            ok = np.unravel_index(int(shown.argmax()), shown.shape) == bright_spot(index)
        return None if ok else f"{what} of file {index}"

    with ThreadPoolExecutor(max_workers=6) as pool:
        wrong = [w for w in pool.map(fetch, order) if w is not None]
    assert wrong == []


def test_the_engine_agrees_with_pydicom_on_every_file(files: list[Path]) -> None:
    """The expected values are the files' own, as an independent reader decodes them."""
    service = ViewingService(header_items=4)
    for index in (0, 1, 77, FILES - 1):
        independent = pydicom.dcmread(files[index]).pixel_array
        assert np.array_equal(independent, expected_pixels(index))
        assert np.array_equal(service.frame(service.header(files[index]), 1), independent)


def test_a_rendition_on_disk_is_not_served_for_a_replaced_file(tmp_path: Path) -> None:
    """Same path, same size, same modification time, other bytes (a new inode): the old
    rendition on disk belongs to the old file and is not used, also by a new service (a
    restarted server)."""
    folder = tmp_path / "batch"
    folder.mkdir()
    # Even indices are native files, all of one size (the RLE ones get a random-length UID).
    path = write_identity_file(folder / "image.dcm", 4)
    stat = path.stat()
    renditions = tmp_path / "renditions"
    first = ViewingService(rendition_folder=renditions).rendition(
        path, ImageKind.DICOM, max_side=1024
    )
    replacement = write_identity_file(folder / "other.dcm", 6)
    assert replacement.stat().st_size == stat.st_size
    os.replace(replacement, path)
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    again = ViewingService(rendition_folder=renditions).rendition(
        path, ImageKind.DICOM, max_side=1024
    )
    assert again.path != first.path
    shown = np.asarray(Image.open(again.path))
    assert np.unravel_index(int(shown.argmax()), shown.shape) == bright_spot(6)


def test_a_file_replaced_while_its_header_is_parsed_is_parsed_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_identity_file(tmp_path / "image.dcm", 10)
    replacement = write_identity_file(tmp_path / "next.dcm", 11)
    parse = dicom_header._parse
    calls = []

    def swapping_parse(found: Path, identity: object, **options: int) -> object:
        calls.append(found)
        header = parse(found, identity, **options)  # type: ignore[arg-type]
        if len(calls) == 1:  # the file is replaced after its bytes were read
            os.replace(replacement, path)
        return header

    monkeypatch.setattr(dicom_header, "_parse", swapping_parse)
    service = ViewingService()
    header = service.header(path)
    assert len(calls) == 2
    assert np.array_equal(service.frame(header, 1), expected_pixels(11))


def test_a_file_that_failed_to_decode_is_not_decoded_again_until_it_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "broken.dcm"
    path.write_bytes(b"\0" * 128 + b"DICM" + b"\xff" * 64)
    calls = []
    parse = dicom_header._parse

    def counting_parse(found: Path, identity: object, **options: int) -> object:
        calls.append(found)
        return parse(found, identity, **options)  # type: ignore[arg-type]

    monkeypatch.setattr(dicom_header, "_parse", counting_parse)
    service = ViewingService()
    for _ in range(3):
        with pytest.raises(DecodeError):
            service.header(path)
    assert len(calls) == 1
    write_identity_file(tmp_path / "good.dcm", 2)
    os.replace(tmp_path / "good.dcm", path)
    assert np.array_equal(service.frame(service.header(path), 1), expected_pixels(2))
    assert len(calls) == 2


def test_no_module_of_the_engine_keeps_a_cache() -> None:
    """Every cache belongs to a `ViewingService`: no module in `imaging` assigns a cache, a
    mutable mapping or list at module level (constants, named in capitals, aside)."""
    import ast
    import importlib
    import pkgutil

    import clinlabel.imaging as imaging

    state = []
    for info in pkgutil.iter_modules(imaging.__path__):
        module = importlib.import_module(f"clinlabel.imaging.{info.name}")
        tree = ast.parse(Path(str(module.__file__)).read_text())
        for node in tree.body:
            targets = node.targets if isinstance(node, ast.Assign) else []
            if isinstance(node, ast.AnnAssign):
                targets = [node.target]
            for target in targets:
                name = target.id if isinstance(target, ast.Name) else ""
                value = vars(module).get(name)
                if name.isupper() or value is None or callable(value):
                    continue
                if isinstance(value, dict | list | set) or hasattr(value, "get"):
                    state.append(f"{info.name}.{name}")
    assert state == []


def test_pixel_payload_reads_through_the_reader_it_is_given(files: list[Path]) -> None:
    service = ViewingService()
    body = pixel_payload(files[9], ImageKind.DICOM, frame=1, plane="axial", reader=service)
    assert np.array_equal(_payload_values(body), expected_pixels(9))
    assert len(service._headers) == 1
