"""Sample size for any cluster design drawn as a layout of sequences x periods.

A layout lists, per sequence (a group of clusters randomised together), what each period
holds: ``C`` control, ``I`` intervention, ``.`` not assessed. ``"I.,CI,.C"`` is the dog-leg
of Hooper & Bourke (BMJ 2015;350:h2925), ``"C,I"`` a parallel cluster trial, ``"CC,CI"``
parallel with a baseline period, ``"CII,CCI"`` a stepped wedge. Repeating a sequence
gives it more clusters (``"C,C,I"`` allocates two to one to control).

The treatment effect's variance is that of the generalised least squares estimator on
cluster-period means (Hooper, Teerenstra, de Hoop & Eldridge, Stat Med 2016;35:4718),
with the outcome's total SD 1, period fixed effects, and in each cluster

    Var(cell mean)                     = icc + (1 - icc) / m
    Cov(two periods of the same cluster) = icc * cac,

m patients in every assessed cluster-period. With one cluster per sequence the variance
is V1; k clusters per sequence give V1 / k. Equating that with the individually
randomised trial's 4 / n (n from :func:`.individual.n_individual_exact`, t or normal)
gives k = V1 * n / 4 clusters per sequence, the design rounded up to whole clusters per
sequence, and the power of the rounded design from the same t or normal curve at the
effective sample size 4 k / V1.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .individual import _check, n_individual_exact, power_individual

DOGLEG = "I.,CI,.C"
PARALLEL = "C,I"
SYMBOLS = {"C": 0, "I": 1, ".": None}


@dataclass(frozen=True)
class Layout:
    text: str
    cells: tuple[tuple[int | None, ...], ...]  # per sequence, per period: 0, 1 or None

    @property
    def sequences(self) -> int:
        return len(self.cells)

    @property
    def periods(self) -> int:
        return len(self.cells[0])

    @property
    def assessed(self) -> int:
        """Cluster-periods with patients in one set of clusters (one per sequence)."""
        return sum(x is not None for seq in self.cells for x in seq)


def parse_layout(text: str) -> Layout:
    if not isinstance(text, str) or not text.strip():
        raise ValueError(
            "the layout is empty: give one sequence per group of clusters, separated by "
            "commas, each period as C (control), I (intervention) or . (not assessed), "
            "e.g. I.,CI,.C"
        )
    seqs = [s.strip().upper() for s in text.split(",")]
    problems = []
    for i, seq in enumerate(seqs, 1):
        if not seq:
            problems.append(f"sequence {i} is empty")
        bad = sorted(set(seq) - set(SYMBOLS))
        if bad:
            problems.append(
                f"sequence {i} ({seq}) has {', '.join(repr(b) for b in bad)}: use C "
                "(control), I (intervention) or . (not assessed)"
            )
    if problems:
        raise ValueError("; ".join(problems))
    if len(seqs) < 2:
        raise ValueError(
            f"the layout {text.strip()} has one sequence; a cluster design needs at least two "
            "(e.g. C,I for a parallel design)"
        )
    lengths = {len(s) for s in seqs}
    if len(lengths) > 1:
        raise ValueError(
            "every sequence needs the same number of periods: "
            + ", ".join(f"{s} has {len(s)}" for s in seqs)
        )
    for j in range(len(seqs[0])):
        if all(s[j] == "." for s in seqs):
            raise ValueError(f"period {j + 1} is not assessed in any sequence: remove it")
    for i, seq in enumerate(seqs, 1):
        if set(seq) == {"."}:
            raise ValueError(f"sequence {i} ({seq}) is never assessed: remove it")
    joined = "".join(seqs)
    if "C" not in joined or "I" not in joined:
        missing = "control (C)" if "C" not in joined else "intervention (I)"
        raise ValueError(f"the layout {','.join(seqs)} has no {missing} cluster-period")
    return Layout(",".join(seqs), tuple(tuple(SYMBOLS[c] for c in s) for s in seqs))


def check_correlations(icc, cac, m) -> None:
    problems = []
    if not (isinstance(icc, (int, float)) and 0 <= icc <= 1):
        problems.append(f"the ICC must be between 0 and 1 (got {icc})")
    if not (isinstance(cac, (int, float)) and 0 <= cac <= 1):
        problems.append(f"the cluster autocorrelation (CAC) must be between 0 and 1 (got {cac})")
    if not (isinstance(m, (int, float)) and math.isfinite(m) and m >= 1 and m == int(m)):
        got = f"{m:g}" if isinstance(m, (int, float)) else m
        problems.append(
            f"patients per cluster-period (m) must be a whole number of at least 1 (got {got})"
        )
    if problems:
        raise ValueError("; ".join(problems))


def cluster_mean_correlation(icc: float, cac: float, m: int) -> float:
    """Correlation between two cluster-period means of the same cluster (Hooper 2016):
    r = m * icc * cac / (1 + (m - 1) * icc)."""
    return m * icc * cac / (1 + (m - 1) * icc)


def effect_variance(lay: Layout, icc: float, cac: float, m: int) -> float:
    """GLS variance of the treatment effect with one cluster per sequence (SD 1)."""
    periods = lay.periods
    v, c = icc + (1 - icc) / m, icc * cac
    info = np.zeros((periods + 1, periods + 1))
    for seq in lay.cells:
        seen = [j for j, x in enumerate(seq) if x is not None]
        x = np.zeros((len(seen), periods + 1))
        for row, j in enumerate(seen):
            x[row, j] = 1.0  # period fixed effect
            x[row, periods] = seq[j]  # intervention
        cov = np.full((len(seen), len(seen)), c)
        np.fill_diagonal(cov, v)
        if np.linalg.matrix_rank(cov) < len(seen):
            raise ValueError(
                "with ICC 1 and CAC 1 every period of a cluster has the same mean, so a "
                "cluster assessed in several periods carries no variance to estimate: "
                "lower the ICC or the CAC"
            )
        info += x.T @ np.linalg.solve(cov, x)
    if np.linalg.matrix_rank(info) < periods + 1:
        raise ValueError(
            f"the layout {lay.text} cannot tell the intervention apart from the periods "
            "(each period needs both conditions somewhere, or a cluster that changes)"
        )
    return float(np.linalg.inv(info)[periods, periods])


def clusters_per_sequence(clusters, sequences: int) -> int:
    """Whole clusters, the same number in every sequence; a clear message otherwise."""
    if not (isinstance(clusters, (int, float)) and clusters == int(clusters)):
        raise ValueError(f"the number of clusters must be a whole number (got {clusters})")
    clusters = int(clusters)
    if clusters < sequences or clusters % sequences:
        below = max(sequences, clusters // sequences * sequences)
        options = sorted({below, below + sequences} if clusters > sequences else {sequences})
        raise ValueError(
            f"a layout of {sequences} sequences needs the same number of clusters in each, "
            f"i.e. a multiple of {sequences}: {clusters} is not possible; "
            + " or ".join(str(o) for o in options)
            + (" would be" if len(options) > 1 else " is the smallest")
        )
    return clusters // sequences


def layout(
    d,
    alpha=0.05,
    power=0.80,
    sided=2,
    icc=0.01,
    cac=0.80,
    m=100,
    layout=DOGLEG,
    method="z",
    clusters=None,
):
    """Clusters and patients a layout needs, and the design rounded up to whole clusters
    per sequence (or the given number of ``clusters``) with its patients and power."""
    _check(d, alpha, power, sided)
    check_correlations(icc, cac, m)
    lay = parse_layout(layout)
    m = int(m)
    n_ind = n_individual_exact(d, alpha, power, sided, method)
    var1 = effect_variance(lay, icc, cac, m)
    k_exact = var1 * n_ind / 4
    if clusters is None:
        k, source = math.ceil(k_exact - 1e-9), "rounded up"
    else:
        k, source = clusters_per_sequence(clusters, lay.sequences), "given"
    return {
        "design": "layout",
        "layout": lay.text,
        "sequences": lay.sequences,
        "periods": lay.periods,
        "cluster_periods_per_set": lay.assessed,
        "d": d,
        "alpha": alpha,
        "power": power,
        "sided": sided,
        "icc": icc,
        "cac": cac,
        "m": m,
        "method": method,
        "n_individual_exact": n_ind,
        "cell_variance": icc + (1 - icc) / m,
        "cell_covariance": icc * cac,
        "variance_one_cluster_per_sequence": var1,
        "design_effect": var1 * m * lay.assessed / 4,  # patients relative to n_individual
        "clusters_per_sequence_exact": k_exact,
        "clusters_exact": lay.sequences * k_exact,
        "patients_exact": k_exact * lay.assessed * m,
        "design_from": source,
        "clusters_per_sequence": k,
        "clusters": lay.sequences * k,
        "patients": k * lay.assessed * m,
        "achieved_power": power_individual(4 * k / var1, d, alpha, sided, method),
    }


def cluster_parallel(
    d, alpha=0.05, power=0.80, sided=2, icc=0.01, m=100, method="z", clusters=None
):
    """Parallel cluster trial, one cross-section of m per cluster: layout ``C,I``.

    Its patient total is the classical n_individual * (1 + (m - 1) * icc).
    """
    result = layout(d, alpha, power, sided, icc, 0.0, m, PARALLEL, method, clusters)
    result["design"] = "cluster"
    return result


def dogleg(
    d, alpha=0.05, power=0.80, sided=2, icc=0.01, cac=0.80, m=100, method="z", clusters=None
):
    """Dog-leg with two assessments in routine care (Hooper & Bourke 2015): ``I.,CI,.C``.

    Adds the closed form of its variance, v * (1 - r/2) with v = icc + (1 - icc)/m and r
    :func:`cluster_mean_correlation`, and ``patients_parallel_cluster``, the parallel
    cluster design's total, which is the protocol's "402" (see :mod:`.readings`).
    """
    result = layout(d, alpha, power, sided, icc, cac, m, DOGLEG, method, clusters)
    deff = 1 + (m - 1) * icc
    n_ind = result["n_individual_exact"]
    result.update(
        design="dogleg",
        cluster_mean_correlation=cluster_mean_correlation(icc, cac, m),
        clusters_per_group_exact=result["clusters_per_sequence_exact"],
        design_effect_parallel=deff,
        patients_parallel_cluster_exact=n_ind * deff,
        patients_parallel_cluster=math.ceil(n_ind * deff - 1e-9),
    )
    return result
