"""The database side of the monitoring: querysets the user may see (:func:`scope`) and
rows for the pure functions (:mod:`.pure`, :mod:`.consort`). Each aggregates in the
database (``values().annotate()``): the number of queries does not depend on the number
of participants, no per-participant query anywhere.
"""

from __future__ import annotations

from datetime import date, timedelta

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import Count, Q, Sum

from followup.planning import planned_from
from questionnaires.answered import ids_of

from .consort import ConsortFlow, consort_flow, left_on, placement
from .pure import (
    OPEN_STATUSES,
    Recruitment,
    month_range,
    recruitment,
    week_start,
)

# --- database side: rows for the pure functions ----------------------------------------


def trial_wide(user, trial) -> bool:
    from enrolment import permissions as roles

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
        trial.timepoints.filter(respondent=Timepoint.PATIENT, anchor=Timepoint.ENROLMENT)
        .select_related("added_in")
        .order_by("order")
    )


def _timepoint_spec(t) -> dict:
    return {
        "code": t.code,
        "label": t.staff_label,
        "offset": t.offset,
        "unit": t.unit,
        "window_after_days": t.window_after_days,
        "planned_from": planned_from(t),
    }


def consort_groups(participants, screenings, follow: list) -> list[dict]:
    """Participant rows for :func:`consort_flow`, one per group of participants alike in
    everything the flow reads (condition, enrolment and withdrawal dates, screening-log
    entry, the follow-up timepoints answered), with ``n``. One query; a trial of 10,000
    participants has a few thousand such groups."""
    codes = {t.pk: t.code for t in follow}
    rows = [
        {
            "condition": condition,
            "enrolled_on": _day(enrolled_on),
            "withdrawn_on": left_on(_day(withdrawn_on), _day(died_on)),
            "died": died_on is not None
            and left_on(_day(withdrawn_on), _day(died_on)) == _day(died_on),
            "screened": bool(screened),
            "responded": {codes[pk] for pk in ids_of(answered) if pk in codes},
            "n": n,
        }
        for condition, enrolled_on, withdrawn_on, died_on, screened, answered, n in _grouped(
            participants, screenings
        )
    ]
    return rows


def _day(value):
    """A date column read by a raw cursor: SQLite gives it as ISO text."""
    return date.fromisoformat(value) if isinstance(value, str) else value


def _grouped(participants, screenings) -> list[tuple]:
    """The participants joined to their answered timepoints (one row each, kept on write:
    questionnaires.answered) and to the screening log, then grouped.

    Not a pass over the completed answers: grouping 700,000 of them per participant cost
    0.44 s of the dashboard's 1.15 s at 100,000 participants (issue 19), and a correlated
    EXISTS per timepoint before it 1.65 s. Plain SQL both databases run alike."""
    from questionnaires.models import AnsweredTimepoints

    qn = connection.ops.quote_name
    people = _compiled(
        participants.order_by().values("pk", "condition", "enrolled_on", "withdrawn_on", "died_on")
    )
    if people is None:
        return []
    people_sql, people_params = people
    screened = _compiled(
        screenings.order_by()
        .filter(participant__isnull=False)
        .values("participant_id")  # one record at most per participant (OneToOne)
    )
    # An empty screening log (``none()``) compiles to nothing: no participant screened.
    nobody = ("SELECT CAST(NULL AS BIGINT) AS participant_id", ())
    screened_sql, screened_params = screened or nobody
    columns = [
        *(f"p.{qn(c)}" for c in ("condition", "enrolled_on", "withdrawn_on", "died_on")),
        f"(s.{qn('participant_id')} IS NOT NULL)",
        f"COALESCE(a.{qn('timepoints')}, '')",
    ]
    sql = (
        f"SELECT {', '.join(columns)}, COUNT(*) FROM ({people_sql}) p "
        f"LEFT JOIN ({screened_sql}) s ON s.{qn('participant_id')} = p.{qn('pk')} "
        f"LEFT JOIN {qn(AnsweredTimepoints._meta.db_table)} a "
        f"ON a.{qn('participant_id')} = p.{qn('pk')} GROUP BY {', '.join(columns)}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*people_params, *screened_params])
        return cursor.fetchall()


def _compiled(queryset) -> tuple[str, tuple] | None:
    """SQL and parameters of ``queryset``; None where it can match nothing (``none()``)."""
    try:
        return queryset.query.sql_with_params()
    except EmptyResultSet:
        return None


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
    """Study IDs behind one CONSORT box (``placement`` box at ``timepoint``), in one
    arm (``condition``) or, given none, in every arm."""
    spec = [_timepoint_spec(t) for t in patient_timepoints(trial) if t.offset > 0]
    # A box at a timepoint depends on the response at that timepoint only.
    done = set(
        completed_finals(participants)
        .filter(timepoint__trial=trial, timepoint__code=timepoint)
        .values_list("participant_id", flat=True)
    )
    out = []
    if condition:
        participants = participants.filter(condition=condition)
    for p in participants.values(
        "pk", "study_id", "enrolled_on", "withdrawn_on", "died_on"
    ):
        p["withdrawn_on"] = left_on(p["withdrawn_on"], p["died_on"])
        p["responded"] = {timepoint} if p["pk"] in done else set()
        if placement(p, spec, today).get(timepoint) == box:
            out.append(p["study_id"])
    return sorted(out)


def _finals(**respondents):
    from questionnaires.models import Response

    return Response.objects.filter(
        entry=Response.FINAL, completed_at__isnull=False, **respondents
    ).order_by()


def completed_finals(participants):
    return _finals(participant__in=participants.values("pk"))


def trial_finals(trial):
    """:func:`completed_finals` of every participant of ``trial`` (a trial-wide viewer's):
    filtered on the participant the grouping joins anyway, not on a second pass over the
    participants (0.37 s → 0.28 s for the flags pass at 100,000 participants, issue 19)."""
    return _finals(participant__trial=trial)


def required_items(instrument: str | None = None) -> dict[tuple[str, int], list[str]]:
    """Required item ids of every registered instrument version (or of one instrument)."""
    from questionnaires.instruments import all_instruments

    return {
        (ins.code, ins.version): [i.id for i in ins.items if i.required]
        for ins in all_instruments()
        if instrument is None or ins.code == instrument
    }
