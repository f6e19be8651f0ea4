"""Patient-population MCID anchored on the PGIC (protocol: "an anchor method where PGIC
serves as an anchor").

Definitions used (PGIC is the balanced 11-point scale -5 much worse .. 0 unchanged ..
+5 much better, answered at the follow-up):

* improvement = baseline - follow-up for outcomes where lower is better (NRS, ODI),
  follow-up - baseline otherwise (``lower_is_better=False``, e.g. EQ-5D), so that a
  positive value is always an improvement;
* anchor groups: "unchanged" PGIC -1..+1, "minimally improved" PGIC +2..+3 (a little
  better), "improved" PGIC >= +2 (configurable);
* mean-change MCID = mean improvement in the minimally improved group minus that in the
  unchanged group (Welch t CI); the mean improvement in the minimally improved group
  alone is also reported (the "within-patient" MCID);
* ROC MCID = the cut-off c on improvement (improvement >= c counts as improved) that
  maximises Youden's J = sensitivity + specificity - 1 for improved (PGIC >= +2) versus
  not improved (PGIC <= +1); candidates are the observed values; ties go to the smallest
  cut-off. The AUC (Mann-Whitney, ties 1/2) is reported alongside.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from . import ESTIMATE_COLUMNS


def improvement(
    df: pd.DataFrame, outcome: str, timepoint: int = 3, lower_is_better: bool = True
) -> pd.DataFrame:
    """Per participant: improvement from baseline to ``timepoint`` and the PGIC there."""
    base = df.loc[df["timepoint_months"] == 0].set_index("study_id")[outcome]
    fu = df.loc[df["timepoint_months"] == timepoint].set_index("study_id")
    out = pd.DataFrame({"baseline": base}).join(fu[[outcome, "pgic"]], how="inner")
    change = out[outcome] - out["baseline"]
    out["improvement"] = -change if lower_is_better else change
    return out.dropna(subset=["improvement", "pgic"])


def _mean_row(term, x, alpha):
    n = len(x)
    mean = float(np.mean(x)) if n else np.nan
    se = float(np.std(x, ddof=1) / np.sqrt(n)) if n > 1 else np.nan
    crit = stats.t.isf(alpha / 2, n - 1) if n > 1 else np.nan
    return {
        "term": term,
        "estimate": mean,
        "std_error": se,
        "ci_low": mean - crit * se,
        "ci_high": mean + crit * se,
        "p_value": np.nan,
        "n": n,
    }


def youden_cutoff(score, positive) -> dict:
    """ROC cut-off maximising Youden's J (score >= cut-off predicts positive)."""
    score = np.asarray(score, dtype=float)
    positive = np.asarray(positive, dtype=bool)
    n_pos, n_neg = positive.sum(), (~positive).sum()
    best = None
    for c in np.unique(score):  # ascending, so ties keep the smallest cut-off
        pred = score >= c
        sens = (pred & positive).sum() / n_pos
        spec = (~pred & ~positive).sum() / n_neg
        j = sens + spec - 1
        if best is None or j > best["youden"] + 1e-12:
            best = {
                "cutoff": float(c),
                "sensitivity": float(sens),
                "specificity": float(spec),
                "youden": float(j),
            }
    pos, neg = score[positive], score[~positive]
    greater = (pos[:, None] > neg[None, :]).sum() + 0.5 * (pos[:, None] == neg[None, :]).sum()
    best["auc"] = float(greater / (n_pos * n_neg))
    return best


def mcid_anchor(
    df: pd.DataFrame,
    outcome: str = "nrs_back",
    timepoint: int = 3,
    lower_is_better: bool = True,
    unchanged=(-1, 1),
    minimal=(2, 3),
    improved_from: int = 2,
    alpha: float = 0.05,
) -> pd.DataFrame:
    data = improvement(df, outcome, timepoint, lower_is_better)
    pg = data["pgic"]
    unch = data.loc[pg.between(*unchanged), "improvement"].to_numpy()
    mini = data.loc[pg.between(*minimal), "improvement"].to_numpy()
    rows = [
        _mean_row(
            f"mean improvement, minimally improved (PGIC {minimal[0]:+d}..{minimal[1]:+d})",
            mini,
            alpha,
        ),
        _mean_row(
            f"mean improvement, unchanged (PGIC {unchanged[0]:+d}..{unchanged[1]:+d})", unch, alpha
        ),
    ]
    if len(mini) > 1 and len(unch) > 1:
        diff = float(mini.mean() - unch.mean())
        va, vb = mini.var(ddof=1) / len(mini), unch.var(ddof=1) / len(unch)
        se = float(np.sqrt(va + vb))
        dof = (va + vb) ** 2 / (va**2 / (len(mini) - 1) + vb**2 / (len(unch) - 1))
        crit = stats.t.isf(alpha / 2, dof)
        rows.append(
            {
                "term": "MCID, mean change: minimally improved - unchanged",
                "estimate": diff,
                "std_error": se,
                "ci_low": diff - crit * se,
                "ci_high": diff + crit * se,
                "p_value": float(2 * stats.t.sf(abs(diff / se), dof)),
                "n": len(mini) + len(unch),
            }
        )
    positive = (pg >= improved_from).to_numpy()
    if positive.any() and (~positive).any():
        roc = youden_cutoff(data["improvement"], positive)
        rows.append(
            {
                "term": f"MCID, ROC cut-off (Youden), PGIC >= {improved_from:+d}",
                "estimate": roc.pop("cutoff"),
                "std_error": np.nan,
                "ci_low": np.nan,
                "ci_high": np.nan,
                "p_value": np.nan,
                "n": len(data),
                **roc,
            }
        )
    out = pd.DataFrame(rows)
    out["outcome"] = outcome
    out["timepoint_months"] = timepoint
    return out.reindex(
        columns=[*ESTIMATE_COLUMNS, *[c for c in out.columns if c not in ESTIMATE_COLUMNS]]
    )
