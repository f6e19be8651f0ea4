"""Internal pilot progression criteria (protocol, "Internal pilot" and its results).

1. HCP acceptability: the mean of the DIBQ item "I expect that the application of the
   BetterBack model of care will be useful" (1 agree completely .. 5 do not agree at all),
   answered directly after the workshop (timepoint 'after'), must be <= 2.5.
2. Recruitment: each cluster must recruit at least 20 patients per month in the pilot
   months; judged on the cluster's mean per pilot month (each month is also listed).

Returns one row per criterion with ``estimate`` (the figure), ``threshold``, ``met``,
and a final row "progression" whose ``met`` is true only if every criterion is met.
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
) -> pd.DataFrame:
    """``recruitment``: columns cluster, month, n (patients recruited in that month)."""
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
    for cluster, part in recruitment.groupby("cluster", sort=True):
        for month, count in zip(part["month"], part["n"], strict=True):
            rows.append(
                {
                    "term": f"recruitment, cluster {cluster}, {month}",
                    "estimate": float(count),
                    "n": int(count),
                    "threshold": f">= {per_month_min} (information)",
                    "met": bool(count >= per_month_min),
                }
            )
        avg = float(part["n"].mean())
        rows.append(
            {
                "term": f"recruitment per month, cluster {cluster} (mean)",
                "estimate": avg,
                "n": int(part["n"].sum()),
                "threshold": f">= {per_month_min}",
                "met": avg >= per_month_min,
                "criterion": True,
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
                        "term": "progression (all criteria met)",
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
