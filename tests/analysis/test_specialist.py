"""Specialist-care incidence and Newcombe interval (analysis.plan.specialist)."""

import pandas as pd
import pytest

from analysis.plan import specialist


def test_wilson_hand_computed():
    # 56/70: p = 0.8, z^2 = 3.841459; z^2/2n = 0.0274390;
    # half = 1.959964 * sqrt(0.16/70 + 3.841459/19600) = 1.959964 * 0.0498168 = 0.0976392
    # lo = (0.827439 - 0.097639) / (1 + 3.841459/70) = 0.729800 / 1.054878 = 0.691833
    # hi = (0.827439 + 0.097639) / 1.054878 = 0.876953
    lo, hi = specialist.wilson(56, 70)
    assert lo == pytest.approx(0.691833, abs=2e-6)
    assert hi == pytest.approx(0.876953, abs=2e-6)


@pytest.mark.parametrize(
    ("e1", "n1", "e2", "n2", "lo", "hi"),
    [
        (56, 70, 48, 80, 0.0524, 0.3339),  # Newcombe 1998, Table II example (a), method 10
        (9, 10, 3, 10, 0.1705, 0.8090),  # example (b)
    ],
)
def test_newcombe_published_examples(e1, n1, e2, n2, lo, hi):
    got = specialist.newcombe(e1, n1, e2, n2)
    assert got[0] == pytest.approx(lo, abs=1e-4)
    assert got[1] == pytest.approx(hi, abs=1e-4)


def test_incidence_by_condition():
    # 70 intervention (14 specialist care), 80 control (28): 0.20 vs 0.35, diff -0.15;
    # two rows per participant to check participant-level counting
    rows = []
    for i in range(150):
        cond = "intervention" if i < 70 else "control"
        event = i < 14 or 70 <= i < 98
        for t in (0, 3):
            rows.append(
                {"study_id": i, "condition": cond, "timepoint_months": t, "specialist_care": event}
            )
    out = specialist.specialist_incidence(pd.DataFrame(rows)).set_index("term")
    assert out.loc["incidence proportion, control", "estimate"] == pytest.approx(0.35)
    assert out.loc["incidence proportion, intervention", "n"] == 70
    diff = out.loc["difference, intervention - control"]
    assert diff.estimate == pytest.approx(-0.15)
    lo, hi = specialist.newcombe(14, 70, 28, 80)
    assert (diff.ci_low, diff.ci_high) == pytest.approx((lo, hi))
    # pooled z: p = 42/150 = 0.28; SE = sqrt(0.28*0.72*(1/70+1/80)) = 0.073485; z = 2.0412
    assert diff.p_value == pytest.approx(0.04123, abs=2e-4)
