"""Seeded synthetic BetterBack-like data from a stated model (for tests and demos).

Patients (:func:`simulate_trial`): the dog-leg layout with three clusters (cluster 1
recruits under intervention, cluster 2 under control in its first half and intervention in
its second half, cluster 3 under control) and ``clinics_per_cluster`` clinics each.
Participant j of n in a cluster enrols at recruitment fraction f = (j + 0.5) / n (the same
calendar spread in every cluster), in clinic j mod k; period = 1 before cluster 2's
crossover (f < 0.5), 2 after; enrolled_month = floor(f * months). For participant i in
clinic k of cluster c at time t:

    y = mu_t + effect_t * intervention + risk_shift[g] + risk_effect_t[g] * intervention
        + u_c + w_k + s_kt + secular * f * [t > 0] + v_i + e,
    u_c ~ N(0, sd_cluster^2), w_k ~ N(0, sd_clinic^2), s_kt ~ N(0, sd_clinic_time^2),
    v_i ~ N(0, sd_participant^2), e ~ N(0, sd_resid^2)

with effect_0 = 0, so ``effect[t]`` is the true difference between conditions in change
from baseline at t months, and ``secular`` the change in follow-up means from the first to
the last enrolment (calendar time). EQ-5D, PGIC, specialist care and costs follow simpler
models noted in the code. Missing follow-ups: with probability ``p_missing`` completely at
random, or, with ``mar_slope``, at random given the baseline value (logit of the
probability = logit(p_missing) + mar_slope * (baseline - 6)).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

MU = {0: 6.0, 3: 4.0, 6: 3.5, 12: 3.2}  # NRS back pain means under control


def simulate_trial(
    n_per_cluster: int = 100,
    effect: dict | None = None,
    sd_cluster: float = 0.3,
    sd_participant: float = 1.2,
    sd_resid: float = 1.0,
    risk_effect: dict | None = None,
    p_missing: float = 0.0,
    seed: int = 1,
    clinics_per_cluster: tuple = (5, 6, 6),
    sd_clinic: float = 0.0,
    sd_clinic_time: float = 0.0,
    secular: float = 0.0,
    months: int = 10,
    mar_slope: float = 0.0,
) -> pd.DataFrame:
    """Long patient dataset (format of :mod:`analysis.plan.dataset`), outcome ``nrs_back``.

    ``effect``: {3: e3, 6: e6, 12: e12} true intervention minus control change difference
    (default -1.0 at each follow-up). ``risk_effect``: {risk group: extra effect at every
    follow-up} (default none).
    """
    rng = np.random.default_rng(seed)
    effect = {0: 0.0, **(effect or {3: -1.0, 6: -1.0, 12: -1.0})}
    risk_effect = risk_effect or {}
    rows = []
    pid = 0
    for cluster in (1, 2, 3):
        u = rng.normal(0, sd_cluster)
        k = clinics_per_cluster[cluster - 1]
        w = rng.normal(0, sd_clinic, k)
        s_kt = rng.normal(0, sd_clinic_time, (k, 4))
        for j in range(n_per_cluster):
            pid += 1
            frac = (j + 0.5) / n_per_cluster
            clinic = j % k
            if cluster == 1:
                condition = "intervention"
            elif cluster == 2:
                condition = "control" if j < n_per_cluster // 2 else "intervention"
            else:
                condition = "control"
            treat = condition == "intervention"
            # the 5 participants either side of the switch in cluster 2 are in the washout
            washout = cluster == 2 and abs(j - n_per_cluster // 2) < 5
            risk = int(rng.choice([1, 2, 3], p=[0.4, 0.4, 0.2]))
            v = rng.normal(0, sd_participant)
            per_protocol = bool(rng.random() > 0.1)
            specialist = bool(rng.random() < (0.10 if treat else 0.20))
            util0 = float(np.clip(rng.normal(0.55, 0.15), -0.3, 1))
            for ti, t in enumerate((0, 3, 6, 12)):
                y = (
                    MU[t]
                    + w[clinic]
                    + s_kt[clinic, ti]
                    + (secular * frac if t else 0.0)
                    + (effect[t] + (risk_effect.get(risk, 0) if t else 0)) * treat
                    + 0.8 * (risk - 2)
                    + u
                    + v
                    + rng.normal(0, sd_resid)
                )
                gain = 0.0 if t == 0 else 0.15 + (0.05 if treat else 0)
                eq5d = float(np.clip(util0 + gain + rng.normal(0, 0.05), -0.3, 1))
                # PGIC: improvement since baseline, roughly 1.5 points per NRS point
                row = {
                    "study_id": f"P{pid:04d}",
                    "cluster": cluster,
                    "clinic": f"C{cluster}-{clinic + 1}",
                    "period": 1 if frac < 0.5 else 2,
                    "enrolled_month": int(frac * months),
                    "condition": condition,
                    "timepoint_months": t,
                    "crossover_washout": washout,
                    "sbst_risk_group": risk,
                    "per_protocol": per_protocol,
                    "nrs_back": y,
                    "eq5d_index": eq5d,
                    "specialist_care": specialist,
                }
                rows.append(row)
    df = pd.DataFrame(rows)
    base = df.loc[df.timepoint_months == 0].set_index("study_id")["nrs_back"]
    change = df["study_id"].map(base) - df["nrs_back"]  # improvement, positive = better
    pgic = np.clip(np.round(1.2 * change + rng.normal(0, 1, len(df))), -5, 5)
    df["pgic"] = np.where(df.timepoint_months == 0, np.nan, pgic)
    if p_missing:
        prob = np.full(len(df), p_missing)
        if mar_slope:
            y0 = df["study_id"].map(base).to_numpy()
            logit = np.log(p_missing / (1 - p_missing)) + mar_slope * (y0 - 6.0)
            prob = 1 / (1 + np.exp(-logit))
        drop = (df.timepoint_months > 0) & (rng.random(len(df)) < prob)
        df.loc[drop, ["nrs_back", "eq5d_index", "pgic"]] = np.nan
    return df


def simulate_utilisation(patients: pd.DataFrame, seed: int = 2) -> pd.DataFrame:
    """Utilisation table (study_id, item, quantity): Poisson visits, fewer if intervention."""
    rng = np.random.default_rng(seed)
    people = patients.drop_duplicates("study_id")
    rows = []
    for sid, cond in zip(people.study_id, people.condition, strict=True):
        treat = cond == "intervention"
        rows += [
            {"study_id": sid, "item": "physio_visit", "quantity": rng.poisson(5 if treat else 4)},
            {"study_id": sid, "item": "gp_visit", "quantity": rng.poisson(1 if treat else 2)},
            {"study_id": sid, "item": "sick_leave_day", "quantity": rng.poisson(5 if treat else 8)},
        ]
    return pd.DataFrame(rows)


PRICES_SEK = {"physio_visit": 900.0, "gp_visit": 1800.0, "sick_leave_day": 1500.0}


def simulate_physio(
    n: int = 60, change: float = -3.0, sd_change: float = 6.0, seed: int = 3
) -> pd.DataFrame:
    """Physiotherapist dataset: PCS/PABS-PT before, after, 3m, 12m with a true mean change."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        pcs0 = rng.normal(30, 8)
        bio0 = rng.normal(35, 6)
        bps0 = rng.normal(30, 5)
        for tp, k in (("before", 0), ("after", 1), ("3m", 1), ("12m", 1)):
            rows.append(
                {
                    "physio_id": f"H{i + 1:03d}",
                    "timepoint": tp,
                    "pcs_total": pcs0 + k * rng.normal(change, sd_change),
                    "pabs_pt_biomedical": bio0 + k * rng.normal(change, sd_change),
                    "pabs_pt_biopsychosocial": bps0 + k * rng.normal(-change / 2, sd_change),
                    "dibq_useful": float(rng.integers(1, 4)) if tp == "after" else np.nan,
                }
            )
    return pd.DataFrame(rows)


COST_LAYOUT = dict(
    n_per_cluster=100,
    clinics=(5, 6, 6),
    mean=20000.0,
    effect=-1000.0,
    sd_clinic=1732.0,
    sd_person=9849.0,
)  # clinic ICC 0.03


def _cost_layout(n_per_cluster, clinics):
    """(cluster, clinic, intervention) per participant: the dog-leg of simulate_trial."""
    rows = []
    for cluster, k in zip((1, 2, 3), clinics, strict=True):
        for j in range(n_per_cluster):
            treat = cluster == 1 or (cluster == 2 and j >= n_per_cluster // 2)
            rows.append((cluster, f"C{cluster}-{j % k + 1}", treat))
    return rows


def simulate_costs(seed: int = 1, **kw) -> pd.DataFrame:
    """Per-person table for the cost bootstrap: cost = mean + effect * I + b_clinic + e,
    b ~ N(0, sd_clinic^2), e ~ N(0, sd_person^2); QALY = 0.7 + 0.1 * utility_0 + 0.02 * I
    + N(0, 0.05^2) with utility_0 ~ N(0.6, 0.15^2)."""
    p = {**COST_LAYOUT, **kw}
    rng = np.random.default_rng(seed)
    layout = _cost_layout(p["n_per_cluster"], p["clinics"])
    clinics = sorted({c for _, c, _ in layout})
    b = dict(zip(clinics, rng.normal(0, p["sd_clinic"], len(clinics)), strict=True))
    treat = np.array([t for _, _, t in layout], dtype=float)
    u0 = rng.normal(0.6, 0.15, len(layout))
    return pd.DataFrame(
        {
            "study_id": [f"P{i:04d}" for i in range(len(layout))],
            "cluster": [c for c, _, _ in layout],
            "clinic": [k for _, k, _ in layout],
            "condition": np.where(treat == 1, "intervention", "control"),
            "cost": p["mean"]
            + p["effect"] * treat
            + np.array([b[k] for _, k, _ in layout])
            + rng.normal(0, p["sd_person"], len(layout)),
            "qaly": 0.7 + 0.1 * u0 + 0.02 * treat + rng.normal(0, 0.05, len(layout)),
            "utility_0": u0,
        }
    )


def cost_difference_sd(**kw) -> float:
    """True SD of mean cost (intervention) - mean cost (control) under simulate_costs:
    sqrt(sd_clinic^2 * sum_k (n_kI/N_I - n_kC/N_C)^2 + sd_person^2 (1/N_I + 1/N_C))."""
    p = {**COST_LAYOUT, **kw}
    layout = pd.DataFrame(
        _cost_layout(p["n_per_cluster"], p["clinics"]), columns=["cluster", "clinic", "treat"]
    )
    n_i, n_c = layout.treat.sum(), (~layout.treat).sum()
    w = layout.groupby("clinic").treat.agg(lambda t: t.sum() / n_i - (~t).sum() / n_c)
    var = p["sd_clinic"] ** 2 * float((w**2).sum()) + p["sd_person"] ** 2 * (1 / n_i + 1 / n_c)
    return float(np.sqrt(var))
