"""Renditions: decoded once, cached in the project (never the batch), sent with validators."""

from __future__ import annotations

import io
import os
from pathlib import Path

from fastapi.testclient import TestClient
from PIL import Image


def _tree(root: Path) -> dict[str, tuple[int, int]]:
    return {
        str(p.relative_to(root)): (p.stat().st_size, p.stat().st_mtime_ns) for p in root.rglob("*")
    }


def _by_file(client: TestClient) -> dict[str, dict[str, object]]:
    return {v["file"]: v for v in client.get("/api/queue?start=1&count=100").json()}


def test_cached_once_with_etag_and_nothing_in_the_batch(
    client: TestClient, batch: Path, tmp_path: Path
) -> None:
    before = _tree(batch)
    image_id = client.get("/api/queue?start=1&count=1").json()[0]["id"]
    first = client.get(f"/api/images/{image_id}/rendition")
    assert first.status_code == 200
    assert first.headers["content-type"] == "image/jpeg"
    etag = first.headers["etag"]
    assert "no-cache" in first.headers["cache-control"]  # kept, but asked about first
    cached = list((tmp_path / "project" / "cache" / "renditions").iterdir())
    assert len(cached) == 1
    stamp = cached[0].stat().st_mtime_ns
    again = client.get(f"/api/images/{image_id}/rendition", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert client.get(f"/api/images/{image_id}/rendition").content == first.content
    assert cached[0].stat().st_mtime_ns == stamp  # served from the cache, not decoded again
    assert _tree(batch) == before


def test_changed_file_gets_a_new_rendition(client: TestClient, batch: Path) -> None:
    view = client.get("/api/queue?start=1&count=1").json()[0]
    etag = client.get(f"/api/images/{view['id']}/rendition").headers["etag"]
    path = batch / view["relpath"]
    Image.new("RGB", (50, 50), (255, 255, 255)).save(path)
    os.utime(path, ns=(1, 10**18))
    fresh = client.get(f"/api/images/{view['id']}/rendition", headers={"If-None-Match": etag})
    assert fresh.status_code == 200
    assert fresh.headers["etag"] != etag
    assert Image.open(io.BytesIO(fresh.content)).size == (50, 50)


def test_orientation_depth_and_colour_modes(special_client: TestClient) -> None:
    views = _by_file(special_client)

    def fetch(name: str) -> Image.Image:
        response = special_client.get(f"/api/images/{views[name]['id']}/rendition")
        assert response.status_code == 200, response.text
        return Image.open(io.BytesIO(response.content))

    rotated = fetch("CLINICAL_IMAGES/a_rotated.jpg")
    assert rotated.size == (200, 400)  # EXIF orientation 6 applied on the server
    grey = fetch("CLINICAL_IMAGES/b_grey16.png").convert("L")
    lo, hi = grey.getextrema()
    assert lo < 10 and hi > 245  # the 16-bit range is scaled, not truncated to the low byte
    cmyk = fetch("CLINICAL_IMAGES/c_cmyk.jpg")
    assert cmyk.mode in ("RGB", "L")


def test_damaged_image_is_a_readable_error_not_a_crash(special_client: TestClient) -> None:
    views = _by_file(special_client)
    broken = views.get("CLINICAL_IMAGES/d_broken.jpg")
    if broken is None:
        return  # the scan reported it as a problem and left it out of the queue: also fine
    response = special_client.get(f"/api/images/{broken['id']}/rendition")
    assert response.status_code == 422
    assert response.json()["error"] == "decode"
    labelled = special_client.put(
        f"/api/images/{broken['id']}/label", json={"label": "NA", "comment": "cannot open"}
    )
    assert labelled.status_code == 200


def test_the_cache_stays_within_its_bound_dropping_the_least_recently_used(
    tmp_path: Path,
) -> None:
    from clinlabel.domain.images import ImageKind
    from clinlabel.imaging.rendition_store import PRUNE_GRACE_NS
    from clinlabel.imaging.viewing import ViewingService

    photos = []
    for index in range(6):
        path = tmp_path / f"photo{index}.png"
        # Noise, so every rendition has about the same, incompressible size.
        pixels = os.urandom(200 * 200 * 3)
        Image.frombytes("RGB", (200, 200), pixels).save(path)
        photos.append(path)
    folder = tmp_path / "cache"
    service = ViewingService(rendition_folder=folder, rendition_bytes=10**9)
    cache = service.renditions
    assert cache is not None

    def fetch(index: int) -> Path:
        return service.rendition(photos[index], ImageKind.RASTER, max_side=2048).path

    first = [fetch(index) for index in range(4)]
    size = max(path.stat().st_size for path in first)
    long_ago = os.stat(first[0]).st_atime_ns - 10 * PRUNE_GRACE_NS
    for age, path in enumerate(first):  # photo0 used longest ago, photo3 most recently
        os.utime(path, ns=(long_ago + age * 10**9, path.stat().st_mtime_ns))
    assert fetch(0) == first[0]  # a hit marks photo0 as just used, without a new decode
    cache.max_bytes = int(4.5 * size)
    fetch(4)  # five renditions: over the bound, pruned to 80 % of it (three fit)
    kept = {path.name for path in folder.iterdir()}
    assert first[0].name in kept, "the rendition just used stays"
    assert fetch(4).name in kept
    assert first[1].name not in kept and first[2].name not in kept, "oldest use goes first"
    assert sum(path.stat().st_size for path in folder.iterdir()) <= cache.max_bytes
    # A pruned rendition is simply decoded again when asked for.
    again = fetch(1)
    assert again.is_file() and Image.open(again).size == (200, 200)


def test_renditions_used_within_the_last_minute_are_never_pruned(tmp_path: Path) -> None:
    from clinlabel.domain.images import ImageKind
    from clinlabel.imaging.viewing import ViewingService

    # Everything is over the bound.
    service = ViewingService(rendition_folder=tmp_path / "cache", rendition_bytes=1)
    paths = []
    for index in range(3):
        path = tmp_path / f"p{index}.png"
        Image.new("RGB", (40, 40), (index, 0, 0)).save(path)
        found = service.rendition(path, ImageKind.RASTER, max_side=2048)
        paths.append(found.path)
    # All three were written just now: they may still be on their way to the browser.
    assert all(path.is_file() for path in paths)
