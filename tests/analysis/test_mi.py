"""Multiple imputation and Rubin's rules (analysis.plan.mi)."""

import numpy as np
import pytest
from scipy import stats

from analysis.plan import mi, simulate


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
    assert not np.allclose(done[0]["nrs_back"], done[1]["nrs_back"])  # imputations differ


def test_mi_recovers_effect_and_is_seeded(incomplete):
    a = mi.mi_change(incomplete, "nrs_back", m=3, seed=4, cluster_random=False)
    b = mi.mi_change(incomplete, "nrs_back", m=3, seed=4, cluster_random=False)
    assert list(a.columns[:6]) == ["term", "estimate", "std_error", "ci_low", "ci_high", "p_value"]
    np.testing.assert_allclose(a.estimate, b.estimate)
    for _, row in a.iterrows():
        assert row.ci_low < -1.0 < row.ci_high
    assert (a.between > 0).all() and (a.imputations == 3).all()


def test_sensitivity_wrappers_select_rows(incomplete):
    pp = mi.per_protocol(incomplete, m=2, cluster_random=False)
    wo = mi.without_washout(incomplete, m=2, cluster_random=False)
    n_pp = incomplete.loc[incomplete.per_protocol, "study_id"].nunique()
    n_wo = incomplete.loc[~incomplete.crossover_washout, "study_id"].nunique()
    assert pp.n_participants.iloc[0] == n_pp < incomplete.study_id.nunique()
    assert wo.n_participants.iloc[0] == n_wo < incomplete.study_id.nunique()
    assert pp.analysis.iloc[0] == "per protocol, MI"
    assert wo.analysis.iloc[0] == "without washout, MI"
