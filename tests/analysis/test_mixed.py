"""The primary multilevel model (analysis.plan.mixed) on data simulated from the stated
model in analysis/plan/simulate.py: BetterBack's dog-leg with 3 clusters of 5/6/6 clinics,
clinic and clinic-by-time variation and a secular trend across recruitment. The 200-rep
coverage figures come from benchmarks/analysis_plan.py (too slow for CI)."""

import numpy as np
import pandas as pd
import pytest

from analysis.plan import InsufficientData, mixed, risk_group, simulate

from . import reml_numpy

EFFECT = {3: -0.8, 6: -0.8, 12: -0.8}
SD = {"sd_clinic": 0.4, "sd_clinic_time": 0.5, "sd_participant": 1.2, "sd_resid": 1.0}


@pytest.fixture(scope="module")
def trial():
    return simulate.simulate_trial(
        n_per_cluster=60, effect=EFFECT, secular=-2.0, p_missing=0.1, seed=7, **SD
    )


@pytest.fixture(scope="module")
def fitted(trial):
    return mixed.mixed_change(trial, "nrs_back", return_result=True)


@pytest.fixture(scope="module")
def previous(trial):
    return mixed.previous_model(trial, "nrs_back", cluster_random=False)


def test_primary_model_terms_and_df(fitted):
    table, result = fitted
    assert list(table.timepoint_months) == [3, 6, 12]
    assert table.model.iloc[0] == mixed.MODEL_PRIMARY
    assert table.term.iloc[0] == "intervention - control, change 0-3 months"
    assert table.n_clinics.iloc[0] == 17
    # Satterthwaite df: between the containment df (17 - 3 - 1) and the observations
    assert (table.df > 13).all() and (table.df < table.n_obs).all()
    fe = list(result.fe_params.index)
    assert any(n.startswith("C(period)[T.2]:C(timepoint_months)") for n in fe)
    assert "C(cluster)[T.3]" in fe


def test_agrees_with_independent_reml_fit(trial, fitted):
    """Estimates and SEs equal a hand-written numpy/scipy REML fit to 3 decimals."""
    table, _ = fitted
    own = reml_numpy.fit(trial)
    assert own["converged"]
    np.testing.assert_allclose(table.estimate, own["estimate"], atol=5e-4)
    np.testing.assert_allclose(table.std_error, own["std_error"], atol=5e-4)
    variances = table.loc[0, ["var_clinic", "var_clinic_time", "var_participant", "var_residual"]]
    np.testing.assert_allclose(variances.astype(float), own["variances"], rtol=0.01)


def test_primary_unbiased_and_previous_model_not_under_a_secular_trend(trial, fitted, previous):
    # A secular improvement of 2 points across recruitment: the dog-leg's crossover
    # cluster confounds condition with calendar time unless period x time is in the model.
    table, _ = fitted
    best = reml_numpy.true_se(trial, [SD["sd_clinic"] ** 2, SD["sd_clinic_time"] ** 2, 1.44, 1.0])
    truth = np.array([EFFECT[t] for t in (3, 6, 12)])
    assert np.all(np.abs(table.estimate - truth) < 2 * best)
    assert np.mean(previous.estimate - truth) < -0.25  # biased towards benefit


def test_primary_se_honest_and_previous_model_too_small(fitted, previous, trial):
    # GLS at the true variances is the best linear unbiased estimator: no linear unbiased
    # estimator varies less than its SE. The primary model's SE is close to it; the
    # previous model's SE is well below it, so its 95% intervals cannot cover 95%.
    table, _ = fitted
    best = reml_numpy.true_se(trial, [SD["sd_clinic"] ** 2, SD["sd_clinic_time"] ** 2, 1.44, 1.0])
    assert np.all(np.abs(table.std_error / best - 1) < 0.2)
    assert np.all(previous.std_error / best < 0.8)


def test_variance_components_by_name_and_boundary(fitted):
    _, result = fitted
    comps = mixed.variance_components(result).set_index("key")
    assert list(comps.component) == [
        "clinic (random intercept)",
        "clinic x time",
        "participant (random intercept)",
        "residual",
    ]
    assert not comps.on_boundary.any() and mixed.boundary_note(comps) == ""
    flat = comps.reset_index().assign(variance=[0.0, 0.1, 1.4, 1.0])
    flat["on_boundary"] = [True, False, False, False]
    assert "clinic (random intercept)" in mixed.boundary_note(flat)


def test_previous_model_reports_cluster_variance(trial):
    # the old code looked for "Group Var" where statsmodels says "Group Var" only for
    # unnamed groups, so the cluster variance was never reported
    out = mixed.previous_model(trial, "nrs_back", cluster_random=True)
    assert out.model.iloc[0] in (mixed.MODEL_CLUSTER_RE, mixed.MODEL_CLUSTER_FIXED)
    if out.model.iloc[0] == mixed.MODEL_CLUSTER_RE:
        assert "var_cluster" in out and "var_participant" in out
    assert "var_residual" in out


def test_previous_model_fallback_reports_participant_variance(previous):
    assert previous.model.iloc[0] == mixed.MODEL_CLUSTER_FIXED
    assert previous.var_participant.iloc[0] > 0.5 and "var_residual" in previous


def test_no_period_column_is_said(trial):
    out = mixed.mixed_change(trial.drop(columns="period"))
    assert out.model.iloc[0] == mixed.MODEL_PRIMARY_NO_PERIOD
    assert "no period column" in out.note.iloc[0]


def test_blinded_conditions_report_b_minus_a(trial):
    blind = trial.assign(condition=trial.condition.map({"control": "A", "intervention": "B"}))
    out = mixed.mixed_change(blind)
    assert out.term.iloc[0] == "B - A, change 0-3 months"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.assign(nrs_back=np.nan), "No nrs_back values have been recorded yet."),
        (lambda d: d[d.condition == "control"], "from one condition"),
        (lambda d: d[d.timepoint_months == 0], "No participant has both a baseline"),
        (lambda d: d[d.cluster != 2], "Condition cannot be separated from cluster"),
        (lambda d: d.assign(condition="placebo"), "control/intervention"),
    ],
)
def test_too_little_data_is_one_sentence(trial, change, message):
    with pytest.raises(InsufficientData, match=message):
        mixed.mixed_change(change(trial))


def test_risk_group_interaction_detected():
    # extra effect -2 in the high-risk group only (stated model in simulate.py)
    d = simulate.simulate_trial(n_per_cluster=100, risk_effect={3: -2.0}, seed=21)
    out = risk_group.mixed_by_risk_group(d, "nrs_back")
    high = out[(out.sbst_risk_group == 3) & (out.timepoint_months == 3)].iloc[0]
    low = out[(out.sbst_risk_group == 1) & (out.timepoint_months == 3)].iloc[0]
    assert high.ci_low < -3.0 < high.ci_high
    assert low.ci_low < -1.0 < low.ci_high
    wald = out[out.term.str.startswith("interaction")].iloc[0]
    assert wald.df == 6 and wald.p_value < 0.01


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
