"""Condition x STarT Back risk group in the primary model (protocol: "Fixed effect
interactions between experimental condition and The Keele STarT Back Screening Tool")."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from . import InsufficientData, lmm
from .dataset import TIMEPOINTS
from .mixed import (
    MODEL_PRIMARY,
    MODEL_PRIMARY_NO_PERIOD,
    PRIMARY_COMPONENTS,
    _label,
    _term,
    check_enough,
    contrast,
    period_status,
    prepare,
    term_df,
)
from .reml import fe_cov


def mixed_by_risk_group(
    df: pd.DataFrame, outcome: str = "nrs_back", alpha: float = 0.05, engine: str = "structured"
) -> pd.DataFrame:
    """Condition x STarT Back risk group interaction (protocol: "fixed effect interactions
    between experimental condition and The Keele STarT Back Screening Tool"), in the
    primary model: arm x time x risk group added to its fixed part.

    Rows: the change-from-baseline difference within each risk group at each follow-up,
    then one row whose ``estimate`` is the Wald chi-square for all condition x time x
    risk-group terms (``df`` column) and ``p_value`` its p-value.
    """
    data = prepare(df, outcome)
    check_enough(data, outcome, need_clinics=True)
    data["sbst_risk_group"] = data["sbst_risk_group"].astype(int)
    with_period, note = period_status(data)
    if with_period:
        data["period"] = data["period"].astype(int)
    formula = f"{outcome} ~ arm * C(timepoint_months) * C(sbst_risk_group) + C(cluster)"
    if with_period:
        formula += " + C(period) * C(timepoint_months)"
    try:
        result, _message = lmm.fit_random_intercepts(
            formula, data, "clinic", "clinic", PRIMARY_COMPONENTS, engine, ["lbfgs", "powell"]
        )
    except lmm.NotEstimable as exc:
        raise InsufficientData(
            "Condition x risk group cannot be estimated: some risk group lacks follow-ups "
            "in one condition, cluster or period."
        ) from exc
    except (np.linalg.LinAlgError, ValueError) as exc:
        raise InsufficientData(
            f"The risk-group model could not be fitted to these data ({exc})."
        ) from exc
    cov_fe = fe_cov(result)
    names = list(result.fe_params.index)
    groups = sorted(data["sbst_risk_group"].unique())
    label = _label(df)
    wanted = []
    for g in groups:
        for t in TIMEPOINTS[1:]:
            if _term(t) not in names:
                continue
            weights = {_term(t): 1.0}
            three = f"{_term(t)}:C(sbst_risk_group)[T.{g}]"
            if g != groups[0]:
                if three not in names:
                    continue
                weights[three] = 1.0
            wanted.append((g, t, weights))
    dfs = term_df(result, [w for _, _, w in wanted], data)
    rows = [
        {
            "term": f"risk group {g}: {label}, change 0-{t} months",
            **contrast(result, weights, alpha, df=ddf, cov=cov_fe),
            "timepoint_months": t,
            "sbst_risk_group": g,
            "df": ddf,
        }
        for (g, t, weights), ddf in zip(wanted, dfs, strict=True)
    ]
    inter = [n for n in names if n.startswith("arm:C(timepoint_months)") and "sbst" in n]
    if inter:
        L = np.zeros((len(inter), len(names)))
        for i, n in enumerate(inter):
            L[i, names.index(n)] = 1.0
        beta = result.fe_params.to_numpy()
        cov = cov_fe.loc[names, names].to_numpy()
        lb = L @ beta
        chi2 = float(lb @ np.linalg.solve(L @ cov @ L.T, lb))
        rows.append(
            {
                "term": "interaction condition x time x risk group (Wald chi-square)",
                "estimate": chi2,
                "std_error": np.nan,
                "ci_low": np.nan,
                "ci_high": np.nan,
                "p_value": float(stats.chi2.sf(chi2, len(inter))),
                "df": len(inter),
            }
        )
    out = pd.DataFrame(rows)
    out["outcome"] = outcome
    out["model"] = MODEL_PRIMARY if with_period else MODEL_PRIMARY_NO_PERIOD
    out["note"] = note
    return out
