"""Internal pilot progression (protocol, "Internal pilot" and its results).

The protocol's only stop/go criterion: HCP acceptability, the mean of the DIBQ item "I
expect that the application of the BetterBack model of care will be useful" (1 agree
completely .. 5 do not agree at all), answered directly after the workshop (timepoint
'after'), must be <= 2.5. Progression = that criterion met.

Recruitment is reported, not judged: the protocol expects clusters to recruit at least
20 patients per month during the internal pilot's first 2 months of patient enrolment
(a check point to time cluster 2's crossover), so each cluster's counts in those months
and their mean are listed beside the expectation, with ``criterion`` false.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from . import ESTIMATE_COLUMNS


def progression(
    physio: pd.DataFrame,
    recruitment: pd.DataFrame,
    usefulness_max: float = 2.5,
    per_month_min: float = 20,
    timepoint: str = "after",
    alpha: float = 0.05,
    pilot_months: int = 2,
) -> pd.DataFrame:
    """``recruitment``: columns cluster, month (YYYY-MM), n (patients recruited that month);
    the first ``pilot_months`` months with any recruitment are the pilot's."""
    rows = []
    items = physio.loc[physio["timepoint"] == timepoint, "dibq_useful"].dropna().astype(float)
    n = len(items)
    mean = float(items.mean()) if n else np.nan
    sd = float(items.std(ddof=1)) if n > 1 else np.nan
    se = sd / np.sqrt(n) if n > 1 else np.nan
    crit = stats.t.isf(alpha / 2, n - 1) if n > 1 else np.nan
    rows.append(
        {
            "term": "DIBQ usefulness, mean (1 agree completely - 5 do not agree at all)",
            "estimate": mean,
            "std_error": se,
            "ci_low": mean - crit * se,
            "ci_high": mean + crit * se,
            "p_value": np.nan,
            "sd": sd,
            "n": n,
            "threshold": f"<= {usefulness_max}",
            "met": bool(n and mean <= usefulness_max),
        }
    )
    months = sorted(recruitment["month"].astype(str).unique())[:pilot_months]
    pilot = recruitment.loc[recruitment["month"].astype(str).isin(months)]
    for cluster, part in pilot.groupby("cluster", sort=True):
        for month, count in zip(part["month"], part["n"], strict=True):
            rows.append(
                {
                    "term": f"recruitment, cluster {cluster}, {month}",
                    "estimate": float(count),
                    "n": int(count),
                    "threshold": f">= {per_month_min} expected (information)",
                    "met": bool(count >= per_month_min),
                    "criterion": False,
                }
            )
        avg = float(part["n"].sum()) / len(months)
        rows.append(
            {
                "term": (
                    f"recruitment per month, cluster {cluster}, mean over the pilot's "
                    f"first {len(months)} months"
                ),
                "estimate": avg,
                "n": int(part["n"].sum()),
                "threshold": f">= {per_month_min} expected (information, not a criterion)",
                "met": avg >= per_month_min,
                "criterion": False,
            }
        )
    rows[0]["criterion"] = True
    out = pd.DataFrame(rows)
    decisive = out["criterion"].fillna(False).astype(bool)
    overall = bool(out.loc[decisive, "met"].all())
    out = pd.concat(
        [
            out,
            pd.DataFrame(
                [
                    {
                        "term": "progression (the DIBQ usefulness criterion met)",
                        "estimate": float(overall),
                        "met": overall,
                        "criterion": False,
                    }
                ]
            ),
        ],
        ignore_index=True,
    )
    out["criterion"] = out["criterion"].fillna(False).astype(bool)
    return out.reindex(columns=[*ESTIMATE_COLUMNS, "n", "sd", "threshold", "met", "criterion"])
