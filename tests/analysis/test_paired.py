"""Matched-pairs t-test (analysis.plan.paired), hand-computed example."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from analysis.plan import paired


def _physio():
    before = [10, 12, 9, 14, 11]
    after3 = [8, 11, 9, 10, 10]
    rows = []
    for i, (b, a) in enumerate(zip(before, after3, strict=True)):
        rows.append({"physio_id": f"H{i}", "timepoint": "before", "pcs_total": b})
        rows.append({"physio_id": f"H{i}", "timepoint": "3m", "pcs_total": a})
    rows.append({"physio_id": "H9", "timepoint": "before", "pcs_total": 30})  # no pair
    return pd.DataFrame(rows)


def test_hand_computed():
    # differences -2, -1, 0, -4, -1: mean -1.6; SD sqrt(9.2 / 4) = 1.516575;
    # SE = 1.516575 / sqrt(5) = 0.678233; t = -2.359071, df 4
    out = paired.paired_change(_physio(), scores=["pcs_total"], followups=["3m"])
    row = out.iloc[0]
    assert row.n == 5
    assert row.estimate == pytest.approx(-1.6)
    assert row.sd_diff == pytest.approx(1.516575, abs=1e-6)
    assert row.std_error == pytest.approx(0.678233, abs=1e-6)
    assert row.t == pytest.approx(-2.359071, abs=1e-6)
    # protocol: one-sided towards the BetterBack model (PCS down = more confidence)
    assert row.p_two_sided == pytest.approx(2 * stats.t.sf(2.359071, 4), abs=1e-6)
    assert row.p_one_sided == pytest.approx(stats.t.sf(2.359071, 4), abs=1e-6)
    assert row.p_value == row.p_one_sided and row.sidedness.startswith("p_value is one-sided")
    assert row.ci_low == pytest.approx(-1.6 - 2.776445 * 0.678233, abs=1e-5)
    assert row.cohen_dz == pytest.approx(-1.6 / 1.516575, abs=1e-6)


def test_two_sided_when_asked():
    out = paired.paired_change(
        _physio(), scores=["pcs_total"], followups=["3m"], prescribed="two-sided"
    )
    assert out.p_value.iloc[0] == pytest.approx(2 * stats.t.sf(2.359071, 4), abs=1e-6)


def test_directly_after_the_workshop_is_a_followup():
    df = _physio()
    after = df[df.timepoint == "3m"].assign(timepoint="after")
    out = paired.paired_change(pd.concat([df, after]), scores=["pcs_total"])
    assert list(out.term) == ["pcs_total: after - before", "pcs_total: 3m - before"]


def test_missing_followup_skipped():
    out = paired.paired_change(_physio(), scores=["pcs_total"], followups=["3m", "12m"])
    assert list(out.term) == ["pcs_total: 3m - before"]
    assert np.isfinite(out.estimate).all()
