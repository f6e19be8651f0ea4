"""Monitoring numbers: recruitment, follow-up, SMS, data quality and the CONSORT flow.

Two kinds of function live here:

* pure functions of plain rows (dicts), tested with plain data: ``recruitment``,
  ``dogleg_schedule``, ``followup_summary``, ``sms_*``, ``consort_flow``;
* thin database functions (``*_rows``, ``data_quality``) that aggregate in the database
  (``values().annotate()``) and feed the pure ones. Their number of queries does not
  depend on the number of participants: no per-participant query anywhere.

A row may stand for a group of records: its ``n`` (default 1) says how many.
"""

from __future__ import annotations

import json
import os
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import reduce
from operator import add, or_
from zoneinfo import ZoneInfo

from django.db import NotSupportedError
from django.db.models import (
    BigIntegerField,
    BooleanField,
    Case,
    Count,
    DateField,
    Exists,
    F,
    Func,
    OuterRef,
    Q,
    Sum,
    Value,
    When,
)
from django.db.models.functions import TruncDate

from followup import outbox
from followup.schedule import add_months, offset_date

# Contact statuses of followup.models.Contact ("sent" accepted as an alias of invited).
OPEN_STATUSES = ("scheduled", "invited", "sent")


def _n(row: Mapping) -> int:
    return int(row.get("n", 1))


def month_start(day: date) -> date:
    return day.replace(day=1)


def week_start(day: date) -> date:
    """The Monday of ``day``'s ISO week."""
    return day - timedelta(days=day.weekday())


def month_range(first: date, last: date) -> list[date]:
    """First days of every month from ``first``'s month to ``last``'s, inclusive."""
    months, m = [], month_start(first)
    while m <= last:
        months.append(m)
        m = add_months(m, 1)
    return months


# --- recruitment ---------------------------------------------------------------------


@dataclass
class Recruitment:
    months: list[date]
    weeks: list[date]
    clusters: list[dict]  # code, name, months [n...], weeks [n...], total, flags [...]
    clinics: list[dict]  # cluster, code, name, months [n...], weeks [n...], total
    totals: list[int]  # per month, all clusters
    cumulative: list[int]
    # target per cluster-month x clusters, month by month, up to the sample size
    planned_cumulative: list[int]
    target: int | None
    ceiling: int | None
    sample_size: int | None

    @property
    def total(self) -> int:
        return sum(self.totals)


def recruitment(
    rows: Iterable[Mapping],
    clusters: list[Mapping],
    *,
    months: list[date],
    weeks: list[date],
    today: date,
    target: int | None = None,
    ceiling: int | None = None,
    sample_size: int | None = None,
) -> Recruitment:
    """Enrolments per cluster and clinic per month and per week.

    ``rows``: dicts with ``clinic`` (code), ``day`` (enrolment date) and ``n``.
    ``clusters``: dicts with ``code``, ``name`` and ``clinics`` (dicts with code, name).
    A completed month below ``target`` is flagged "below"; any month above ``ceiling``
    is flagged "above" (BetterBack: 14 per cluster-month balanced, at most 20).
    """
    month_ix = {m: i for i, m in enumerate(months)}
    week_ix = {w: i for i, w in enumerate(weeks)}
    by_clinic: dict[str, dict] = {}
    out_clusters, out_clinics = [], []
    for cl in clusters:
        crow = {
            "code": cl["code"],
            "name": cl["name"],
            "months": [0] * len(months),
            "weeks": [0] * len(weeks),
            "total": 0,
        }
        out_clusters.append(crow)
        for c in cl["clinics"]:
            row = {
                "cluster": cl["code"],
                "code": c["code"],
                "name": c["name"],
                "months": [0] * len(months),
                "weeks": [0] * len(weeks),
                "total": 0,
                "_cluster": crow,
            }
            by_clinic[c["code"]] = row
            out_clinics.append(row)
    for r in rows:
        row = by_clinic.get(r["clinic"])
        if row is None:
            continue
        n = _n(r)
        for target_row in (row, row["_cluster"]):
            target_row["total"] += n
            mi = month_ix.get(month_start(r["day"]))
            if mi is not None:
                target_row["months"][mi] += n
            wi = week_ix.get(week_start(r["day"]))
            if wi is not None:
                target_row["weeks"][wi] += n
    for row in out_clinics:
        del row["_cluster"]
    for crow in out_clusters:
        flags = []
        for m, n in zip(months, crow["months"], strict=True):
            complete = add_months(m, 1) <= today
            if ceiling is not None and n > ceiling:
                flags.append("above")
            elif target is not None and complete and n < target:
                flags.append("below")
            else:
                flags.append("")
        crow["flags"] = flags
    totals = [sum(c["months"][i] for c in out_clusters) for i in range(len(months))]
    cumulative, running = [], 0
    for n in totals:
        running += n
        cumulative.append(running)
    planned = [target * len(clusters) * (i + 1) for i in range(len(months))] if target else []
    if sample_size:
        # The plan stops at the sample size: recruitment ends there, whatever months remain.
        planned = [min(p, sample_size) for p in planned]
    return Recruitment(
        months,
        weeks,
        out_clusters,
        out_clinics,
        totals,
        cumulative,
        planned,
        target,
        ceiling,
        sample_size,
    )


def dogleg_schedule(
    clusters: Iterable[Mapping], months: list[date], washout_days: int = 14
) -> list[dict]:
    """The protocol's Table 2: clusters by month, 0 = control, 1 = intervention.

    ``clusters``: dicts with ``code``, ``name``, ``crossover`` (date or None). The month
    in which a cluster crosses over (after the first month shown) is marked; it is
    "crossover" (half and half) unless the crossover is on the first of the month.
    """
    rows = []
    for cl in clusters:
        xo = cl.get("crossover")
        cells = []
        for m in months:
            nxt = add_months(m, 1)
            if xo is None or xo >= nxt:
                state = "control"
            elif xo <= m:
                state = "intervention"
            else:
                state = "crossover"
            marked = xo is not None and m <= xo < nxt and xo > months[0]
            cells.append(
                {
                    "month": m,
                    "state": state,
                    "crossover": marked,
                    "label": {"control": "0", "intervention": "1", "crossover": "0|1"}[state],
                }
            )
        rows.append(
            {
                "code": cl["code"],
                "name": cl["name"],
                "crossover": xo,
                "washout_days": washout_days,
                "cells": cells,
            }
        )
    return rows


# --- follow-up and SMS -----------------------------------------------------------------


def followup_summary(
    contacts: Iterable[Mapping], timepoints: list[str] | None = None
) -> list[dict]:
    """Response rate per timepoint and condition.

    ``contacts``: dicts with ``timepoint``, ``condition``, ``status`` (scheduled, invited
    or sent, completed, missed, cancelled), ``reminders_sent`` and optionally ``overdue``
    (bool, or a count for a group row) and ``n`` (how many contacts the row stands for).
    The response rate is completed / (completed + missed): open and cancelled contacts
    are not counted against it. Overdue = open past its due date.
    """
    cells: dict[tuple[str, str], Counter] = defaultdict(Counter)
    for c in contacts:
        n = _n(c)
        cell = cells[(c["timepoint"], c["condition"])]
        status = c["status"]
        key = "open" if status in OPEN_STATUSES else status
        cell[key] += n
        cell["contacts"] += n
        cell["reminders"] += int(c.get("reminders_sent") or 0)
        cell["overdue"] += int(c.get("overdue") or 0)
    order = {tp: i for i, tp in enumerate(timepoints or [])}
    out = []
    for (tp, cond), cell in sorted(cells.items(), key=lambda kv: (order.get(kv[0][0], 99), kv[0])):
        closed = cell["completed"] + cell["missed"]
        out.append(
            {
                "timepoint": tp,
                "condition": cond,
                "contacts": cell["contacts"],
                "completed": cell["completed"],
                "missed": cell["missed"],
                "open": cell["open"],
                "overdue": cell["overdue"],
                "cancelled": cell["cancelled"],
                "reminders": cell["reminders"],
                "rate": cell["completed"] / closed if closed else None,
            }
        )
    return out


def sms_weekly_rates(rows: Iterable[Mapping]) -> list[dict]:
    """``rows``: one per SMS question sent: ``participant``, ``week``, ``answered``."""
    weeks: dict[int, Counter] = defaultdict(Counter)
    for r in rows:
        weeks[r["week"]]["sent"] += 1
        weeks[r["week"]]["answered"] += bool(r["answered"])
    return [
        {"week": w, "sent": c["sent"], "answered": c["answered"], "rate": c["answered"] / c["sent"]}
        for w, c in sorted(weeks.items())
    ]


def sms_summary(rows: Iterable[Mapping], opted_out: Iterable[str] = (), run: int = 3) -> dict:
    """The SMS section from one row per participant and closed week (the reference the
    database counts of :func:`sms_for` are tested against)."""
    from followup.sms.tracking import missed_in_a_row

    rows = list(rows)
    stopped = set(opted_out)
    return {
        "weeks": sms_weekly_rates(rows),
        # Who asked for no more SMS is counted apart, not as someone to chase.
        "missed_in_a_row": [s for s in missed_in_a_row(rows, run) if s not in stopped],
        "run": run,
        "opt_outs": sorted(stopped),
    }


# --- CONSORT -------------------------------------------------------------------------


@dataclass
class ArmFlow:
    condition: str
    label: str
    allocated: int = 0
    # per timepoint code: responded / no response / awaiting (window still open) /
    # withdrawn before that timepoint was due
    responded: Counter = field(default_factory=Counter)
    no_response: Counter = field(default_factory=Counter)
    awaiting: Counter = field(default_factory=Counter)
    withdrawn_before: Counter = field(default_factory=Counter)
    died_before: Counter = field(default_factory=Counter)  # of withdrawn_before: by death
    withdrawn_after_last: int = 0  # after every timepoint was due: still analysed if answered
    analysed: int = 0  # answered at the analysis timepoint
    lost: int = 0  # not withdrawn, the analysis timepoint's window closed unanswered
    pending: int = 0  # not withdrawn, the analysis timepoint's window still open

    @property
    def withdrawn(self) -> int:
        return sum(self.withdrawn_before.values())

    @property
    def adds_up(self) -> bool:
        return self.withdrawn + self.analysed + self.lost + self.pending == self.allocated


RESPONDED, NO_RESPONSE, AWAITING, WITHDRAWN = (
    "responded",
    "no_response",
    "awaiting",
    "withdrawn_before",
)


def placement(p: Mapping, timepoints: list[Mapping], today: date) -> dict[str, str]:
    """The box of one participant at each follow-up timepoint until a withdrawal.

    Withdrawn counts at the first timepoint due after the withdrawal date and ends the
    flow; otherwise responded (a completed final response), awaiting (window still
    open) or no response (the window closed unanswered).
    """
    boxes = {}
    responded = set(p.get("responded") or ())
    for t in timepoints:
        due = offset_date(p["enrolled_on"], t.get("offset", 0), t.get("unit", "months"))
        if p.get("withdrawn_on") and p["withdrawn_on"] < due:
            boxes[t["code"]] = WITHDRAWN
            break
        closes = due + timedelta(days=t.get("window_after_days", 0))
        if t["code"] in responded:
            boxes[t["code"]] = RESPONDED
        elif closes < today:
            boxes[t["code"]] = NO_RESPONSE
        else:
            boxes[t["code"]] = AWAITING
    return boxes


@dataclass
class ConsortFlow:
    assessed: int = 0
    excluded: int = 0
    excluded_by_reason: Counter = field(default_factory=Counter)
    declined: int = 0
    awaiting_consent: int = 0
    enrolled: int = 0
    unscreened: int = 0  # enrolled without a screening-log entry (counted in assessed)
    timepoints: list[dict] = field(default_factory=list)  # code, label
    analysis_timepoint: str = ""
    arms: list[ArmFlow] = field(default_factory=list)

    @property
    def allocated(self) -> int:
        return sum(a.allocated for a in self.arms)

    @property
    def adds_up(self) -> bool:
        """Every screened patient lands in exactly one final box."""
        top = self.excluded + self.declined + self.awaiting_consent + self.enrolled
        return (
            top == self.assessed
            and self.allocated == self.enrolled
            and all(a.adds_up for a in self.arms)
        )


def consort_flow(
    screenings: Iterable[Mapping],
    participants: Iterable[Mapping],
    timepoints: list[Mapping],
    arms: list[tuple[str, str]],
    today: date,
    analysis_timepoint: str | None = None,
) -> ConsortFlow:
    """The CONSORT flow from the screening log and the follow-up.

    ``screenings``: dicts with ``outcome``, ``unmet_criteria`` and ``n`` (a group row).
    ``participants``: dicts with ``condition``, ``enrolled_on``, ``withdrawn_on``,
    ``screened`` (has a screening-log entry), ``responded`` (timepoint codes with a
    completed final response) and ``n`` (a group row: participants alike in all these).
    ``timepoints``: follow-up timepoints anchored on enrolment, in order, dicts with
    code, label, offset, unit, window_after_days.
    A withdrawn participant counts at the first timepoint due after the withdrawal; a
    participant who died counts there too (``withdrawn_on`` is the earlier of the two
    dates, ``died`` says which), and also in ``died_before``.
    """
    flow = ConsortFlow(timepoints=[{"code": t["code"], "label": t["label"]} for t in timepoints])
    for row in screenings:
        n = _n(row)
        flow.assessed += n
        outcome = row["outcome"]
        if outcome == "ineligible":
            flow.excluded += n
            for reason in row.get("unmet_criteria") or ["unspecified"]:
                flow.excluded_by_reason[reason] += n
        elif outcome == "declined":
            flow.declined += n
        elif outcome == "eligible":
            flow.awaiting_consent += n
        elif outcome == "enrolled":
            flow.enrolled += n
        else:
            raise ValueError(f"unknown screening outcome {outcome!r}")
    arm_by_code = {code: ArmFlow(code, label) for code, label in arms}
    flow.arms = list(arm_by_code.values())
    codes = [t["code"] for t in timepoints]
    flow.analysis_timepoint = analysis_timepoint or (codes[-1] if codes else "")
    for p in participants:
        n = _n(p)
        if not p.get("screened", True):
            flow.unscreened += n
            flow.assessed += n
            flow.enrolled += n
        arm = arm_by_code.get(p["condition"])
        if arm is None:
            arm = arm_by_code[p["condition"]] = ArmFlow(p["condition"], p["condition"])
            flow.arms.append(arm)
        arm.allocated += n
        boxes = placement(p, timepoints, today)
        for code, box in boxes.items():
            getattr(arm, WITHDRAWN if box == WITHDRAWN else box)[code] += n
        if p.get("withdrawn_on") and WITHDRAWN not in boxes.values():
            arm.withdrawn_after_last += n
        if p.get("died"):
            for code, box in boxes.items():
                if box == WITHDRAWN:
                    arm.died_before[code] += n
        final = boxes.get(flow.analysis_timepoint)
        if final == RESPONDED:
            arm.analysed += n
        elif final == NO_RESPONSE:
            arm.lost += n
        elif final == AWAITING:
            arm.pending += n
    return flow


# --- database side: rows for the pure functions ----------------------------------------


def trial_wide(user, trial) -> bool:
    from trialsite import roles

    return roles.has_any(user, trial, roles.TRIAL_WIDE)


def scope(user, trial) -> dict:
    """The querysets a user may see on the dashboard: trial-wide roles everything,
    physiotherapists their own clinic(s). Access is decided by trialsite.roles."""
    from enrolment.models import Clinic, Participant, Physiotherapist, ScreeningRecord

    participants = Participant.objects.visible_to(user).filter(trial=trial)
    clinics = Clinic.objects.filter(cluster__trial=trial).select_related("cluster")
    screenings = ScreeningRecord.objects.filter(trial=trial)
    if not trial_wide(user, trial):
        own = Physiotherapist.objects.filter(user=user, active=True).values("clinic_id")
        clinics = clinics.filter(pk__in=own)
        screenings = screenings.filter(clinic_id__in=own)
    return {
        "participants": participants,
        "clinics": clinics,
        "screenings": screenings,
        "trial_wide": trial_wide(user, trial),
    }


def recruitment_for(
    trial, participants, clinics, today: date, n_weeks: int = 8, whole_trial: bool = True
) -> Recruitment:
    """``whole_trial`` False (a physiotherapist's own clinic): no plan and no "below
    target" flags, because the protocol's targets are per cluster and per trial, and a
    clinic's share of them is not set anywhere."""
    rows = participants.values("clinic__code", "enrolled_on").annotate(n=Count("id")).order_by()
    rows = [{"clinic": r["clinic__code"], "day": r["enrolled_on"], "n": r["n"]} for r in rows]
    days = [r["day"] for r in rows]
    first = trial.recruitment_start or (min(days) if days else today)
    last = max(
        [
            d
            for d in (
                trial.recruitment_end,
                today if not trial.recruitment_end else None,
                max(days) if days else None,
            )
            if d
        ]
    )
    clusters: dict[str, dict] = {}
    for c in clinics:
        cl = clusters.setdefault(
            c.cluster.code,
            {
                "code": c.cluster.code,
                "name": c.cluster.name,
                "order": c.cluster.allocation_order,
                "clinics": [],
            },
        )
        cl["clinics"].append({"code": c.code, "name": c.name})
    weeks = [week_start(today) - timedelta(weeks=k) for k in range(n_weeks - 1, -1, -1)]
    return recruitment(
        rows,
        sorted(clusters.values(), key=lambda c: c["order"]),
        months=month_range(first, last),
        weeks=weeks,
        today=today,
        target=trial.recruitment_target_per_cluster_month if whole_trial else None,
        ceiling=trial.recruitment_ceiling_per_cluster_month,
        sample_size=trial.target_sample_size if whole_trial else None,
    )


def contact_model():
    """followup.models.Contact, or None while the follow-up app has none.

    Guarded: the follow-up app is built alongside the monitoring; the dashboard shows
    its section only once the model exists."""
    try:
        from followup import models as followup_models
    except ImportError:  # pragma: no cover - the app is always installed in this project
        return None
    return getattr(followup_models, "Contact", None)


def followup_rows(participants, today: date) -> list[dict] | None:
    Contact = contact_model()
    if Contact is None:
        return None
    rows = (
        Contact.objects.filter(participant__in=participants.values("pk"))
        .values("timepoint__code", "participant__condition", "status")
        .annotate(
            n=Count("id"),
            reminders_sent=Sum("reminders_sent"),
            overdue=Count("id", filter=Q(due_on__lt=today, status__in=OPEN_STATUSES)),
        )
        .order_by()
    )
    return [
        {
            "timepoint": r["timepoint__code"],
            "condition": r["participant__condition"],
            "status": r["status"],
            "n": r["n"],
            "reminders_sent": r["reminders_sent"] or 0,
            "overdue": r["overdue"],
        }
        for r in rows
    ]


def sms_for(trial, participants, run: int = 3) -> dict | None:
    """The SMS section (as :func:`sms_summary` makes it from rows, which stays the
    reference), counted by the database: three queries whatever the trial's size. None
    for a trial without weekly SMS tracking."""
    from followup.models import SmsOptOut
    from followup.sms import tracking

    if tracking.schedule_of(trial) is None:
        return None
    stopped = set(
        SmsOptOut.objects.filter(participant__in=participants).values_list(
            "participant__study_id", flat=True
        )
    )
    missed = tracking.missed_weeks_in_a_row(participants, run)
    return {
        "weeks": tracking.weekly_rates(participants),
        "missed_in_a_row": [s for s in missed if s not in stopped],
        "run": run,
        "opt_outs": sorted(stopped),
    }


def patient_timepoints(trial) -> list:
    from enrolment.models import Timepoint

    return list(
        trial.timepoints.filter(respondent=Timepoint.PATIENT, anchor=Timepoint.ENROLMENT).order_by(
            "order"
        )
    )


def _timepoint_spec(t) -> dict:
    return {
        "code": t.code,
        "label": t.label,
        "offset": t.offset,
        "unit": t.unit,
        "window_after_days": t.window_after_days,
    }


def left_on(withdrawn_on: date | None, died_on: date | None) -> date | None:
    """When follow-up ended early: the earlier of withdrawal and death."""
    return min((d for d in (withdrawn_on, died_on) if d is not None), default=None)


def consort_groups(participants, screenings, follow: list) -> list[dict]:
    """Participant rows for :func:`consort_flow`, one per group of participants alike in
    everything the flow reads (condition, enrolment and withdrawal dates, screening-log
    entry, the follow-up timepoints answered), with ``n``. One query; a trial of 10,000
    participants has a few thousand such groups."""
    from questionnaires.models import Response

    # A correlated EXISTS per participant, each one probe of an index (the responses'
    # response_completed_final_idx, the screening log's participant index). "id IN
    # (subquery)" hashed each subquery whole: past about 80,000 participants the hash no
    # longer fits in work_mem and PostgreSQL rescans the subquery for every participant
    # (over 15 minutes at 100,000; issue 19).
    answered = {
        f"answered_{k}": Exists(
            Response.objects.filter(
                participant=OuterRef("pk"),
                timepoint=t,
                entry=Response.FINAL,
                completed_at__isnull=False,
            )
        )
        for k, t in enumerate(follow)
    }
    screened = Exists(screenings.filter(participant=OuterRef("pk")))
    rows = (
        participants.annotate(screened=screened, **answered)
        .values("condition", "enrolled_on", "withdrawn_on", "died_on", "screened", *answered)
        .annotate(n=Count("id"))
        .order_by()
    )
    return [
        {
            "condition": r["condition"],
            "enrolled_on": r["enrolled_on"],
            "withdrawn_on": left_on(r["withdrawn_on"], r["died_on"]),
            "died": r["died_on"] is not None
            and left_on(r["withdrawn_on"], r["died_on"]) == r["died_on"],
            "screened": r["screened"],
            "responded": {t.code for k, t in enumerate(follow) if r[f"answered_{k}"]},
            "n": r["n"],
        }
        for r in rows
    ]


def consort_for(
    trial, participants, screenings, today: date, analysis_timepoint: str | None = None
) -> ConsortFlow:
    follow = [t for t in patient_timepoints(trial) if t.offset > 0]
    screen_rows = screenings.values("outcome", "unmet_criteria").annotate(n=Count("id")).order_by()
    return consort_flow(
        screen_rows,
        consort_groups(participants, screenings, follow),
        [_timepoint_spec(t) for t in follow],
        list(trial.arms.values_list("code", "label")),
        today,
        analysis_timepoint,
    )


def consort_participants(
    trial, participants, today: date, box: str, timepoint: str, condition: str
) -> list[str]:
    """Study IDs behind one CONSORT box (``placement`` box at ``timepoint``)."""
    spec = [_timepoint_spec(t) for t in patient_timepoints(trial) if t.offset > 0]
    # A box at a timepoint depends on the response at that timepoint only.
    done = set(
        completed_finals(participants)
        .filter(timepoint__trial=trial, timepoint__code=timepoint)
        .values_list("participant_id", flat=True)
    )
    out = []
    for p in participants.filter(condition=condition).values(
        "pk", "study_id", "enrolled_on", "withdrawn_on", "died_on"
    ):
        p["withdrawn_on"] = left_on(p["withdrawn_on"], p["died_on"])
        p["responded"] = {timepoint} if p["pk"] in done else set()
        if placement(p, spec, today).get(timepoint) == box:
            out.append(p["study_id"])
    return sorted(out)


# --- data quality --------------------------------------------------------------------


class ShiftedDate(Func):
    """``add_months(date, months) + days`` computed by the database, a month end clamped
    exactly as :func:`followup.schedule.add_months` does (31 Jan + 1 month = 28 Feb).

    PostgreSQL's ``date + interval`` clamps the same way; SQLite's ``date()`` rolls over
    into the next month instead, so there the day is clamped to the month's last day."""

    output_field = DateField()

    def __init__(self, expression, *, months: int = 0, days: int = 0):
        super().__init__(expression)
        self.months, self.days = int(months), int(days)

    def as_postgresql(self, compiler, connection):
        sql, params = compiler.compile(self.source_expressions[0])
        return (
            f"((({sql}) + make_interval(months => %s))::date + %s)",
            (*params, self.months, self.days),
        )

    def as_sqlite(self, compiler, connection):
        sql, params = compiler.compile(self.source_expressions[0])
        same_day = (
            f"date({sql}, 'start of month', %s, "
            f"'+' || (CAST(strftime(%s, {sql}) AS INTEGER) - 1) || ' days')"
        )
        last_day = f"date({sql}, 'start of month', %s, '-1 day')"
        return (
            f"date(min({same_day}, {last_day}), %s)",
            (
                *params,
                f"{self.months:+d} months",
                "%d",
                *params,
                *params,
                f"{self.months + 1:+d} months",
                f"{self.days:+d} days",
            ),
        )

    def as_sql(self, compiler, connection, **extra):
        raise NotSupportedError("ShiftedDate is written for PostgreSQL and SQLite")


def _offset_parts(offset: int, unit: str) -> tuple[int, int]:
    """(months, days) of a timepoint's offset, read as followup.schedule.offset_date does."""
    if unit == "months":
        return offset, 0
    if unit == "weeks":
        return 0, 7 * offset
    if unit == "days":
        return 0, offset
    raise ValueError(f"unknown unit {unit!r}")


def _window_edge(tp, days: int, enrolled_on: str = "participant__enrolled_on") -> ShiftedDate:
    """The due date of ``tp`` moved by ``days``, for each row's enrolment date."""
    months, offset_days = _offset_parts(tp.offset, tp.unit)
    return ShiftedDate(F(enrolled_on), months=months, days=offset_days + days)


class Unanswered(Func):
    """True where the required item ``item_id`` is unanswered: its key absent from the
    answers (the one way to say "missing", questionnaires.services.clean_answers) or JSON
    null (data written by other means). One key lookup per item: ``->>`` on PostgreSQL,
    ``json_extract`` on SQLite both give NULL for either (Django's key transform on
    SQLite gives the text 'null' for a JSON null, hence this expression)."""

    output_field = BooleanField()

    def __init__(self, item_id: str):
        super().__init__(F("answers"))
        self.item_id = item_id

    def as_postgresql(self, compiler, connection):
        sql, params = compiler.compile(self.source_expressions[0])
        return f"(({sql} ->> %s) IS NULL)", (*params, self.item_id)

    def as_sqlite(self, compiler, connection):
        sql, params = compiler.compile(self.source_expressions[0])
        return f"(json_extract({sql}, %s) IS NULL)", (*params, f'$."{self.item_id}"')

    def as_sql(self, compiler, connection, **extra):
        raise NotSupportedError("Unanswered is written for PostgreSQL and SQLite")


def required_items(instrument: str | None = None) -> dict[tuple[str, int], list[str]]:
    """Required item ids of every registered instrument version (or of one instrument)."""
    from questionnaires.instruments import all_instruments

    return {
        (ins.code, ins.version): [i.id for i in ins.items if i.required]
        for ins in all_instruments()
        if instrument is None or ins.code == instrument
    }


MASK_BITS = 62  # required items per bigint mask column


def _unanswered_masks(required: Mapping[tuple[str, int], list[str]]) -> dict[str, Case]:
    """Columns ``mask_<c>``: bit j set when required item ``MASK_BITS * c + j`` of the
    response's instrument version is unanswered. A row evaluates its own instrument's
    items only, and responses group by the pattern of unanswered items."""
    width = max((len(items) for items in required.values()), default=0)
    masks = {}
    for c, start in enumerate(range(0, width, MASK_BITS)):
        whens = []
        for (code, version), items in required.items():
            chunk = items[start : start + MASK_BITS]
            if chunk:
                bits = [
                    Case(When(Unanswered(item), then=Value(1 << j)), default=Value(0))
                    for j, item in enumerate(chunk)
                ]
                whens.append(When(Q(instrument=code, version=version), then=reduce(add, bits)))
        masks[f"mask_{c}"] = Case(*whens, default=Value(0), output_field=BigIntegerField())
    return masks


def completed_finals(participants):
    from questionnaires.models import Response

    return Response.objects.filter(
        participant__in=participants.values("pk"), entry=Response.FINAL, completed_at__isnull=False
    ).order_by()


def missing_item_counts(
    rows: Iterable[Mapping], required: Mapping[tuple[str, int], list[str]]
) -> list[dict]:
    """Per instrument and version: completed final responses, those with a required item
    unanswered, and the number of unanswered required items (in all and per item).

    ``rows``: dicts with ``instrument``, ``version``, ``unanswered`` (the required item
    ids left unanswered) and ``n``; ``required``: item ids by (instrument, version)."""
    cells: dict[tuple[str, int], dict] = {}
    for r in rows:
        n = _n(r)
        cell = cells.setdefault(
            (r["instrument"], r["version"]),
            {"responses": 0, "incomplete": 0, "per_item": Counter()},
        )
        cell["responses"] += n
        if r["unanswered"]:
            cell["incomplete"] += n
        for item in r["unanswered"]:
            cell["per_item"][item] += n
    out = []
    for (code, version), cell in sorted(cells.items()):
        counted = cell["per_item"]
        per_item = {i: counted[i] for i in required.get((code, version), ()) if counted[i]}
        out.append(
            {
                "instrument": code,
                "version": version,
                "responses": cell["responses"],
                "incomplete": cell["incomplete"],
                "missing_items": sum(per_item.values()),
                "per_item": per_item,
            }
        )
    return out


def missing_items(participants) -> list[dict]:
    """:func:`missing_item_counts` of the completed final responses. One query: the
    responses grouped by instrument, version and pattern of unanswered required items."""
    required = required_items()
    masks = _unanswered_masks(required)
    groups = (
        completed_finals(participants)
        .annotate(**masks)
        .values("instrument", "version", *masks)
        .annotate(n=Count("id"))
        .order_by()
    )
    rows = []
    for g in groups:
        items = required.get((g["instrument"], g["version"]), [])
        unanswered = [
            item
            for j, item in enumerate(items)
            if g[f"mask_{j // MASK_BITS}"] >> (j % MASK_BITS) & 1
        ]
        rows.append({**g, "unanswered": unanswered})
    return missing_item_counts(rows, required)


def missing_items_participants(participants, instrument: str) -> list[str]:
    any_unanswered = Q(pk__in=[])
    for (_, version), items in required_items(instrument).items():
        if items:
            any_unanswered |= Q(version=version) & reduce(or_, map(Unanswered, items))
    finals = completed_finals(participants).filter(Q(instrument=instrument) & any_unanswered)
    return sorted(set(finals.values_list("participant__study_id", flat=True)))


def window_of(enrolled_on: date, tp) -> tuple[date, date]:
    due = offset_date(enrolled_on, tp.offset, tp.unit)
    return due - timedelta(days=tp.window_before_days), due + timedelta(days=tp.window_after_days)


def window_counts(rows: Iterable[Mapping], timepoints: list) -> list[dict]:
    """Responses answered before or after their timepoint's window, per timepoint.

    ``rows``: dicts with ``timepoint`` (code), ``enrolled_on``, ``day`` (the answer's date
    in the trial's time zone) and ``n``; ``timepoints``: objects with code, label, offset,
    unit, window_before_days and window_after_days (the due date is enrolment + offset)."""
    tps = {t.code: t for t in timepoints}
    counts = {
        t.code: {"timepoint": t.code, "label": t.label, "early": 0, "late": 0} for t in tps.values()
    }
    windows: dict = {}  # many rows share an enrolment date: compute each window once
    for r in rows:
        tp = tps.get(r["timepoint"])
        if tp is None:
            continue
        key = (r["enrolled_on"], tp.code)
        if key not in windows:
            windows[key] = window_of(r["enrolled_on"], tp)
        lo, hi = windows[key]
        if r["day"] < lo:
            counts[tp.code]["early"] += _n(r)
        elif r["day"] > hi:
            counts[tp.code]["late"] += _n(r)
    out = list(counts.values())
    for c in out:
        c["total"] = c["early"] + c["late"]
    return out


def out_of_window(trial, participants, timepoint: str | None = None, with_ids: bool = False):
    """:func:`window_counts` of the completed final responses at the patient timepoints
    (or at ``timepoint``); ``with_ids``: the study IDs behind them. One query: the window
    edges are computed by the database from each participant's enrolment date."""
    tps = [t for t in patient_timepoints(trial) if not timepoint or t.code == timepoint]
    if not tps:
        return []
    finals = (
        completed_finals(participants)
        .filter(timepoint__in=tps)
        .alias(day=TruncDate("completed_at", tzinfo=ZoneInfo(trial.time_zone)))
    )
    # The timepoint first: a row is compared with its own timepoint's window only.
    # Windows never have a negative width (PositiveIntegerField), so early and late
    # exclude each other.
    early = [Q(timepoint=t) & Q(day__lt=_window_edge(t, -t.window_before_days)) for t in tps]
    late = [Q(timepoint=t) & Q(day__gt=_window_edge(t, t.window_after_days)) for t in tps]
    if with_ids:
        outside = finals.filter(reduce(or_, early + late))
        return sorted(set(outside.values_list("participant__study_id", flat=True)))
    got = finals.aggregate(
        **{f"early_{k}": Count("id", filter=q) for k, q in enumerate(early)},
        **{f"late_{k}": Count("id", filter=q) for k, q in enumerate(late)},
    )
    return [
        {
            "timepoint": t.code,
            "label": t.label,
            "early": got[f"early_{k}"],
            "late": got[f"late_{k}"],
            "total": got[f"early_{k}"] + got[f"late_{k}"],
        }
        for k, t in enumerate(tps)
    ]


def unresolved_double_entries(participants):
    """(participant, timepoint, instrument) with both paper entries and no final."""
    from questionnaires.models import Response

    # Only paper entries without a final beside them can make such a group, so the
    # grouping runs over those few rows rather than over every response.
    final = Response.objects.filter(
        participant_id=OuterRef("participant_id"),
        timepoint__code=OuterRef("timepoint__code"),
        instrument=OuterRef("instrument"),
        entry=Response.FINAL,
    )
    return (
        Response.objects.filter(
            participant__in=participants.values("pk"),
            entry__in=[Response.FIRST_ENTRY, Response.SECOND_ENTRY],
        )
        .exclude(Exists(final))
        .values("participant__study_id", "timepoint__code", "instrument")
        .annotate(paper=Count("id"))
        .filter(paper=2)
        .order_by("participant__study_id")
    )


def crpe_missing_at_final_visit(trial, participants):
    """Participants with a final visit recorded but no completed CRPE-tool at
    ``crpe-final``; None where the trial has no such timepoint."""
    from questionnaires.models import Response

    tp = trial.timepoints.filter(code="crpe-final").first()
    if tp is None:
        return None
    done = Response.objects.filter(
        participant=OuterRef("pk"),
        timepoint=tp,
        instrument="crpe",
        entry=Response.FINAL,
        completed_at__isnull=False,
    )
    return participants.filter(final_visit_on__isnull=False).exclude(Exists(done))


def data_quality(trial, participants) -> dict:
    from .monitoring_missing import with_reasons

    double = unresolved_double_entries(participants)
    crpe = crpe_missing_at_final_visit(trial, participants)
    return {
        # Split into missing with a reason and without (analysis.monitoring_missing).
        "missing_items": with_reasons(missing_items(participants), participants),
        "out_of_window": out_of_window(trial, participants),
        "double_entries": double.count(),
        "crpe_missing": None if crpe is None else crpe.count(),
    }


# --- protocol deviations --------------------------------------------------------------


def deviation_table(rows: Iterable[Mapping], types: list[Mapping], clusters: list[Mapping]) -> dict:
    """Deviations counted per type (rows) and cluster (columns), with totals; every
    declared type and cluster appears, with 0 where nothing was recorded.

    ``rows``: ``type``, ``cluster`` (codes), ``n`` deviations, ``excluding`` of those
    that exclude from per-protocol. ``types``/``clusters``: ``code``, ``label``/``name``."""
    cells: dict[tuple[str, str], int] = Counter()
    excluding: dict[str, int] = Counter()
    for r in rows:
        cells[(r["type"], r["cluster"])] += r["n"]
        excluding[r["type"]] += r["excluding"]
    codes = [c["code"] for c in clusters]
    table = [
        {
            "code": t["code"],
            "label": t["label"],
            "counts": [cells[(t["code"], c)] for c in codes],
            "total": sum(cells[(t["code"], c)] for c in codes),
            "excluding": excluding[t["code"]],
        }
        for t in types
    ]
    return {
        "clusters": clusters,
        "types": table,
        "totals": [sum(row["counts"][i] for row in table) for i in range(len(codes))],
        "total": sum(row["total"] for row in table),
        "excluding": sum(row["excluding"] for row in table),
    }


def deviations_for(trial, participants, clusters) -> dict:
    """The deviation table of the participants the user may see (``scope``), plus how
    many participants are out of the per-protocol set."""
    from enrolment.models import Deviation, DeviationType

    qs = Deviation.objects.filter(participant__in=participants)
    rows = (
        qs.values("type__code", "participant__clinic__cluster__code")
        .annotate(n=Count("id"), excluding=Count("id", filter=Q(excludes_per_protocol=True)))
        .order_by()
    )
    table = deviation_table(
        [
            {
                "type": r["type__code"],
                "cluster": r["participant__clinic__cluster__code"],
                "n": r["n"],
                "excluding": r["excluding"],
            }
            for r in rows
        ],
        list(DeviationType.objects.filter(trial=trial).values("code", "label")),
        clusters,
    )
    table["participants_excluded"] = (
        qs.filter(excludes_per_protocol=True).values("participant_id").distinct().count()
    )
    return table


# --- weekly summary email ------------------------------------------------------------


def weekly_email_enabled(env: Mapping[str, str] | None = None) -> bool:
    """Off unless MONITORING_WEEKLY_EMAIL is set to a true value."""
    value = (env if env is not None else os.environ).get("MONITORING_WEEKLY_EMAIL", "False")
    return value.strip().lower() in ("1", "true", "yes", "on")


def cluster_recipients(env: Mapping[str, str] | None = None) -> dict[str, list[str]]:
    """MONITORING_CLUSTER_EMAILS: JSON {"<trial>:<cluster>": ["manager@clinic", ...]}.
    Clinic managers have no role in the site yet, so they are listed here."""
    raw = (env if env is not None else os.environ).get("MONITORING_CLUSTER_EMAILS", "")
    return json.loads(raw) if raw.strip() else {}


def _summary_lines(rec: Recruitment, rows: list[dict], today: date) -> list[str]:
    this_month = month_start(today)
    week = week_start(today) - timedelta(weeks=1)
    lines = []
    for r in rows:
        m = rec.months.index(this_month) if this_month in rec.months else None
        w = rec.weeks.index(week) if week in rec.weeks else None
        month_n = r["months"][m] if m is not None else 0
        week_n = r["weeks"][w] if w is not None else 0
        target = f" (target {rec.target}, at most {rec.ceiling})" if rec.target else ""
        lines.append(
            f"- {r['name']}: {week_n} last week, {month_n} this month{target}, {r['total']} in all"
        )
    return lines


def weekly_summaries(trial, today: date, recipients: Mapping[str, list[str]] | None = None):
    """The weekly emails of one trial: the whole trial to its coordinators, each cluster
    to its clinic managers (``recipients`` keyed "<trial>:<cluster>"). Study IDs and
    counts only: no personal data, no allocation per patient."""
    from django.core.mail import EmailMessage

    from enrolment.models import Clinic, Participant, TrialRole

    participants = Participant.objects.filter(trial=trial)
    clinics = Clinic.objects.filter(cluster__trial=trial).select_related("cluster")
    rec = recruitment_for(trial, participants, clinics, today)
    dq = data_quality(trial, participants)
    quality = [
        f"Unresolved double entries: {dq['double_entries']}",
        f"Responses out of window: {sum(r['total'] for r in dq['out_of_window'])}",
        f"Responses with missing items: {sum(r['incomplete'] for r in dq['missing_items'])}",
        "Items missing without a reason: "
        f"{sum(r['without_reason'] for r in dq['missing_items'])}, "
        f"with a reason: {sum(r['with_reason'] for r in dq['missing_items'])}",
    ]
    if dq["crpe_missing"] is not None:
        quality.append(f"CRPE-tools missing at the final visit: {dq['crpe_missing']}")
    subject = f"{trial.study_id_prefix} weekly recruitment {today:%Y-%m-%d}"
    messages = []
    coordinators = sorted(
        set(
            TrialRole.objects.filter(trial=trial, role=TrialRole.COORDINATOR)
            .exclude(user__email="")
            .values_list("user__email", flat=True)
        )
    )
    total = f"{rec.total} enrolled" + (f" of {rec.sample_size} planned" if rec.sample_size else "")
    if coordinators:
        body = "\n".join(
            [f"{trial.name}: {total}.", "", *_summary_lines(rec, rec.clusters, today), "", *quality]
        )
        messages.append(EmailMessage(subject, body, to=coordinators))
    for r in rec.clusters:
        to = list((recipients or {}).get(f"{trial.code}:{r['code']}", []))
        if not to:
            continue
        clinic_rows = [c for c in rec.clinics if c["cluster"] == r["code"]]
        body = "\n".join(
            [
                f"{trial.name}, cluster {r['name']}.",
                "",
                *_summary_lines(rec, [r], today),
                "",
                "Clinics:",
                *_summary_lines(rec, clinic_rows, today),
            ]
        )
        messages.append(EmailMessage(f"{subject} ({r['name']})", body, to=to))
    return messages


def send_weekly_summaries_now(
    today: date | None = None, env: Mapping[str, str] | None = None
) -> int:
    """Send every trial's weekly summary when enabled; returns the number of emails."""
    from django.utils import timezone

    from enrolment.models import Trial

    if not weekly_email_enabled(env):
        return 0
    today = today or timezone.localdate()
    recipients = cluster_recipients(env)
    sent = 0
    for trial in Trial.objects.all():
        with outbox.regarding(trial.pk):
            for message in weekly_summaries(trial, today, recipients):
                sent += message.send()
    return sent


try:  # Celery is a dependency of the site; the task is scheduled by the lead's beat entry.
    from celery import shared_task
except ImportError:  # pragma: no cover
    shared_task = None

if shared_task is not None:

    @shared_task(name="analysis.monitoring.send_weekly_summaries")
    def send_weekly_summaries() -> int:
        return send_weekly_summaries_now()
