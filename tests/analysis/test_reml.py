"""Satterthwaite degrees of freedom (analysis.plan.reml) against the exact df of balanced
one-way random-effects designs (k groups of n): the grand mean and a group-level
treatment have k - 1 and k - 2 df, a within-group covariate N - k - 1."""

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf

from analysis.plan import reml


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(1)
    k, n = 10, 8
    g = np.repeat(np.arange(k), n)
    return pd.DataFrame(
        {
            "y": rng.normal(0, 1, k)[g] + rng.normal(0, 1, k * n),
            "g": g,
            "x": (g < 5).astype(float),
            "w": np.tile([0.0, 1.0], k * n // 2),
        }
    )


@pytest.mark.parametrize(
    ("formula", "contrast", "exact"),
    [
        ("y ~ 1", [1.0], 9),
        ("y ~ x", [0.0, 1.0], 8),
        ("y ~ x + w", [0.0, 0.0, 1.0], 69),
    ],
)
def test_satterthwaite_exact_in_balanced_designs(data, formula, contrast, exact):
    res = smf.mixedlm(formula, data, groups="g").fit(reml=True)
    assert reml.satterthwaite(res, [np.array(contrast)])[0] == pytest.approx(exact, rel=1e-3)


def test_fe_cov_is_gls_covariance(data):
    res = smf.mixedlm("y ~ x", data, groups="g").fit(reml=True)
    # balanced: var(group-level difference) = 2 (s_g + s_e / n) / 5
    s_g, s_e = float(res.cov_re.iloc[0, 0]), float(res.scale)
    assert reml.fe_cov(res).iloc[1, 1] == pytest.approx(2 * (s_g + s_e / 8) / 5, rel=1e-9)
