"""The browser keeps showing a replaced file for an hour (found by the attack on issue 9).

Renditions and pixels are served at URLs that do not change with the file
(`/api/images/{id}/rendition?max_side=N`, `/api/images/{id}/pixels?frame=N`) with
`Cache-Control: private, max-age=3600`: a browser reuses its copy for an hour without asking.
Checked in Chromium: after the file was replaced (new inode, other bytes), the server served the
new rendition but the page's fetch of the same URL returned the old one; a label saved then
records the new file's SHA-256 for pixels the annotator never saw. The ETag is already the
file's identity, so `no-cache` (revalidate: a 304 while unchanged) costs one round trip. If the
fix is instead a URL that carries the file's identity, adapt this test to check that.
"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient


def _must_revalidate(cache_control: str) -> bool:
    directives = {d.strip().split("=")[0]: d.strip() for d in cache_control.split(",")}
    return "no-cache" in directives or "no-store" in directives or "max-age=0" in cache_control


@pytest.mark.parametrize("what", ["rendition?max_side=512"])
def test_a_rendition_is_revalidated_before_reuse(client: TestClient, what: str) -> None:
    image = client.get("/api/queue").json()[0]["id"]
    response = client.get(f"/api/images/{image}/{what}")
    assert response.status_code == 200
    cache_control = response.headers.get("cache-control", "")
    assert _must_revalidate(cache_control), (
        f"{what}: Cache-Control {cache_control!r} lets the browser show a replaced file's "
        "old pixels without asking"
    )
