"""Sidedness (analysis.plan.sidedness): the protocol's direction in p_value, the other
beside it."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from analysis.plan import sidedness


def _table(estimate, df=10.0):
    return pd.DataFrame(
        {"term": ["x"], "estimate": [estimate], "std_error": [0.5], "p_value": [np.nan], "df": [df]}
    )


def test_one_sided_for_benefit_two_sided_beside():
    out = sidedness.apply(_table(-1.0), sidedness.ONE, "lower", sidedness.REASON_PATIENT).iloc[0]
    assert out.p_one_sided == pytest.approx(stats.t.cdf(-2.0, 10))
    assert out.p_two_sided == pytest.approx(2 * stats.t.sf(2.0, 10))
    assert out.p_value == out.p_one_sided
    assert out.sidedness.startswith("p_value is one-sided (protocol sample size")


def test_harm_gives_large_one_sided_p():
    out = sidedness.apply(_table(1.0), sidedness.ONE, "lower", "r").iloc[0]
    assert out.p_one_sided == pytest.approx(stats.t.cdf(2.0, 10))  # about 0.96


def test_two_sided_prescribed_and_normal_without_df():
    out = sidedness.apply(_table(1.0, df=np.inf), sidedness.TWO, "higher", "r").iloc[0]
    assert out.p_value == out.p_two_sided == pytest.approx(2 * stats.norm.sf(2.0))
    assert out.p_one_sided == pytest.approx(stats.norm.sf(2.0))


def test_blinded_states_the_direction_tested():
    out = sidedness.apply(_table(-1.0), sidedness.ONE, "lower", "r", blinded=True).iloc[0]
    assert "B below A" in out.sidedness and "not known" in out.sidedness
