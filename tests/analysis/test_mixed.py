"""Multilevel model (analysis.plan.mixed) on data simulated from a stated model."""

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from statsmodels.regression.mixed_linear_model import VCSpec

from analysis.plan import mixed, simulate

EFFECT = {3: -1.0, 6: -1.5, 12: -0.5}


@pytest.fixture(scope="module")
def trial():
    return simulate.simulate_trial(n_per_cluster=80, effect=EFFECT, p_missing=0.15, seed=11)


@pytest.fixture(scope="module")
def fitted(trial):
    return mixed.mixed_change(trial, "nrs_back")


def test_recovers_known_effect(fitted):
    assert list(fitted["timepoint_months"]) == [3, 6, 12]
    for _, row in fitted.iterrows():
        true = EFFECT[row.timepoint_months]
        assert row.ci_low < true < row.ci_high
        assert abs(row.estimate - true) < 0.5
    assert fitted["model"].iloc[0] == mixed.MODEL_CLUSTER_RE
    assert fitted["n_participants"].iloc[0] == 240


@pytest.mark.filterwarnings("ignore::statsmodels.tools.sm_exceptions.ConvergenceWarning")
def test_agrees_with_explicit_design_matrix_fit(trial, fitted):
    """Same model built by hand: exog columns and participant variance component."""
    d = trial.loc[trial.nrs_back.notna()].sort_values(["cluster", "study_id"])
    treat = (d.condition == "intervention").to_numpy(float)
    t = d.timepoint_months.to_numpy()
    cols = (
        [np.ones(len(d)), treat]
        + [(t == k).astype(float) for k in (3, 6, 12)]
        + [treat * (t == k) for k in (3, 6, 12)]
    )
    exog = np.column_stack(cols)
    groups = d.cluster.to_numpy()
    mats, names = [], []
    for g in np.unique(groups):  # participant indicator matrix within each cluster
        ids = d.study_id[groups == g].to_numpy()
        levels = np.unique(ids)
        mats.append((ids[:, None] == levels[None, :]).astype(float))
        names.append(list(levels))
    model = sm.MixedLM(
        d.nrs_back.to_numpy(),
        exog,
        groups,
        exog_re=np.ones((len(d), 1)),
        exog_vc=VCSpec(["participant"], [names], [mats]),
    )
    res = model.fit(reml=True)
    np.testing.assert_allclose(res.fe_params[5:], fitted.estimate, atol=1e-3)
    np.testing.assert_allclose(res.bse_fe[5:], fitted.std_error, atol=1e-3)


def test_fallback_model_recovers_effect(trial):
    out = mixed.mixed_change(trial, "nrs_back", cluster_random=False)
    assert out["model"].iloc[0] == mixed.MODEL_CLUSTER_FIXED
    assert out["note"].iloc[0] == "cluster random effect not requested"
    for _, row in out.iterrows():
        assert row.ci_low < EFFECT[row.timepoint_months] < row.ci_high


def test_contrast_is_wald():
    # a linear combination's SE is sqrt(L V L'): check against the fitted covariance
    d = simulate.simulate_trial(n_per_cluster=40, seed=3)
    table, res = mixed.mixed_change(d, cluster_random=False, return_result=True)
    a, b = "intervention:C(timepoint_months)[T.3]", "intervention:C(timepoint_months)[T.12]"
    c = mixed.contrast(res, {a: 1, b: -1})
    cov = res.cov_params()
    se = np.sqrt(cov.loc[a, a] + cov.loc[b, b] - 2 * cov.loc[a, b])
    assert c["estimate"] == pytest.approx(res.fe_params[a] - res.fe_params[b])
    assert c["std_error"] == pytest.approx(se)
    assert c["ci_high"] - c["estimate"] == pytest.approx(1.959964 * se, rel=1e-5)
    with pytest.raises(KeyError):
        mixed.contrast(res, {"nope": 1})


def test_risk_group_interaction_detected():
    # extra effect -2 in the high-risk group only (stated model in simulate.py)
    d = simulate.simulate_trial(n_per_cluster=100, risk_effect={3: -2.0}, seed=21)
    out = mixed.mixed_by_risk_group(d, "nrs_back", cluster_random=False)
    high = out[(out.sbst_risk_group == 3) & (out.timepoint_months == 3)].iloc[0]
    low = out[(out.sbst_risk_group == 1) & (out.timepoint_months == 3)].iloc[0]
    assert high.ci_low < -3.0 < high.ci_high
    assert low.ci_low < -1.0 < low.ci_high
    wald = out[out.term.str.startswith("interaction")].iloc[0]
    assert wald.df == 6 and wald.p_value < 0.01


def test_no_interaction_when_none_simulated():
    d = simulate.simulate_trial(n_per_cluster=80, seed=8)
    out = mixed.mixed_by_risk_group(d, "nrs_back", cluster_random=False)
    assert out[out.term.str.startswith("interaction")].p_value.iloc[0] > 0.01


def test_prepare_drops_missing_outcome():
    d = pd.DataFrame(
        {
            "study_id": [1, 1],
            "cluster": [1, 1],
            "condition": ["control"] * 2,
            "timepoint_months": [0, 3],
            "nrs_back": [5.0, np.nan],
        }
    )
    assert len(mixed.prepare(d, "nrs_back")) == 1
