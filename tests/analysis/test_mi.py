"""Multiple imputation and Rubin's rules (analysis.plan.mi)."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from analysis.plan import InsufficientData, mi, simulate


def test_rubin_pool_hand_worked():
    # estimates 1.0, 1.2, 0.8; variances 0.04, 0.05, 0.06 (m = 3)
    # Q = 1.0; W = 0.05; B = (0 + 0.04 + 0.04) / 2 = 0.04
    # T = 0.05 + (1 + 1/3) * 0.04 = 0.103333; SE = 0.321455
    # r = (4/3 * 0.04) / 0.05 = 1.066667; df = 2 * (1 + 1/r)^2 = 2 * 1.9375^2 = 7.5078125
    p = mi.rubin_pool([1.0, 1.2, 0.8], [0.04, 0.05, 0.06])
    assert p["estimate"] == pytest.approx(1.0)
    assert p["within"] == pytest.approx(0.05)
    assert p["between"] == pytest.approx(0.04)
    assert p["total"] == pytest.approx(0.1033333, abs=1e-6)
    assert p["std_error"] == pytest.approx(0.321455, abs=1e-6)
    assert p["riv"] == pytest.approx(1.0666667, abs=1e-6)
    assert p["df"] == pytest.approx(7.5078125)
    crit = stats.t.isf(0.025, 7.5078125)
    assert p["ci_low"] == pytest.approx(1.0 - crit * 0.321455, abs=1e-5)
    assert p["p_value"] == pytest.approx(2 * stats.t.sf(1.0 / 0.321455, 7.5078125), abs=1e-6)


def test_rubin_pool_needs_two():
    with pytest.raises(ValueError):
        mi.rubin_pool([1.0], [0.1])


def test_rubin_pool_identical_estimates_has_infinite_df():
    p = mi.rubin_pool([2.0, 2.0, 2.0], [0.25, 0.25, 0.25])
    assert p["std_error"] == pytest.approx(0.5) and np.isinf(p["df"])
    assert p["ci_low"] == pytest.approx(2 - 1.959964 * 0.5, abs=1e-5)


@pytest.fixture(scope="module")
def incomplete():
    return simulate.simulate_trial(
        n_per_cluster=50, effect={3: -1.0, 6: -1.0, 12: -1.0}, p_missing=0.25, seed=31
    )


def change_difference(d, outcome="nrs_back"):
    """A fast complete-data analysis for the tests: difference in mean change by arm."""
    w = d.pivot(index="study_id", columns="timepoint_months", values=outcome)
    arm = d.drop_duplicates("study_id").set_index("study_id").condition.reindex(w.index)
    rows = []
    for t in (3, 6, 12):
        ch = w[t] - w[0]
        a, b = ch[arm == "intervention"], ch[arm == "control"]
        rows.append(
            {
                "term": f"change 0-{t}",
                "estimate": a.mean() - b.mean(),
                "std_error": np.sqrt(a.var() / len(a) + b.var() / len(b)),
                "timepoint_months": t,
            }
        )
    return pd.DataFrame(rows)


def test_impute_fills_only_missing(incomplete):
    done = mi.impute(incomplete, "nrs_back", m=2, seed=1)
    assert len(done) == 2
    for d in done:
        assert d["nrs_back"].notna().all() and len(d) == len(incomplete)
        merged = d.merge(incomplete, on=["study_id", "timepoint_months"], suffixes=("", "_o"))
        observed = merged["nrs_back_o"].notna()
        np.testing.assert_allclose(
            merged.loc[observed, "nrs_back"], merged.loc[observed, "nrs_back_o"]
        )
        assert {"clinic", "period", "condition"} <= set(d.columns)
    assert not np.allclose(done[0]["nrs_back"], done[1]["nrs_back"])  # imputations differ


def test_imputation_unbiased_under_mar_over_50_datasets():
    """Missingness depends on the baseline value (MAR); the mean change 0-12 months under
    control is then biased in the complete cases, not after proper imputation. (The full
    pipeline, pooled primary model, is in benchmarks/analysis_plan.py mi.)"""
    truth = simulate.MU[12] - simulate.MU[0]
    mi_est, cc_est = [], []
    for seed in range(50):
        d = simulate.simulate_trial(
            n_per_cluster=40, p_missing=0.3, mar_slope=0.8, seed=seed, sd_clinic_time=0.2
        )
        w = mi.wide(d, "nrs_back")
        control = (w.condition == "control").to_numpy()
        cc_est.append((w.nrs_back_12 - w.nrs_back_0)[control].mean() - truth)
        fills = mi.impute_wide(d, "nrs_back", m=2, seed=seed)  # bias does not depend on m
        mi_est.append(np.mean([(f.nrs_back_12 - f.nrs_back_0)[control].mean() for f in fills]))
        mi_est[-1] -= truth
    mi_est, cc_est = np.array(mi_est), np.array(cc_est)
    mc_se = mi_est.std(ddof=1) / np.sqrt(len(mi_est))
    assert abs(mi_est.mean()) < 2 * mc_se, (mi_est.mean(), mc_se)
    cc_se = cc_est.std(ddof=1) / np.sqrt(len(cc_est))
    assert cc_est.mean() > 4 * cc_se  # the check has power: complete cases are biased


def test_mi_recovers_effect_and_is_seeded(incomplete):
    a = mi.mi_change(incomplete, "nrs_back", m=3, seed=4)
    assert list(a.columns[:6]) == ["term", "estimate", "std_error", "ci_low", "ci_high", "p_value"]
    again = mi.impute(incomplete, "nrs_back", m=3, seed=4)
    first = mi.impute(incomplete, "nrs_back", m=3, seed=4)
    np.testing.assert_allclose(again[2].nrs_back, first[2].nrs_back)
    for _, row in a.iterrows():
        assert row.ci_low < -1.0 < row.ci_high
    assert (a.between > 0).all() and (a.imputations == 3).all()
    assert a.model.iloc[0].startswith("primary")
    # Barnard-Rubin: the small-sample df never exceed Rubin's large-sample df
    assert (a.df <= (a.imputations - 1) * (1 + 1 / a.riv) ** 2 + 1e-9).all()


def test_default_is_twenty_imputations():
    assert mi.DEFAULT_M >= 20


def test_sensitivity_wrappers_select_rows(incomplete):
    pp = mi.per_protocol(incomplete, m=2, analyse=change_difference)
    wo = mi.without_washout(incomplete, m=2, analyse=change_difference)
    n_pp = incomplete.loc[incomplete.per_protocol, "study_id"].nunique()
    n_wo = incomplete.loc[~incomplete.crossover_washout, "study_id"].nunique()
    assert pp.n_participants.iloc[0] == n_pp < incomplete.study_id.nunique()
    assert wo.n_participants.iloc[0] == n_wo < incomplete.study_id.nunique()
    assert pp.analysis.iloc[0] == "per protocol, MI"
    assert wo.analysis.iloc[0] == "without washout, MI"


def test_per_protocol_without_column_says_why(incomplete):
    out = mi.all_mi(incomplete.drop(columns="per_protocol"), m=2, analyse=change_difference)
    row = out.loc[out.term == "per protocol, MI: not run"].iloc[0]
    assert "no per_protocol column" in row.note
    assert "without washout, MI" in set(out.analysis)


def test_too_little_data_is_one_sentence(incomplete):
    thin = incomplete.assign(nrs_back=np.where(incomplete.timepoint_months == 12, np.nan, 1.0))
    with pytest.raises(InsufficientData, match="Too few observed nrs_back values at 12 months"):
        mi.impute(thin, "nrs_back", m=2)
