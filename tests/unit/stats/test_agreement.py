"""Agreement coefficients checked against the field's implementations to 1e-9 (statsmodels for
Cohen's and Fleiss' kappa, the `krippendorff` package for alpha), on seeded random reads and on
the edge cases where a coefficient is undefined."""

from __future__ import annotations

import math

import krippendorff
import numpy as np
import pytest
from statsmodels.stats.inter_rater import cohens_kappa, fleiss_kappa

from clinlabel.stats import agreement as A
from clinlabel.stats.agreement_study import Readings, analyse

TOL = 1e-9


def _random_codes(seed: int, images: int, readers: int, k: int, missing: float) -> A.Codes:
    rng = np.random.default_rng(seed)
    # Readers who mostly agree (a shared truth, each flips some reads), so kappa is not ~0.
    truth = rng.integers(0, k, size=images)
    codes = np.repeat(truth[:, None], readers, axis=1).astype(np.int64)
    flips = rng.random((images, readers)) < 0.3
    codes[flips] = rng.integers(0, k, size=int(flips.sum()))
    codes[rng.random((images, readers)) < missing] = A.MISSING
    return codes


def _reliability(codes: A.Codes) -> np.ndarray:
    """The krippendorff package's layout: readers x images, NaN for a missing read."""
    return np.where(codes == A.MISSING, np.nan, codes.astype(float)).T


@pytest.mark.parametrize("seed", range(8))
def test_cohen_kappa_and_its_interval_match_statsmodels(seed: int) -> None:
    rng = np.random.default_rng(seed)
    k = int(rng.integers(2, 6))
    codes = _random_codes(seed, int(rng.integers(20, 400)), 2, k, 0.1)
    table = A.pair_matrix(codes[:, 0], codes[:, 1], k)
    ours = A.cohen_kappa(table)
    ref = cohens_kappa(table)
    assert ours.value is not None and ours.se is not None and ours.ci is not None
    assert ours.n == int(table.sum())
    assert abs(ours.value - ref.kappa) < TOL
    assert abs(ours.se - ref.std_kappa) < TOL
    # Our interval is clipped to [-1, 1]; statsmodels' is not.
    assert abs(ours.ci[0] - max(-1.0, ref.kappa_low)) < TOL
    assert abs(ours.ci[1] - min(1.0, ref.kappa_upp)) < TOL


@pytest.mark.parametrize("seed", range(8))
def test_fleiss_kappa_matches_statsmodels(seed: int) -> None:
    rng = np.random.default_rng(100 + seed)
    k = int(rng.integers(2, 6))
    readers = int(rng.integers(2, 7))
    codes = _random_codes(seed, int(rng.integers(10, 300)), readers, k, 0.0)
    counts = A.unit_counts(codes, k)
    ours = A.fleiss_kappa(counts)
    assert ours.value is not None and ours.n == codes.shape[0]
    assert abs(ours.value - fleiss_kappa(counts, method="fleiss")) < TOL


@pytest.mark.parametrize("seed", range(8))
def test_krippendorff_alpha_matches_the_krippendorff_package_with_missing_reads(seed: int) -> None:
    rng = np.random.default_rng(200 + seed)
    k = int(rng.integers(2, 6))
    codes = _random_codes(seed, int(rng.integers(10, 300)), int(rng.integers(2, 6)), k, 0.35)
    ours = A.krippendorff_alpha(codes, k)
    ref = krippendorff.alpha(_reliability(codes), level_of_measurement="nominal")
    assert ours.value is not None
    assert abs(ours.value - ref) < TOL
    assert ours.n == int(((codes != A.MISSING).sum(axis=1) >= 2).sum())


def test_alpha_interval_is_reproducible_for_a_seed_and_brackets_the_estimate() -> None:
    codes = _random_codes(7, 300, 3, 3, 0.2)
    first = A.krippendorff_alpha_bootstrap(codes, 3, seed=42)
    again = A.krippendorff_alpha_bootstrap(codes, 3, seed=42)
    other = A.krippendorff_alpha_bootstrap(codes, 3, seed=43)
    assert first == again
    assert first.ci is not None and other.ci is not None and first.ci != other.ci
    assert first.value is not None
    assert first.ci[0] < first.value < first.ci[1]
    # About 2 SE wide: a bootstrap that resampled the wrong thing would be far off.
    assert 0.02 < first.ci[1] - first.ci[0] < 0.4


def test_perfect_agreement_is_one_with_a_degenerate_interval() -> None:
    codes = np.array([[0, 0], [1, 1], [2, 2], [1, 1]], dtype=np.int64)
    pair = A.cohen_kappa(A.pair_matrix(codes[:, 0], codes[:, 1], 3))
    assert pair.value == pytest.approx(1.0) and pair.band == "almost perfect"
    assert pair.ci == pytest.approx((1.0, 1.0))
    assert A.fleiss_kappa(A.unit_counts(codes, 3)).value == pytest.approx(1.0)
    assert A.krippendorff_alpha(codes, 3).value == pytest.approx(1.0)
    assert A.percent_agreement(codes).value == 1.0


def test_a_label_never_used_changes_nothing_but_the_matrix_shape() -> None:
    codes = _random_codes(3, 80, 2, 2, 0.0)
    two = A.cohen_kappa(A.pair_matrix(codes[:, 0], codes[:, 1], 2))
    three_table = A.pair_matrix(codes[:, 0], codes[:, 1], 3)
    assert three_table.shape == (3, 3) and three_table[2].sum() == three_table[:, 2].sum() == 0
    three = A.cohen_kappa(three_table)
    assert two.value is not None and three.value is not None
    assert abs(two.value - three.value) < TOL
    assert abs(three.value - cohens_kappa(three_table).kappa) < TOL
    assert A.krippendorff_alpha(codes, 3).value == pytest.approx(
        A.krippendorff_alpha(codes, 2).value, abs=TOL
    )
    study = analyse(_readings(codes, ("C",) * 80), seed=1)
    unused = study.per_label[2]
    assert unused.label == "NA" and unused.reads == 0 and unused.kappa.value is None
    assert unused.kappa.note == "no reader gave this label"
    assert study.pairs[0].matrix.shape == (3, 3)


def test_all_images_one_label_is_undefined_and_says_so_not_nan() -> None:
    codes = np.zeros((12, 3), dtype=np.int64)
    for estimate in (
        A.cohen_kappa(A.pair_matrix(codes[:, 0], codes[:, 1], 3)),
        A.fleiss_kappa(A.unit_counts(codes, 3)),
        A.krippendorff_alpha_bootstrap(codes, 3, seed=1),
    ):
        assert estimate.value is None and estimate.band is None and estimate.ci is None
        assert estimate.n == 12
        assert "same label" in estimate.note
    # statsmodels answers NaN here: the case the user must be told about in words.
    with np.errstate(invalid="ignore", divide="ignore"):
        assert math.isnan(fleiss_kappa(A.unit_counts(codes, 3)))
    assert A.percent_agreement(codes).value == 1.0


def test_no_shared_image_and_one_reader_are_undefined() -> None:
    disjoint = np.array([[0, A.MISSING], [A.MISSING, 1]], dtype=np.int64)
    pair = A.cohen_kappa(A.pair_matrix(disjoint[:, 0], disjoint[:, 1], 2))
    assert pair.value is None and pair.n == 0 and pair.note
    assert A.krippendorff_alpha(disjoint, 2).value is None
    assert A.percent_agreement(disjoint).value is None
    one_reader = np.array([[0], [1], [1]], dtype=np.int64)
    fleiss = A.fleiss_kappa(A.unit_counts(one_reader, 2))
    assert fleiss.value is None and "two readers" in fleiss.note


@pytest.mark.parametrize(
    ("value", "band"),
    [(-0.1, "poor"), (0.0, "slight"), (0.2, "slight"), (0.21, "fair"), (0.4, "fair"),
     (0.41, "moderate"), (0.6, "moderate"), (0.61, "substantial"), (0.8, "substantial"),
     (0.81, "almost perfect"), (1.0, "almost perfect")],
)  # fmt: skip
def test_landis_koch_bands(value: float, band: str) -> None:
    assert A.landis_koch_band(value) == band


def test_majority_of_the_others_leaves_the_reader_out_and_ties_out() -> None:
    # Three readers; for reader 0 the others are readers 1 and 2.
    codes = np.array(
        [[0, 1, 1], [1, 0, 1], [2, 2, 2], [0, A.MISSING, 2], [1, A.MISSING, A.MISSING]],
        dtype=np.int64,
    )
    majority, tie = A.majority_of_others(codes, 0, 3)
    assert majority.tolist() == [1, A.MISSING, 2, 2, A.MISSING]
    assert tie.tolist() == [False, True, False, False, False]


def _readings(codes: A.Codes, cases: tuple[str, ...]) -> Readings:
    readers = tuple(f"R{i}" for i in range(codes.shape[1]))
    images = tuple(f"img{i}" for i in range(codes.shape[0]))
    return Readings(readers, ("P", "N", "NA"), images, cases, codes)


def test_study_pairs_per_label_per_case_and_majority_agree_with_the_references() -> None:
    codes = _random_codes(11, 120, 3, 3, 0.15)
    cases = tuple(f"Case_{i // 30}" for i in range(120))
    study = analyse(_readings(codes, cases), seed=5)
    assert [(p.a, p.b) for p in study.pairs] == [("R0", "R1"), ("R0", "R2"), ("R1", "R2")]
    for pair, (i, j) in zip(study.pairs, A.pairs_of(study.readers), strict=True):
        both = (codes[:, i] != A.MISSING) & (codes[:, j] != A.MISSING)
        assert pair.kappa.n == int(both.sum()) == int(pair.matrix.sum())
        assert pair.kappa.value == pytest.approx(cohens_kappa(pair.matrix).kappa, abs=TOL)
        assert pair.percent.value == pytest.approx(
            float((codes[both, i] == codes[both, j]).mean()), abs=TOL
        )
    complete = codes[(codes != A.MISSING).all(axis=1)]
    assert study.fleiss.n == complete.shape[0]
    assert study.fleiss.value == pytest.approx(fleiss_kappa(A.unit_counts(complete, 3)), abs=TOL)
    for index, item in enumerate(study.per_label):
        binary = A.unit_counts(A.one_vs_rest(complete, index), 2)
        assert item.kappa.value == pytest.approx(fleiss_kappa(binary), abs=TOL)
        assert item.reads == int((codes == index).sum())
    assert [c.case for c in study.per_case] == ["Case_0", "Case_1", "Case_2", "Case_3"]
    first = codes[:30]
    assert study.per_case[0].alpha.value == pytest.approx(
        krippendorff.alpha(_reliability(first), level_of_measurement="nominal"), abs=TOL
    )
    assert study.krippendorff.value == pytest.approx(
        krippendorff.alpha(_reliability(codes), level_of_measurement="nominal"), abs=TOL
    )
    for r, item in enumerate(study.majority):
        majority, tie = A.majority_of_others(codes, r, 3)
        table = A.pair_matrix(codes[:, r], majority, 3)
        assert item.kappa.value == pytest.approx(cohens_kappa(table).kappa, abs=TOL)
        assert item.ties == int((tie & (codes[:, r] != A.MISSING)).sum())


def test_two_readers_majority_of_the_other_is_the_other_reader() -> None:
    codes = _random_codes(12, 60, 2, 3, 0.1)
    study = analyse(_readings(codes, ("C",) * 60), seed=1)
    assert study.majority[0].kappa.value == pytest.approx(study.pairs[0].kappa.value, abs=TOL)
    assert study.majority[0].ties == 0


def test_per_case_group_sums_match_each_case_computed_alone() -> None:
    codes = _random_codes(21, 400, 4, 3, 0.3)
    rng = np.random.default_rng(5)
    # Cases interleaved (not contiguous), one case all one label, one with a single reader.
    cases = [f"Case_{int(c)}" for c in rng.integers(0, 9, size=400)]
    for i in range(0, 400, 50):
        cases[i] = "Case_same"
        codes[i] = [1, 1, A.MISSING, 1]
    cases[7] = "Case_lonely"
    codes[7] = [2, A.MISSING, A.MISSING, A.MISSING]
    study = analyse(_readings(codes, tuple(cases)), seed=1)
    seen = list(dict.fromkeys(cases))
    assert [c.case for c in study.per_case] == seen
    for item in study.per_case:
        rows = codes[[i for i, c in enumerate(cases) if c == item.case]]
        alone_alpha = A.krippendorff_alpha(rows, 3)
        alone_percent = A.percent_agreement(rows)
        assert item.alpha.n == alone_alpha.n and item.percent.n == alone_percent.n
        if alone_alpha.value is None:
            assert item.alpha.value is None and item.alpha.note == alone_alpha.note
        else:
            assert item.alpha.value == pytest.approx(alone_alpha.value, abs=TOL)
        if alone_percent.value is None:
            assert item.percent.value is None
        else:
            assert item.percent.value == pytest.approx(alone_percent.value, abs=TOL)
        assert item.images == int((rows != A.MISSING).any(axis=1).sum())
    by_name = {c.case: c for c in study.per_case}
    assert by_name["Case_same"].alpha.value is None and by_name["Case_same"].unanimous == 8
    assert by_name["Case_lonely"].alpha.value is None and by_name["Case_lonely"].alpha.n == 0
