"""The columns of the exports: participant columns (each one :class:`Column`: its codebook
entry, its value from a participant row and the same value in SQL), instrument variables,
timepoints and the blinding codes."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

from django.db import transaction
from django.db.models import CharField, OuterRef, Subquery
from django.db.models.fields.json import KT

from enrolment import tags
from enrolment.dates import offset_date
from enrolment.models import Participant, Timepoint, Trial
from enrolment.national_id import age_on
from followup.planning import planned_from
from questionnaires.instruments import base, for_trial, get
from questionnaires.models import Response

from ..models import BlindingCode
from ..varnames import DATE, NUMERIC, STRING, Var, tp_suffix
from ..version_export import protocol_version_var

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


def _conditions(trial, blinded):
    return blinding_codes(trial) if blinded else None


# --- timepoints ----------------------------------------------------------------------


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


# --- participant columns -------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """A participant column: its codebook entry, its value from a row of
    :func:`analysis.exports.stream.participant_rows`, and the same value in PostgreSQL
    over the aliases of :mod:`analysis.exports.pg_sql` (``p`` participant, ``c`` clinic, ``k``
    cluster, ``d`` personal details, ``pv`` protocol version, ``rk`` baseline risk)."""

    var: Var
    get: Callable[[dict], object]
    sql: str


def sql_text(value: str) -> str:
    """A string literal (standard_conforming_strings, PostgreSQL's default since 9.1)."""
    return "'" + str(value).replace("'", "''") + "'"


def _sql_date(column: str) -> str:
    return f"to_char({column}, 'YYYY-MM-DD')"


def _risk(value) -> int | None:
    return None if value in (None, "", "null") else int(float(value))


def _age(dob, day) -> int | None:
    return None if dob is None else age_on(dob, day)


# Age on the enrolment date in whole years, as enrolment.national_id.age_on.
AGE_SQL = (
    "CASE WHEN d.date_of_birth IS NOT NULL THEN"
    " (extract(year FROM p.enrolled_on) - extract(year FROM d.date_of_birth))::int"
    " - (to_char(p.enrolled_on, 'MMDD') < to_char(d.date_of_birth, 'MMDD'))::int END"
)


def baseline_risk(trial: Trial) -> tuple[Var, Subquery, str]:
    """The STarT Back risk group at baseline: its codebook entry, and the participant's
    value as an ORM subquery (``risk``) and as SQL (``rk.risk``, text on both)."""
    code = tags.instrument(trial, "risk-group") or ""  # untagged: the column stays empty
    sbst = get(code or "sbst")  # the column's codes and rule
    risk = next(s for s in sbst.scores if s.name == "risk_group")
    var = Var(
        "sbst_risk_group",
        "STarT Back risk group at baseline",
        NUMERIC,
        labels=dict(risk.labels),
        instrument=sbst.code,
        version=str(sbst.version),
        rule=risk.rule,
    )
    baseline = baseline_timepoint(trial)
    responses = Response.objects.filter(
        instrument=code, timepoint=baseline, entry=Response.FINAL, completed_at__isnull=False
    )
    orm = Subquery(
        responses.filter(participant=OuterRef("pk")).values(r=KT("scores__risk_group"))[:1],
        output_field=CharField(),
    )
    at = f"= {int(baseline.pk)}" if baseline else "IS NULL"
    literal = "'" + code.replace("'", "''") + "'"  # a code checked at protocol load
    sql = (
        "SELECT r.scores ->> 'risk_group' AS risk FROM questionnaires_response r"
        f" WHERE r.participant_id = p.id AND r.instrument = {literal} AND r.timepoint_id {at}"
        f" AND r.entry = {Response.FINAL} AND r.completed_at IS NOT NULL LIMIT 1"
    )
    return var, orm, sql


def participant_columns(trial: Trial, blinded: bool = False) -> list[Column]:
    """The participant columns of every shape, in their order."""
    if blinded:
        codes = blinding_codes(trial)
        conditions = {c: f"Blinded arm {c}" for c in sorted(codes.values())}
    else:
        codes = None
        conditions = dict(trial.arms.values_list("code", "label"))
    if codes:
        whens = " ".join(f"WHEN {sql_text(a)} THEN {sql_text(c)}" for a, c in codes.items())
        condition_sql = f"CASE p.condition {whens} ELSE '' END"
    else:
        condition_sql = "p.condition"
    risk_var = baseline_risk(trial)[0]
    return [
        Column(Var("study_id", "Study ID (pseudonym)", STRING), lambda p: p["study_id"],
               "p.study_id"),
        # One coding in every shape: the allocation order, labelled with the cluster's
        # name and code. Numeric, because Stata keeps value labels on numbers only, and
        # it is the coding the analysis plan documents (analysis.plan.dataset).
        Column(
            Var("cluster", "Cluster (allocation order)", NUMERIC, labels=cluster_labels(trial)),
            lambda p: p["clinic__cluster__allocation_order"],
            "k.allocation_order",
        ),
        Column(Var("clinic", "Clinic code", STRING), lambda p: p["clinic__code"], "c.code"),
        Column(
            Var(
                "condition",
                "Condition at recruitment" + (" (blinded)" if blinded else ""),
                STRING,
                labels=conditions,
            ),
            (lambda p: codes.get(p["condition"], "")) if codes else (lambda p: p["condition"]),
            condition_sql,
        ),
        Column(Var("enrolment_date", "Date of enrolment (baseline)", DATE),
               lambda p: p["enrolled_on"], _sql_date("p.enrolled_on")),
        Column(
            Var(
                "crossover_washout",
                "Enrolled in the washout around the cluster's crossover",
                NUMERIC,
                labels={1: "Yes", 0: "No"},
            ),
            lambda p: int(p["crossover_washout"]),
            "p.crossover_washout::int",
        ),
        Column(risk_var, lambda p: _risk(p["risk"]),
               "trunc(NULLIF(rk.risk, '')::numeric)::int"),
        Column(
            Var(
                "status",
                "Participant status",
                STRING,
                labels={c: str(lab) for c, lab in Participant.STATUSES},
            ),
            lambda p: p["status"],
            "p.status",
        ),
        Column(Var("withdrawn", "Date of withdrawal", DATE), lambda p: p["withdrawn_on"],
               _sql_date("p.withdrawn_on")),
        Column(Var("died", "Date of death", DATE), lambda p: p["died_on"],
               _sql_date("p.died_on")),
        Column(
            Var("age_at_enrolment", "Age at enrolment (years)", NUMERIC),
            lambda p: _age(p["personal_details__date_of_birth"], p["enrolled_on"]),
            AGE_SQL,
        ),
        Column(protocol_version_var(trial), lambda p: p["protocol_version__number"],
               "pv.number"),
        *scheduled_columns(trial),
    ]


_DUE_SQL = {
    "days": "(p.enrolled_on + {n})",
    "weeks": "(p.enrolled_on + 7 * {n})",
    "months": "(p.enrolled_on + make_interval(months => {n}))::date",  # clamped as add_months
}


def scheduled_columns(trial: Trial) -> list[Column]:
    """For each timepoint an amendment added after the trial began: 0 for a participant
    whose date for it had already passed (never asked: followup.amendments plans it for
    nobody due before the load, and the monitoring's CONSORT counts them "not scheduled"),
    1 for the others, so that "never asked" is not read as "did not answer"."""
    out = []
    for t in participant_timepoints(trial):
        first = planned_from(t) if t.anchor == Timepoint.ENROLMENT else None
        if first is None:
            continue
        var = Var(
            f"scheduled_{tp_suffix(t.code)}",
            f"{t.label}: planned for this participant (0: its date had passed when protocol"
            f" version {t.added_in.number} added it)",
            NUMERIC,
            labels={1: "Scheduled", 0: "Not scheduled, added later"},
            timepoint=t.code,
        )
        due = _DUE_SQL[t.unit].format(n=int(t.offset))
        out.append(
            Column(
                var,
                lambda p, t=t, first=first: int(
                    offset_date(p["enrolled_on"], t.offset, t.unit) >= first
                ),
                f"CASE WHEN {due} >= DATE '{first.isoformat()}' THEN 1 ELSE 0 END",
            )
        )
    return out


def participant_vars(trial: Trial, blinded: bool = False) -> list[Var]:
    return [c.var for c in participant_columns(trial, blinded)]


# --- instrument variables ------------------------------------------------------------


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
