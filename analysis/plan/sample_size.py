"""Sample size for the BetterBack designs.

t-based calculations iterate on n exactly as R's ``power.t.test`` does (strict=FALSE):
power = P(T' > t_{1-alpha/sided, df}) under the noncentral t with
ncp = d*sqrt(n/2) (two independent groups, df = 2(n-1)) or d*sqrt(n) (paired, df = n-1),
and n is found by root finding, then rounded up.

Loss to follow-up (``loss``): ``loss_method="divide"`` gives n/(1-loss), the usual rule;
``loss_method="inflate"`` gives n*(1+loss), the rule that reproduces the protocol's
63 physiotherapists (51.85 * 1.2 = 62.2 -> 63; dividing would give 65).

Cluster designs use the normal approximation by default (``method="z"``), as the
design-effect formulas of Hooper & Bourke (BMJ 2015;350:h2925) do; with it the protocol's
"2.41 clusters" is reproduced (see :func:`dogleg`).
"""

from __future__ import annotations

import math

from scipy import optimize, stats


def _power_t(n: float, d: float, alpha: float, sided: int, paired: bool) -> float:
    if paired:
        df, ncp = n - 1, d * math.sqrt(n)
    else:
        df, ncp = 2 * (n - 1), d * math.sqrt(n / 2)
    q = stats.t.isf(alpha / sided, df)
    # upper tail only, as power.t.test with its default strict = FALSE
    return float(stats.nct.sf(q, df, ncp))


def _n_t(d: float, alpha: float, power: float, sided: int, paired: bool) -> float:
    return optimize.brentq(
        lambda n: _power_t(n, d, alpha, sided, paired) - power, 2 + 1e-9, 1e7, xtol=1e-10
    )


def _n_z(d: float, alpha: float, power: float, sided: int, paired: bool) -> float:
    z = stats.norm.isf(alpha / sided) + stats.norm.ppf(power)
    return float((z / d) ** 2 * (1 if paired else 2))


def _check(d, alpha, power, sided):
    if d <= 0 or not 0 < alpha < 1 or not 0 < power < 1 or sided not in (1, 2):
        raise ValueError("need d > 0, 0 < alpha < 1, 0 < power < 1 and sided in {1, 2}")


def _with_loss(n: int, loss: float, loss_method: str) -> int:
    if not 0 <= loss < 1:
        raise ValueError("loss must be in [0, 1)")
    if loss_method == "divide":
        return math.ceil(n / (1 - loss) - 1e-9)
    if loss_method == "inflate":
        return math.ceil(n * (1 + loss) - 1e-9)
    raise ValueError("loss_method must be 'divide' or 'inflate'")


def individual(d, alpha=0.05, power=0.80, sided=2, loss=0.0, loss_method="divide", method="t"):
    """Two-group individually randomised parallel trial (equal allocation).

    Returns a dict: ``n_per_group_exact`` (unrounded), ``n_per_group``, ``patients``
    (both groups, after loss), plus the inputs.
    """
    _check(d, alpha, power, sided)
    exact = (_n_t if method == "t" else _n_z)(d, alpha, power, sided, paired=False)
    per_group = math.ceil(exact - 1e-9)
    per_group_loss = _with_loss(per_group, loss, loss_method)
    return {
        "design": "individual",
        "d": d,
        "alpha": alpha,
        "power": power,
        "sided": sided,
        "loss": loss,
        "loss_method": loss_method,
        "method": method,
        "n_per_group_exact": exact,
        "n_per_group": per_group_loss,
        "patients": 2 * per_group_loss,
    }


def paired(d, alpha=0.05, power=0.80, sided=2, loss=0.0, loss_method="divide", method="t"):
    """Matched-pairs (paired) t-test; d is the mean difference over the SD of differences.

    ``n`` is the number of pairs after loss (physiotherapists in BetterBack).
    """
    _check(d, alpha, power, sided)
    exact = (_n_t if method == "t" else _n_z)(d, alpha, power, sided, paired=True)
    n = math.ceil(exact - 1e-9)
    return {
        "design": "paired",
        "d": d,
        "alpha": alpha,
        "power": power,
        "sided": sided,
        "loss": loss,
        "loss_method": loss_method,
        "method": method,
        "n_exact": exact,
        "n_before_loss": n,
        "n_after_loss_exact": exact * (1 + loss)
        if loss_method == "inflate"
        else exact / (1 - loss),
        "patients": _with_loss(n, loss, loss_method),
    }


def cluster_parallel(d, alpha=0.05, power=0.80, sided=2, icc=0.01, m=100, method="z"):
    """Parallel cluster randomised trial, one cross-section of m per cluster.

    Design effect 1 + (m - 1) * icc applied to the individually randomised total.
    """
    ind = individual(d, alpha, power, sided, method=method)
    deff = 1 + (m - 1) * icc
    total_exact = 2 * ind["n_per_group_exact"] * deff
    clusters_exact = total_exact / m
    return {
        "design": "cluster",
        "d": d,
        "alpha": alpha,
        "power": power,
        "sided": sided,
        "icc": icc,
        "m": m,
        "method": method,
        "design_effect": deff,
        "n_individual_exact": 2 * ind["n_per_group_exact"],
        "patients_exact": total_exact,
        "patients": math.ceil(total_exact - 1e-9),
        "clusters_exact": clusters_exact,
        # whole clusters, and an even number so that both arms get the same number
        "clusters": 2 * math.ceil(clusters_exact / 2 - 1e-9),
    }


def cluster_mean_correlation(icc: float, cac: float, m: int) -> float:
    """Correlation between two cross-sectional means of size m from the same cluster.

    Hooper & Bourke BMJ 2015 / Hooper et al. Stat Med 2016: r = m*icc*cac / (1+(m-1)*icc).
    """
    return m * icc * cac / (1 + (m - 1) * icc)


def dogleg(d, alpha=0.05, power=0.80, sided=2, icc=0.01, cac=0.80, m=100, method="z"):
    """Dog-leg design with two assessments in routine care (Hooper & Bourke 2014, 2015).

    Three equal groups of clusters over two periods: group 1 is assessed once under the
    intervention (period 1), group 2 under control then intervention, group 3 once under
    control (period 2): four cluster cross-sections of m patients per set of three clusters.

    With cluster-period means of variance v = (1+(m-1)icc)/m (sigma = 1) and correlation
    r = :func:`cluster_mean_correlation`, the generalised least squares estimator of the
    effect (period as a fixed effect) has variance v*(1 - r/2)/k with k clusters per group
    (derived here; it reproduces the IJE 2014 statement that the dog-leg beats a
    parallel design with baseline when r < 0.72). Setting it equal to the individually
    randomised variance 4/N gives k = N*v*(1 - r/2)/4, i.e. a relative efficiency against
    the parallel cluster design of 3/4*(1 - r/2) clusters per parallel-trial cluster.

    Returns ``clusters`` (3k, unrounded and rounded up), ``patients`` (4*k*m), and
    ``patients_parallel_cluster`` = N * (1+(m-1)icc), the parallel-cluster total, which is
    the figure the protocol reports as "n = 402" (see the tests).
    """
    ind = individual(d, alpha, power, sided, method=method)
    n_ind = 2 * ind["n_per_group_exact"]
    deff = 1 + (m - 1) * icc
    r = cluster_mean_correlation(icc, cac, m)
    v = deff / m
    k = n_ind * v * (1 - r / 2) / 4
    return {
        "design": "dogleg",
        "d": d,
        "alpha": alpha,
        "power": power,
        "sided": sided,
        "icc": icc,
        "cac": cac,
        "m": m,
        "method": method,
        "n_individual_exact": n_ind,
        "design_effect_parallel": deff,
        "cluster_mean_correlation": r,
        "clusters_per_group_exact": k,
        "clusters_exact": 3 * k,
        "clusters": math.ceil(3 * k - 1e-9),
        "patients_exact": 4 * k * m,
        "patients": math.ceil(4 * k * m - 1e-9),
        "patients_parallel_cluster_exact": n_ind * deff,
        "patients_parallel_cluster": math.ceil(n_ind * deff - 1e-9),
    }
