"""Pseudonymised exports of a trial's participant data, with a codebook.

Shapes
------
``long``   one row per participant, timepoint and variable (score or item):
           the participant columns, then ``timepoint``, ``days_from_baseline``,
           ``entry_mode``, ``instrument``, ``version``, ``variable``, ``value`` (numeric)
           and ``value_text`` (text values: EQ-5D profiles, dates, multiple choices).
``wide``   one row per participant: the participant columns, then per timepoint
           ``days_from_baseline_<tp>``, ``entry_mode_<tp>`` and ``<instrument>_<var>_<tp>``.
``analysis`` the analysis dataset of :mod:`analysis.plan.dataset` (one row per participant
           and patient timepoint at 0/3/6/12 months), see :func:`analysis_dataset`.

Column names (stable, documented in every codebook)
---------------------------------------------------
* variables: ``<instrument>_<score>`` at score level (``odi_odi``, ``nrs_back``,
  ``eq5d3l_index``), ``<instrument>_<item>`` at item level (``odi_q3``). Item level holds
  items only (an item and a score may share a name, e.g. ``nrs_back``). Free-text items are
  never exported: they may carry names. Multiple-choice items are text "1;3".
* ``<tp>`` is the timepoint code of the protocol file with ``-`` as ``_`` (``baseline``,
  ``3m``, ``crpe_final``): wide names are ``odi_odi_3m``.
* Stata allows 32 characters: in ``.dta`` files a longer name becomes its first 27
  characters, ``_`` and 4 hex digits of its SHA-1 (:func:`stata_name`); the codebook written
  with a ``.dta`` export lists those names.

Participant columns: study_id, cluster (allocation order 1, 2, ..., labelled with the
cluster's name and code), clinic (code), condition (arm code, or the
blinding code A/B), enrolment_date, crossover_washout (1/0), sbst_risk_group (baseline
STarT Back risk group), status, withdrawn (date), age_at_enrolment (whole years; the date
of birth is read inside the export and never written), protocol_version (the number of the
protocol version the participant was enrolled under; the codebook lists the versions).

Only final (entry 0), completed responses are exported. CSV and Parquet are streamed from
``.iterator(chunk_size=...)`` querysets, so memory stays flat with the number of
participants; ``.sav`` and ``.dta`` are built in memory (pyreadstat writes a whole frame).
"""

from __future__ import annotations

import csv
import html
import itertools
import random
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd
from django.db import transaction
from django.db.models import CharField, OuterRef, Subquery
from django.db.models.fields.json import KT

from enrolment.models import Clinic, Participant, Timepoint, Trial
from enrolment.national_id import age_on
from questionnaires.instruments import base, for_trial, get
from questionnaires.models import Response

from . import missing_export, syntax
from .design_export import DesignFacts, design_vars
from .models import BlindingCode, ExportLog
from .varnames import DATE, NUMERIC, STRING, Export, Var, stata_name, tp_suffix
from .version_export import protocol_version_var

CHUNK = 2000
FORMATS = ("csv", "sav", "dta", "parquet")
SHAPES = ("long", "wide", "analysis")
LEVELS = ("score", "item")
# Scores that are text, not numbers (the EQ-5D health state, e.g. "11221").
TEXT_SCORES = {"profile"}
MODE_LABELS = {code: str(label) for code, label in Response.MODES}


# --- blinding ------------------------------------------------------------------------


def blinding_codes(trial: Trial) -> dict[str, str]:
    """Arm code -> blinding code (A, B, ...), drawn at random the first time it is asked."""
    with transaction.atomic():
        existing = dict(
            BlindingCode.objects.select_for_update().filter(trial=trial).values_list("arm", "code")
        )
        arms = list(trial.arms.values_list("code", flat=True))
        if set(arms) <= set(existing):
            return existing
        letters = [chr(ord("A") + i) for i in range(len(arms))]
        random.SystemRandom().shuffle(letters)
        BlindingCode.objects.filter(trial=trial).delete()
        BlindingCode.objects.bulk_create(
            [BlindingCode(trial=trial, arm=a, code=c) for a, c in zip(arms, letters, strict=True)]
        )
        return dict(zip(arms, letters, strict=True))


# --- variables -----------------------------------------------------------------------


def participant_timepoints(trial: Trial) -> list[Timepoint]:
    """Timepoints answered by or about a participant (patient and clinician)."""
    tps = trial.timepoints.filter(respondent__in=[Timepoint.PATIENT, Timepoint.CLINICIAN]).order_by(
        "respondent", "order"
    )
    # patients first ("clinician" sorts before "patient")
    return sorted(tps, key=lambda t: (t.respondent != Timepoint.PATIENT, t.order))


def weekly_timepoints(trial: Trial) -> dict[int, int]:
    """Timepoint id -> number of weeks, for timepoints answered once a week (the weekly
    SMS tracking: one response per week, ``Response.week``)."""
    schedule = getattr(trial, "sms_schedule", None)
    if schedule is None:
        return {}
    return {t.id: schedule.weeks for t in trial.timepoints.all() if "sms_tracking" in t.instruments}


def baseline_timepoint(trial: Trial) -> Timepoint | None:
    return (
        trial.timepoints.filter(respondent=Timepoint.PATIENT, anchor=Timepoint.ENROLMENT)
        .order_by("offset", "order")
        .first()
    )


def cluster_labels(trial: Trial) -> dict[int, str]:
    return {
        order: f"{name} ({code})"
        for order, name, code in trial.clusters.values_list("allocation_order", "name", "code")
    }


def participant_vars(trial: Trial, blinded: bool = False) -> list[Var]:
    if blinded:
        codes = sorted(blinding_codes(trial).values())
        conditions = {c: f"Blinded arm {c}" for c in codes}
    else:
        conditions = dict(trial.arms.values_list("code", "label"))
    sbst = get("sbst")
    risk = next(s for s in sbst.scores if s.name == "risk_group")
    return [
        Var("study_id", "Study ID (pseudonym)", STRING),
        # One coding in every shape: the allocation order, labelled with the cluster's
        # name and code. Numeric, because Stata keeps value labels on numbers only, and
        # it is the coding the analysis plan documents (analysis.plan.dataset).
        Var(
            "cluster",
            "Cluster (allocation order)",
            NUMERIC,
            labels=cluster_labels(trial),
        ),
        Var("clinic", "Clinic code", STRING),
        Var(
            "condition",
            "Condition at recruitment" + (" (blinded)" if blinded else ""),
            STRING,
            labels=conditions,
        ),
        Var("enrolment_date", "Date of enrolment (baseline)", DATE),
        Var(
            "crossover_washout",
            "Enrolled in the washout around the cluster's crossover",
            NUMERIC,
            labels={1: "Yes", 0: "No"},
        ),
        Var(
            "sbst_risk_group",
            "STarT Back risk group at baseline",
            NUMERIC,
            labels=dict(risk.labels),
            instrument="sbst",
            version=str(sbst.version),
            rule=risk.rule,
        ),
        Var(
            "status",
            "Participant status",
            STRING,
            labels={c: str(lab) for c, lab in Participant.STATUSES},
        ),
        Var("withdrawn", "Date of withdrawal", DATE),
        Var("died", "Date of death", DATE),
        Var("age_at_enrolment", "Age at enrolment (years)", NUMERIC),
        protocol_version_var(trial),
    ]


def _item_var(ins: base.Instrument, item: base.Item) -> Var | None:
    common = {"instrument": ins.code, "version": str(ins.version), "label": item.text}
    name = f"{ins.code}_{item.id}"
    if item.kind == base.TEXT:
        return None  # free text may carry identifiers
    if item.kind == base.DATE:
        return Var(name, type=DATE, **common)
    if item.kind == base.MULTI:
        labels = {c.code: c.label for c in item.choices}
        return Var(name, type=STRING, labels=labels, allowed="codes separated by ';'", **common)
    if item.kind in (base.CHOICE,):
        labels = {c.code: c.label for c in item.choices}
    elif item.kind == base.YESNO:
        labels = {1: "Yes", 0: "No"}
    elif item.kind == base.SCALE and item.anchors:
        labels = {item.min: item.anchors[0], item.max: item.anchors[1]}
    else:
        labels = {}
    if item.kind in (base.SCALE, base.NUMBER):
        allowed = f"{item.min}..{item.max}"
    else:
        allowed = ";".join(str(c) for c in item.allowed_codes())
    return Var(name, type=NUMERIC, labels=labels, allowed=allowed, **common)


def instrument_vars(code: str, level: str, trial: Trial | None = None) -> list[Var]:
    # The version the trial asks (its protocol's [instrument_versions]), else the latest.
    ins = for_trial(trial, code) if trial is not None else get(code)
    if level == "item":
        return [v for v in (_item_var(ins, it) for it in ins.items) if v is not None]
    out = []
    for s in ins.scores:
        allowed = f"{s.min}..{s.max}" if s.min is not None and s.max is not None else ""
        out.append(
            Var(
                f"{ins.code}_{s.name}",
                s.label,
                STRING if s.name in TEXT_SCORES else NUMERIC,
                labels=dict(s.labels),
                allowed=allowed,
                instrument=ins.code,
                version=str(ins.version),
                rule=s.rule,
            )
        )
    return out


def _value(var: Var, level: str, source: dict, key: str):
    value = source.get(key)
    if value is None or value == "" or value == []:
        return None
    if isinstance(value, list):
        return ";".join(str(v) for v in value)
    return value


# --- participants and responses, streamed --------------------------------------------


def _participants(trial: Trial) -> Iterator[dict]:
    baseline = baseline_timepoint(trial)
    risk = Response.objects.filter(
        participant=OuterRef("pk"),
        instrument="sbst",
        timepoint=baseline,
        entry=Response.FINAL,
        completed_at__isnull=False,
    ).values(r=KT("scores__risk_group"))[:1]  # text on every backend; int() below
    qs = (
        Participant.objects.filter(trial=trial)
        .annotate(risk=Subquery(risk, output_field=CharField()))
        .order_by("id")
        .values(
            "id",
            "study_id",
            "clinic__code",
            "clinic__cluster__allocation_order",
            "condition",
            "enrolled_on",
            "crossover_washout",
            "status",
            "withdrawn_on",
            "died_on",
            "risk",
            "personal_details__date_of_birth",  # for the age only; never written
            "protocol_version__number",
        )
    )
    yield from qs.iterator(chunk_size=CHUNK)


def _age(dob: date | None, day: date) -> int | None:
    return None if dob is None else age_on(dob, day)


def _risk(value) -> int | None:
    return None if value in (None, "", "null") else int(float(value))


def _participant_row(p: dict, conditions: dict[str, str] | None) -> list:
    condition = conditions.get(p["condition"], "") if conditions else p["condition"]
    risk = p["risk"]
    return [
        p["study_id"],
        p["clinic__cluster__allocation_order"],
        p["clinic__code"],
        condition,
        p["enrolled_on"],
        int(p["crossover_washout"]),
        _risk(risk),
        p["status"],
        p["withdrawn_on"],
        p["died_on"],
        _age(p["personal_details__date_of_birth"], p["enrolled_on"]),
        p["protocol_version__number"],
    ]


def _responses(trial: Trial, timepoints) -> Iterator[tuple]:
    qs = (
        Response.objects.filter(
            participant__trial=trial,
            timepoint__in=timepoints,
            entry=Response.FINAL,
            completed_at__isnull=False,
        )
        .order_by("participant_id", "timepoint_id", "instrument", "week")
        .values_list(
            "participant_id",
            "timepoint_id",
            "instrument",
            "version",
            "answers",
            "scores",
            "mode",
            "completed_at",
            "week",
        )
    )
    yield from qs.iterator(chunk_size=CHUNK)


def _joined(trial: Trial, timepoints) -> Iterator[tuple[dict, list[tuple]]]:
    """(participant, their responses) for every participant, merging two ordered streams."""
    groups = itertools.groupby(_responses(trial, timepoints), key=lambda r: r[0])
    pending = next(groups, None)
    for p in _participants(trial):
        mine: list[tuple] = []
        while pending is not None and pending[0] <= p["id"]:
            if pending[0] == p["id"]:
                mine = list(pending[1])
            else:
                for _ in pending[1]:  # responses of another trial's participant: none
                    pass
            pending = next(groups, None)
        yield p, mine


def _conditions(trial, blinded):
    return blinding_codes(trial) if blinded else None


def long_export(trial: Trial, level: str = "score", blinded: bool = False) -> Export:
    tps = participant_timepoints(trial)
    by_id = {t.id: t for t in tps}
    pvars = participant_vars(trial, blinded)
    variables = {}
    for t in tps:
        for code in t.instruments:
            variables.setdefault(code, instrument_vars(code, level, trial))
    all_vars = [v for vs in variables.values() for v in vs]
    cols = pvars + [
        Var("timepoint", "Timepoint code", STRING, labels={t.code: t.label for t in tps}),
        Var("days_from_baseline", "Days from enrolment to completion", NUMERIC),
        Var("week", "Week since baseline (weekly SMS tracking; empty otherwise)", NUMERIC),
        Var("entry_mode", "How the response was entered", STRING, labels=MODE_LABELS),
        Var("instrument", "Instrument code", STRING, labels={c: get(c).name for c in variables}),
        Var("version", "Instrument version", NUMERIC),
        Var(
            "variable",
            "Variable (<instrument>_<score or item>)",
            STRING,
            labels={v.name: v.label for v in all_vars},
        ),
        Var("value", "Numeric value (see the variable's codebook entry)", NUMERIC),
        Var("value_text", "Text value (EQ-5D profile, dates, multiple choices)", STRING),
    ]
    conditions = _conditions(trial, blinded)
    tz = ZoneInfo(trial.time_zone)

    def rows():
        for p, responses in _joined(trial, tps):
            head = _participant_row(p, conditions)
            for _pid, tp_id, code, version, answers, scores, mode, completed, week in responses:
                days = (completed.astimezone(tz).date() - p["enrolled_on"]).days
                source = scores if level == "score" else answers
                prefix = len(code) + 1
                for var in variables.get(code) or instrument_vars(code, level, trial):
                    value = _value(var, level, source or {}, var.name[prefix:])
                    numeric = var.type == NUMERIC
                    yield [
                        *head,
                        by_id[tp_id].code,
                        days,
                        week,
                        mode,
                        code,
                        version,
                        var.name,
                        value if numeric else None,
                        None if numeric else value,
                    ]

    return Export(cols, rows, Participant.objects.filter(trial=trial).count())


def wide_export(trial: Trial, level: str = "score", blinded: bool = False) -> Export:
    tps = participant_timepoints(trial)
    cols = participant_vars(trial, blinded)
    layout = []  # (timepoint id, instrument code, week, var) in column order
    weekly = weekly_timepoints(trial)
    for t in tps:
        s = tp_suffix(t.code)
        if t.id in weekly:
            # One column per week and variable: sms_tracking_pain_w01 ...
            for week in range(1, weekly[t.id] + 1):
                for code in t.instruments:
                    for v in instrument_vars(code, level, trial):
                        cols.append(
                            Var(
                                f"{v.name}_w{week:02d}",  # <= 32 characters for Stata
                                f"{v.label} ({t.label}, week {week})",
                                v.type,
                                v.labels,
                                v.allowed,
                                v.instrument,
                                v.version,
                                v.rule,
                                t.code,
                            )
                        )
                        layout.append((t.id, code, week, v))
            continue
        cols.append(
            Var(
                f"days_from_baseline_{s}",
                f"Days from enrolment, {t.label}",
                NUMERIC,
                timepoint=t.code,
            )
        )
        cols.append(
            Var(
                f"entry_mode_{s}",
                f"How entered, {t.label}",
                STRING,
                labels=MODE_LABELS,
                timepoint=t.code,
            )
        )
        for code in t.instruments:
            for v in instrument_vars(code, level, trial):
                cols.append(
                    Var(
                        f"{v.name}_{s}",
                        f"{v.label} ({t.label})",
                        v.type,
                        v.labels,
                        v.allowed,
                        v.instrument,
                        v.version,
                        v.rule,
                        t.code,
                    )
                )
                layout.append((t.id, code, None, v))
    tp_index = {t.id: i for i, t in enumerate(tps)}
    conditions = _conditions(trial, blinded)
    tz = ZoneInfo(trial.time_zone)

    def rows():
        for p, responses in _joined(trial, tps):
            by_key = {(r[1], r[2], r[8]): r for r in responses}
            per_tp: list[list] = [[None, None] for _ in tps]
            for r in sorted(responses, key=lambda r: r[7], reverse=True):
                # the earliest completed response of a timepoint gives its days and mode
                per_tp[tp_index[r[1]]] = [
                    (r[7].astimezone(tz).date() - p["enrolled_on"]).days,
                    r[6],
                ]
            row = _participant_row(p, conditions)
            pos = 0
            for t in tps:
                if t.id not in weekly:
                    row.extend(per_tp[tp_index[t.id]])
                while pos < len(layout) and layout[pos][0] == t.id:
                    _tp, code, week, var = layout[pos]
                    r = by_key.get((t.id, code, week))
                    source = (r[5] if level == "score" else r[4]) if r else {}
                    row.append(_value(var, level, source or {}, var.name[len(code) + 1 :]))
                    pos += 1
            yield row

    return Export(cols, rows, Participant.objects.filter(trial=trial).count())


# --- the analysis dataset --------------------------------------------------------------

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
    for name, (codes, score) in ANALYSIS_SCORES.items():
        ins = get(codes[0])
        sdef = next(s for s in ins.scores if s.name == score)
        out.append(
            Var(
                name,
                sdef.label,
                NUMERIC,
                dict(sdef.labels),
                f"{sdef.min}..{sdef.max}" if sdef.min is not None else "",
                "/".join(codes),
                str(ins.version),
                sdef.rule,
            )
        )
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
    from .registry import current_import, participant_costs

    tps = analysis_timepoints(trial)
    months = {t.id: t.offset for t in tps}
    conditions = _conditions(trial, blinded)
    imp = current_import(trial)
    costs = participant_costs(imp) if imp else {}
    tz = ZoneInfo(trial.time_zone)
    design = DesignFacts.of(trial)
    records = []
    for p, responses in _joined(trial, tps):
        by_tp: dict[int, dict] = {t.id: {} for t in tps}
        days: dict[int, int] = {}
        for _pid, tp_id, code, _v, _a, scores, _m, completed, _week in responses:
            for name, (codes, score) in ANALYSIS_SCORES.items():
                if code in codes and scores:
                    by_tp[tp_id][name] = scores.get(score)
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
            for name in ANALYSIS_SCORES:
                rec[name] = by_tp[t.id].get(name)
            if imp:
                cost = costs.get(p["id"])
                rec["specialist_care"] = None if cost is None else cost["specialist_care"]
                rec["cost"] = None if cost is None else cost["cost"]
            records.append(rec)
    names = [v.name for v in analysis_vars(trial, blinded, registry=imp is not None)]
    df = pd.DataFrame.from_records(records, columns=names)
    for name in [*ANALYSIS_SCORES, "sbst_risk_group", "days_from_baseline", "cost"]:
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
    from .registry import current_import

    df = analysis_dataset(trial, blinded)
    cols = analysis_vars(trial, blinded, registry=current_import(trial) is not None)

    def rows():
        for rec in df.itertuples(index=False):
            yield [None if (isinstance(v, float) and v != v) or v is pd.NA else v for v in rec]

    return Export(cols, rows, len(df))


def build(trial: Trial, shape: str, level: str = "score", blinded: bool = False) -> Export:
    if shape == "long":
        return long_export(trial, level, blinded)
    if shape == "wide":
        return wide_export(trial, level, blinded)
    if shape == "analysis":
        return analysis_export(trial, blinded)
    raise ValueError(f"unknown shape {shape!r}")


# --- codebook ------------------------------------------------------------------------

CODEBOOK_COLUMNS = [
    "name",
    "label",
    "type",
    "allowed_values",
    "value_labels",
    "instrument",
    "version",
    "scoring_rule",
    "timepoint",
]


def codebook(variables: list[Var]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            [
                v.name,
                v.label,
                v.type,
                v.allowed or ";".join(str(k) for k in v.labels),
                "; ".join(f"{k}={lab}" for k, lab in v.labels.items()),
                v.instrument,
                v.version,
                v.rule,
                v.timepoint,
            ]
            for v in variables
        ],
        columns=CODEBOOK_COLUMNS,
    )


def write_codebook(variables: list[Var], stem: Path, title: str) -> tuple[Path, Path]:
    book = codebook(variables)
    csv_path, html_path = (
        stem.with_name(stem.name + "_codebook.csv"),
        stem.with_name(stem.name + "_codebook.html"),
    )
    book.to_csv(csv_path, index=False)
    html_path.write_text(
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title></head><body><h1>{html.escape(title)}</h1>\n"
        + book.to_html(index=False, border=1, na_rep="", classes="codebook")
        + "\n</body></html>\n",
        encoding="utf-8",
    )
    return csv_path, html_path


# --- writers -------------------------------------------------------------------------


def _csv_cell(v):
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer():
        return repr(v)
    return v


def write_csv(export: Export, path: Path, progress=None) -> int:
    """Streams rows to the file; returns the row count."""
    n = 0
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow([v.name for v in export.vars])
        for row in export.rows():
            writer.writerow(["" if c is None else c for c in row])
            n += 1
            if progress and n % CHUNK == 0:
                progress(n)
    return n


def _arrow_schema(variables):
    import pyarrow as pa

    kinds = {NUMERIC: pa.float64(), STRING: pa.string(), DATE: pa.date32()}
    return pa.schema([(v.name, kinds[v.type]) for v in variables])


def _arrow_value(v, kind):
    if v is None:
        return None
    if kind == NUMERIC:
        return float(v)
    if kind == DATE:
        return v if isinstance(v, date) else date.fromisoformat(v)
    return str(v)


def write_parquet(export: Export, path: Path, progress=None, batch: int = 10000) -> int:
    """Streams rows in batches of ``batch`` rows to a Parquet file."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = _arrow_schema(export.vars)
    kinds = [v.type for v in export.vars]
    n = 0
    rows = export.rows()
    with pq.ParquetWriter(path, schema) as writer:
        while chunk := list(itertools.islice(rows, batch)):
            columns = list(zip(*chunk, strict=True))
            arrays = [
                pa.array([_arrow_value(v, k) for v in col], type=schema.field(i).type)
                for i, (col, k) in enumerate(zip(columns, kinds, strict=True))
            ]
            writer.write_table(pa.Table.from_arrays(arrays, schema=schema))
            n += len(chunk)
            if progress:
                progress(n)
    return n


def _frame(export: Export) -> pd.DataFrame:
    df = pd.DataFrame(list(export.rows()), columns=[v.name for v in export.vars])
    for v in export.vars:
        if v.type == NUMERIC:
            df[v.name] = pd.to_numeric(df[v.name], errors="coerce").astype(float)
        elif v.type == DATE:
            df[v.name] = pd.to_datetime(df[v.name], errors="coerce")
        else:
            df[v.name] = df[v.name].map(lambda x: "" if x is None else str(x)).astype(object)
    return df


def write_readstat(export: Export, path: Path, fmt: str) -> int:
    """SPSS or Stata with variable labels and (numeric) value labels."""
    import pyreadstat

    df = _frame(export)
    labels = [v.label[:80] if fmt == "dta" else v.label for v in export.vars]
    value_labels = missing_export.readstat_value_labels(export, fmt)
    # Reason codes as user-missing (SPSS) or extended missing values (Stata).
    extra = missing_export.readstat_options(export, df, fmt)
    if fmt == "sav":
        pyreadstat.write_sav(
            df, str(path), column_labels=labels, variable_value_labels=value_labels, **extra
        )
    else:
        pyreadstat.write_dta(
            df,
            str(path),
            column_labels=labels,
            variable_value_labels=value_labels,
            version=15,
            **extra,
        )
    return len(df)


def for_format(export: Export, fmt: str) -> Export:
    """The export with Stata-safe names for .dta (the codebook then lists those names)."""
    if fmt != "dta":
        return export
    renamed = [Var(**{**v.__dict__, "name": stata_name(v.name)}) for v in export.vars]
    return Export(renamed, export.rows, export.total)


def write_syntax(variables: list[Var], path: Path, title: str) -> tuple[Path, Path]:
    """The R and SAS scripts that read the CSV at ``path`` ready-labelled."""
    r_path, sas_path = path.with_suffix(".R"), path.with_suffix(".sas")
    r_path.write_text(syntax.r_script(variables, path.name, title), encoding="utf-8")
    sas_path.write_text(syntax.sas_script(variables, path.name, title), encoding="utf-8")
    return r_path, sas_path


def write_export(
    trial: Trial,
    path,
    fmt: str = "csv",
    shape: str = "wide",
    level: str = "score",
    blinded: bool = False,
    user=None,
    user_label: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> ExportLog:
    """Write the data file at ``path`` and its codebook next to it (``<stem>_codebook.csv``
    and ``.html``); log the export. ``progress(percent)`` is called as rows are written."""
    if fmt not in FORMATS or shape not in SHAPES or level not in LEVELS:
        raise ValueError(f"unknown format/shape/level {fmt}/{shape}/{level}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    export = build(trial, shape, level, blinded)
    export = for_format(missing_export.with_reasons(export, trial, shape, level, fmt), fmt)
    total = max(export.total, 1)

    def rows_progress(n):  # rows per participant vary: report participants seen, roughly
        if progress:
            progress(min(99, int(100 * n / (total * (20 if shape == "long" else 1)))))

    if fmt == "csv":
        rows = write_csv(export, path, rows_progress)
    elif fmt == "parquet":
        rows = write_parquet(export, path, rows_progress)
    else:
        rows = write_readstat(export, path, fmt)
    write_codebook(export.vars, path.with_suffix(""), f"Codebook: {trial.code} {shape} {level}")
    if fmt == "csv":
        write_syntax(export.vars, path, f"{trial.code} {shape} {level}")
    if progress:
        progress(100)
    label = user_label or (user.get_username() if user is not None else "command line")
    return ExportLog.objects.create(
        user=user if user is not None and user.is_authenticated else None,
        user_label=label,
        trial=trial,
        format=fmt,
        shape=shape,
        level=level if shape != "analysis" else "score",
        blinded=blinded,
        rows=rows,
        file_name=path.name,
    )
