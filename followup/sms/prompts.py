"""The weekly SMS's plan and texts: one :class:`~followup.models.SmsPrompt` per week from
the enrolment date, cancelled when the participant stops; the text of each kind of SMS
in the participant's language, GSM-7 only. Used by the dispatcher
(:mod:`.tracking`) and by the replies (:mod:`.inbound`)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _

from enrolment.models import Participant, SmsSchedule

from ..bulk import bulk_set
from ..models import Message, SmsMessage, SmsPrompt
from ..schedule import weekly_sms_times
from .backends import gsm7_safe

# --- the schedule ------------------------------------------------------------------------


def schedule_of(trial) -> SmsSchedule | None:
    try:
        return trial.sms_schedule
    except SmsSchedule.DoesNotExist:
        return None


def question_labels(trial) -> dict[str, str]:
    """Question code -> its label on the page being made (empty without SMS tracking)."""
    schedule = schedule_of(trial)
    return schedule.question_labels() if schedule is not None else {}


def question_spec(schedule: SmsSchedule, code: str) -> dict:
    return next(q for q in schedule.questions if q["code"] == code)


def plan_participant(participant: Participant) -> list[SmsPrompt]:
    """The first question of every week, from the enrolment date (nothing if the trial
    has no SMS tracking)."""
    schedule = schedule_of(participant.trial)
    if schedule is None or not schedule.questions:
        return []
    first = schedule.questions[0]["code"]
    times = weekly_sms_times(
        baseline=participant.enrolled_on,
        weeks=schedule.weeks,
        weekday=schedule.weekday,
        send_time=schedule.send_time,
        time_zone=participant.trial.time_zone,
    )
    prompts = [
        SmsPrompt(
            participant=participant,
            week=week,
            question=first,
            position=0,
            due_at=at,
            next_action_at=at,
        )
        for week, at in times
    ]
    # No history rows for 52 planned rows per participant: the plan follows from the
    # enrolment date and the protocol file; every change after this is recorded.
    return SmsPrompt.objects.bulk_create(prompts, ignore_conflicts=True)


def cancel_participant(participant_id: int, reason: str, now: datetime) -> int:
    """Withdrawal, death, completion or STOP: nothing more is asked."""
    prompts = list(
        SmsPrompt.objects.select_for_update().filter(
            participant_id=participant_id, status__in=SmsPrompt.OPEN
        )
    )
    for p in prompts:
        p.status, p.next_action_at = SmsPrompt.CANCELLED, None
    if prompts:
        bulk_set(SmsPrompt, prompts, ["status", "next_action_at"])
        SmsPrompt.history.bulk_history_create(
            prompts, update=True, default_change_reason=reason[:100], default_date=now
        )
    SmsMessage.objects.filter(
        participant_id=participant_id,
        status__in=[Message.PENDING, Message.RETRY],
    ).exclude(kind=SmsMessage.STOP_CONFIRMATION).update(
        status=Message.SKIPPED, next_attempt_at=None
    )
    return len(prompts)


# --- texts ---------------------------------------------------------------------------------


def language_of(participant: Participant) -> str:
    available = {code for code, _name in settings.LANGUAGES}
    details = getattr(participant, "personal_details", None)
    if details is not None and details.preferred_language in available:
        return details.preferred_language
    trial = participant.trial
    return trial.default_language if trial.default_language in available else "en"


def wording(question: dict, language: str) -> str:
    texts = question.get("wording", {})
    return texts.get(language) or texts.get("en") or next(iter(texts.values()), "")


def body_for(kind: str, question: dict | None, language: str) -> str:
    with translation.override(language):
        if kind == SmsMessage.STOP_CONFIRMATION:
            return _("You will receive no more text messages from the study. Thank you.")
        text = wording(question, language)
        if kind == SmsMessage.REMINDER:
            return _("Reminder: %(question)s") % {"question": text}
        if kind == SmsMessage.CLARIFICATION:
            return _(
                "Sorry, we did not understand your answer. Please reply with one number "
                "from %(min)s to %(max)s. %(question)s"
            ) % {"min": question["min"], "max": question["max"], "question": text}
        return text


def message_for(participant, prompt, kind, question, now, key=None) -> SmsMessage:
    language = language_of(participant)
    details = getattr(participant, "personal_details", None)
    return SmsMessage(
        participant=participant,
        prompt=prompt,
        kind=kind,
        idempotency_key=key or f"{prompt.pk}:{kind}",
        recipient=(details.mobile if details is not None else "") or "",
        # Typographic quotes or dashes in a protocol's wording would double the cost.
        body=gsm7_safe(body_for(kind, question, language)),
        language=language,
        status=Message.PENDING,
        next_attempt_at=now,
        created=now,
    )


def reminder_at(sent_at: datetime, hours: int, time_zone: str) -> datetime:
    """``hours`` after ``sent_at`` on the trial's wall clock: "the next day" stays the
    same local time when the clocks change overnight."""
    zone = ZoneInfo(time_zone)
    local = sent_at.astimezone(zone).replace(tzinfo=None) + timedelta(hours=hours)
    return local.replace(tzinfo=zone).astimezone(UTC)
