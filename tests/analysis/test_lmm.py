"""The structured REML solver (analysis.plan.lmm) against the implementation it replaced
(statsmodels MixedLM, ``engine="statsmodels"``) and against R lme4 on the same data.

The lme4 figures below were produced by ``Rscript tests/analysis/lme4_fit.R`` (lme4 1.1.31,
bobyqa to rhoend 1e-12) on the dataset of :func:`trial` written to CSV; the last test
re-runs R when lme4 is installed. statsmodels stops its optimiser earlier (its REML
criterion is 1.5e-7 worse than ours at its estimates), hence the looser tolerance there.
"""

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.plan import lmm, mixed, reml, simulate

SD = {"sd_clinic": 0.4, "sd_clinic_time": 0.5, "sd_participant": 1.2, "sd_resid": 1.0}
LME4 = {
    "primary": {
        "estimate": [-0.602061974522, -0.950638855983, -0.80644470758],
        "std_error": [0.328404657896, 0.326510957784, 0.326132382189],
        "var_clinic": 0.236445076418,
        "var_clinic_time": 0.177333596663,
        "var_participant": 1.41444801223,
        "var_residual": 1.05022197158,
    },
    "previous": {
        "estimate": [-1.07299980103, -1.24622766685, -1.06139823088],
        "std_error": [0.247325122787, 0.245430659202, 0.244347942689],
        "var_cluster": 0.111609144163,
        "var_participant": 1.66393040281,
        "var_residual": 1.27953272026,
    },
}


@pytest.fixture(scope="module")
def trial():
    return simulate.simulate_trial(
        n_per_cluster=60,
        effect={3: -0.8, 6: -0.8, 12: -0.8},
        secular=-2.0,
        p_missing=0.1,
        seed=7,
        **SD,
    )


def fits(trial, model):
    if model == "primary":
        return mixed.mixed_change(trial, return_result=True)
    return mixed.previous_model(trial, return_result=True)


def assert_matches(table, reference, rtol):
    np.testing.assert_allclose(table.estimate, reference["estimate"], rtol=rtol)
    np.testing.assert_allclose(table.std_error, reference["std_error"], rtol=rtol)
    for key, value in reference.items():
        if key.startswith("var_"):
            # the criterion is flat in the variances: they agree to ~1e-6 where estimates
            # and SEs agree to ~1e-8
            assert table[key].iloc[0] == pytest.approx(value, rel=10 * rtol), key


@pytest.mark.parametrize("model", ["primary", "previous"])
def test_equals_lme4(trial, model):
    table, result = fits(trial, model)
    assert result.converged
    assert_matches(table, LME4[model], rtol=2e-6)


def test_primary_equals_statsmodels(trial):
    table, result = mixed.mixed_change(trial, return_result=True)
    old, old_result = mixed.mixed_change(trial, return_result=True, engine="statsmodels")
    np.testing.assert_allclose(table.estimate, old.estimate, atol=2e-5)
    np.testing.assert_allclose(table.std_error, old.std_error, atol=2e-5)
    np.testing.assert_allclose(table.df, old.df, rtol=2e-3)
    for key in ("var_clinic", "var_clinic_time", "var_participant", "var_residual"):
        assert table[key].iloc[0] == pytest.approx(old[key].iloc[0], rel=5e-4), key
    # and it is at least as good an optimum of the same criterion
    theta_old = reml.theta_of(old_result)
    assert result.neg_reml(result.theta()) <= result.neg_reml(theta_old) + 1e-9


def test_criterion_equals_dense_evaluation(trial):
    """The O(n) criterion and covariance equal the dense per-clinic computation at any
    variances, including a zero one."""
    data = mixed.prepare(trial, "nrs_back")
    data["period"] = data["period"].astype(int)
    old, _ = mixed._fit_primary(data, "nrs_back", True, engine="statsmodels")
    new, _ = mixed._fit_primary(data, "nrs_back", True)
    blocks = reml._blocks(old)
    for theta in ([0.3, 0.2, 1.5, 1.0], [0.0, 0.4, 2.0, 0.7], [1.0, 0.0, 0.0, 2.0]):
        assert new.neg_reml(theta) == pytest.approx(reml.neg_reml(theta, blocks), rel=1e-10)
        np.testing.assert_allclose(
            new.fe_cov_at(theta), reml.fe_cov_at(theta, blocks), rtol=1e-8, atol=1e-12
        )


def test_zero_variance_is_found_on_the_boundary():
    d = simulate.simulate_trial(n_per_cluster=40, sd_clinic=0.0, sd_clinic_time=0.0, seed=3)
    table, result = mixed.mixed_change(d, return_result=True)
    assert result.converged
    comps = mixed.variance_components(result).set_index("key")
    assert comps.loc["clinic_time", "variance"] < 0.05
    old = mixed.mixed_change(d, engine="statsmodels")
    np.testing.assert_allclose(table.estimate, old.estimate, atol=1e-3)


def test_not_estimable_fixed_effects_are_said():
    d = pd.DataFrame({"y": [1.0, 2, 3, 4], "a": [1.0, 1, 0, 0], "g": [1, 1, 2, 2]})
    with pytest.raises(lmm.NotEstimable):
        lmm.fit("y ~ a + I(2 * a)", d, {"g": ("g",)})


@pytest.mark.skipif(shutil.which("Rscript") is None, reason="R is not installed")
@pytest.mark.parametrize("model", ["primary", "previous"])
def test_equals_lme4_run_now(trial, model, tmp_path):
    check = subprocess.run(["Rscript", "-e", "library(lme4)"], capture_output=True)
    if check.returncode:
        pytest.skip("lme4 is not installed")
    data = mixed.prepare(trial, "nrs_back")
    path = tmp_path / "d.csv"
    data[["study_id", "clinic", "cluster", "period", "timepoint_months", "arm", "nrs_back"]].to_csv(
        path, index=False
    )
    script = str(Path(__file__).with_name("lme4_fit.R"))
    out = subprocess.run(
        ["Rscript", script, str(path), model], capture_output=True, text=True, check=True
    ).stdout
    values = dict(line.split() for line in out.strip().splitlines())
    reference = {
        "estimate": [float(values[f"estimate_{t}"]) for t in (3, 6, 12)],
        "std_error": [float(values[f"se_{t}"]) for t in (3, 6, 12)],
        **{k: float(v) for k, v in values.items() if k.startswith("var_")},
    }
    table, _ = fits(trial, model)
    assert_matches(table, reference, rtol=2e-6)
