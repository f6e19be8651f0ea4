"""Intention to treat with multiple imputation by chained equations, Rubin's rules.

Imputation model (statsmodels ``MICEData``: chained linear regressions with predictive
mean matching) on the *wide* data, one row per participant: the outcome at 0, 3, 6 and
12 months, intervention (0/1), cluster indicators and the baseline STarT Back risk
group. Each completed dataset is reshaped back to long format and analysed with
:func:`analysis.plan.mixed.mixed_change`; the estimates are pooled with
:func:`rubin_pool` (Rubin 1987, large-sample degrees of freedom).

Sensitivity analyses (protocol): per protocol (rows with ``per_protocol`` true) and
washout (rows with ``crossover_washout`` true removed), each analysed the same way.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.imputation.mice import MICEData

from . import ESTIMATE_COLUMNS
from .dataset import TIMEPOINTS, wide
from .mixed import mixed_change


def rubin_pool(estimates, variances, alpha: float = 0.05) -> dict:
    """Pool m estimates and their squared standard errors with Rubin's rules.

    Q = mean(q); W = mean(u) (within); B = var(q, ddof=1) (between);
    T = W + (1 + 1/m) B; df = (m - 1) * (1 + W / ((1 + 1/m) B))^2; t-based CI and p.
    Returns estimate, std_error, ci_low, ci_high, p_value, df, within, between, total,
    riv (relative increase in variance) and fmi (fraction of missing information,
    large-sample form (riv + 2/(df + 3)) / (riv + 1)).
    """
    q = np.asarray(estimates, dtype=float)
    u = np.asarray(variances, dtype=float)
    m = len(q)
    if m < 2 or len(u) != m:
        raise ValueError("need at least 2 estimates and as many variances")
    qbar, w, b = q.mean(), u.mean(), q.var(ddof=1)
    t = w + (1 + 1 / m) * b
    riv = (1 + 1 / m) * b / w if w > 0 else np.inf
    df = (m - 1) * (1 + 1 / riv) ** 2 if riv > 0 else np.inf
    se = float(np.sqrt(t))
    crit = stats.t.isf(alpha / 2, df)
    return {
        "estimate": float(qbar),
        "std_error": se,
        "ci_low": float(qbar - crit * se),
        "ci_high": float(qbar + crit * se),
        "p_value": float(2 * stats.t.sf(abs(qbar / se), df)),
        "df": float(df),
        "within": float(w),
        "between": float(b),
        "total": float(t),
        "riv": float(riv),
        "fmi": float((riv + 2 / (df + 3)) / (riv + 1)),
    }


def impute(
    df: pd.DataFrame, outcome: str, m: int = 5, seed: int = 1, burn_in: int = 10, between: int = 5
) -> list[pd.DataFrame]:
    """m completed long datasets (chained equations on the wide data)."""
    w = wide(df, outcome)
    cols = [f"{outcome}_{t}" for t in TIMEPOINTS]
    x = w[cols].astype(float).copy()
    x["intervention"] = (w["condition"] == "intervention").astype(float)
    x["risk"] = w["sbst_risk_group"].astype(float)
    for c in sorted(w["cluster"].unique())[1:]:
        x[f"cluster_{c}"] = (w["cluster"] == c).astype(float)
    x.columns = [str(c) for c in x.columns]
    if x[cols].notna().all().all():
        return [df.copy() for _ in range(m)]
    data = MICEData(x, rng=np.random.default_rng(seed))
    completed = []
    for i in range(m):
        data.update_all(burn_in if i == 0 else between)
        filled = w.copy()
        filled[cols] = data.data[cols].to_numpy()
        completed.append(_long(filled, df, outcome))
    return completed


def _long(filled: pd.DataFrame, original: pd.DataFrame, outcome: str) -> pd.DataFrame:
    long = filled.melt(
        id_vars=[c for c in filled.columns if not c.startswith(f"{outcome}_")],
        value_vars=[f"{outcome}_{t}" for t in TIMEPOINTS],
        var_name="timepoint_months",
        value_name=outcome,
    )
    long["timepoint_months"] = long["timepoint_months"].str.rsplit("_", n=1).str[1].astype(int)
    return long.sort_values(["study_id", "timepoint_months"]).reset_index(drop=True)


def mi_change(
    df: pd.DataFrame,
    outcome: str = "nrs_back",
    m: int = 5,
    seed: int = 1,
    cluster_random: bool = True,
    analysis: str = "ITT, multiple imputation",
) -> pd.DataFrame:
    """Pooled (Rubin) change-from-baseline differences at 3, 6, 12 months."""
    fits = [
        mixed_change(d, outcome, cluster_random=cluster_random)
        for d in impute(df, outcome, m=m, seed=seed)
    ]
    rows = []
    for i, term in enumerate(fits[0]["term"]):
        est = [f.iloc[i]["estimate"] for f in fits]
        var = [f.iloc[i]["std_error"] ** 2 for f in fits]
        pooled = (
            rubin_pool(est, var)
            if m > 1
            else {"estimate": est[0], "std_error": var[0] ** 0.5, **_normal_ci(est[0], var[0])}
        )
        rows.append(
            {"term": term, **pooled, "timepoint_months": fits[0].iloc[i]["timepoint_months"]}
        )
    out = pd.DataFrame(rows)
    out = out[[*ESTIMATE_COLUMNS, *[c for c in out.columns if c not in ESTIMATE_COLUMNS]]]
    out["analysis"] = analysis
    out["outcome"] = outcome
    out["imputations"] = m
    out["n_participants"] = df["study_id"].nunique()
    out["model"] = "; ".join(sorted({str(f["model"].iloc[0]) for f in fits}))
    return out


def _normal_ci(est, var):
    se = var**0.5
    return {
        "ci_low": est - 1.959964 * se,
        "ci_high": est + 1.959964 * se,
        "p_value": float(2 * stats.norm.sf(abs(est / se))),
    }


def per_protocol(
    df: pd.DataFrame, outcome: str = "nrs_back", m: int = 5, seed: int = 1, **kw
) -> pd.DataFrame:
    """Sensitivity: the same analysis restricted to participants with per_protocol true."""
    if "per_protocol" not in df.columns:
        raise KeyError("per_protocol column missing")
    keep = df["per_protocol"].fillna(False).astype(bool)
    return mi_change(df.loc[keep], outcome, m, seed, analysis="per protocol, MI", **kw)


def without_washout(
    df: pd.DataFrame, outcome: str = "nrs_back", m: int = 5, seed: int = 1, **kw
) -> pd.DataFrame:
    """Sensitivity: the same analysis without participants recruited in the washout."""
    keep = ~df["crossover_washout"].fillna(False).astype(bool)
    return mi_change(df.loc[keep], outcome, m, seed, analysis="without washout, MI", **kw)


def all_mi(
    df: pd.DataFrame, outcome: str = "nrs_back", m: int = 5, seed: int = 1, **kw
) -> pd.DataFrame:
    """ITT, then the per-protocol (if the column exists) and washout sensitivity analyses."""
    parts = [mi_change(df, outcome, m, seed, **kw)]
    if "per_protocol" in df.columns:
        parts.append(per_protocol(df, outcome, m, seed, **kw))
    parts.append(without_washout(df, outcome, m, seed, **kw))
    return pd.concat(parts, ignore_index=True)
