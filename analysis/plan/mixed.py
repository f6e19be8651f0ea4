"""Multilevel model of repeated measurements (protocol: "multilevel analyses of repeated
measurements and experiment condition as fixed effects and participants and clusters as
random effects"), specified to respect the dog-leg design (issue 16).

Primary model (lme4 notation), REML::

    y ~ arm * time + cluster + period * time
        + (1 | clinic) + (1 | clinic:time) + (1 | study_id)

``time`` is the timepoint as a factor (0, 3, 6, 12), ``arm`` 1 for the comparator
condition (intervention, or B in a blinded export), ``cluster`` a fixed effect (three
clusters cannot estimate a variance) and ``period`` the calendar period of enrolment
(1 + the number of crossovers of any cluster on or before the enrolment date), which
separates condition from calendar time in the cluster that crosses over. In MixedLM the
clinic is the group with a random intercept; clinic-by-time and participant are variance
components. The arm x time term at t is the difference between conditions in mean change
from baseline to t months.

Fitting: :mod:`analysis.plan.lmm`, a REML solver for random intercepts that uses the nested
structure (cost O(n): 4,000 patients x 4 timepoints in a few seconds, where statsmodels'
MixedLM, which solves densely over every observation of a clinic, took 156 s). Its
estimates, SEs and variance components equal statsmodels' and R lme4's on the same data
(tests/analysis/test_lmm.py); ``engine="statsmodels"`` keeps the old path as the reference
(:func:`analysis.plan.lmm.fit_random_intercepts`).

Inference: Wald SE from (X' V^-1 X)^-1 at the REML estimates; CI and p from a t
distribution with Satterthwaite's degrees of freedom for each contrast
(:mod:`analysis.plan.reml`, as lmerTest and SAS DDFM=SAT). Why: the contrast's variance
mixes clinic-by-time and participant-level variance estimated from 17 clinics, so a z
interval is somewhat optimistic, while the containment df (clinics - clusters - 1 = 13)
ignore that most of the information comes from within clinics: in 200 simulated trials
(benchmarks/analysis_plan.py) the containment-df interval covered 98%. Containment df
remain the fallback when the approximation cannot be computed.

Sensitivity analysis (the plan's first model, kept by name): ``y ~ arm * time`` with
random intercepts for cluster and participant, Wald z; it ignores clinic-level variation
in change and calendar time (it covered 76% in the benchmark).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from . import ESTIMATE_COLUMNS, InsufficientData, arms, lmm
from .dataset import TIMEPOINTS
from .reml import fe_cov, satterthwaite

MODEL_PRIMARY = (
    "primary: condition x time + cluster + period x time; random clinic, clinic:time, "
    "participant (REML)"
)
MODEL_PRIMARY_NO_PERIOD = (
    "primary without period (no calendar-time adjustment): condition x time + cluster; "
    "random clinic, clinic:time, participant (REML)"
)
MODEL_CLUSTER_RE = (
    "sensitivity (previous primary model): condition x time; random cluster, participant"
)
MODEL_CLUSTER_FIXED = (
    "sensitivity (previous primary model, fallback): condition x time + cluster; random participant"
)
BOUNDARY = 1e-6  # a variance below this share of the total sits on the zero boundary
COMPONENT_NAMES = {
    "clinic": "clinic (random intercept)",
    "clinic_time": "clinic x time",
    "participant": "participant (random intercept)",
    "cluster": "cluster (random intercept)",
    "residual": "residual",
}


def prepare(df: pd.DataFrame, outcome: str) -> pd.DataFrame:
    """Rows with the outcome observed, an ``arm`` 0/1 column and integer time."""
    if outcome not in df.columns:
        raise InsufficientData(f"The dataset has no {outcome} column.")
    _ref, comp = arms(df)
    data = df.loc[df[outcome].notna() & df["condition"].notna()].copy()
    data["arm"] = (data["condition"].astype(str) == comp).astype(int)
    data["timepoint_months"] = data["timepoint_months"].astype(int)
    data["study_id"] = data["study_id"].astype(str)
    data["cluster"] = data["cluster"].astype(str)
    if "clinic" in data.columns:
        data["clinic"] = data["clinic"].astype(str)
    return data


def check_enough(data: pd.DataFrame, outcome: str, need_clinics: bool = False) -> None:
    """Raise InsufficientData with one sentence when no change contrast can be estimated."""
    if data.empty:
        raise InsufficientData(f"No {outcome} values have been recorded yet.")
    if data["arm"].nunique() < 2:
        raise InsufficientData(
            f"All {outcome} values are from one condition; the comparison needs both."
        )
    base = set(data.loc[data.timepoint_months == 0, "study_id"])
    fu = data.loc[data.timepoint_months > 0]
    usable = fu.loc[fu.study_id.isin(base)]
    if usable.empty:
        raise InsufficientData(
            f"No participant has both a baseline and a follow-up {outcome} value yet, "
            "so no change from baseline can be estimated."
        )
    if any(usable.loc[usable.arm == a, "timepoint_months"].nunique() == 0 for a in (0, 1)):
        raise InsufficientData(
            f"Follow-up {outcome} values exist in one condition only; the comparison needs both."
        )
    if need_clinics and data["clinic"].nunique() < 2:
        raise InsufficientData(
            f"{outcome} values come from fewer than 2 clinics; the model needs several."
        )


def _term(t: int) -> str:
    return f"arm:C(timepoint_months)[T.{t}]"


def contrast(result, weights: dict[str, float], alpha: float = 0.05, df=None, cov=None) -> dict:
    """Linear combination of fixed effects: Wald SE; t(df) CI and p, or normal if df None.
    ``cov``: covariance of the fixed effects (default statsmodels' ``cov_params``)."""
    names = list(result.fe_params.index)
    unknown = set(weights) - set(names)
    if unknown:
        raise KeyError(f"unknown terms: {sorted(unknown)}")
    L = np.array([weights.get(n, 0.0) for n in names])
    if cov is None:
        cov = result.cov_params()
    cov = cov.loc[names, names].to_numpy()
    est = float(L @ result.fe_params.to_numpy())
    se = float(np.sqrt(L @ cov @ L))
    dist = stats.norm if df is None else stats.t(df)
    crit = dist.isf(alpha / 2)
    return {
        "estimate": est,
        "std_error": se,
        "ci_low": est - crit * se,
        "ci_high": est + crit * se,
        "p_value": float(2 * dist.sf(abs(est / se))),
    }


def _named_variances(result) -> list[tuple[str, float]]:
    if isinstance(result, lmm.Fit):
        return list(result.variances.items())
    rows = []
    group = getattr(result.model, "_group_label", None)
    if result.cov_re.shape[0]:
        rows.append((group or "group", float(result.cov_re.iloc[0, 0])))
    for name, value in zip(result.model.exog_vc.names, result.vcomp, strict=False):
        rows.append((name, float(value)))
    rows.append(("residual", float(result.scale)))
    return rows


def variance_components(result) -> pd.DataFrame:
    """One row per variance component, by name, with a flag for the zero boundary."""
    rows = _named_variances(result)
    total = sum(max(v, 0.0) for _, v in rows) or 1.0
    out = pd.DataFrame(
        [
            {
                "component": COMPONENT_NAMES.get(name, name),
                "key": name,
                "variance": value,
                "sd": float(np.sqrt(max(value, 0.0))),
                "share": max(value, 0.0) / total,
                "on_boundary": name != "residual" and value <= BOUNDARY * total,
            }
            for name, value in rows
        ]
    )
    return out


def boundary_note(components: pd.DataFrame) -> str:
    hit = components.loc[components.on_boundary, "component"].tolist()
    if not hit:
        return ""
    return (
        f"Estimated as zero (on the boundary of the parameter space): {', '.join(hit)}; "
        "the data show no variation at that level beyond the other components."
    )


PRIMARY_COMPONENTS = {"clinic_time": "timepoint_months", "participant": "study_id"}


def _fit_primary(data: pd.DataFrame, outcome: str, with_period: bool, engine: str = "structured"):
    formula = f"{outcome} ~ arm * C(timepoint_months) + C(cluster)"
    if with_period:
        formula += " + C(period) * C(timepoint_months)"
    try:
        result, message = lmm.fit_random_intercepts(
            formula, data, "clinic", "clinic", PRIMARY_COMPONENTS, engine, ["lbfgs", "powell"]
        )
    except lmm.NotEstimable as exc:
        raise InsufficientData(
            "Condition cannot be separated from cluster"
            + (" and calendar period" if with_period else "")
            + " in these data (too few follow-ups in each condition, cluster and period)."
        ) from exc
    except (np.linalg.LinAlgError, ValueError) as exc:
        raise InsufficientData(
            f"The primary model could not be fitted to these data ({exc}); typically too "
            "few participants with follow-up per clinic and condition."
        ) from exc
    # statsmodels' own SEs come from the observed Hessian, which is singular when a
    # variance sits on the boundary; the GLS covariance used for inference is not
    try:
        variances = np.diag(fe_cov(result).to_numpy())
    except np.linalg.LinAlgError:
        variances = np.array([np.nan])
    if not np.all(np.isfinite(variances)) or np.any(variances <= 0):
        raise InsufficientData(
            "The primary model gave no finite standard errors on these data; typically too "
            "few participants with follow-up per clinic and condition."
        )
    return result, (message if not result.converged else "")


def containment_df(data: pd.DataFrame) -> int:
    """Clinics minus clusters minus one, at least 1: the fallback when Satterthwaite's
    approximation cannot be computed."""
    return max(int(data["clinic"].nunique() - data["cluster"].nunique() - 1), 1)


def term_df(result, weights: list[dict], data: pd.DataFrame) -> list[float]:
    """Satterthwaite df of each contrast (see :mod:`analysis.plan.reml`)."""
    names = list(result.fe_params.index)
    vectors = [np.array([w.get(n, 0.0) for n in names]) for w in weights]
    try:
        dfs = satterthwaite(result, vectors)
    except (np.linalg.LinAlgError, ValueError):
        return [float(containment_df(data))] * len(vectors)
    return [d if np.isfinite(d) and d > 0 else float(containment_df(data)) for d in dfs]


def period_status(df: pd.DataFrame) -> tuple[bool, str]:
    """(adjust for period?, sentence when it cannot)."""
    if "period" not in df.columns:
        return False, (
            "The dataset has no period column, so the model does not adjust for calendar "
            "time (the primary model needs it)."
        )
    if df["period"].dropna().nunique() < 2:
        return False, (
            "All participants were enrolled in one calendar period, so period is not in the model."
        )
    return True, ""


def mixed_change(
    df: pd.DataFrame,
    outcome: str = "nrs_back",
    alpha: float = 0.05,
    return_result: bool = False,
    engine: str = "structured",
):
    """Primary model: difference between conditions in mean change from baseline at 3, 6
    and 12 months (one row each), with ``df``, ``model``, ``note`` and the variance
    components as ``var_<name>`` columns. With ``return_result``: ``(table, result)``.
    ``engine``: see :func:`analysis.plan.lmm.fit_random_intercepts`."""
    data = prepare(df, outcome)
    check_enough(data, outcome, need_clinics=True)
    with_period, note = period_status(data)
    if with_period:
        data["period"] = data["period"].astype(int)
    result, conv = _fit_primary(data, outcome, with_period, engine)
    comps = variance_components(result)
    notes = [n for n in (note, boundary_note(comps), conv) if n]
    label = _label(df)
    cov = fe_cov(result)
    terms = [t for t in TIMEPOINTS[1:] if _term(t) in result.fe_params.index]
    dfs = term_df(result, [{_term(t): 1.0} for t in terms], data)
    rows = [
        {
            "term": f"{label}, change 0-{t} months",
            **contrast(result, {_term(t): 1.0}, alpha, df=ddf, cov=cov),
            "timepoint_months": t,
            "df": ddf,
        }
        for t, ddf in zip(terms, dfs, strict=True)
    ]
    out = pd.DataFrame(rows, columns=[*ESTIMATE_COLUMNS, "timepoint_months", "df"])
    out["outcome"] = outcome
    out["n_participants"] = data["study_id"].nunique()
    out["n_clinics"] = data["clinic"].nunique()
    out["n_obs"] = len(data)
    out["model"] = MODEL_PRIMARY if with_period else MODEL_PRIMARY_NO_PERIOD
    out["note"] = " ".join(notes)
    for key, value in zip(comps.key, comps.variance, strict=True):
        out[f"var_{key}"] = value
    return (out, result) if return_result else out


def _label(df) -> str:
    ref, comp = arms(df)
    return f"{comp} - {ref}"


# --- sensitivity: the plan's previous primary model ------------------------------------


def _fit_previous(
    formula: str, data: pd.DataFrame, cluster_random: bool = True, engine: str = "structured"
):
    """Cluster + participant random intercepts, or participant only with fixed clusters.

    Returns (result, model description, note). A variance on the boundary is kept (valid
    REML estimate); non-convergence or non-finite SEs cause the fallback.
    """
    note = ""
    if cluster_random:
        try:
            result, messages = lmm.fit_random_intercepts(
                formula, data, "cluster", "cluster", {"participant": "study_id"}, engine
            )
            if result.converged and np.all(np.isfinite(result.bse_fe)):
                return result, MODEL_CLUSTER_RE, messages
            note = "cluster random-effect model did not converge. " + messages
        except (np.linalg.LinAlgError, ValueError) as exc:
            note = f"cluster random-effect model failed ({exc.__class__.__name__}: {exc})"
    else:
        note = "cluster random effect not requested"
    try:
        result, _messages = lmm.fit_random_intercepts(
            formula + " + C(cluster)", data, "study_id", "participant", {}, engine
        )
    except (np.linalg.LinAlgError, ValueError) as exc:
        raise InsufficientData(
            f"The model could not be fitted to these data ({exc}); typically too few "
            "participants with follow-up in each condition."
        ) from exc
    return result, MODEL_CLUSTER_FIXED, note.strip()


def previous_model(
    df: pd.DataFrame,
    outcome: str = "nrs_back",
    cluster_random: bool = True,
    alpha: float = 0.05,
    return_result: bool = False,
    engine: str = "structured",
):
    """Sensitivity analysis: the plan's first model (no clinic level, no calendar time)."""
    data = prepare(df, outcome)
    check_enough(data, outcome)
    formula = f"{outcome} ~ arm * C(timepoint_months)"
    result, model, note = _fit_previous(formula, data, cluster_random, engine)
    comps = variance_components(result)
    notes = [n for n in (note, boundary_note(comps)) if n]
    label = _label(df)
    rows = [
        {
            "term": f"{label}, change 0-{t} months",
            **contrast(result, {_term(t): 1.0}, alpha),
            "timepoint_months": t,
        }
        for t in TIMEPOINTS[1:]
        if _term(t) in result.fe_params.index
    ]
    out = pd.DataFrame(rows, columns=[*ESTIMATE_COLUMNS, "timepoint_months"])
    out["df"] = np.inf
    out["outcome"] = outcome
    out["n_participants"] = data["study_id"].nunique()
    out["n_obs"] = len(data)
    out["model"] = model
    out["note"] = " ".join(notes)
    for key, value in zip(comps.key, comps.variance, strict=True):
        out[f"var_{key}"] = value
    return (out, result) if return_result else out
