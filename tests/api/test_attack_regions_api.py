"""Attack: hostile region requests to the API answer a 4xx with one clear message, never a 500
(an integer of 400 digits, valid JSON, was a 500: float() of it overflowed)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from .test_regions_api import _box, _ids, regions_client  # noqa: F401


def _raw(client: TestClient, uid: str, text: str) -> int:
    answer = client.put(
        f"/api/regions/{uid}", content=text, headers={"Content-Type": "application/json"}
    )
    assert "Traceback" not in answer.text
    return answer.status_code


@pytest.mark.parametrize(
    "geometry",
    [
        '{"x": 1e999, "y": 1, "w": 2, "h": 2}',
        '{"x": NaN, "y": 1, "w": 2, "h": 2}',
        '{"x": -Infinity, "y": 1, "w": 2, "h": 2}',
        '{"x": 1' + "0" * 400 + ', "y": 1, "w": 2, "h": 2}',
        '{"x": 1, "y": 1, "w": 2, "h": -2}',
    ],
)
def test_attack_numbers_no_image_has_are_a_4xx(
    regions_client: TestClient,  # noqa: F811
    geometry: str,
) -> None:
    image = _ids(regions_client)["img1.jpg:Case_001"]
    text = f'{{"image_id": {image}, "class": "Lesion", "tool": "box", "geometry": {geometry}}}'
    assert 400 <= _raw(regions_client, "n1", text) < 500
