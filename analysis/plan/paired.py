"""Matched-pairs t-tests for the physiotherapist (HCP) outcomes (protocol: "Matched pairs
t-test statistics comparing baseline and follow-up means ... for the HCP reported primary
and secondary outcomes").

For each score and follow-up, physiotherapists with both the baseline ('before') and the
follow-up value are paired; estimate = mean(follow-up - before), SE = SD(diff)/sqrt(n),
t-based 95% CI, p from ``scipy.stats.ttest_rel``. ``cohen_dz`` = mean(diff)/SD(diff).

Follow-ups: directly after the workshop ('after', the protocol's "immediate change"),
3 and 12 months. Sidedness per :mod:`analysis.plan.sidedness`: one-sided towards the
BetterBack model (the protocol's sample size), two-sided beside.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from . import ESTIMATE_COLUMNS, InsufficientData, sidedness

HCP_SCORES = ("pcs_total", "pabs_pt_biomedical", "pabs_pt_biopsychosocial")


def paired_change(
    df: pd.DataFrame,
    scores=HCP_SCORES,
    baseline: str = "before",
    followups=("after", "3m", "12m"),
    alpha: float = 0.05,
    prescribed: str = sidedness.ONE,
) -> pd.DataFrame:
    rows = []
    if df.empty:
        raise InsufficientData("No physiotherapist questionnaires have been completed yet.")
    for score in scores:
        table = df.pivot(index="physio_id", columns="timepoint", values=score)
        for fu in followups:
            if baseline not in table or fu not in table:
                continue
            pair = table[[baseline, fu]].dropna()
            n = len(pair)
            diff = pair[fu] - pair[baseline]
            if n < 2:
                rows.append({"term": f"{score}: {fu} - {baseline}", "n": n})
                continue
            mean, sd = float(diff.mean()), float(diff.std(ddof=1))
            se = sd / np.sqrt(n)
            crit = stats.t.isf(alpha / 2, n - 1)
            test = stats.ttest_rel(pair[fu], pair[baseline])
            rows.append(
                {
                    "term": f"{score}: {fu} - {baseline}",
                    "estimate": mean,
                    "std_error": se,
                    "ci_low": mean - crit * se,
                    "ci_high": mean + crit * se,
                    "p_value": float(test.pvalue),
                    "t": float(test.statistic),
                    "df": n - 1,
                    "n": n,
                    "mean_baseline": float(pair[baseline].mean()),
                    "mean_followup": float(pair[fu].mean()),
                    "sd_diff": sd,
                    "cohen_dz": mean / sd if sd > 0 else np.nan,
                    "score": score,
                    "followup": fu,
                }
            )
    if not any("estimate" in r for r in rows):
        raise InsufficientData(
            "No physiotherapist has both a before-workshop and a follow-up score yet."
        )
    parts = []
    for score, part in pd.DataFrame(rows).groupby("score", sort=False, dropna=False):
        reason = sidedness.REASON_HCP if prescribed == sidedness.ONE else sidedness.REASON_TWO
        parts.append(sidedness.apply(part, prescribed, sidedness.HCP_BENEFIT.get(score), reason))
    out = pd.concat(parts).sort_index()
    return out.reindex(
        columns=[*ESTIMATE_COLUMNS, *[c for c in out.columns if c not in ESTIMATE_COLUMNS]]
    )
