"""Internal pilot progression criteria (analysis.plan.pilot) with the protocol's figures."""

import pandas as pd

from analysis.plan import pilot


def _physio(values):
    return pd.DataFrame(
        {"physio_id": range(len(values)), "timepoint": "after", "dibq_useful": values}
    )


# protocol: pilot months April and May: cluster 1 28, 28; cluster 2 5, 12; cluster 3 14, 22
PROTOCOL_FLOW = pd.DataFrame(
    {"cluster": [1, 1, 2, 2, 3, 3], "month": ["apr", "may"] * 3, "n": [28, 28, 5, 12, 14, 22]}
)


def test_protocol_pilot():
    # 27 HCP, mean about 1.7 (protocol: 1.7, SD 0.8): 11 x 1, 13 x 2, 3 x 3 -> 46/27 = 1.704
    out = pilot.progression(_physio([1] * 11 + [2] * 13 + [3] * 3), PROTOCOL_FLOW)
    rows = out.set_index("term")
    use = rows.iloc[0]
    assert use.n == 27 and round(use.estimate, 3) == 1.704 and use.met
    assert rows.loc["recruitment per month, cluster 1 (mean)", "met"]
    assert rows.loc["recruitment per month, cluster 2 (mean)", "estimate"] == 8.5
    assert not rows.loc["recruitment per month, cluster 2 (mean)", "met"]
    assert not rows.loc["recruitment per month, cluster 3 (mean)", "met"]  # 18 < 20
    assert not rows.loc["progression (all criteria met)", "met"]


def test_boundaries():
    flow = pd.DataFrame({"cluster": [1, 1], "month": ["a", "b"], "n": [20, 20]})
    out = pilot.progression(_physio([2, 3]), flow).set_index("term")  # mean exactly 2.5
    assert out.iloc[0].met
    assert out.loc["progression (all criteria met)", "met"]
    out = pilot.progression(_physio([3, 3]), flow).set_index("term")
    assert not out.iloc[0].met and not out.loc["progression (all criteria met)", "met"]
