"""Specialist-care incidence and Newcombe interval (analysis.plan.specialist)."""

import numpy as np
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


def test_anova_icc_hand_computed():
    # groups {1,1,0,0}, {0,0,0,0}: means 0.5, 0; grand 0.25; MSB = 4*(0.0625*2)/1 = 0.5
    # MSW = (4 * 0.25) / 6 = 1/6; n0 = 4; ICC = (0.5 - 1/6) / (0.5 + 3/6) = 1/3
    icc, n0 = specialist.anova_icc([1, 1, 0, 0, 0, 0, 0, 0], list("aaaabbbb"))
    assert icc == pytest.approx(1 / 3) and n0 == pytest.approx(4)


def _clustered(rng, sd_clinic):
    """Dog-leg layout, 17 clinics, 300 participants; clinic risk 0.15 (control) or 0.10
    (intervention) plus a clinic-level N(0, sd_clinic^2) shift."""
    rows = []
    shift = rng.normal(0, sd_clinic, 17)
    k = 0
    for cluster, n_clinics in ((1, 5), (2, 6), (3, 6)):
        for j in range(100):
            clinic = k + j % n_clinics
            treat = cluster == 1 or (cluster == 2 and j >= 50)
            p = min(max((0.10 if treat else 0.15) + shift[clinic], 0), 1)
            rows.append(
                {
                    "study_id": len(rows),
                    "clinic": f"K{clinic}",
                    "condition": "intervention" if treat else "control",
                    "specialist_care": bool(rng.random() < p),
                }
            )
        k += n_clinics
    return pd.DataFrame(rows)


def test_cluster_adjusted_interval_covers_where_newcombe_does_not():
    rng = np.random.default_rng(4)
    plain = adjusted = 0
    reps = 300
    for _ in range(reps):
        out = specialist.specialist_incidence(_clustered(rng, 0.06)).set_index("term")
        a = out.loc["difference, intervention - control"]
        b = out.loc["difference, intervention - control, adjusted for clustering by clinic"]
        plain += a.ci_low < -0.05 < a.ci_high
        adjusted += b.ci_low < -0.05 < b.ci_high
        assert b.design_effect >= 1 and b.ci_high - b.ci_low >= a.ci_high - a.ci_low - 1e-12
    assert adjusted / reps > 0.92
    assert plain / reps < adjusted / reps - 0.04
