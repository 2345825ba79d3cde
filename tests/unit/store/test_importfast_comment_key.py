"""An import's comment sort keys, made for ASCII comments in one substitution (issue 12), are
the bytes `natural_sort_key` makes: the review table's comment order cannot tell them apart."""

from __future__ import annotations

import random
import string

import pytest

from clinlabel.store.imports import _comment_key
from clinlabel.store.sort_keys import natural_sort_key

EDGES = ["retake #12", "img007a", "000", "a0b00c", "12", "Abc DEF 9", "9" * 99, "9" * 100,
         "0" * 150 + "1", "7" * 300, "ünïcode 12", "tab\t3", "a.b-c_12.jpg", "1a2b3c",
         "ZZZ999zzz0", " lead", "trail ", "ß straße 2", "٣ arabic digit", "Ǆ title"]  # fmt: skip


@pytest.mark.parametrize("comment", EDGES)
def test_edge_comments_have_the_natural_sort_key(comment: str) -> None:
    assert _comment_key(comment) == natural_sort_key.__wrapped__(comment)


def test_random_comments_have_the_natural_sort_key() -> None:
    chosen = random.Random(12)
    alphabet = string.printable + "0000011119é"
    for _ in range(5000):
        comment = "".join(chosen.choice(alphabet) for _ in range(chosen.randint(1, 40)))
        assert _comment_key(comment) == natural_sort_key.__wrapped__(comment), comment


def test_no_comment_has_no_key() -> None:
    assert _comment_key("") is None
