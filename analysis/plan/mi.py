"""Intention to treat with multiple imputation, Rubin's rules.

Imputation: proper Bayesian normal-model imputation by chained equations (van Buuren's
"norm"), on the *wide* data, one row per participant. Each incomplete column is regressed
on all the others; per sweep the regression's parameters are drawn from their posterior
under a flat prior (sigma^2 = RSS / chi^2(n - p), beta ~ N(beta_hat, sigma^2 (X'X)^-1)), then
the missing values from the normal model given those drawn parameters. Drawing the
parameters, not only the residuals, is what makes the between-imputation variance
honest (Rubin 1987, "proper" imputation); predictive mean matching with its donor pool
attenuated the effect in the audit of issue 16. Columns of the imputation model: the
outcome at 0, 3, 6 and 12 months, the condition, cluster, clinic and period indicators,
the baseline STarT Back risk group and the auxiliary baseline scores present in the
dataset (``AUXILIARY``). Each of the m chains (default 20) runs ``burn_in`` sweeps from
its own seed stream; every completed dataset is analysed with the primary model
(:func:`analysis.plan.mixed.mixed_change`) and pooled with :func:`rubin_pool`.

Sensitivity analyses (protocol): per protocol (rows with ``per_protocol`` true) and
washout (rows with ``crossover_washout`` true removed), each analysed the same way; one
that cannot run says why in a row of its own.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from . import ESTIMATE_COLUMNS, InsufficientData, arms
from .dataset import TIMEPOINTS, wide
from .mixed import check_enough, mixed_change, prepare

AUXILIARY = ("nrs_back", "nrs_leg", "odi", "eq5d_index", "bipq_total")
DEFAULT_M = 20


def rubin_pool(estimates, variances, alpha: float = 0.05, df_complete: float = np.inf) -> dict:
    """Pool m estimates and their squared standard errors with Rubin's rules.

    Q = mean(q); W = mean(u) (within); B = var(q, ddof=1) (between);
    T = W + (1 + 1/m) B; df = (m - 1) * (1 + W / ((1 + 1/m) B))^2; t-based CI and p.
    Returns estimate, std_error, ci_low, ci_high, p_value, df, within, between, total,
    riv (relative increase in variance) and fmi (fraction of missing information,
    large-sample form (riv + 2/(df + 3)) / (riv + 1)). With a finite ``df_complete`` (the
    complete-data analysis' small-sample df) the df is Barnard & Rubin's (1999):
    1 / (1/df + 1/df_obs), df_obs = (df_complete + 1)/(df_complete + 3) df_complete (1 - g),
    g = (1 + 1/m) B / T.
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
    if np.isfinite(df_complete):
        gamma = (1 + 1 / m) * b / t if t > 0 else 0.0
        df_obs = (df_complete + 1) / (df_complete + 3) * df_complete * (1 - gamma)
        df = 1 / (1 / df + 1 / df_obs) if np.isfinite(df) else df_obs
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


def _design(w: pd.DataFrame, outcome: str, auxiliary) -> tuple[pd.DataFrame, list[str]]:
    """Numeric imputation matrix (one row per participant) and its incomplete columns."""
    cols = [f"{outcome}_{t}" for t in TIMEPOINTS]
    x = w[cols].astype(float).copy()
    x["arm"] = (w["condition"].astype(str) == arms(w)[1]).astype(float)
    for name in ("cluster", "clinic", "period", "sbst_risk_group"):
        if name not in w.columns:
            continue
        levels = sorted(w[name].dropna().astype(str).unique())
        for level in levels[1:]:
            x[f"{name}_{level}"] = (w[name].astype(str) == level).astype(float)
        if w[name].isna().any():
            x[f"{name}_missing"] = w[name].isna().astype(float)
    for aux in auxiliary:
        if f"{aux}_0" in w.columns:
            x[f"{aux}_0"] = w[f"{aux}_0"].astype(float)
    incomplete = [c for c in x.columns if x[c].isna().any()]
    return x, incomplete


def _draw_norm(x: np.ndarray, obs: np.ndarray, y: np.ndarray, rng) -> np.ndarray:
    """Values for the rows ~obs drawn from the posterior predictive of a normal regression."""
    X = np.column_stack([np.ones(len(x)), x])
    Xo, yo = X[obs], y[obs]
    n, p = Xo.shape
    xtx = Xo.T @ Xo
    # a tiny ridge keeps indicator columns that are all zero among the observed rows usable
    xtx += np.eye(p) * 1e-5 * max(np.trace(xtx) / p, 1.0)
    beta_hat = np.linalg.solve(xtx, Xo.T @ yo)
    rss = float(np.sum((yo - Xo @ beta_hat) ** 2))
    sigma2 = rss / rng.chisquare(max(n - p, 1))
    chol = np.linalg.cholesky(np.linalg.inv(xtx) * sigma2)
    beta = beta_hat + chol @ rng.standard_normal(p)
    mis = ~obs
    return X[mis] @ beta + rng.normal(0.0, np.sqrt(sigma2), mis.sum())


def chained_norm(x: pd.DataFrame, m: int, seed: int, burn_in: int = 10) -> list[pd.DataFrame]:
    """m completed copies of the numeric frame x (Bayesian normal chained equations)."""
    incomplete = sorted(
        (c for c in x.columns if x[c].isna().any()), key=lambda c: x[c].isna().sum()
    )
    observed = {c: x[c].notna().to_numpy() for c in incomplete}
    values = x.to_numpy(dtype=float)
    index = {c: list(x.columns).index(c) for c in x.columns}
    completed = []
    for chain in np.random.default_rng(seed).spawn(m):
        data = values.copy()
        for c in incomplete:  # start from the observed mean
            j = index[c]
            data[~observed[c], j] = np.nanmean(values[:, j])
        for _ in range(burn_in if incomplete else 0):
            for c in incomplete:
                j = index[c]
                others = np.delete(data, j, axis=1)
                data[~observed[c], j] = _draw_norm(others, observed[c], data[:, j], chain)
        completed.append(pd.DataFrame(data, columns=x.columns, index=x.index))
    return completed


def impute_wide(
    df: pd.DataFrame,
    outcome: str,
    m: int = DEFAULT_M,
    seed: int = 1,
    burn_in: int = 10,
    auxiliary=AUXILIARY,
) -> list[pd.DataFrame] | None:
    """m completed wide tables (one row per participant, ``<outcome>_<t>`` columns), or
    None when nothing is missing."""
    w = wide(df, outcome)
    for aux in auxiliary:
        if aux != outcome and aux in df.columns:
            base = df.loc[df.timepoint_months == 0].set_index("study_id")[aux]
            w[f"{aux}_0"] = w["study_id"].map(base)
    x, incomplete = _design(w, outcome, [a for a in auxiliary if a != outcome])
    cols = [f"{outcome}_{t}" for t in TIMEPOINTS]
    if not any(c in incomplete for c in cols):
        return None
    for c in cols:
        if x[c].notna().sum() < 3:
            raise InsufficientData(
                f"Too few observed {outcome} values at {c.rsplit('_', 1)[1]} months to impute."
            )
    base = w.drop(columns=[c for c in w.columns if c.endswith("_0") and c not in cols])
    completed = []
    for data in chained_norm(x, m, seed, burn_in):
        filled = base.copy()
        filled[cols] = data[cols].to_numpy()
        completed.append(filled)
    return completed


def impute(
    df: pd.DataFrame,
    outcome: str,
    m: int = DEFAULT_M,
    seed: int = 1,
    burn_in: int = 10,
    auxiliary=AUXILIARY,
) -> list[pd.DataFrame]:
    """m completed long datasets (Bayesian normal chained equations on the wide data)."""
    filled = impute_wide(df, outcome, m, seed, burn_in, auxiliary)
    if filled is None:
        return [df.copy() for _ in range(m)]
    return [_long(f, df, outcome) for f in filled]


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
    m: int = DEFAULT_M,
    seed: int = 1,
    analysis: str = "ITT, multiple imputation",
    analyse=mixed_change,
) -> pd.DataFrame:
    """Pooled (Rubin) change-from-baseline differences at 3, 6, 12 months.

    ``analyse(dataset, outcome)`` returns a table with ``term``, ``estimate`` and
    ``std_error`` (default: the primary model).
    """
    if m < 2:
        raise InsufficientData("Multiple imputation needs at least 2 imputations (default 20).")
    check_enough(prepare(df, outcome), outcome)  # imputation cannot create a contrast
    fits = [analyse(d, outcome) for d in impute(df, outcome, m=m, seed=seed)]
    rows = []
    for i, term in enumerate(fits[0]["term"]):
        est = [f.iloc[i]["estimate"] for f in fits]
        var = [f.iloc[i]["std_error"] ** 2 for f in fits]
        rows.append(
            {
                "term": term,
                **rubin_pool(est, var, df_complete=float(fits[0].iloc[i].get("df", np.inf))),
                "timepoint_months": fits[0].iloc[i].get("timepoint_months"),
            }
        )
    out = pd.DataFrame(rows)
    out = out[[*ESTIMATE_COLUMNS, *[c for c in out.columns if c not in ESTIMATE_COLUMNS]]]
    out["analysis"] = analysis
    out["outcome"] = outcome
    out["imputations"] = m
    out["n_participants"] = df["study_id"].nunique()
    if "model" in fits[0]:
        out["model"] = "; ".join(sorted({str(f["model"].iloc[0]) for f in fits}))
    notes = sorted({str(f["note"].iloc[0]) for f in fits if "note" in f and f["note"].iloc[0]})
    out["note"] = " ".join(notes[:1])
    return out


def not_run(analysis: str, reason: str) -> pd.DataFrame:
    """A row saying why an analysis could not run, so it never silently disappears."""
    return pd.DataFrame([{"term": f"{analysis}: not run", "analysis": analysis, "note": reason}])


def per_protocol(
    df: pd.DataFrame, outcome: str = "nrs_back", m: int = DEFAULT_M, seed: int = 1, **kw
) -> pd.DataFrame:
    """Sensitivity: the same analysis restricted to participants with per_protocol true."""
    if "per_protocol" not in df.columns:
        raise InsufficientData(
            "The dataset has no per_protocol column (from the protocol-deviation log), so "
            "the per-protocol analysis cannot run."
        )
    keep = df["per_protocol"].fillna(False).astype(bool)
    return mi_change(df.loc[keep], outcome, m, seed, analysis="per protocol, MI", **kw)


def without_washout(
    df: pd.DataFrame, outcome: str = "nrs_back", m: int = DEFAULT_M, seed: int = 1, **kw
) -> pd.DataFrame:
    """Sensitivity: the same analysis without participants recruited in the washout."""
    keep = ~df["crossover_washout"].fillna(False).astype(bool)
    return mi_change(df.loc[keep], outcome, m, seed, analysis="without washout, MI", **kw)


def all_mi(
    df: pd.DataFrame, outcome: str = "nrs_back", m: int = DEFAULT_M, seed: int = 1, **kw
) -> pd.DataFrame:
    """ITT, then the per-protocol and washout sensitivity analyses; the ITT analysis must
    run, a sensitivity analysis that cannot says why in its own row."""
    parts = [mi_change(df, outcome, m, seed, **kw)]
    for name, run in (
        ("per protocol, MI", per_protocol),
        ("without washout, MI", without_washout),
    ):
        try:
            parts.append(run(df, outcome, m, seed, **kw))
        except InsufficientData as exc:
            parts.append(not_run(name, str(exc)))
    return pd.concat(parts, ignore_index=True)
