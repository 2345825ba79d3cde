"""Agreement between readers of the same images: Cohen, Fleiss, Krippendorff, percent agreement.

Pure numpy over a matrix of reads (one row per image, one column per reader, the label's index
or `MISSING`); no database, no framework. Every coefficient that is undefined for the data at
hand (no image to rest on, or no variation for chance agreement to be measured against) is
`None` with a sentence that says why, never NaN.

Sources (each formula's own docstring says which it follows):
- Cohen J. A coefficient of agreement for nominal scales. Educ Psychol Meas 1960;20:37-46.
- Fleiss JL, Cohen J, Everitt BS. Large sample standard errors of kappa and weighted kappa.
  Psychol Bull 1969;72:323-327 (the asymptotic standard error, as statsmodels `cohens_kappa`).
- Fleiss JL. Measuring nominal scale agreement among many raters. Psychol Bull 1971;76:378-382.
- Krippendorff K. Computing Krippendorff's alpha-reliability (2011), nominal metric.
- Landis JR, Koch GG. The measurement of observer agreement for categorical data.
  Biometrics 1977;33:159-174 (the bands).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np
from numpy.typing import NDArray

MISSING = -1
"""The code of an image a reader has not read (or read with a label left out by `--labels`)."""

Z_95 = NormalDist().inv_cdf(0.975)
"""The standard normal quantile of a two-sided 95 % interval (1.959963984540054)."""

BOOTSTRAP_REPLICATES = 2000

Codes = NDArray[np.int64]

# Why a coefficient is undefined, in words a reader of the report understands.
NO_IMAGES = "no image was read by the readers it needs"
NO_VARIATION = "every read gives the same label: chance agreement is total, the coefficient 0/0"
NO_PAIRS = "no image was read by two readers or more"
ONE_READER = "it needs at least two readers"


@dataclass(frozen=True, slots=True)
class Estimate:
    """One agreement coefficient, the number of images it rests on and its Landis & Koch band.

    `value` is None when the coefficient is undefined for these reads; `note` says why.
    """

    value: float | None
    n: int
    ci: tuple[float, float] | None = None
    """A 95 % confidence interval, clipped to [-1, 1]; None where none is computed."""
    se: float | None = None
    """The asymptotic standard error (Cohen's kappa only)."""
    note: str = ""

    @property
    def band(self) -> str | None:
        return None if self.value is None else landis_koch_band(self.value)


def landis_koch_band(value: float) -> str:
    """Landis & Koch (1977): <0 poor, 0-0.20 slight, 0.21-0.40 fair, 0.41-0.60 moderate,
    0.61-0.80 substantial, 0.81-1.00 almost perfect (each upper bound inclusive)."""
    if value < 0:
        return "poor"
    bands = ((0.20, "slight"), (0.40, "fair"), (0.60, "moderate"), (0.80, "substantial"))
    for bound, name in bands:
        if value <= bound:
            return name
    return "almost perfect"


def _clip(lo: float, hi: float) -> tuple[float, float]:
    return max(-1.0, lo), min(1.0, hi)


def pair_matrix(a: Codes, b: Codes, categories: int) -> NDArray[np.int64]:
    """The confusion matrix of two readers over the images both read: rows are `a`'s labels,
    columns `b`'s, in label order."""
    both = (a != MISSING) & (b != MISSING)
    flat = a[both] * categories + b[both]
    return np.bincount(flat, minlength=categories * categories).reshape(categories, categories)


def cohen_kappa(table: NDArray[np.int64] | NDArray[np.float64]) -> Estimate:
    """Cohen's (1960) kappa of a k x k table, with the asymptotic standard error of Fleiss,
    Cohen & Everitt (1969) and the Wald interval kappa +- z(0.975) * SE.

        p_o = sum_i p_ii,  p_e = sum_i p_i. p_.i,  kappa = (p_o - p_e) / (1 - p_e)
        var = [ sum_i p_ii (1 - (p_i. + p_.i)(1 - kappa))^2
                + (1 - kappa)^2 sum_{i != j} p_ij (p_.i + p_j.)^2
                - (kappa - p_e (1 - kappa))^2 ] / ((1 - p_e)^2 n)

    the formula statsmodels `cohens_kappa` implements (its `std_kappa`, `kappa_low/upp`).
    """
    t = np.asarray(table, dtype=np.float64)
    n = int(np.rint(t.sum()))
    if n == 0:
        return Estimate(None, 0, note=NO_IMAGES)
    p = t / t.sum()
    rows = p.sum(axis=1)
    cols = p.sum(axis=0)
    p_e = float((rows * cols).sum())
    if np.isclose(p_e, 1.0, rtol=0.0, atol=1e-12):
        return Estimate(None, n, note=NO_VARIATION)
    p_o = float(np.trace(p))
    kappa = (p_o - p_e) / (1.0 - p_e)
    diag = np.diag(p)
    term_a = float((diag * (1.0 - (rows + cols) * (1.0 - kappa)) ** 2).sum())
    off = p * (cols[:, None] + rows[None, :]) ** 2
    np.fill_diagonal(off, 0.0)
    term_b = (1.0 - kappa) ** 2 * float(off.sum())
    term_c = (kappa - p_e * (1.0 - kappa)) ** 2
    # Rounding can leave a hair below zero when agreement is perfect.
    variance = max(0.0, (term_a + term_b - term_c) / (1.0 - p_e) ** 2 / n)
    se = variance**0.5
    return Estimate(kappa, n, ci=_clip(kappa - Z_95 * se, kappa + Z_95 * se), se=se)


def fleiss_kappa(counts: NDArray[np.int64]) -> Estimate:
    """Fleiss' (1971) kappa of an images x labels table of counts, every image read by the same
    number m >= 2 of readers (statsmodels `fleiss_kappa(method="fleiss")`):

        p_j = sum_i n_ij / (N m),  P_i = (sum_j n_ij^2 - m) / (m (m - 1)),
        kappa = (mean(P_i) - sum_j p_j^2) / (1 - sum_j p_j^2)
    """
    c = np.asarray(counts, dtype=np.float64)
    n = int(c.shape[0])
    if n == 0:
        return Estimate(None, 0, note=NO_IMAGES)
    m = float(c[0].sum())
    if m < 2:
        return Estimate(None, n, note=ONE_READER)
    p_j = c.sum(axis=0) / (n * m)
    p_e = float((p_j * p_j).sum())
    if np.isclose(p_e, 1.0, rtol=0.0, atol=1e-12):
        return Estimate(None, n, note=NO_VARIATION)
    p_i = ((c * c).sum(axis=1) - m) / (m * (m - 1.0))
    kappa = (float(p_i.mean()) - p_e) / (1.0 - p_e)
    return Estimate(kappa, n)


def unit_counts(codes: Codes, categories: int) -> NDArray[np.int64]:
    """Images x labels: how many readers gave each label to each image."""
    counts = np.zeros((codes.shape[0], categories), dtype=np.int64)
    for column in codes.T:
        read = column != MISSING
        np.add.at(counts, (np.nonzero(read)[0], column[read]), 1)
    return counts


def _coincidences(patterns: NDArray[np.int64], weights: NDArray[np.float64]) -> NDArray[np.float64]:
    """Krippendorff's coincidence matrix o_ck = sum_u w_u (n_uc n_uk - [c = k] n_uc) / (m_u - 1),
    over units (or distinct unit patterns with multiplicity w_u) that have m_u >= 2 values."""
    m = patterns.sum(axis=1).astype(np.float64)
    scaled = patterns * (weights / (m - 1.0))[:, None]
    o: NDArray[np.float64] = scaled.T @ patterns.astype(np.float64)
    o[np.diag_indices_from(o)] -= scaled.sum(axis=0)
    return o


def _alpha_from_coincidences(o: NDArray[np.float64]) -> float | None:
    """Nominal alpha = 1 - D_o / D_e = 1 - (n - 1) sum_{c != k} o_ck / sum_{c != k} n_c n_k."""
    n_c = o.sum(axis=1)
    n = float(n_c.sum())
    expected = n * n - float((n_c * n_c).sum())
    if expected <= 1e-12 * max(1.0, n * n):
        return None
    observed = n - float(np.trace(o))
    return 1.0 - (n - 1.0) * observed / expected


def _pairable_patterns(
    codes: Codes, categories: int
) -> tuple[NDArray[np.int64], NDArray[np.float64], int]:
    """The distinct rows of value counts among images with two reads or more, how often each
    occurs, and how many such images there are."""
    counts = unit_counts(codes, categories)
    pairable = counts[counts.sum(axis=1) >= 2]
    if pairable.shape[0] == 0:
        return np.zeros((0, categories), dtype=np.int64), np.zeros(0), 0
    base = codes.shape[1] + 1
    if base**categories < 2**62:
        # Each row as one integer in base (readers + 1): a 1-D unique is several times faster
        # than np.unique(axis=0) on a million rows.
        weights = base ** np.arange(categories, dtype=np.int64)
        _, first, multiplicity = np.unique(
            pairable @ weights, return_index=True, return_counts=True
        )
        patterns = pairable[first]
    else:
        patterns, multiplicity = np.unique(pairable, axis=0, return_counts=True)
    return patterns, multiplicity.astype(np.float64), int(pairable.shape[0])


def _alpha_of_patterns(
    patterns: NDArray[np.int64], multiplicity: NDArray[np.float64], n: int
) -> Estimate:
    if n == 0:
        return Estimate(None, 0, note=NO_PAIRS)
    alpha = _alpha_from_coincidences(_coincidences(patterns, multiplicity))
    if alpha is None:
        return Estimate(None, n, note=NO_VARIATION)
    return Estimate(alpha, n)


def krippendorff_alpha(codes: Codes, categories: int) -> Estimate:
    """Krippendorff's alpha for nominal data, missing reads allowed (no interval).

    Only images with at least two reads ("pairable values") count; `n` is their number.
    """
    return _alpha_of_patterns(*_pairable_patterns(codes, categories))


def krippendorff_alpha_bootstrap(
    codes: Codes, categories: int, *, seed: int, replicates: int = BOOTSTRAP_REPLICATES
) -> Estimate:
    """Krippendorff's alpha (nominal) with a percentile bootstrap 95 % interval over images.

    Each replicate resamples the pairable images with replacement (drawn as multinomial counts
    of their distinct read patterns, which is the same distribution and costs the number of
    patterns, not of images); the interval is the 2.5th and 97.5th percentiles of the
    replicates' alphas. A replicate with no variation (alpha undefined) is left out. Seeded with
    `seed` (numpy PCG64): the same project and seed give the same interval.
    """
    patterns, multiplicity, n = _pairable_patterns(codes, categories)
    point = _alpha_of_patterns(patterns, multiplicity, n)
    if point.value is None:
        return point
    rng = np.random.default_rng(seed)
    draws = rng.multinomial(n, multiplicity / multiplicity.sum(), size=replicates)
    alphas = [
        a
        for draw in draws
        if (a := _alpha_from_coincidences(_coincidences(patterns, draw.astype(np.float64))))
        is not None
    ]
    if not alphas:
        return point
    lo, hi = np.percentile(np.asarray(alphas), [2.5, 97.5])
    return Estimate(point.value, n, ci=_clip(float(lo), float(hi)))


def percent_agreement(codes: Codes) -> Estimate:
    """The share of agreeing reader pairs over all pairs of reads of the same image (the plain
    proportion of agreement for two readers), over images read at least twice; in [0, 1]."""
    read = codes != MISSING
    per_image = read.sum(axis=1)
    pairable = per_image >= 2
    n = int(pairable.sum())
    if n == 0:
        return Estimate(None, 0, note=NO_PAIRS)
    agreeing = 0
    pairs = 0
    readers = codes.shape[1]
    for i in range(readers):
        for j in range(i + 1, readers):
            both = read[:, i] & read[:, j]
            pairs += int(both.sum())
            agreeing += int((codes[both, i] == codes[both, j]).sum())
    return Estimate(agreeing / pairs, n)


def one_vs_rest(codes: Codes, label: int) -> Codes:
    """Reads recoded as 1 (this label) or 0 (any other), missing kept missing."""
    out: Codes = (codes == label).astype(np.int64)
    out[codes == MISSING] = MISSING
    return out


def majority_of_others(
    codes: Codes, reader: int, categories: int
) -> tuple[Codes, NDArray[np.bool_]]:
    """For each image, the label most of the *other* readers gave it (plurality), or MISSING
    where they tie or nobody else read it; and which images were left out for a tie.

    The reader's own read is never part of the majority they are compared with (leave one
    out): otherwise a reader would partly agree with themselves.
    """
    others = np.delete(codes, reader, axis=1)
    counts = unit_counts(others, categories)
    top = counts.max(axis=1, initial=0)
    winners = (counts == top[:, None]).sum(axis=1)
    majority = counts.argmax(axis=1).astype(np.int64)
    tie = (top > 0) & (winners > 1)
    majority[(top == 0) | tie] = MISSING
    return majority, tie


def complete_rows(codes: Codes) -> NDArray[np.bool_]:
    """Images read by every reader (the images Fleiss' kappa rests on)."""
    return np.asarray((codes != MISSING).all(axis=1))


def pairs_of(readers: Sequence[str]) -> list[tuple[int, int]]:
    return [(i, j) for i in range(len(readers)) for j in range(i + 1, len(readers))]
