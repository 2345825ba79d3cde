"""A reading study's agreement, whole: every pair, all readers, per label, per case, and each
reader against the majority of the others (the coefficients are in `stats.agreement`)."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import NDArray

from clinlabel.stats.agreement import (
    MISSING,
    NO_PAIRS,
    NO_VARIATION,
    Codes,
    Estimate,
    cohen_kappa,
    complete_rows,
    fleiss_kappa,
    krippendorff_alpha_bootstrap,
    majority_of_others,
    one_vs_rest,
    pair_matrix,
    pairs_of,
    percent_agreement,
    unit_counts,
)


@dataclass(frozen=True, slots=True)
class Readings:
    """Who read which image as what: `codes[i, r]` is the index in `labels` of reader r's label
    of image i, or `MISSING`. `cases[i]` is the case (patient) image i belongs to."""

    readers: tuple[str, ...]
    labels: tuple[str, ...]
    images: tuple[str, ...]
    cases: tuple[str, ...]
    codes: Codes


@dataclass(frozen=True, slots=True)
class PairAgreement:
    a: str
    b: str
    kappa: Estimate
    """Cohen's kappa over the images both read, with its 95 % interval."""
    percent: Estimate
    matrix: NDArray[np.int64]
    """Rows: a's labels; columns: b's labels; in the order of `AgreementStudy.labels`."""


@dataclass(frozen=True, slots=True)
class LabelAgreement:
    label: str
    reads: int
    """How many reads gave this label."""
    kappa: Estimate
    """Fleiss' kappa of this label against all others, over the images every reader read."""


@dataclass(frozen=True, slots=True)
class CaseAgreement:
    case: str
    images: int
    """Images of this case with at least one read."""
    unanimous: int
    """Images read at least twice on which every reader gave the same label."""
    percent: Estimate
    alpha: Estimate
    """Krippendorff's alpha (nominal, missing reads allowed) over this case's images."""


@dataclass(frozen=True, slots=True)
class MajorityAgreement:
    reader: str
    kappa: Estimate
    """Cohen's kappa of this reader against the plurality label of the other readers."""
    percent: Estimate
    ties: int
    """Images left out because the other readers were split evenly."""


@dataclass(frozen=True, slots=True)
class IntraAgreement:
    """Test-retest: one reader's first read of an image against their blinded repeat read."""

    reader: str
    kappa: Estimate
    percent: Estimate
    matrix: NDArray[np.int64]
    """Rows: the first reads; columns: the repeat reads; in the order of the labels."""


def intra_rater(
    pairs: list[tuple[str, str, str]], readers: tuple[str, ...], labels: tuple[str, ...]
) -> tuple[IntraAgreement, ...]:
    """Cohen's kappa of each reader's (first, repeat) reads; `pairs` are (reader, first label,
    repeat label). Reads with a label outside `labels` are left out, as `--labels` leaves them
    out of the other figures."""
    index = {name: i for i, name in enumerate(labels)}
    k = len(labels)
    by_reader: dict[str, list[tuple[int, int]]] = {}
    for reader, first, repeat in pairs:
        if first in index and repeat in index:
            by_reader.setdefault(reader, []).append((index[first], index[repeat]))
    ordered = [r for r in readers if r in by_reader] + sorted(
        r for r in by_reader if r not in readers
    )
    out = []
    for reader in ordered:
        codes = np.asarray(by_reader[reader], dtype=np.int64).reshape(-1, 2)
        matrix = pair_matrix(codes[:, 0], codes[:, 1], k)
        out.append(
            IntraAgreement(
                reader=reader,
                kappa=cohen_kappa(matrix),
                percent=percent_agreement(codes),
                matrix=matrix,
            )
        )
    return tuple(out)


@dataclass(frozen=True, slots=True)
class AgreementStudy:
    readers: tuple[str, ...]
    labels: tuple[str, ...]
    images: int
    """Images with at least one read."""
    pairs: tuple[PairAgreement, ...]
    fleiss: Estimate
    krippendorff: Estimate
    percent: Estimate
    per_label: tuple[LabelAgreement, ...]
    per_case: tuple[CaseAgreement, ...]
    majority: tuple[MajorityAgreement, ...]
    seed: int
    intra: tuple[IntraAgreement, ...] = ()
    """Each reader's test-retest agreement over their repeat reads (none without repeats)."""


def _pair(readings: Readings, i: int, j: int) -> PairAgreement:
    k = len(readings.labels)
    a, b = readings.codes[:, i], readings.codes[:, j]
    matrix = pair_matrix(a, b, k)
    both = np.stack([a, b], axis=1)
    kappa = cohen_kappa(matrix)
    if kappa.n == 0:
        kappa = replace(kappa, note="these two readers read no image in common")
    return PairAgreement(
        a=readings.readers[i],
        b=readings.readers[j],
        kappa=kappa,
        percent=percent_agreement(both),
        matrix=matrix,
    )


def _fleiss(codes: Codes, categories: int) -> Estimate:
    complete = codes[complete_rows(codes)]
    kappa = fleiss_kappa(unit_counts(complete, categories))
    if kappa.n == 0:
        kappa = replace(kappa, note="no image was read by every reader")
    return kappa


def _per_case(readings: Readings, counts: NDArray[np.int64]) -> list[CaseAgreement]:
    """Per case at once, with group sums (one pass, not one per case: a project may have tens
    of thousands of cases). Alpha uses the nominal identity: o's row sums are the values'
    counts n_c and its trace is sum_u sum_c n_uc (n_uc - 1) / (m_u - 1)."""
    names, first, case_of = np.unique(
        np.asarray(readings.cases, dtype=object), return_index=True, return_inverse=True
    )
    groups = len(names)
    m = counts.sum(axis=1)
    pairable = m >= 2

    def per_case(values: NDArray[np.float64] | NDArray[np.bool_]) -> NDArray[np.float64]:
        return np.bincount(case_of, weights=values, minlength=groups).astype(np.float64)

    agreeing = (counts * (counts - 1)).sum(axis=1) / 2.0
    images = per_case(m >= 1)
    unanimous = per_case(pairable & (counts.max(axis=1, initial=0) == m))
    n_pairable = per_case(pairable)
    all_pairs = per_case(np.where(pairable, m * (m - 1) / 2.0, 0.0))
    agree_pairs = per_case(np.where(pairable, agreeing, 0.0))
    trace = per_case(np.divide(2.0 * agreeing, m - 1.0, out=np.zeros(len(m)), where=pairable))
    n_c = np.stack([per_case(np.where(pairable, counts[:, c], 0)) for c in range(counts.shape[1])])
    n_values = n_c.sum(axis=0)
    expected = n_values * n_values - (n_c * n_c).sum(axis=0)
    out: list[CaseAgreement] = []
    for g in np.argsort(first, kind="stable"):
        n = int(n_pairable[g])
        if n == 0:
            percent = Estimate(None, 0, note=NO_PAIRS)
            alpha = Estimate(None, 0, note=NO_PAIRS)
        else:
            percent = Estimate(float(agree_pairs[g] / all_pairs[g]), n)
            total = float(n_values[g])
            if expected[g] <= 1e-12 * max(1.0, total * total):
                alpha = Estimate(None, n, note=NO_VARIATION)
            else:
                disagreement = (total - 1.0) * (total - float(trace[g])) / float(expected[g])
                alpha = Estimate(1.0 - disagreement, n)
        out.append(
            CaseAgreement(
                case=str(names[g]),
                images=int(images[g]),
                unanimous=int(unanimous[g]),
                percent=percent,
                alpha=alpha,
            )
        )
    return out


def _majority(readings: Readings) -> list[MajorityAgreement]:
    k = len(readings.labels)
    out: list[MajorityAgreement] = []
    for r, reader in enumerate(readings.readers):
        majority, tie = majority_of_others(readings.codes, r, k)
        own = readings.codes[:, r]
        kappa = cohen_kappa(pair_matrix(own, majority, k))
        if kappa.n == 0:
            kappa = replace(kappa, note="no image this reader read has a majority among the others")
        out.append(
            MajorityAgreement(
                reader=reader,
                kappa=kappa,
                percent=percent_agreement(np.stack([own, majority], axis=1)),
                ties=int((tie & (own != MISSING)).sum()),
            )
        )
    return out


def analyse(readings: Readings, *, seed: int) -> AgreementStudy:
    """Every agreement figure of a reading study (readers and labels in the given order)."""
    k = len(readings.labels)
    codes = readings.codes
    per_label = []
    for index, name in enumerate(readings.labels):
        reads = int((codes == index).sum())
        kappa = _fleiss(one_vs_rest(codes, index), 2)
        if reads == 0 and kappa.value is None and kappa.n:
            kappa = replace(kappa, note="no reader gave this label")
        per_label.append(LabelAgreement(label=name, reads=reads, kappa=kappa))
    return AgreementStudy(
        readers=readings.readers,
        labels=readings.labels,
        images=int((codes != MISSING).any(axis=1).sum()),
        pairs=tuple(_pair(readings, i, j) for i, j in pairs_of(readings.readers)),
        fleiss=_fleiss(codes, k),
        krippendorff=krippendorff_alpha_bootstrap(codes, k, seed=seed),
        percent=percent_agreement(codes),
        per_label=tuple(per_label),
        per_case=tuple(_per_case(readings, unit_counts(codes, k))),
        majority=tuple(_majority(readings)),
        seed=seed,
    )
