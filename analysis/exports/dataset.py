"""The analysis shape: the analysis dataset of :mod:`analysis.plan.dataset`, one row per
participant and patient timepoint at 0/3/6/12 months (see :func:`analysis_dataset`)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pandas as pd

from enrolment.models import Clinic, Timepoint, Trial
from questionnaires.instruments import for_trial

from ..design_export import DesignFacts, design_vars
from ..varnames import NUMERIC, STRING, Export, Var
from .columns import _conditions, _risk, instrument_vars, participant_vars
from .stream import _joined

# analysis column -> (instrument codes that may provide it, score name)
ANALYSIS_SCORES = {
    "nrs_back": (("nrs",), "back"),
    "nrs_leg": (("nrs",), "leg"),
    "odi": (("odi",), "odi"),
    "eq5d_index": (("eq5d3l", "eq5d5l"), "index"),
    "eq5d_vas": (("eq5d3l", "eq5d5l"), "vas"),
    "bipq_total": (("bipq",), "total"),
    "pei_total": (("pei",), "total"),
    "satisfaction": (("satisfaction",), "satisfaction"),
    "pgic": (("pgic",), "pgic"),
}
# Instruments whose scores reach the dataset another way: the STarT Back risk group is
# ``sbst_risk_group`` (the participant's, repeated on each row).
COVERED_ELSEWHERE = {"sbst"}
SPECIALIST_ITEMS = (
    "multimodal_pain_team",
    "specialist_pain_clinic_referral",
    "orthopaedic_or_neurosurgical_visit",
    "spine_surgery",
)


def analysis_timepoints(trial: Trial) -> list[Timepoint]:
    return [
        t
        for t in trial.timepoints.filter(
            respondent=Timepoint.PATIENT,
            anchor=Timepoint.ENROLMENT,
            unit="months",
            offset__in=[0, 3, 6, 12],
        ).order_by("offset")
    ]


def asked_instruments(trial: Trial) -> list[str]:
    """The instruments the trial asks at an analysis timepoint, in the order first asked."""
    out: list[str] = []
    for t in analysis_timepoints(trial):
        out += [code for code in t.instruments if code not in out]
    return out


def score_columns(trial: Trial) -> list[tuple[Var, tuple[str, ...], str]]:
    """(codebook entry, instrument codes, score) of each score column: the plan's fixed
    columns (``ANALYSIS_SCORES``) whose instrument the trial asks, then the scores of every
    other asked instrument as ``<instrument>_<score>``, on the version the trial pins (an
    instrument behind a fixed column adds no more: the plan's dataset stays as it is).
    Instruments priced as costs (``[prices] questionnaire``) feed ``cost`` through the
    utilisation table instead."""
    asked = asked_instruments(trial)
    priced = {key.partition(".")[0] for key in (trial.prices or {}).get("questionnaire") or {}}
    out = []
    covered = set()
    for name, (codes, score) in ANALYSIS_SCORES.items():
        mine = tuple(c for c in codes if c in asked)
        if not mine:
            continue
        covered |= set(mine)
        ins = for_trial(trial, mine[0])
        sdef = next(s for s in ins.scores if s.name == score)
        var = Var(
            name,
            sdef.label,
            NUMERIC,
            dict(sdef.labels),
            f"{sdef.min}..{sdef.max}" if sdef.min is not None else "",
            "/".join(codes),
            str(ins.version),
            sdef.rule,
        )
        out.append((var, mine, score))
    for code in asked:
        if code in covered or code in COVERED_ELSEWHERE or code in priced:
            continue
        out += [
            (v, (code,), v.name[len(code) + 1 :]) for v in instrument_vars(code, "score", trial)
        ]
    return out


def analysis_vars(trial: Trial, blinded: bool = False, registry: bool = False) -> list[Var]:
    pv = {v.name: v for v in participant_vars(trial, blinded)}
    out = [
        pv["study_id"],
        pv["cluster"],
        Var(
            "clinic",
            "Clinic code",
            STRING,
            labels=dict(Clinic.objects.filter(cluster__trial=trial).values_list("code", "name")),
            rule="the clinic the participant was enrolled at (its code in the protocol file); "
            "the level of the clinic random effects",
        ),
        pv["condition"],
        Var("timepoint_months", "Months from baseline", NUMERIC, allowed="0;3;6;12"),
        Var(
            "crossover_washout",
            pv["crossover_washout"].label,
            NUMERIC,
            labels={1: "True", 0: "False"},
        ),
        pv["sbst_risk_group"],
        pv["protocol_version"],
        *design_vars(trial, blinded),
        Var("days_from_baseline", "Days from enrolment to completion (first response)", NUMERIC),
    ]
    out += [var for var, _codes, _score in score_columns(trial)]
    if registry:
        out.append(
            Var(
                "specialist_care",
                "Specialist care for LBP within 12 months "
                "(registry: " + ", ".join(SPECIALIST_ITEMS) + ")",
                NUMERIC,
                labels={1: "True", 0: "False"},
            )
        )
        out.append(
            Var(
                "cost",
                "Health care and sick-leave cost over 12 months "
                f"({trial.prices.get('currency', '')} {trial.prices.get('year', '')})",
                NUMERIC,
                rule="sum of registry quantities times the protocol's prices",
            )
        )
    return out


def analysis_dataset(trial: Trial, blinded: bool = False) -> pd.DataFrame:
    """One row per participant and patient timepoint (0/3/6/12 months) in the format of
    :mod:`analysis.plan.dataset`; score columns missing where not answered. With a current
    registry import, also ``specialist_care`` and ``cost``."""
    from ..registry import current_import, participant_costs

    tps = analysis_timepoints(trial)
    months = {t.id: t.offset for t in tps}
    conditions = _conditions(trial, blinded)
    imp = current_import(trial)
    costs = participant_costs(imp) if imp else {}
    tz = ZoneInfo(trial.time_zone)
    design = DesignFacts.of(trial)
    scored = score_columns(trial)
    records = []
    for p, responses in _joined(trial, tps, "scores"):
        by_tp: dict[int, dict] = {t.id: {} for t in tps}
        days: dict[int, int] = {}
        for _pid, tp_id, code, _v, scores, _m, completed, _week in responses:
            for var, codes, score in scored:
                if code in codes and scores:
                    by_tp[tp_id][var.name] = scores.get(score)
            d = (completed.astimezone(tz).date() - p["enrolled_on"]).days
            days[tp_id] = min(days.get(tp_id, d), d)
        for t in tps:
            rec = {
                "study_id": p["study_id"],
                "cluster": p["clinic__cluster__allocation_order"],
                "clinic": p["clinic__code"],
                "condition": conditions.get(p["condition"], "") if conditions else p["condition"],
                "timepoint_months": months[t.id],
                "crossover_washout": bool(p["crossover_washout"]),
                "sbst_risk_group": _risk(p["risk"]),
                "protocol_version": p["protocol_version__number"],
                **design.columns(p["id"], p["enrolled_on"], blinded),
                "days_from_baseline": days.get(t.id),
            }
            for var, _codes, _score in scored:
                rec[var.name] = by_tp[t.id].get(var.name)
            if imp:
                cost = costs.get(p["id"])
                rec["specialist_care"] = None if cost is None else cost["specialist_care"]
                rec["cost"] = None if cost is None else cost["cost"]
            records.append(rec)
    names = [v.name for v in analysis_vars(trial, blinded, registry=imp is not None)]
    df = pd.DataFrame.from_records(records, columns=names)
    numeric = [v.name for v, _c, _s in scored if v.type == NUMERIC]
    for name in [*numeric, "sbst_risk_group", "days_from_baseline", "cost"]:
        if name in df:
            df[name] = pd.to_numeric(df[name], errors="coerce").astype(float)
    df["timepoint_months"] = df["timepoint_months"].astype(int)
    df["crossover_washout"] = df["crossover_washout"].astype(bool)
    df["per_protocol"] = df["per_protocol"].astype(bool)
    for name in ("enrolled_month", "period"):
        df[name] = df[name].astype(int)
    if "specialist_care" in df:
        df["specialist_care"] = df["specialist_care"].astype("boolean")
    return df


def analysis_export(trial: Trial, blinded: bool = False) -> Export:
    from ..registry import current_import

    df = analysis_dataset(trial, blinded)
    cols = analysis_vars(trial, blinded, registry=current_import(trial) is not None)

    def rows():
        for rec in df.itertuples(index=False):
            yield [None if (isinstance(v, float) and v != v) or v is pd.NA else v for v in rec]

    return Export(cols, rows, len(df))
