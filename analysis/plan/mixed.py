"""Multilevel model of repeated measurements (protocol: "multilevel analyses of repeated
measurements and experiment condition as fixed effects and participants and clusters as
random effects").

Model (linear mixed model, REML, statsmodels MixedLM)::

    y_ict = b0 + b_t + a*I_i + g_t*I_i + u_c + v_i + e_ict,   t in {0, 3, 6, 12}

I_i = 1 if participant i was recruited under the intervention condition, b_t and g_t are
zero at baseline, u_c ~ N(0, s_c^2) a random intercept for cluster c and v_i ~ N(0, s_p^2)
one for participant i nested in c. g_t is then the mean difference (intervention minus
control) in change from baseline at t months; it is reported with a Wald (normal) 95% CI.

Random effects: ``groups=cluster`` with the participant intercept as a variance component
(``vc_formula``). With three clusters the cluster variance is estimated from 3 values
and may be zero or fail to converge; then the fit falls back to ``groups=participant``
with cluster as a fixed effect (which also removes any cluster-level confounding), and the
``model`` column of the result says so. Change-from-baseline contrasts are within
participant, so both fits target the same g_t.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import statsmodels.formula.api as smf
from scipy import stats
from statsmodels.tools.sm_exceptions import ConvergenceWarning

from . import ESTIMATE_COLUMNS
from .dataset import TIMEPOINTS

MODEL_CLUSTER_RE = "random intercepts: cluster, participant within cluster"
MODEL_CLUSTER_FIXED = "random intercept: participant; cluster as fixed effect (fallback)"


def prepare(df: pd.DataFrame, outcome: str) -> pd.DataFrame:
    """Rows with the outcome observed, an ``intervention`` 0/1 column and integer time."""
    data = df.loc[df[outcome].notna()].copy()
    data["intervention"] = (data["condition"] == "intervention").astype(int)
    data["timepoint_months"] = data["timepoint_months"].astype(int)
    data["study_id"] = data["study_id"].astype(str)
    data["cluster"] = data["cluster"].astype(str)
    return data


def _fit(formula: str, data: pd.DataFrame, cluster_random: bool = True):
    """Fit with cluster + participant random intercepts, or the documented fallback.

    Returns (result, model description, note). A variance on the boundary (typically
    the cluster variance estimated as ~0 from three clusters) is a valid REML estimate and
    is kept, with a note; non-convergence or non-finite fixed-effect SEs cause the fallback.
    """
    note = ""
    if cluster_random:
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", ConvergenceWarning)
                result = smf.mixedlm(
                    formula,
                    data,
                    groups="cluster",
                    re_formula="1",
                    vc_formula={"participant": "0 + C(study_id)"},
                ).fit(reml=True)
            messages = sorted(
                {str(w.message) for w in caught if issubclass(w.category, ConvergenceWarning)}
            )
            if result.converged and np.all(np.isfinite(result.bse_fe)):
                return result, MODEL_CLUSTER_RE, " ".join(messages)
            note = "cluster random-effect model did not converge. " + " ".join(messages)
        except (np.linalg.LinAlgError, ValueError) as exc:
            note = f"cluster random-effect model failed ({exc.__class__.__name__}: {exc})"
    else:
        note = "cluster random effect not requested"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        result = smf.mixedlm(formula + " + C(cluster)", data, groups="study_id").fit(reml=True)
    return result, MODEL_CLUSTER_FIXED, note.strip()


def contrast(result, weights: dict[str, float], alpha: float = 0.05) -> dict:
    """Linear combination of fixed effects with a Wald (normal) CI and two-sided p."""
    names = list(result.fe_params.index)
    unknown = set(weights) - set(names)
    if unknown:
        raise KeyError(f"unknown terms: {sorted(unknown)}")
    L = np.array([weights.get(n, 0.0) for n in names])
    cov = result.cov_params().loc[names, names].to_numpy()
    est = float(L @ result.fe_params.to_numpy())
    se = float(np.sqrt(L @ cov @ L))
    z = stats.norm.isf(alpha / 2)
    return {
        "estimate": est,
        "std_error": se,
        "ci_low": est - z * se,
        "ci_high": est + z * se,
        "p_value": float(2 * stats.norm.sf(abs(est / se))),
    }


def _term(t: int) -> str:
    return f"intervention:C(timepoint_months)[T.{t}]"


def _variances(result) -> dict:
    out = {"var_resid": float(result.scale)}
    if "Group Var" in result.params.index:  # groups' random intercept
        out["var_group"] = float(result.cov_re.iloc[0, 0])
    for name, value in zip(result.model.exog_vc.names, result.vcomp, strict=False):
        out[f"var_{name}"] = float(value)
    return out


def mixed_change(
    df: pd.DataFrame,
    outcome: str = "nrs_back",
    cluster_random: bool = True,
    alpha: float = 0.05,
    return_result: bool = False,
):
    """Difference (intervention - control) in mean change from baseline at 3, 6, 12 months.

    Extra columns: ``outcome``, ``timepoint_months``, ``n_participants``, ``n_obs``,
    ``model``, ``note``, and the variance components. With ``return_result`` the
    statsmodels result is returned too, as ``(table, result)``.
    """
    data = prepare(df, outcome)
    formula = f"{outcome} ~ intervention * C(timepoint_months)"
    result, model, note = _fit(formula, data, cluster_random)
    rows = []
    for t in TIMEPOINTS[1:]:
        if _term(t) not in result.fe_params.index:
            continue
        rows.append(
            {
                "term": f"intervention - control, change 0-{t} months",
                **contrast(result, {_term(t): 1.0}, alpha),
                "timepoint_months": t,
            }
        )
    out = pd.DataFrame(rows, columns=[*ESTIMATE_COLUMNS, "timepoint_months"])
    out["outcome"] = outcome
    out["n_participants"] = data["study_id"].nunique()
    out["n_obs"] = len(data)
    out["model"] = model
    out["note"] = note
    for key, value in _variances(result).items():
        out[key] = value
    return (out, result) if return_result else out


def mixed_by_risk_group(
    df: pd.DataFrame, outcome: str = "nrs_back", cluster_random: bool = True, alpha: float = 0.05
) -> pd.DataFrame:
    """Condition x STarT Back risk group interaction (protocol: "fixed effect interactions
    between experimental condition and The Keele STarT Back Screening Tool").

    Model: y ~ intervention * C(time) * C(sbst_risk_group) with the same random effects.
    Rows: the change-from-baseline difference within each risk group at each follow-up,
    then one row ``interaction (Wald)`` whose ``estimate`` is the chi-square statistic for
    all condition x time x risk-group terms (``df`` column) and ``p_value`` its p-value.
    """
    data = prepare(df, outcome)
    data["sbst_risk_group"] = data["sbst_risk_group"].astype(int)
    formula = f"{outcome} ~ intervention * C(timepoint_months) * C(sbst_risk_group)"
    result, model, note = _fit(formula, data, cluster_random)
    names = list(result.fe_params.index)
    groups = sorted(data["sbst_risk_group"].unique())
    ref = groups[0]
    rows = []
    for g in groups:
        for t in TIMEPOINTS[1:]:
            if _term(t) not in names:
                continue
            weights = {_term(t): 1.0}
            three = f"{_term(t)}:C(sbst_risk_group)[T.{g}]"
            if g != ref:
                if three not in names:
                    continue
                weights[three] = 1.0
            rows.append(
                {
                    "term": f"risk group {g}: intervention - control, change 0-{t} months",
                    **contrast(result, weights, alpha),
                    "timepoint_months": t,
                    "sbst_risk_group": g,
                }
            )
    inter = [
        n
        for n in names
        if n.startswith("intervention:C(timepoint_months)") and "sbst_risk_group" in n
    ]
    if inter:
        L = np.zeros((len(inter), len(names)))
        for i, n in enumerate(inter):
            L[i, names.index(n)] = 1.0
        beta = result.fe_params.to_numpy()
        cov = result.cov_params().loc[names, names].to_numpy()
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
    out["model"] = model
    out["note"] = note
    return out
