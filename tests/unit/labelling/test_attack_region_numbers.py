"""Attack: numbers in a region's geometry that JSON allows but no image has."""

from __future__ import annotations

import pytest

from clinlabel.domain.regions import Extent, check_shape
from clinlabel.errors import ValidationError

GRID = Extent(64, 48)
HUGE = 10**400  # JSON's integers are unbounded; float() of this overflows


@pytest.mark.parametrize(
    ("tool", "geometry"),
    [
        ("box", {"x": HUGE, "y": 1, "w": 1, "h": 1}),
        ("box", {"x": 1, "y": 1, "w": HUGE, "h": 1}),
        ("point", {"x": 1, "y": -HUGE}),
        ("polygon", {"points": [[0, 0], [1, 0], [HUGE, 1]]}),
    ],
)
def test_attack_an_integer_too_large_for_a_float_is_a_clear_error(
    tool: str, geometry: dict[str, object]
) -> None:
    for extent in (GRID, None):
        with pytest.raises(ValidationError, match="not a finite number"):
            check_shape(tool, geometry, extent)


def test_attack_a_box_that_rounds_to_no_size_is_refused() -> None:
    # 1e-9 px is above zero but the kept geometry is rounded to 1/1000 px: a 0 x 0 box.
    with pytest.raises(ValidationError, match="width and a height above zero"):
        check_shape("box", {"x": 1, "y": 1, "w": 1e-9, "h": 5}, GRID)
