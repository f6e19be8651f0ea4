"""Incidence proportion of specialist care for LBP within 12 months, by condition.

Protocol: incidence proportion = patients receiving specialist care between baseline and
12 months / all patients recruited (denominator: every recruited participant with a
known ``specialist_care`` value). Per condition: proportion with the Wilson score 95% CI
(``std_error`` is the Wald SE sqrt(p(1-p)/n), for information). Difference intervention -
control: Newcombe's hybrid score interval (Newcombe 1998, Stat Med 17:873, method 10)
and a two-sided p from the pooled two-proportion z-test (equivalently Pearson chi-square
without continuity correction).

Cluster adjustment (issue 16): participants of a clinic share more than the condition, so
beside the unadjusted Newcombe interval a cluster-adjusted one is given: the ICC of the
outcome is estimated by one-way ANOVA over clinic-by-condition groups (Donner & Klar 2000,
truncated at 0), the design effect is 1 + (n0 - 1) * ICC with n0 the ANOVA mean group
size, and Newcombe's interval and the z-test are recomputed on the effective sample sizes
n / deff and events / deff (Donner & Klar's adjustment of score methods).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats

from . import ESTIMATE_COLUMNS, InsufficientData, arms


def wilson(events: int, n: int, alpha: float = 0.05) -> tuple[float, float]:
    z = stats.norm.isf(alpha / 2)
    p = events / n
    centre = p + z * z / (2 * n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return (centre - half) / (1 + z * z / n), (centre + half) / (1 + z * z / n)


def newcombe(e1: int, n1: int, e2: int, n2: int, alpha: float = 0.05) -> tuple[float, float]:
    """Newcombe hybrid score CI for p1 - p2."""
    p1, p2 = e1 / n1, e2 / n2
    l1, u1 = wilson(e1, n1, alpha)
    l2, u2 = wilson(e2, n2, alpha)
    d = p1 - p2
    return (
        d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2),
        d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2),
    )


def two_proportion_p(e1: int, n1: int, e2: int, n2: int) -> float:
    pooled = (e1 + e2) / (n1 + n2)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    if se == 0:
        return 1.0
    return float(2 * stats.norm.sf(abs(e1 / n1 - e2 / n2) / se))


def anova_icc(y, groups) -> tuple[float, float]:
    """(ICC by one-way ANOVA truncated at 0, n0 the adjusted mean group size)."""
    frame = pd.DataFrame({"y": np.asarray(y, dtype=float), "g": list(groups)})
    sizes = frame.groupby("g").y.size()
    k, n = len(sizes), len(frame)
    if k < 2 or n <= k:
        return 0.0, 1.0
    means = frame.groupby("g").y.transform("mean")
    msb = float((sizes * (frame.groupby("g").y.mean() - frame.y.mean()) ** 2).sum() / (k - 1))
    msw = float(((frame.y - means) ** 2).sum() / (n - k))
    n0 = (n - float((sizes**2).sum()) / n) / (k - 1)
    denom = msb + (n0 - 1) * msw
    icc = (msb - msw) / denom if denom > 0 else 0.0
    return max(icc, 0.0), n0


def specialist_incidence(
    df: pd.DataFrame, column: str = "specialist_care", alpha: float = 0.05
) -> pd.DataFrame:
    if column not in df.columns:
        raise InsufficientData(f"The dataset has no {column} column (needs a registry import).")
    ref, comp = arms(df)
    people = df.drop_duplicates("study_id")
    people = people.loc[people[column].notna()]
    counts = {}
    rows = []
    for cond in (ref, comp):
        sub = people.loc[people["condition"].astype(str) == cond, column].astype(bool)
        e, n = int(sub.sum()), len(sub)
        counts[cond] = (e, n)
        if n == 0:
            continue
        p = e / n
        lo, hi = wilson(e, n, alpha)
        rows.append(
            {
                "term": f"incidence proportion, {cond}",
                "estimate": p,
                "std_error": math.sqrt(p * (1 - p) / n),
                "ci_low": lo,
                "ci_high": hi,
                "p_value": float("nan"),
                "events": e,
                "n": n,
                "method": "Wilson score",
            }
        )
    (e1, n1), (e2, n2) = counts[comp], counts[ref]
    if not (n1 and n2):
        raise InsufficientData(
            "Specialist care is recorded for one condition only; the comparison needs both."
        )
    d = e1 / n1 - e2 / n2
    lo, hi = newcombe(e1, n1, e2, n2, alpha)
    se = math.sqrt(e1 / n1 * (1 - e1 / n1) / n1 + e2 / n2 * (1 - e2 / n2) / n2)
    rows.append(
        {
            "term": f"difference, {comp} - {ref}",
            "estimate": d,
            "std_error": se,
            "ci_low": lo,
            "ci_high": hi,
            "p_value": two_proportion_p(e1, n1, e2, n2),
            "events": e1 + e2,
            "n": n1 + n2,
            "method": "Newcombe hybrid score; pooled z-test (unadjusted for clustering)",
        }
    )
    if "clinic" in people.columns:
        groups = people["clinic"].astype(str) + "/" + people["condition"].astype(str)
        icc, n0 = anova_icc(people[column].astype(float), groups)
        deff = 1 + (n0 - 1) * icc
        f1, f2 = n1 / deff, n2 / deff
        lo, hi = newcombe(e1 / deff, f1, e2 / deff, f2, alpha)  # same formula, real counts
        rows.append(
            {
                "term": f"difference, {comp} - {ref}, adjusted for clustering by clinic",
                "estimate": d,
                "std_error": se * math.sqrt(deff),
                "ci_low": lo,
                "ci_high": hi,
                "p_value": two_proportion_p(e1 / deff, f1, e2 / deff, f2),
                "events": e1 + e2,
                "n": n1 + n2,
                "method": (
                    f"Newcombe on effective sizes n/deff; ICC {icc:.4f} (ANOVA, clinic x "
                    f"condition groups), design effect {deff:.3f}"
                ),
                "icc": icc,
                "design_effect": deff,
            }
        )
    else:
        rows.append(
            {
                "term": f"difference, {comp} - {ref}, adjusted for clustering: not run",
                "method": "The dataset has no clinic column, so no cluster adjustment.",
            }
        )
    return pd.DataFrame(
        rows,
        columns=[*ESTIMATE_COLUMNS, "events", "n", "method", "icc", "design_effect"],
    )
