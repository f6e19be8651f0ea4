"""Weekly SMS tracking: the dispatcher, one module per step around it.

The database is the source of truth, as for the emails (:mod:`followup.dispatch`):

- At enrolment each participant of a trial with an SMS schedule gets one
  :class:`~followup.models.SmsPrompt` per week for the schedule's first question, due at
  the configured weekday and local time (:mod:`.prompts`, with the texts).
- :func:`run` (a Celery beat task) plans what is due in batches (here): a question to
  send (the participant's open questions of earlier weeks close as unanswered as it goes
  out), one reminder ``reminder_after_hours`` after a question, and the end of the last
  week. Each planned SMS is written as an :class:`~followup.models.SmsMessage` with a
  unique idempotency key, then claimed and sent by the one send loop
  (:mod:`followup.sending`, with :mod:`.sending`'s ``send_one``), the outcomes recorded
  in one update per batch: a constant number of queries per batch.
- Replies are stored raw by the webhook, then interpreted (:mod:`.inbound`; STOP ends
  all SMS at once); delivery reports and opt-outs to tell follow (:mod:`.reports`); the
  coordinator's queries are in :mod:`.weekly`.

The names of those modules the pages, tasks and tests use are named here too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext_noop as N_

from enrolment.consent.reading import held_ids
from enrolment.models import Participant

from .. import reach
from ..bulk import bulk_set
from ..models import SmsMessage, SmsPrompt
from ..sending import loop
from ..sending.claim import claim_waiting
from .inbound import (  # noqa: F401 - named here for the webhook, erasure and tests
    INSTRUMENT,
    INSTRUMENT_VERSION,
    interpret_pending,
    opt_out,
    receive,
    store,
    tracking_timepoint,
)
from .prompts import (  # noqa: F401 - named here for the receivers, pages and tests
    body_for,
    cancel_participant,
    language_of,
    message_for,
    plan_participant,
    question_spec,
    reminder_at,
    schedule_of,
    wording,
)
from .reports import (  # noqa: F401 - named here for the webhook and tests
    FAILED_STATUSES,
    apply_pending_reports,
    apply_status_reports,
    notify_opt_outs,
)
from .sending import WeeklySmsSender
from .weekly import (  # noqa: F401 - named here for the pages, monitoring and tests
    CLOSED_WEEK,
    missed_in_a_row,
    missed_weeks_in_a_row,
    quiet_hours_counts,
    weekly_rates,
    weekly_rows,
)


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
    held = held_ids(p.participant for p in prompts)
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
            messages.append(message_for(participant, prompt, SmsMessage.QUESTION, question, now))
            prompt.status, prompt.sent_at = SmsPrompt.SENT, now
            prompt.next_action_at = reminder_at(
                now, schedule.reminder_after_hours, participant.trial.time_zone
            )
            sending.append(prompt)
            stats.questions += 1
        elif prompt.reminded_at is None:
            question = question_spec(schedule, prompt.question)
            messages.append(message_for(participant, prompt, SmsMessage.REMINDER, question, now))
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
            stale,
            update=True,
            default_change_reason=N_("next week's question sent"),
            default_date=now,
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
