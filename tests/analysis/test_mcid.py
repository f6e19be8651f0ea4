"""Anchor-based MCID (analysis.plan.mcid) on constructed data."""

import numpy as np
import pandas as pd
import pytest

from analysis.plan import mcid


def _data(lower_is_better=True):
    # improvement (baseline - 3 months) and PGIC at 3 months per participant
    improvements = [0, 1, 0, 1, 2, 3, 2, 3, 5, 6, -1]
    pgic = [0, 1, -1, 0, 2, 3, 2, 3, 5, 5, -4]
    rows = []
    for i, (imp, pg) in enumerate(zip(improvements, pgic, strict=True)):
        base = 7.0
        fu = base - imp if lower_is_better else base + imp
        rows.append({"study_id": i, "timepoint_months": 0, "nrs_back": base, "pgic": np.nan})
        rows.append({"study_id": i, "timepoint_months": 3, "nrs_back": fu, "pgic": pg})
    return pd.DataFrame(rows)


def test_mean_change_and_roc():
    out = mcid.mcid_anchor(_data(), "nrs_back", timepoint=3).set_index("term")
    mini = out.loc["mean improvement, minimally improved (PGIC +2..+3)"]
    unch = out.loc["mean improvement, unchanged (PGIC -1..+1)"]
    assert mini.estimate == pytest.approx(2.5) and mini.n == 4  # (2+3+2+3)/4
    assert unch.estimate == pytest.approx(0.5) and unch.n == 4  # (0+1+0+1)/4
    diff = out.loc["MCID, mean change: minimally improved - unchanged"]
    assert diff.estimate == pytest.approx(2.0)
    # both groups SD = sqrt(1/3); Welch SE = sqrt(1/12 + 1/12) = 0.408248
    assert diff.std_error == pytest.approx(0.408248, abs=1e-6)
    roc = out.loc["MCID, ROC cut-off (Youden), PGIC >= +2"]
    # improved (PGIC >= 2): 2,3,2,3,5,6; not: 0,1,0,1,-1. Cut-off 2 separates perfectly
    assert roc.estimate == 2
    assert roc.sensitivity == 1 and roc.specificity == 1 and roc.auc == 1


def test_higher_is_better_direction():
    out = mcid.mcid_anchor(_data(lower_is_better=False), "nrs_back", lower_is_better=False)
    assert out.estimate.iloc[0] == pytest.approx(2.5)


def test_youden_ties_take_smallest_and_auc_counts_ties():
    # scores pos 1,2,3 / neg 0,2: cut 1 -> sens 1, spec 0.5 (J 0.5); cut 2 -> 1, 0.5 (0.5);
    # cut 3 -> 1/3, 1 (J 0.333). Tie between 1 and 2 -> 1.
    r = mcid.youden_cutoff([1, 2, 3, 0, 2], [True, True, True, False, False])
    assert r["cutoff"] == 1 and r["youden"] == pytest.approx(0.5)
    # AUC: pairs (pos > neg) = 1>0, 2>0, 3>0, 3>2 = 4, ties 2=2 -> 0.5; total 4.5/6
    assert r["auc"] == pytest.approx(0.75)
