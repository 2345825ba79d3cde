"""Natural order: the order a clinician expects to see images and cases in."""

from __future__ import annotations

import random

from clinlabel.discovery import natural_sorted


def test_numbers_sort_by_value() -> None:
    names = ["img10.jpg", "img2.jpg", "img1.jpg", "img20.jpg", "img3.jpg"]
    assert natural_sorted(names) == ["img1.jpg", "img2.jpg", "img3.jpg", "img10.jpg", "img20.jpg"]
    assert natural_sorted(["Case_10", "Case_2", "Case_1"]) == ["Case_1", "Case_2", "Case_10"]


def test_order_ignores_letter_case_and_is_total() -> None:
    assert natural_sorted(["img2.JPG", "IMG10.jpg", "Img1.jpg"]) == [
        "Img1.jpg",
        "img2.JPG",
        "IMG10.jpg",
    ]
    # Equal but for case or leading zeros: still one fixed order, whatever the input order.
    names = ["img1.jpg", "IMG1.jpg", "img01.jpg", "Img001.jpg"]
    first = natural_sorted(names)
    assert natural_sorted(reversed(names)) == first
    assert first.index("IMG1.jpg") < first.index("img1.jpg")


def test_several_numbers_and_no_numbers_mix_without_error() -> None:
    names = ["a1b10", "a1b2", "a10b1", "a", "a1", "1", "10", "", "b", "a.b", "2a", "a1.5", "a1.10"]
    assert natural_sorted(names) == [
        "",
        "1",
        "2a",
        "10",
        "a",
        "a1",
        "a1.5",
        "a1.10",
        "a1b2",
        "a1b10",
        "a10b1",
        "a.b",  # text before the first number decides first: "a" < "a.b", as in natsort
        "b",
    ]


def test_random_names_sort_the_same_from_any_starting_order() -> None:
    rng = random.Random(7)
    alphabet = "aB1_0.9z"
    names = list({"".join(rng.choices(alphabet, k=rng.randint(0, 8))) for _ in range(2000)})
    expected = natural_sorted(names)
    for _ in range(3):
        rng.shuffle(names)
        assert natural_sorted(names) == expected
