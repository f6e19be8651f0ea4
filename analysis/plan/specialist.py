"""Incidence proportion of specialist care for LBP within 12 months, by condition.

Protocol: incidence proportion = patients receiving specialist care between baseline and
12 months / all patients recruited (denominator: every recruited participant with a
known ``specialist_care`` value). Per condition: proportion with the Wilson score 95% CI
(``std_error`` is the Wald SE sqrt(p(1-p)/n), for information). Difference intervention -
control: Newcombe's hybrid score interval (Newcombe 1998, Stat Med 17:873, method 10)
and a two-sided p from the pooled two-proportion z-test (equivalently Pearson chi-square
without continuity correction).
"""

from __future__ import annotations

import math

import pandas as pd
from scipy import stats

from . import ESTIMATE_COLUMNS


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


def specialist_incidence(
    df: pd.DataFrame, column: str = "specialist_care", alpha: float = 0.05
) -> pd.DataFrame:
    people = df.drop_duplicates("study_id")
    people = people.loc[people[column].notna()]
    counts = {}
    rows = []
    for cond in ("control", "intervention"):
        sub = people.loc[people["condition"] == cond, column].astype(bool)
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
    (e1, n1), (e2, n2) = counts["intervention"], counts["control"]
    if n1 and n2:
        d = e1 / n1 - e2 / n2
        lo, hi = newcombe(e1, n1, e2, n2, alpha)
        se = math.sqrt(e1 / n1 * (1 - e1 / n1) / n1 + e2 / n2 * (1 - e2 / n2) / n2)
        rows.append(
            {
                "term": "difference, intervention - control",
                "estimate": d,
                "std_error": se,
                "ci_low": lo,
                "ci_high": hi,
                "p_value": two_proportion_p(e1, n1, e2, n2),
                "events": e1 + e2,
                "n": n1 + n2,
                "method": "Newcombe hybrid score; pooled z-test",
            }
        )
    return pd.DataFrame(rows, columns=[*ESTIMATE_COLUMNS, "events", "n", "method"])
