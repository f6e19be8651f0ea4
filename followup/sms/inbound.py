"""Replies to the weekly SMS: stored raw by the webhook first (:func:`store`), then
interpreted (:func:`receive`, again by :func:`interpret_pending` when that failed): a
reply answers the participant's oldest open question; a clean answer becomes data (the
week's ``sms_tracking`` response) and plans the week's next question; an unclear one
gets one clarification per question and week; STOP ends all SMS at once
(:func:`opt_out`) and is confirmed once; a number that belongs to no active participant
gets no answer and is erased from the stored reply."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_noop as N_

from enrolment.audit import UNCLEAR_REPLY
from enrolment.guards import WriteRefused
from enrolment.models import Participant, PersonalDetails, Timepoint
from questionnaires.models import Response
from trialsite.compiled import CompiledQuery

from ..models import InboundSms, SmsMessage, SmsOptOut, SmsPrompt
from .prompts import cancel_participant, language_of, message_for, question_spec, schedule_of
from .replies import NUMBER, STOP, parse_reply

if TYPE_CHECKING:
    from .tracking import SmsStats

logger = logging.getLogger(__name__)

INSTRUMENT = "sms_tracking"
INSTRUMENT_VERSION = 1


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


def store(provider_id: str, sender: str, body: str, now: datetime | None = None) -> tuple:
    """The raw reply, once per provider id: (InboundSms, created)."""
    return InboundSms.objects.get_or_create(
        provider_id=provider_id,
        defaults={"sender": sender[:32], "body": body, "received_at": now or timezone.now()},
    )


# Every reply asks both: compiled once (trialsite.compiled), building and compiling them
# was two fifths of interpreting a reply.
_SENDERS = CompiledQuery(
    lambda number: Participant.objects.select_for_update(of=("self",))
    .filter(
        pk__in=PersonalDetails.objects.filter(
            mobile=number, participant__status=Participant.ACTIVE
        ).values("participant_id")
    )
    .select_related("trial__sms_schedule", "personal_details", "sms_opt_out")
    .order_by("pk"),
    number=str,
)
_TIMEPOINTS = CompiledQuery(
    lambda trial: Timepoint.objects.filter(trial_id=trial).order_by("order", "pk"), trial=int
)


def _senders(number: str) -> list[Participant]:
    """The active participants with this mobile number (a parent and a child may share
    one), locked: one reply at a time per participant, and the dispatcher, which locks
    the participants of its batch too, leaves them to its next run meanwhile."""
    if not number:
        return []
    return _SENDERS.all(number=number)


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
            prompt._change_reason = UNCLEAR_REPLY % {"reason": parsed.reason}
            prompt.save(update_fields=["clarified_at"])
            SmsMessage.objects.bulk_create(
                [message_for(participant, prompt, SmsMessage.CLARIFICATION, question, now)],
                ignore_conflicts=True,
            )
        return inbound
    inbound.value = parsed.value
    inbound.outcome = InboundSms.ANSWER if prompt is not None else InboundSms.REPLACED
    inbound.save()
    # The sender as locked above, with their trial and details: the answer's response
    # reads them (two queries a reply otherwise).
    target.participant = participant
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
        prompt._change_reason = N_("answered by SMS")
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
    """The protocol's timepoint that holds the SMS-tracking instrument (a few rows), with
    its trial in hand."""
    for timepoint in _TIMEPOINTS.all(trial=trial.pk):
        if INSTRUMENT in timepoint.instruments:
            timepoint.trial = trial
            return timepoint
    return None


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
        # Already in hand: the save computes the window flag with them in the same write
        # rather than reading them again and updating the row after it.
        response.participant, response.timepoint = participant, timepoint
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
                message_for(
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
