"""Weekly SMS tracking: planning the questions, sending them, understanding replies.

The database is the source of truth, as for the emails (:mod:`followup.dispatch`):

- At enrolment each participant of a trial with an SMS schedule gets one
  :class:`~followup.models.SmsPrompt` per week for the schedule's first question, due at
  the configured weekday and local time (:func:`followup.schedule.weekly_sms_times`).
- :func:`dispatch` (a Celery beat task) plans what is due in batches: a question to send
  (the participant's open questions of earlier weeks close as unanswered as it goes
  out), one reminder ``reminder_after_hours`` after a question, and the end of the last
  week. Each planned SMS is written as an :class:`~followup.models.SmsMessage` with a
  unique idempotency key, then claimed and handed to the backend (``SMS_BACKEND``),
  the outcomes recorded in one update per batch: a constant number of queries per batch.
- A reply (:func:`receive`) is stored raw by the webhook first, then interpreted: it
  answers the participant's oldest open question; a clean answer becomes data (the
  week's ``sms_tracking`` response) and plans the week's next question; an unclear one
  gets one clarification per question and week; STOP ends all SMS at once and is
  confirmed once; a number that belongs to no active participant gets no answer and is
  erased from the stored reply.

Sending is the one send loop (:mod:`followup.sending`, with :mod:`.sending`'s
``send_one``); the coordinator's queries are in :mod:`.weekly`. Planning and replies stay
together here (about 700 lines) because both build the texts and end SMS on STOP.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.mail import send_mail
from django.db import connection, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from enrolment import consent
from enrolment.guards import WriteRefused
from enrolment.models import Participant, PersonalDetails, SmsSchedule, Timepoint
from questionnaires.models import Response

from .. import outbox, reach
from ..bulk import bulk_set
from ..models import InboundSms, Message, SmsMessage, SmsOptOut, SmsPrompt, SmsStatusCallback
from ..schedule import weekly_sms_times
from ..sending import loop
from ..sending.claim import claim_waiting
from ..sending.messages import fall_back
from . import twilio
from .backends import gsm7_safe
from .replies import NUMBER, STOP, parse_reply
from .sending import OPTED_OUT, WeeklySmsSender
from .weekly import (  # noqa: F401 - named here for the pages, monitoring and tests
    CLOSED_WEEK,
    missed_in_a_row,
    missed_weeks_in_a_row,
    quiet_hours_counts,
    weekly_rates,
    weekly_rows,
)

logger = logging.getLogger(__name__)

INSTRUMENT = "sms_tracking"
INSTRUMENT_VERSION = 1


@dataclass
class SmsStats(loop.Counts):
    questions: int = 0
    reminders: int = 0
    expired: int = 0
    prompts: int = 0  # prompts looked at
    late: int = 0  # questions held back by the quiet hours (sent at the next allowed time)
    skipped_late: int = 0  # questions too late for the quiet hours, skipped by the rule
    replies: int = 0  # stored replies interpreted again
    notified: int = 0  # opt-outs told to the coordinators
    reports: int = 0  # delivery reports applied after their message was recorded


# --- the schedule ------------------------------------------------------------------------


def schedule_of(trial) -> SmsSchedule | None:
    try:
        return trial.sms_schedule
    except SmsSchedule.DoesNotExist:
        return None


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


def _message(participant, prompt, kind, question, now, key=None) -> SmsMessage:
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


# --- step 1: plan ----------------------------------------------------------------------------


@transaction.atomic
def plan_due(now: datetime, batch_size: int, stats: SmsStats) -> None:
    due = SmsPrompt.objects.filter(status__in=SmsPrompt.OPEN, next_action_at__lte=now).order_by(
        "next_action_at", "id"
    )
    if connection.features.has_select_for_update_skip_locked:
        # The participant too: a reply being interpreted holds it (see ``receive``).
        due = due.select_for_update(skip_locked=True, of=("self", "participant"))
    prompts = list(
        due.select_related(
            "participant__trial__sms_schedule",
            "participant__personal_details",
            "participant__sms_opt_out",
        )[:batch_size]
    )
    stats.prompts += len(prompts)
    if not prompts:
        return
    messages, changed, sending = [], [], []
    held = consent.held_ids(p.participant for p in prompts)
    for prompt in prompts:
        participant = prompt.participant
        schedule = schedule_of(participant.trial)
        stopped = participant.status != Participant.ACTIVE or hasattr(participant, "sms_opt_out")
        # A week's question not asked while data collection waits for a re-consent.
        stopped = stopped or participant.pk in held
        trial = participant.trial
        if stopped or schedule is None:
            prompt.status, prompt.next_action_at = SmsPrompt.CANCELLED, None
        elif prompt.status == SmsPrompt.SCHEDULED and _quiet(prompt, trial, now, stats):
            pass  # held for the morning, or skipped for the week (the protocol's rule)
        elif prompt.status == SmsPrompt.SENT and not reach.allowed(trial, now):
            prompt.next_action_at = reach.next_allowed(trial, now)  # a reminder: the morning
        elif prompt.status == SmsPrompt.SCHEDULED:
            question = question_spec(schedule, prompt.question)
            messages.append(_message(participant, prompt, SmsMessage.QUESTION, question, now))
            prompt.status, prompt.sent_at = SmsPrompt.SENT, now
            prompt.next_action_at = reminder_at(
                now, schedule.reminder_after_hours, participant.trial.time_zone
            )
            sending.append(prompt)
            stats.questions += 1
        elif prompt.reminded_at is None:
            question = question_spec(schedule, prompt.question)
            messages.append(_message(participant, prompt, SmsMessage.REMINDER, question, now))
            prompt.reminded_at = now
            # Later weeks close it when their question goes out; the last week has none.
            last = prompt.week >= schedule.weeks
            prompt.next_action_at = prompt.sent_at + timedelta(days=7) if last else None
            stats.reminders += 1
        else:
            prompt.status, prompt.next_action_at = SmsPrompt.EXPIRED, None
            stats.expired += 1
        changed.append(prompt)
    SmsMessage.objects.bulk_create(messages, ignore_conflicts=True)
    fields_ = ["status", "sent_at", "reminded_at", "next_action_at", "held_at"]
    bulk_set(SmsPrompt, changed, fields_)
    SmsPrompt.history.bulk_history_create(changed, update=True, default_date=now)
    stats.expired += _expire_earlier(sending, now)


def _quiet(prompt: SmsPrompt, trial, now: datetime, stats: SmsStats) -> bool:
    """The trial's quiet hours for a question not sent yet: True when it does not go out
    now. Later than the trial's tolerance it is skipped for the week where the protocol
    file says ``late_rule = "skip"``; outside the allowed hours it waits for the next
    allowed time (``held_at`` records that it was held, for the SMS page's count)."""
    late = reach.too_late(trial, prompt.due_at, now)
    if late and reach.late_rule(trial) == "skip":
        prompt.status, prompt.next_action_at = SmsPrompt.SKIPPED, None
        prompt.held_at = prompt.held_at or now
        stats.skipped_late += 1
        return True
    if not reach.allowed(trial, now):
        prompt.next_action_at = reach.next_allowed(trial, now)
        prompt.held_at = prompt.held_at or now
        return True
    if prompt.held_at is not None or late:
        prompt.held_at = prompt.held_at or now
        stats.late += 1
    return False


def _expire_earlier(sending: list[SmsPrompt], now: datetime) -> int:
    """A reply counts for a question until the participant's next week's question goes
    out: then the earlier weeks' open questions close unanswered. One query each way."""
    if not sending:
        return 0
    newer = SmsPrompt.objects.filter(
        pk__in=[p.pk for p in sending],
        participant=OuterRef("participant"),
        week__gt=OuterRef("week"),
    )
    # Locked: a reply being recorded holds its prompt, and PostgreSQL re-checks the
    # status once it commits, so an answer is never overwritten as unanswered.
    stale = list(
        SmsPrompt.objects.select_for_update()
        .filter(participant_id__in={p.participant_id for p in sending}, status__in=SmsPrompt.OPEN)
        .filter(Exists(newer))
    )
    for p in stale:
        p.status, p.next_action_at = SmsPrompt.EXPIRED, None
    if stale:
        bulk_set(SmsPrompt, stale, ["status", "next_action_at"])
        SmsPrompt.history.bulk_history_create(
            stale, update=True, default_change_reason="next week's question sent", default_date=now
        )
    return len(stale)


# --- step 2: send ------------------------------------------------------------------------------


def status_callback_url() -> str | None:
    base = getattr(settings, "SMS_CALLBACK_BASE_URL", "")
    return f"{base.rstrip('/')}/sms/twilio/status/" if base else None


def send_claimed(messages: list[SmsMessage], now: datetime, stats: SmsStats) -> None:
    """The one send loop (:mod:`followup.sending`) with the weekly SMS's ``send_one``."""
    loop.send_claimed(messages, now, stats, WeeklySmsSender(opt_out, status_callback_url()))


# --- step 3: replies stored but not interpreted, and opt-outs to tell -------------------------


def interpret_pending(now: datetime, batch_size: int, stats: SmsStats) -> None:
    """Replies whose interpretation failed (or was cut short by a crash) are tried again."""
    ids = list(
        InboundSms.objects.filter(outcome=InboundSms.PENDING)
        .order_by("received_at", "id")
        .values_list("id", flat=True)[:batch_size]
    )
    for pk in ids:
        try:
            receive(pk, now)
            stats.replies += 1
        except WriteRefused as exc:
            # Locked data (data management): kept pending with the lock's message and
            # applied once the data is unlocked.
            logger.warning("SMS reply %s refused: %s", pk, " ".join(exc.messages))
            InboundSms.objects.filter(pk=pk).update(
                error=("refused: " + " ".join(exc.messages))[:500]
            )
        except Exception:  # noqa: BLE001 - kept pending with the error, tried next run
            logger.exception("interpreting SMS reply %s failed", pk)
            InboundSms.objects.filter(pk=pk).update(error="interpretation failed; will retry")


FAILED_STATUSES = {"failed", "undelivered"}
REPORT_DAYS = 2  # a report whose message is still unknown after this is left


def apply_status_reports(reports: list[SmsStatusCallback], now: datetime) -> int:
    """Apply delivery reports to their messages; those whose message has no recorded
    provider id yet stay for the next dispatcher run. Returns how many were applied."""
    ids = {r.provider_id for r in reports}
    messages = {
        m.provider_id: m
        for m in SmsMessage.objects.filter(provider_id__in=ids).select_related("participant")
    }
    applied = _apply_to_invitations(reports, ids, now)
    for report in reports:
        message = messages.get(report.provider_id)
        if message is None:
            continue
        applied.append(report.pk)
        if report.error_code == OPTED_OUT:
            # About the participant, whatever the message's stage.
            opt_out(message.participant, now, source="provider")
        if not twilio.moves_forward(message.provider_status, report.status):
            continue  # older than what is known: kept, not applied backwards
        message.provider_status = report.status
        if report.status in FAILED_STATUSES:
            message.status = Message.FAILED
            message.error = f"gateway: {report.status} (error {report.error_code})"
            if message.prompt_id and message.kind == SmsMessage.QUESTION:
                # Never delivered: not waiting for a reply (as a refused send).
                SmsPrompt.objects.filter(pk=message.prompt_id, status=SmsPrompt.SENT).update(
                    status=SmsPrompt.FAILED, next_action_at=None
                )
        message.save(update_fields=["provider_status", "status", "error"])
    SmsStatusCallback.objects.filter(pk__in=applied).update(applied_at=now)
    return len(applied)


def _apply_to_invitations(reports, ids: set, now: datetime) -> list[int]:
    """Delivery reports of invitations and reminders sent by SMS: one that was never
    delivered fails for good and hands its contact to the next channel."""
    invitations = {
        m.provider_id: m
        for m in Message.objects.filter(channel=Message.SMS, provider_id__in=ids).select_related(
            "contact__participant__trial",
            "contact__participant__personal_details",
            "contact__participant__sms_opt_out",
        )
    }
    applied, undelivered = [], []
    for report in reports:
        message = invitations.get(report.provider_id)
        if message is None:
            continue
        applied.append(report.pk)
        if report.status in FAILED_STATUSES and message.status == Message.SENT:
            message.status = Message.FAILED
            message.error = f"gateway: {report.status} (error {report.error_code})"
            message.save(update_fields=["status", "error"])
            undelivered.append(message)
    fall_back(undelivered, now)
    return applied


def apply_pending_reports(now: datetime, stats: SmsStats) -> None:
    pending = list(
        SmsStatusCallback.objects.filter(
            applied_at__isnull=True, received_at__gte=now - timedelta(days=REPORT_DAYS)
        )[:1000]
    )
    if pending:
        stats.reports += apply_status_reports(pending, now)


def notify_opt_outs(now: datetime, stats: SmsStats) -> None:
    """Tell each trial's coordinators who stopped the SMS (study IDs only)."""
    from enrolment import permissions as roles

    pending = list(
        SmsOptOut.objects.filter(coordinator_notified_at__isnull=True).select_related(
            "participant__trial"
        )[:500]
    )
    by_trial: dict = {}
    for opt_out in pending:
        by_trial.setdefault(opt_out.participant.trial, []).append(opt_out)
    for trial, opt_outs in by_trial.items():
        recipients = roles.emails_of(trial, {roles.COORDINATOR})
        if recipients:
            ids = ", ".join(o.participant.study_id for o in opt_outs)
            with outbox.regarding(trial.pk):
                _notify(trial, ids, len(opt_outs), recipients)
        SmsOptOut.objects.filter(pk__in=[o.pk for o in opt_outs]).update(
            coordinator_notified_at=now
        )
        stats.notified += len(opt_outs)


def _notify(trial, ids: str, count: int, recipients: list[str]) -> None:
    send_mail(
        subject=f"[{trial.code}] SMS tracking stopped by {count} participant(s)",
        message=(
            f"These participants replied STOP and receive no more SMS: {ids}.\n"
            f"Their earlier answers are kept. See the SMS follow-up list:\n"
            f"{settings.FOLLOWUP_BASE_URL.rstrip('/')}/followup/{trial.code}/sms/\n"
        ),
        from_email=None,
        recipient_list=recipients,
    )


def dispatch_due(now: datetime, batch_size: int) -> SmsStats:
    stats = SmsStats()
    plan_due(now, batch_size, stats)
    claimed = claim_waiting(
        now,
        batch_size,
        SmsMessage,
        (
            "prompt",
            "participant__trial",
            "participant__sms_opt_out",
            "participant__personal_details",
        ),
    )
    send_claimed(claimed, now, stats)
    return stats


def run(batch_size: int | None = None, max_batches: int | None = None, now=None) -> SmsStats:
    batch_size = batch_size or settings.FOLLOWUP_BATCH_SIZE
    max_batches = max_batches or settings.FOLLOWUP_MAX_BATCHES_PER_RUN
    total = SmsStats()
    at = now or timezone.now()
    interpret_pending(at, batch_size, total)
    for _batch in range(max_batches):
        stats = dispatch_due(now or timezone.now(), batch_size)
        total.add(stats)
        if stats.prompts < batch_size and stats.messages < batch_size:
            break
    apply_pending_reports(at, total)
    notify_opt_outs(at, total)
    return total


# --- replies ------------------------------------------------------------------------------------


def store(provider_id: str, sender: str, body: str, now: datetime | None = None) -> tuple:
    """The raw reply, once per provider id: (InboundSms, created)."""
    return InboundSms.objects.get_or_create(
        provider_id=provider_id,
        defaults={"sender": sender[:32], "body": body, "received_at": now or timezone.now()},
    )


def _senders(number: str) -> list[Participant]:
    """The active participants with this mobile number (a parent and a child may share
    one), locked: one reply at a time per participant, and the dispatcher, which locks
    the participants of its batch too, leaves them to its next run meanwhile."""
    if not number:
        return []
    ids = PersonalDetails.objects.filter(
        mobile=number, participant__status=Participant.ACTIVE
    ).values("participant_id")
    return list(
        Participant.objects.select_for_update(of=("self",))
        .filter(pk__in=ids)
        .select_related("trial__sms_schedule", "personal_details", "sms_opt_out")
        .order_by("pk")
    )


def _oldest_open(participants: list[Participant]) -> SmsPrompt | None:
    """The oldest question still waiting for a reply from this number."""
    return (
        SmsPrompt.objects.select_for_update()
        .filter(participant__in=participants, status=SmsPrompt.SENT)
        .order_by("sent_at", "week", "position", "pk")
        .first()
    )


@transaction.atomic
def receive(inbound_id: int, now: datetime | None = None) -> InboundSms:
    """Interpret one stored reply (idempotent: a reply already interpreted is left)."""
    now = now or timezone.now()
    inbound = InboundSms.objects.select_for_update().get(pk=inbound_id)
    if inbound.outcome != InboundSms.PENDING:
        return inbound
    senders = _senders(inbound.sender)
    inbound.processed_at, inbound.error = now, ""
    if not senders:
        # Nobody we may contact: no answer, and nothing personal kept.
        inbound.outcome, inbound.sender, inbound.body = InboundSms.UNKNOWN_SENDER, "", ""
        inbound.save()
        return inbound
    prompt = _oldest_open(senders)
    replaceable = None if prompt else _replaceable(senders, now)
    target = prompt or replaceable
    participant = next(p for p in senders if target is None or p.pk == target.participant_id)
    inbound.participant = participant
    language = language_of(participant)
    schedule = schedule_of(participant.trial)
    question = (
        question_spec(schedule, (prompt or replaceable).question)
        if (schedule and (prompt or replaceable))
        else {"min": 0, "max": 10}
    )
    parsed = parse_reply(inbound.body, question["min"], question["max"], language)
    inbound.reason = parsed.reason
    if parsed.kind == STOP:
        inbound.outcome = InboundSms.STOP
        inbound.save()
        for sender in senders:  # the number asked: nobody is texted on it any more
            opt_out(sender, now, source="reply", reply=inbound)
        return inbound
    if hasattr(participant, "sms_opt_out") or schedule is None:
        inbound.outcome = InboundSms.NO_QUESTION
        inbound.save()
        return inbound
    if target is None:
        inbound.outcome = InboundSms.NO_QUESTION
        inbound.save()
        return inbound
    inbound.prompt = target
    if parsed.kind != NUMBER:
        inbound.outcome = InboundSms.UNCLEAR
        inbound.save()
        if prompt is not None and prompt.clarified_at is None:
            prompt.clarified_at = now
            prompt._change_reason = f"unclear reply ({parsed.reason}); asked again"
            prompt.save(update_fields=["clarified_at"])
            SmsMessage.objects.bulk_create(
                [_message(participant, prompt, SmsMessage.CLARIFICATION, question, now)],
                ignore_conflicts=True,
            )
        return inbound
    inbound.value = parsed.value
    inbound.outcome = InboundSms.ANSWER if prompt is not None else InboundSms.REPLACED
    inbound.save()
    _answer(target, parsed.value, inbound, schedule, now, replacing=prompt is None)
    return inbound


REPLACEABLE_DAYS = 7  # after the last week, a reply replaces nothing once it is this old


def _replaceable(participants, now: datetime) -> SmsPrompt | None:
    """The number's last answered question, if no later question has gone out (and,
    after the last week, while it is less than a week old)."""
    last = (
        SmsPrompt.objects.select_for_update()
        .filter(participant__in=participants, sent_at__isnull=False)
        .order_by("-sent_at", "-week", "-position", "-pk")
        .first()
    )
    if last is None or last.status != SmsPrompt.ANSWERED:
        return None
    return last if last.sent_at >= now - timedelta(days=REPLACEABLE_DAYS) else None


def _answer(prompt, value, inbound, schedule, now, replacing: bool) -> None:
    old = prompt.value
    prompt.value, prompt.reply = value, inbound
    if replacing:
        prompt._change_reason = f"second reply replaced {old} by {value}"
    else:
        prompt.status, prompt.answered_at, prompt.next_action_at = SmsPrompt.ANSWERED, now, None
        prompt._change_reason = "answered by SMS"
    prompt.save()
    _record_response(prompt, value, now, replacing, old)
    codes = [q["code"] for q in schedule.questions]
    position = codes.index(prompt.question) if prompt.question in codes else len(codes)
    if not replacing and position + 1 < len(codes):
        # One question at a time: the week's next one goes out now.
        SmsPrompt.objects.get_or_create(
            participant=prompt.participant,
            week=prompt.week,
            question=codes[position + 1],
            defaults={"position": position + 1, "due_at": now, "next_action_at": now},
        )


def tracking_timepoint(trial) -> Timepoint | None:
    """The protocol's timepoint that holds the SMS-tracking instrument (a few rows)."""
    return next((t for t in trial.timepoints.all() if INSTRUMENT in t.instruments), None)


def _record_response(prompt, value, now, replacing, old) -> None:
    """The week's answers as a response of the SMS-tracking instrument."""
    from questionnaires.instruments import get

    participant = prompt.participant
    timepoint = tracking_timepoint(participant.trial)
    if timepoint is None:
        return
    response = (
        Response.objects.select_for_update()
        .filter(
            participant=participant,
            timepoint=timepoint,
            instrument=INSTRUMENT,
            entry=Response.FINAL,
            week=prompt.week,
        )
        .first()
    )
    if response is None:
        response = Response(
            participant=participant,
            timepoint=timepoint,
            instrument=INSTRUMENT,
            version=INSTRUMENT_VERSION,
            entry=Response.FINAL,
            week=prompt.week,
            mode=Response.PATIENT_SMS,
            language=language_of(participant),
            started_at=prompt.sent_at or now,
        )
    else:
        response._change_reason = (
            f"SMS reply replaced {prompt.question} {old} by {value}"
            if replacing
            else f"SMS reply to {prompt.question}"
        )
    response.answers = {**response.answers, prompt.question: value}
    response.scores = get(INSTRUMENT, INSTRUMENT_VERSION).score(response.answers)
    response.completed_at = response.completed_at or now
    response.save()


@transaction.atomic
def opt_out(participant, now: datetime, source: str, reply=None) -> bool:
    """Stop all SMS to the participant; confirm once. False if already stopped."""
    Participant.objects.select_for_update(of=("self",)).filter(pk=participant.pk).first()
    record, created = SmsOptOut.objects.get_or_create(
        participant=participant, defaults={"at": now, "source": source, "reply": reply}
    )
    if not created:
        return False
    cancel_participant(participant.pk, f"participant stopped SMS ({source})", now)
    if source == "reply":
        # A provider-side opt-out (the gateway refuses to send) cannot be confirmed by SMS.
        SmsMessage.objects.bulk_create(
            [
                _message(
                    participant,
                    None,
                    SmsMessage.STOP_CONFIRMATION,
                    None,
                    now,
                    key=f"stop:{participant.pk}",
                )
            ],
            ignore_conflicts=True,
        )
    return True
