"""Which test direction the protocol prescribes for each analysis, and both p-values.

The BetterBack protocol's analysis section says only "Statistical significance will be
assessed with an alpha level of 0.05"; its sample size section assumes a 1-tailed
p = 0.05 "for the benefit of" the implementation, for the HCP matched-pairs t-test and for
the patient outcomes compared with usual care. So:

* patient outcomes, condition contrasts (mixed model, MI, per-protocol and washout
  sensitivity): one-sided, H1 = benefit of the intervention; two-sided shown beside;
* physiotherapist matched-pairs t-tests: one-sided, H1 = change towards the BetterBack
  model (PCS down = more confidence, PABS-PT biomedical down, biopsychosocial up);
  two-sided beside;
* everything the sample size did not cover (risk-group interaction, specialist care,
  MCID, cost-effectiveness): two-sided, one-sided beside where a direction exists.

``p_value`` holds the prescribed one; ``p_one_sided`` and ``p_two_sided`` both; the
``sidedness`` column says which is which. 95% two-sided CIs are reported throughout
(protocol: "95% confidence intervals"). In a blinded export (A/B) the direction of benefit
is unknown: the one-sided p is then for "B better than A" and the text says so.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

ONE = "one-sided"
TWO = "two-sided"

# direction of benefit of a patient outcome: 'lower' when a smaller value is better
PATIENT_BENEFIT = {
    "nrs_back": "lower",
    "nrs_leg": "lower",
    "odi": "lower",
    "bipq_total": "lower",
    "eq5d_index": "higher",
}
# physiotherapist outcomes: the direction BetterBack aims for
HCP_BENEFIT = {
    "pcs_total": "lower",
    "pabs_pt_biomedical": "lower",
    "pabs_pt_biopsychosocial": "higher",
}
REASON_PATIENT = (
    "protocol sample size: 1-tailed p = 0.05 for the benefit of BetterBack over usual care"
)
REASON_HCP = "protocol sample size: 1-tailed p = 0.05 for the HCP matched-pairs t-test"
REASON_TWO = "protocol: alpha 0.05, no direction stated for this analysis"


def p_values(estimate, std_error, df, benefit: str | None) -> tuple[float, float]:
    """(one-sided p for the benefit direction, two-sided p); t(df), normal if df inf/None."""
    if not np.isfinite(estimate) or not np.isfinite(std_error) or std_error <= 0:
        return np.nan, np.nan
    stat = estimate / std_error
    dist = stats.norm if df is None or not np.isfinite(df) else stats.t(df)
    two = float(2 * dist.sf(abs(stat)))
    if benefit is None:
        return np.nan, two
    one = float(dist.cdf(stat) if benefit == "lower" else dist.sf(stat))
    return one, two


def apply(
    table: pd.DataFrame,
    prescribed: str,
    benefit: str | None,
    reason: str,
    blinded: bool = False,
) -> pd.DataFrame:
    """Add p_one_sided, p_two_sided and sidedness; set p_value to the prescribed one."""
    out = table.copy()
    if out.empty or "estimate" not in out:
        return out
    if blinded:
        benefit = benefit or "lower"
    ones, twos = [], []
    for _, row in out.iterrows():
        df = row.get("df", None)
        df = None if df is None or pd.isna(df) else float(df)
        if pd.isna(row.get("std_error", np.nan)):
            one, two = np.nan, row.get("p_value", np.nan)
        else:
            one, two = p_values(row["estimate"], row["std_error"], df, benefit)
        ones.append(one)
        twos.append(two)
    out["p_one_sided"], out["p_two_sided"] = ones, twos
    chosen = out["p_one_sided"] if prescribed == ONE and benefit else out["p_two_sided"]
    out["p_value"] = chosen
    direction = ""
    if benefit:
        direction = (
            f"; one-sided H1: B {'below' if benefit == 'lower' else 'above'} A (blinded: "
            "which is the intervention is not known)"
            if blinded
            else f"; one-sided H1: benefit = {benefit} values under the intervention"
        )
    other = TWO if prescribed == ONE else ONE
    out["sidedness"] = f"p_value is {prescribed} ({reason}); {other} beside{direction}"
    return out
