"""Invisible comments that still count as comments (found by the attack on issue 9).

Issue 9: "An NA comment made only of whitespace or zero-width characters is refused like an
empty one." `clean_comment` treats whitespace and category Cf as empty, but other characters
that show as nothing (Unicode Default_Ignorable_Code_Point: the combining grapheme joiner,
variation selectors, the Hangul fillers) are accepted, through the API (200) and CSV import
alike, so an NA label's "reason" can be blank on screen and in the CSV.
"""

from __future__ import annotations

import pytest

from clinlabel.domain.labels import clean_comment


@pytest.mark.parametrize(
    "invisible",
    [
        "\u034f",  # COMBINING GRAPHEME JOINER (Mn, zero width)
        "\ufe0f",  # VARIATION SELECTOR-16 (Mn, zero width)
        "\U000e0100",  # VARIATION SELECTOR-17 (Mn, zero width)
        "\u3164",  # HANGUL FILLER (Lo, blank)
        "\u115f\u1160",  # HANGUL CHOSEONG / JUNGSEONG FILLER (Lo, blank)
        "\uffa0",  # HALFWIDTH HANGUL FILLER (Lo, blank)
        " \u3164 \u034f ",
    ],
)
def test_a_comment_of_invisible_characters_is_no_comment(invisible: str) -> None:
    assert clean_comment(invisible) == "", f"{invisible!r} was kept as a comment"
