"""Cost-effectiveness: QALYs, costs, ICER with a bootstrap CI, CE plane and CEAC.

* QALY per participant = area under the EQ-5D index curve over 0, 3, 6, 12 months by the
  trapezoid rule with time in years (0, 0.25, 0.5, 1); participants with a missing
  EQ-5D value are left out (complete case; impute first if needed).
* Costs per participant = sum over the utilisation table of quantity * unit price
  (``prices`` dict item -> price); an item without a price is an error.
* ICER = (mean cost_I - mean cost_C) / (mean QALY_I - mean QALY_C).
* Non-parametric bootstrap: participants resampled with replacement within each arm
  (seeded ``numpy.random.default_rng``). CIs are percentile intervals. The ICER interval
  is only meaningful when the QALY difference stays on one side of zero: the share of
  replicates in each quadrant of the CE plane is reported so that can be judged.
* CEAC: for each willingness to pay lambda, the share of replicates with
  lambda * dQALY - dCost > 0 (positive incremental net monetary benefit).
"""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from . import ESTIMATE_COLUMNS

YEARS = {0: 0.0, 3: 0.25, 6: 0.5, 12: 1.0}


def qaly_auc(df: pd.DataFrame, utility: str = "eq5d_index", times=(0, 3, 6, 12)) -> pd.DataFrame:
    """study_id, condition, qaly (trapezoid AUC in years)."""
    table = df.pivot(index="study_id", columns="timepoint_months", values=utility)
    table = table.reindex(columns=list(times))
    years = np.array([t / 12 for t in times])
    values = table.to_numpy(dtype=float)
    widths = np.diff(years)
    auc = ((values[:, 1:] + values[:, :-1]) / 2 * widths).sum(axis=1)
    auc[np.isnan(values).any(axis=1)] = np.nan
    cond = df.drop_duplicates("study_id").set_index("study_id")["condition"]
    return pd.DataFrame(
        {"study_id": table.index, "condition": cond.reindex(table.index).values, "qaly": auc}
    ).reset_index(drop=True)


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
    """study_id, condition, qaly, cost (cost from the table, or from a ``cost`` column)."""
    q = qaly_auc(df, utility)
    if utilisation is not None:
        c = costs(utilisation, prices or {})
        out = q.merge(c, on="study_id", how="left")
        out["cost"] = out["cost"].fillna(0.0)  # no utilisation recorded = no cost
    else:
        c = df.drop_duplicates("study_id")[["study_id", "cost"]]
        out = q.merge(c, on="study_id", how="left")
    return out.dropna(subset=["qaly", "cost"])


def _deltas(pp: pd.DataFrame) -> tuple[float, float]:
    """(delta cost, delta QALY), intervention minus control."""
    i = pp.loc[pp.condition == "intervention"]
    c = pp.loc[pp.condition == "control"]
    return i.cost.mean() - c.cost.mean(), i.qaly.mean() - c.qaly.mean()


def bootstrap(pp: pd.DataFrame, n_boot: int = 2000, seed: int = 1) -> pd.DataFrame:
    """Bootstrap replicates of (delta_cost, delta_qaly), resampling within arm."""
    rng = np.random.default_rng(seed)
    out = {}
    for cond in ("intervention", "control"):
        arm = pp.loc[pp.condition == cond]
        idx = rng.integers(0, len(arm), size=(n_boot, len(arm)))
        out[cond] = (arm.cost.to_numpy()[idx].mean(axis=1), arm.qaly.to_numpy()[idx].mean(axis=1))
    return pd.DataFrame(
        {
            "delta_cost": out["intervention"][0] - out["control"][0],
            "delta_qaly": out["intervention"][1] - out["control"][1],
        }
    )


def icer(pp: pd.DataFrame, n_boot: int = 2000, seed: int = 1, alpha: float = 0.05) -> pd.DataFrame:
    """Rows delta_cost, delta_qaly, icer with bootstrap SE and percentile CI."""
    dc, dq = _deltas(pp)
    dq_safe = dq if dq != 0 else np.nan
    boot = bootstrap(pp, n_boot, seed)
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
    rows = []
    for term, est, reps in (
        ("delta cost (intervention - control)", dc, boot.delta_cost),
        ("delta QALY (intervention - control)", dq, boot.delta_qaly),
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
    out["n_intervention"] = int((pp.condition == "intervention").sum())
    out["n_control"] = int((pp.condition == "control").sum())
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
