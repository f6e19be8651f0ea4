"""Weekly SMS tracking as the coordinator sees it: response rates per week, who missed
three weeks in a row (to be phoned), and what the trial's quiet hours held back or
skipped. Read-only queries; :mod:`followup.sms.tracking` plans, sends and interprets."""

from __future__ import annotations

from django.db.models import Count, F, Max, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce

from enrolment.models import Participant

from ..models import SmsPrompt

CLOSED_WEEK = (SmsPrompt.ANSWERED, SmsPrompt.EXPIRED, SmsPrompt.FAILED)


def weekly_rows(participants) -> list[dict]:
    """One row per participant and week whose first question has closed: ``participant``
    (study ID), ``week``, ``answered``, and ``active`` (not withdrawn, dead or done: only
    they are anyone to phone). ``participants``: a Participant queryset."""
    return [
        {
            "participant": study_id,
            "week": week,
            "answered": status == SmsPrompt.ANSWERED,
            "active": participant_status == Participant.ACTIVE,
        }
        for study_id, week, status, participant_status in SmsPrompt.objects.filter(
            participant__in=participants, position=0, status__in=CLOSED_WEEK
        )
        .order_by()
        .values_list("participant__study_id", "week", "status", "participant__status")
    ]


def missed_in_a_row(rows, run: int = 3) -> list[str]:
    """Study IDs whose latest ``run`` closed weeks all went unanswered: to be phoned.
    Rows marked ``active: False`` (withdrawn, died, completed) never are."""
    weeks: dict[str, dict[int, bool]] = {}
    for r in rows:
        if not r.get("active", True):
            continue
        weeks.setdefault(r["participant"], {})[r["week"]] = bool(r["answered"])
    out = []
    for study_id, answered in weeks.items():
        latest = [answered[w] for w in sorted(answered)[-run:]]
        if len(latest) == run and not any(latest):
            out.append(study_id)
    return sorted(out)


def weekly_rates(participants) -> list[dict]:
    """Per week since baseline: closed first questions (``sent``), ``answered`` and the
    ``rate``, counted by the database (what :func:`weekly_rows` gives row by row)."""
    rows = (
        SmsPrompt.objects.filter(participant__in=participants, position=0, status__in=CLOSED_WEEK)
        .values("week")
        .annotate(sent=Count("id"), answered=Count("id", filter=Q(status=SmsPrompt.ANSWERED)))
        .order_by("week")
    )
    return [{**r, "rate": r["answered"] / r["sent"]} for r in rows]


def missed_weeks_in_a_row(participants, run: int = 3) -> list[str]:
    """:func:`missed_in_a_row` counted by the database: active participants with at
    least ``run`` closed, unanswered weeks after their last answered one."""
    last_answered = (
        SmsPrompt.objects.filter(participant=OuterRef("pk"), position=0, status=SmsPrompt.ANSWERED)
        .order_by()
        .values("participant")
        .annotate(last=Max("week"))
        .values("last")
    )
    return list(
        Participant.objects.filter(pk__in=participants.values("pk"), status=Participant.ACTIVE)
        .annotate(last=Coalesce(Subquery(last_answered), 0))
        .annotate(
            missed=Count(
                "sms_prompts",
                filter=Q(
                    sms_prompts__position=0,
                    sms_prompts__status__in=(SmsPrompt.EXPIRED, SmsPrompt.FAILED),
                    sms_prompts__week__gt=F("last"),
                ),
            )
        )
        .filter(missed__gte=run)
        .order_by("study_id")
        .values_list("study_id", flat=True)
    )


def quiet_hours_counts(participants) -> dict:
    """Questions the trial's quiet hours held back and then sent (``held``), and those
    skipped for their week by the protocol's rule (``skipped``)."""
    prompts = SmsPrompt.objects.filter(participant__in=participants, held_at__isnull=False)
    return prompts.aggregate(
        held=Count("id", filter=~Q(status=SmsPrompt.SKIPPED) & Q(sent_at__isnull=False)),
        skipped=Count("id", filter=Q(status=SmsPrompt.SKIPPED)),
    )
