"""The analysis dataset format (what the export must produce) and its validator.

Patient dataset: one row per participant and timepoint ("long" format).

===================  ==========================================================
column               meaning
===================  ==========================================================
study_id             participant identifier (str or int), unique per participant
cluster              cluster (BetterBack: 1 west, 2 central, 3 east)
clinic               clinic code
condition            'control' or 'intervention' (the condition under which the
                     participant was recruited; constant per participant); a
                     blinded export has 'A' and 'B' and results read B - A
enrolled_month       optional: whole months since the trial's first enrolment
period               optional: calendar period of enrolment, 1 + the number of
                     crossovers of any cluster (after recruitment started) on or
                     before the enrolment date; the primary model adjusts for it
timepoint_months     0 (baseline), 3, 6 or 12
crossover_washout    bool: recruited in the 2 weeks around the implementation in
                     the cluster (constant per participant)
sbst_risk_group      baseline STarT Back risk group 1 low, 2 medium, 3 high,
                     repeated on each row of the participant
per_protocol         bool, optional: participant in the per-protocol set
score columns        e.g. nrs_back, odi, eq5d_index, bipq_total, pgic (pgic is the
                     -5..+5 rating of change, missing at baseline); missing = NaN,
                     whatever the reason: a missing-data reason code (-99..-95, e.g.
                     from an SPSS file read with its user-missing values) is missing
                     too (:func:`reasons_as_missing`); ``*_reason`` columns are ignored
specialist_care      bool, optional, participant level (repeated): specialist care
                     for LBP between baseline and 12 months
cost                 float, optional, participant level (repeated): total cost
                     over 12 months when no utilisation table is given
===================  ==========================================================

Physiotherapist dataset: one row per physiotherapist and timepoint: ``physio_id``,
``timepoint`` in 'before' (before the workshop), 'after' (directly after), '3m', '12m';
``pcs_total``, ``pabs_pt_biomedical``, ``pabs_pt_biopsychosocial``, ``dibq_useful``
(DIBQ item "I expect that the BetterBack model of care will be useful",
1 agree completely .. 5 do not agree at all).

Utilisation table (cost-effectiveness): ``study_id``, ``item``, ``quantity``; prices are
a dict item -> unit price (SEK).
"""

from __future__ import annotations

import pandas as pd

# questionnaires.missing: -99 not done, -98 refused, -97 don't know, -96 not applicable,
# -95 lost. Kept as numbers here so that the plan reads a file without Django.
REASON_CODES = (-99, -98, -97, -96, -95)

PATIENT_COLUMNS = [
    "study_id",
    "cluster",
    "clinic",
    "condition",
    "timepoint_months",
    "crossover_washout",
    "sbst_risk_group",
]
CONDITIONS = ("control", "intervention")
BLINDED_CONDITIONS = ("A", "B")  # blinded export: reported as B - A
TIMEPOINTS = (0, 3, 6, 12)
PHYSIO_COLUMNS = ["physio_id", "timepoint"]
PHYSIO_TIMEPOINTS = ("before", "after", "3m", "12m")
PHYSIO_SCORES = ["pcs_total", "pabs_pt_biomedical", "pabs_pt_biopsychosocial", "dibq_useful"]
PARTICIPANT_CONSTANT = [
    "cluster",
    "condition",
    "crossover_washout",
    "sbst_risk_group",
    "per_protocol",
    "specialist_care",
    "cost",
    "period",
    "enrolled_month",
]


def reasons_as_missing(df: pd.DataFrame, columns=None) -> pd.DataFrame:
    """A copy with every missing-data reason code in the numeric ``columns`` (default: the
    numeric columns other than the design columns) as NaN: a reason says why a value is
    missing, never a value. The analysis treats every reason as missing."""
    keep = {*PATIENT_COLUMNS, *PHYSIO_COLUMNS, "enrolled_month", "period", "days_from_baseline"}
    if columns is None:
        columns = [
            c
            for c in df.columns
            if c not in keep
            and not str(c).endswith("_reason")
            and pd.api.types.is_numeric_dtype(df[c])
        ]
    out = df.copy()
    for c in columns:
        out[c] = out[c].mask(out[c].isin(REASON_CODES))
    return out


def reason_codes_in(df: pd.DataFrame, columns) -> list[str]:
    """The columns among ``columns`` that hold a reason code as if it were a value."""
    return [
        c
        for c in columns
        if c in df.columns
        and pd.api.types.is_numeric_dtype(df[c])
        and df[c].isin(REASON_CODES).any()
    ]


def missing_columns(df: pd.DataFrame, columns) -> list[str]:
    return [c for c in columns if c not in df.columns]


def validate_dataset(df: pd.DataFrame, scores=(), kind: str = "patient") -> list[str]:
    """Problems found in an analysis dataset (empty list = usable).

    ``scores`` are extra columns the analysis needs (e.g. ``["nrs_back"]``);
    ``kind`` is 'patient' or 'physio'.
    """
    if kind == "physio":
        return _validate_physio(df, scores)
    problems = []
    missing = missing_columns(df, [*PATIENT_COLUMNS, *scores])
    if missing:
        return [f"missing columns: {', '.join(missing)}"]
    found = set(df["condition"].dropna().astype(str))
    bad = sorted(found - set(CONDITIONS))
    if not found <= set(BLINDED_CONDITIONS) and (bad or df["condition"].isna().any()):
        problems.append(
            f"condition must be 'control' or 'intervention', or blinded 'A' or 'B' "
            f"(found {bad or 'NaN'})"
        )
    tp = pd.to_numeric(df["timepoint_months"], errors="coerce")
    if tp.isna().any() or not set(tp.astype(int)) <= set(TIMEPOINTS):
        problems.append("timepoint_months must be one of 0, 3, 6, 12")
    elif df.duplicated(["study_id", "timepoint_months"]).any():
        problems.append("more than one row for a study_id and timepoint_months")
    risk = pd.to_numeric(df["sbst_risk_group"], errors="coerce")
    if not risk.dropna().isin([1, 2, 3]).all():
        problems.append("sbst_risk_group must be 1, 2 or 3")
    for col in ("crossover_washout", "per_protocol"):
        if col in df.columns and not df[col].dropna().isin([True, False, 0, 1]).all():
            problems.append(f"{col} must be boolean")
    for col in PARTICIPANT_CONSTANT:
        if col in df.columns and (df.groupby("study_id")[col].nunique(dropna=True) > 1).any():
            problems.append(f"{col} must be constant within a participant")
    for col in scores:
        if not pd.api.types.is_numeric_dtype(df[col]):
            problems.append(f"{col} must be numeric")
    coded = reason_codes_in(df, scores)
    if coded:
        problems.append(
            f"{', '.join(coded)} hold missing-data reason codes (-99..-95) as values: "
            "read them as missing (reasons_as_missing)"
        )
    return problems


def _validate_physio(df, scores):
    missing = missing_columns(df, [*PHYSIO_COLUMNS, *scores])
    if missing:
        return [f"missing columns: {', '.join(missing)}"]
    problems = []
    bad = sorted(set(df["timepoint"].dropna().astype(str)) - set(PHYSIO_TIMEPOINTS))
    if bad:
        problems.append(f"timepoint must be one of {', '.join(PHYSIO_TIMEPOINTS)} (found {bad})")
    if df.duplicated(["physio_id", "timepoint"]).any():
        problems.append("more than one row for a physio_id and timepoint")
    for col in scores:
        if not pd.api.types.is_numeric_dtype(df[col]):
            problems.append(f"{col} must be numeric")
    return problems


def wide(df: pd.DataFrame, outcome: str) -> pd.DataFrame:
    """One row per participant: participant-level columns plus ``<outcome>_<t>`` per time."""
    keep = [c for c in ["study_id", "clinic", *PARTICIPANT_CONSTANT] if c in df.columns]
    base = df[keep].drop_duplicates("study_id").set_index("study_id")
    values = df.pivot(index="study_id", columns="timepoint_months", values=outcome)
    values = values.reindex(columns=list(TIMEPOINTS))
    values.columns = [f"{outcome}_{t}" for t in values.columns]
    return base.join(values).reset_index()
