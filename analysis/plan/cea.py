"""Cost-effectiveness: QALYs, costs, ICER with a cluster-bootstrap CI, CE plane and CEAC.

* QALY per participant = area under the EQ-5D index curve over 0, 3, 6, 12 months by the
  trapezoid rule with time in years (0, 0.25, 0.5, 1).
* Costs per participant = sum over the utilisation table of quantity * unit price
  (``prices`` dict item -> price); an item without a price is an error.
* Missing utilities and costs are multiply imputed (``m`` datasets, Bayesian normal chained
  equations of :mod:`analysis.plan.mi`, with condition, cluster, clinic and period), not
  dropped: a complete-case analysis lost 27% of participants at 10% missing per visit.
* Delta QALY is adjusted for baseline utility by regression (QALY ~ condition + EQ-5D at
  baseline; Manca et al. 2005), since a baseline imbalance carries into the AUC; delta
  cost is the difference in mean cost. ICER = delta cost / delta QALY. Point estimates are
  the means over the imputations.
* Cluster bootstrap: clinics resampled with replacement within each cluster (the unit of
  clustering, keeping the dog-leg layout); replicate b uses imputation b mod m, so the
  replicates carry imputation and sampling variation. With only k clinics per cluster the
  resampled variance is too small by (k - 1)/k, so deviations from the estimate are
  rescaled by sqrt(k/(k - 1)) (Davison & Hinkley 1997, sec. 3.8), k the mean number of
  clinics per cluster. 2,000 replicates by default; percentile intervals. The share of
  replicates in each quadrant of the CE plane is reported.
* CEAC: for each willingness to pay lambda, the share of replicates with
  lambda * dQALY - dCost > 0 (positive incremental net monetary benefit).
"""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from . import ESTIMATE_COLUMNS, InsufficientData, arms
from .mi import chained_norm

YEARS = {0: 0.0, 3: 0.25, 6: 0.5, 12: 1.0}


def qaly_auc(df: pd.DataFrame, utility: str = "eq5d_index", times=(0, 3, 6, 12)) -> pd.DataFrame:
    """study_id, condition, qaly (trapezoid AUC in years; NaN if a utility is missing),
    utility_0 (baseline)."""
    table = df.pivot(index="study_id", columns="timepoint_months", values=utility)
    table = table.reindex(columns=list(times))
    return _auc_frame(df, table, times)


def _auc_frame(df, table, times):
    years = np.array([t / 12 for t in times])
    values = table.to_numpy(dtype=float)
    widths = np.diff(years)
    auc = ((values[:, 1:] + values[:, :-1]) / 2 * widths).sum(axis=1)
    auc[np.isnan(values).any(axis=1)] = np.nan
    people = df.drop_duplicates("study_id").set_index("study_id")
    out = pd.DataFrame(
        {
            "study_id": table.index,
            "condition": people["condition"].reindex(table.index).values,
            "qaly": auc,
            "utility_0": values[:, 0],
        }
    )
    for col in ("cluster", "clinic", "period"):
        if col in people:
            out[col] = people[col].reindex(table.index).values
    return out.reset_index(drop=True)


def costs(utilisation: pd.DataFrame, prices: dict) -> pd.DataFrame:
    """study_id, cost = sum(quantity * price[item])."""
    unknown = sorted(set(utilisation["item"]) - set(prices))
    if unknown:
        raise KeyError(f"no price for: {', '.join(map(str, unknown))}")
    priced = utilisation.assign(cost=utilisation["quantity"] * utilisation["item"].map(prices))
    return priced.groupby("study_id", as_index=False)["cost"].sum()


def per_person(
    df: pd.DataFrame,
    utilisation: pd.DataFrame | None = None,
    prices: dict | None = None,
    utility: str = "eq5d_index",
) -> pd.DataFrame:
    """study_id, condition, cluster, clinic, qaly, utility_0, cost (NaN where missing);
    cost from the utilisation table, or from a ``cost`` column."""
    q = qaly_auc(df, utility)
    if utilisation is not None:
        c = costs(utilisation, prices or {})
        out = q.merge(c, on="study_id", how="left")
        out["cost"] = out["cost"].fillna(0.0)  # no utilisation recorded = no cost
    else:
        c = df.drop_duplicates("study_id")[["study_id", "cost"]]
        out = q.merge(c, on="study_id", how="left")
    out["_utilities"] = [
        row
        for row in df.pivot(index="study_id", columns="timepoint_months", values=utility)
        .reindex(index=out.study_id, columns=list(YEARS))
        .to_numpy(dtype=float)
    ]
    return out


def impute_per_person(pp: pd.DataFrame, m: int = 20, seed: int = 1) -> list[pd.DataFrame]:
    """m completed per-person tables: missing utilities (per visit) and costs imputed."""
    util = np.vstack(pp["_utilities"].to_numpy()) if "_utilities" in pp else None
    base = pp.drop(columns=["_utilities"], errors="ignore")
    if util is None or (not np.isnan(util).any() and base["cost"].notna().all()):
        return [base.assign(utility_0=util[:, 0] if util is not None else base.utility_0)] * m
    x = pd.DataFrame(util, columns=[f"u{t}" for t in YEARS])
    x["cost"] = base["cost"].to_numpy(dtype=float)
    x["arm"] = (base["condition"].astype(str) == arms(base)[1]).astype(float).to_numpy()
    for name in ("cluster", "clinic", "period"):
        if name in base:
            levels = sorted(base[name].dropna().astype(str).unique())
            for level in levels[1:]:
                x[f"{name}_{level}"] = (base[name].astype(str) == level).astype(float).to_numpy()
    for col in [f"u{t}" for t in YEARS] + ["cost"]:
        if x[col].notna().sum() < 3:
            raise InsufficientData(f"Too few observed values of {col} to impute.")
    out = []
    for done in chained_norm(x, m, seed):
        values = done[[f"u{t}" for t in YEARS]].to_numpy()
        years = np.array(list(YEARS.values()))
        auc = ((values[:, 1:] + values[:, :-1]) / 2 * np.diff(years)).sum(axis=1)
        out.append(base.assign(qaly=auc, utility_0=values[:, 0], cost=done["cost"].to_numpy()))
    return out


def _deltas_arrays(cost, qaly, u0, arm) -> tuple[float, float]:
    """(delta cost, delta QALY adjusted for baseline utility), comparator minus reference."""
    dc = cost[arm == 1].mean() - cost[arm == 0].mean()
    X = np.column_stack([np.ones(len(arm)), arm, u0])
    xtx = X.T @ X
    if np.linalg.cond(xtx) > 1e12:  # baseline utility confounded with arm: no adjustment
        return float(dc), float(qaly[arm == 1].mean() - qaly[arm == 0].mean())
    beta = np.linalg.solve(xtx, X.T @ qaly)
    # rounding noise of the regression is not a QALY difference (an ICER would explode)
    dq = 0.0 if abs(beta[1]) < 1e-9 * max(1.0, float(np.abs(qaly).max())) else float(beta[1])
    return float(dc), dq


def _arrays(pp):
    arm = (pp["condition"].astype(str) == arms(pp)[1]).to_numpy(dtype=float)
    return (
        pp["cost"].to_numpy(float),
        pp["qaly"].to_numpy(float),
        pp["utility_0"].to_numpy(float),
        arm,
    )


def _deltas(pp: pd.DataFrame) -> tuple[float, float]:
    return _deltas_arrays(*_arrays(pp))


def cluster_bootstrap(
    pp: pd.DataFrame | list, n_boot: int = 2000, seed: int = 1, rescale: bool = True
) -> pd.DataFrame:
    """Replicates of (delta_cost, delta_qaly): clinics resampled within cluster; a list of
    imputed tables is cycled through (replicate b uses table b mod m)."""
    tables = pp if isinstance(pp, list) else [pp]
    rng = np.random.default_rng(seed)
    first = tables[0]
    clinic = first["clinic"].astype(str).to_numpy() if "clinic" in first else None
    if clinic is None:
        raise InsufficientData("The dataset has no clinic column, so no cluster bootstrap.")
    cluster = first["cluster"].astype(str).to_numpy()
    strata = []
    for c in sorted(set(cluster)):
        names = sorted(set(clinic[cluster == c]))
        strata.append([np.flatnonzero((cluster == c) & (clinic == k)) for k in names])
    k = np.mean([len(s) for s in strata])
    factor = np.sqrt(k / (k - 1)) if rescale and k > 1 else 1.0
    arrays = [_arrays(t) for t in tables]
    point = np.mean([_deltas_arrays(*a) for a in arrays], axis=0)
    out = np.empty((n_boot, 2))
    for b in range(n_boot):
        idx = np.concatenate([s[j] for s in strata for j in rng.integers(0, len(s), size=len(s))])
        cost, qaly, u0, arm = (a[idx] for a in arrays[b % len(arrays)])
        if arm.min() == arm.max():  # a replicate with one condition only has no contrast
            out[b] = np.nan
            continue
        out[b] = _deltas_arrays(cost, qaly, u0, arm)
    out = point + factor * (out - point)
    frame = pd.DataFrame(out, columns=["delta_cost", "delta_qaly"]).dropna()
    return frame.reset_index(drop=True)


def bootstrap(pp, n_boot: int = 2000, seed: int = 1) -> pd.DataFrame:
    """The cluster bootstrap (kept under its old name for callers)."""
    return cluster_bootstrap(pp, n_boot, seed)


def icer(pp, n_boot: int = 2000, seed: int = 1, alpha: float = 0.05, boot=None) -> pd.DataFrame:
    """Rows delta_cost, delta_qaly (baseline-adjusted), icer with cluster-bootstrap SE and
    percentile CI. ``pp``: one per-person table or a list of imputed ones."""
    tables = pp if isinstance(pp, list) else [pp]
    for t in tables:
        if t[["qaly", "cost", "utility_0"]].isna().any().any():
            raise InsufficientData("Missing QALYs or costs: impute them first.")
    if len({*tables[0]["condition"].astype(str)}) < 2:
        raise InsufficientData("Cost-effectiveness needs participants in both conditions.")
    dc, dq = np.mean([_deltas(t) for t in tables], axis=0)
    dq_safe = dq if dq != 0 else np.nan
    if boot is None:
        boot = cluster_bootstrap(tables, n_boot, seed)
    # a replicate with no QALY difference has no ICER: left out of its interval
    dq_boot = boot.delta_qaly.where(boot.delta_qaly != 0)
    ratio = (boot.delta_cost / dq_boot).dropna()
    quadrants = {
        "share_NE": float(((boot.delta_qaly > 0) & (boot.delta_cost > 0)).mean()),
        "share_SE": float(((boot.delta_qaly > 0) & (boot.delta_cost <= 0)).mean()),
        "share_NW": float(((boot.delta_qaly <= 0) & (boot.delta_cost > 0)).mean()),
        "share_SW": float(((boot.delta_qaly <= 0) & (boot.delta_cost <= 0)).mean()),
    }
    lo, hi = 100 * alpha / 2, 100 * (1 - alpha / 2)
    ref, comp = arms(tables[0])
    rows = []
    for term, est, reps in (
        (f"delta cost ({comp} - {ref})", dc, boot.delta_cost),
        (f"delta QALY ({comp} - {ref}), adjusted for baseline utility", dq, boot.delta_qaly),
        ("ICER (cost per QALY gained)", dc / dq_safe, ratio),
    ):
        rows.append(
            {
                "term": term,
                "estimate": float(est) if np.isfinite(est) else np.nan,
                "std_error": float(reps.std(ddof=1)) if len(reps) > 1 else np.nan,
                "ci_low": float(np.percentile(reps, lo)) if len(reps) else np.nan,
                "ci_high": float(np.percentile(reps, hi)) if len(reps) else np.nan,
                "p_value": np.nan,
                "n_replicates": len(reps),
            }
        )
    out = pd.DataFrame(rows)
    out["n_boot"] = n_boot
    out["seed"] = seed
    out["imputations"] = len(tables)
    out["bootstrap"] = "clinics resampled within cluster, rescaled sqrt(k/(k-1))"
    out["n_" + comp] = int((tables[0].condition.astype(str) == comp).sum())
    out["n_" + ref] = int((tables[0].condition.astype(str) == ref).sum())
    for key, value in quadrants.items():
        out[key] = value
    return out[[*ESTIMATE_COLUMNS, *[c for c in out.columns if c not in ESTIMATE_COLUMNS]]]


def ceac(boot: pd.DataFrame, wtp=None) -> pd.DataFrame:
    """wtp, p_cost_effective: share of replicates with wtp*dQALY - dCost > 0."""
    if wtp is None:
        wtp = np.linspace(0, 1_000_000, 51)
    wtp = np.asarray(wtp, dtype=float)
    nmb = wtp[:, None] * boot.delta_qaly.to_numpy()[None, :] - boot.delta_cost.to_numpy()[None, :]
    return pd.DataFrame({"wtp": wtp, "p_cost_effective": (nmb > 0).mean(axis=1)})


def _svg(fig: Figure) -> str:
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None})
    return buf.getvalue()


def plane_svg(boot: pd.DataFrame, wtp: float | None = None, currency: str = "SEK") -> str:
    """Cost-effectiveness plane (bootstrap scatter) as an SVG string."""
    fig = Figure(figsize=(5, 4))
    ax = fig.add_subplot()
    ax.scatter(boot.delta_qaly, boot.delta_cost, s=4, alpha=0.3)
    ax.axhline(0, color="black", lw=0.8)
    ax.axvline(0, color="black", lw=0.8)
    if wtp:
        x = np.array(ax.get_xlim())
        ax.plot(x, wtp * x, ls="--", lw=0.8, label=f"{wtp:,.0f} {currency}/QALY")
        ax.legend(loc="best", fontsize=8)
    ax.set_xlabel("Incremental QALYs")
    ax.set_ylabel(f"Incremental cost ({currency})")
    ax.set_title("Cost-effectiveness plane")
    return _svg(fig)


def ceac_svg(curve: pd.DataFrame, currency: str = "SEK") -> str:
    """Cost-effectiveness acceptability curve as an SVG string."""
    fig = Figure(figsize=(5, 4))
    ax = fig.add_subplot()
    ax.plot(curve.wtp, curve.p_cost_effective)
    ax.set_ylim(0, 1)
    ax.set_xlabel(f"Willingness to pay per QALY ({currency})")
    ax.set_ylabel("Probability cost-effective")
    ax.set_title("Cost-effectiveness acceptability curve")
    return _svg(fig)
