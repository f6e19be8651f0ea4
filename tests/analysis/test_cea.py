"""Cost-effectiveness (analysis.plan.cea): AUC, costs and ICER by hand."""

import numpy as np
import pandas as pd
import pytest

from analysis.plan import cea, simulate


def _long(utilities: dict, conditions: dict):
    rows = []
    for sid, values in utilities.items():
        for t, u in zip((0, 3, 6, 12), values, strict=True):
            rows.append(
                {
                    "study_id": sid,
                    "condition": conditions[sid],
                    "timepoint_months": t,
                    "eq5d_index": u,
                }
            )
    return pd.DataFrame(rows)


def test_qaly_trapezoid_by_hand():
    # 0.25*(0.5+0.7)/2 + 0.25*(0.7+0.8)/2 + 0.5*(0.8+0.9)/2 = 0.15 + 0.1875 + 0.425
    df = _long(
        {"A": [0.5, 0.7, 0.8, 0.9], "B": [1, 1, 1, 1], "C": [0.5, np.nan, 0.8, 0.9]},
        {"A": "control", "B": "control", "C": "control"},
    )
    q = cea.qaly_auc(df).set_index("study_id")["qaly"]
    assert q["A"] == pytest.approx(0.7625)
    assert q["B"] == pytest.approx(1.0)  # full health for a year = 1 QALY
    assert np.isnan(q["C"])  # missing here; per_person's callers impute


def test_costs_priced():
    use = pd.DataFrame(
        {"study_id": ["A", "A", "B"], "item": ["gp", "physio", "physio"], "quantity": [2, 3, 1]}
    )
    c = cea.costs(use, {"gp": 1000.0, "physio": 500.0}).set_index("study_id")["cost"]
    assert c["A"] == 3500 and c["B"] == 500
    with pytest.raises(KeyError, match="physio"):
        cea.costs(use, {"gp": 1.0})


def _pp():
    # two clinics per cluster; cluster 1 intervention, cluster 2 control
    return pd.DataFrame(
        {
            "study_id": [1, 2, 3, 4],
            "cluster": [1, 1, 2, 2],
            "clinic": ["a", "b", "c", "d"],
            "condition": ["intervention"] * 2 + ["control"] * 2,
            "qaly": [0.8, 0.7, 0.6, 0.7],
            "utility_0": [0.6, 0.5, 0.6, 0.5],
            "cost": [10000.0, 12000.0, 9000.0, 9000.0],
        }
    )


def test_icer_by_hand_and_bootstrap_seeded():
    # dC = 11000 - 9000 = 2000; baseline utility balanced (0.55 in both arms) and its
    # within-arm slopes +1 and -1 pool to 0, so the adjusted dQ = 0.75 - 0.65 = 0.10;
    # ICER = 20000 per QALY
    out = cea.icer(_pp(), n_boot=300, seed=7).set_index("term")
    assert out.loc["delta cost (intervention - control)", "estimate"] == pytest.approx(2000)
    dq = "delta QALY (intervention - control), adjusted for baseline utility"
    assert out.loc[dq, "estimate"] == pytest.approx(0.1)
    assert out.loc["ICER (cost per QALY gained)", "estimate"] == pytest.approx(20000)
    again = cea.icer(_pp(), n_boot=300, seed=7)
    np.testing.assert_allclose(out.ci_low.to_numpy(), again.ci_low.to_numpy())
    shares = out.iloc[0][["share_NE", "share_SE", "share_NW", "share_SW"]]
    assert shares.sum() == pytest.approx(1)


def test_qaly_difference_adjusted_for_baseline_utility():
    # QALY = 0.5 + 0.5 * u0 + 0.02 * intervention exactly; baseline utility higher in the
    # intervention arm (0.7 vs 0.5): raw dQ = 0.87 - 0.75 = 0.12, the truth is 0.02
    pp = _pp().assign(utility_0=[0.6, 0.8, 0.4, 0.6])
    pp["qaly"] = 0.5 + 0.5 * pp.utility_0 + 0.02 * (pp.condition == "intervention")
    out = cea.icer(pp, n_boot=20, seed=1).set_index("term")
    dq = "delta QALY (intervention - control), adjusted for baseline utility"
    assert out.loc[dq, "estimate"] == pytest.approx(0.02)


def test_bootstrap_resamples_clinics_within_cluster():
    boot = cea.cluster_bootstrap(_pp(), n_boot=200, seed=1, rescale=False)
    # control costs are constant: every replicate's control mean is 9000, and the
    # intervention mean is one of 10000, 11000, 12000 (clinics a, b of cluster 1)
    assert set(np.round(boot.delta_cost)) <= {1000.0, 2000.0, 3000.0}


def test_cluster_bootstrap_se_matches_true_sd():
    # clinic-level cost ICC 0.03 (stated model: analysis.plan.simulate.simulate_costs);
    # resampling individuals gave an SE of about 0.85 of the truth
    true = simulate.cost_difference_sd()
    ses = [
        cea.cluster_bootstrap(simulate.simulate_costs(seed=s), n_boot=300, seed=s)
        .delta_cost.std(ddof=1)
        for s in range(20)
    ]
    assert abs(np.mean(ses) / true - 1) < 0.10


def test_missing_utilities_and_costs_imputed_not_dropped():
    pp = simulate.simulate_costs(seed=3)
    rows = []
    rng = np.random.default_rng(0)
    for rec in pp.itertuples():
        for t in (0, 3, 6, 12):
            treat = rec.condition == "intervention"
            u = rec.utility_0 + ((0.1 + 0.02 * treat) if t else 0)
            rows.append(
                {
                    "study_id": rec.study_id,
                    "cluster": rec.cluster,
                    "clinic": rec.clinic,
                    "condition": rec.condition,
                    "timepoint_months": t,
                    "eq5d_index": np.nan if t and rng.random() < 0.1 else u,
                    "cost": np.nan if rng.random() < 0.05 else rec.cost,
                }
            )
    df = pd.DataFrame(rows)
    df["cost"] = df.groupby("study_id").cost.transform("first")
    people = cea.per_person(df)
    assert people.qaly.isna().mean() > 0.2  # complete case would lose over a fifth
    tables = cea.impute_per_person(people, m=5, seed=1)
    assert len(tables) == 5 and all(len(t) == 300 and t.qaly.notna().all() for t in tables)
    out = cea.icer(tables, n_boot=200).set_index("term")
    assert out.imputations.iloc[0] == 5
    dq = "delta QALY (intervention - control), adjusted for baseline utility"
    # true dQ: the trapezoid AUC of 0.02 from 3 months on is 0.02 * 0.875 = 0.0175
    assert abs(out.loc[dq, "estimate"] - 0.0175) < 0.005


def test_ceac_limits_and_svg():
    boot = pd.DataFrame(
        {"delta_cost": [1000.0, 3000.0, -500.0, 2000.0], "delta_qaly": [0.1, 0.1, -0.05, 0.01]}
    )
    curve = cea.ceac(boot, [0, 20000, 1e6])
    # wtp 0: only the replicate with dC < 0 has NMB > 0 -> 1/4
    # wtp 20000: NMB 1000, -1000, -500, -1800 -> 1/4; 1e6: 99000, 97000, -49500, 8000 -> 3/4
    assert list(curve.p_cost_effective) == [0.25, 0.25, 0.75]
    svg = cea.plane_svg(boot, 20000)
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg
    assert "<svg" in cea.ceac_svg(curve)


def test_per_person_with_cost_column():
    df = _long(
        {"A": [0.5, 0.7, 0.8, 0.9], "B": [1, 1, 1, 1]}, {"A": "control", "B": "intervention"}
    )
    df["cost"] = df.study_id.map({"A": 100.0, "B": 200.0})
    pp = cea.per_person(df).set_index("study_id")
    assert pp.loc["B", "cost"] == 200 and pp.loc["A", "qaly"] == pytest.approx(0.7625)


def test_icer_undefined_without_qaly_difference():
    pp = _pp().assign(qaly=0.7)  # no QALY difference in the data or any replicate
    out = cea.icer(pp, n_boot=50, seed=1).set_index("term")
    row = out.loc["ICER (cost per QALY gained)"]
    assert np.isnan(row.estimate) and row.n_replicates == 0 and np.isnan(row.ci_low)
