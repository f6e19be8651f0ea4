"""The one send loop: every claimed message, whatever its channel, goes through
:func:`send_claimed` with the same checks in the same order, the same sent time, the
same duration and the same error text. A channel is a small :class:`Sender`: whether a
message is still needed, may go out now, and ``send_one`` that hands it to the provider.
"""

from __future__ import annotations

import logging
import time as clock
from dataclasses import asdict, dataclass, fields
from datetime import datetime, timedelta

from django.conf import settings

from ..bulk import bulk_set
from ..channels import TransportError
from ..models import Message
from ..sms.backends import SmsError
from .marks import Attempts, InFlightUnrecorded, Marks, forget_marks, read_marks

logger = logging.getLogger(__name__)

FAILURES = (TransportError, SmsError)


@dataclass
class Counts:
    """Counters of one dispatcher run, added up batch by batch: what the sending step
    counts for every channel; each dispatcher adds its own planning counters."""

    sent: int = 0
    retried: int = 0
    failed: int = 0
    skipped: int = 0
    recovered: int = 0  # accepted before a dispatcher died: recorded from its mark, not resent
    uncertain: int = 0  # perhaps sent by a dispatcher that died, and sent again (no way to ask)
    messages: int = 0  # messages claimed
    held: int = 0  # quiet hours: handed back until the trial's next allowed time

    def add(self, other) -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class Sent:
    """The provider's answer: its id for the message, and its status at hand-over."""

    provider_id: str
    provider_status: str = ""


class Sender:
    """One kind of outgoing row and its channels. Subclasses set ``model`` and
    ``outcome_fields`` and implement :meth:`send_one`."""

    model = Message
    outcome_fields: list[str] = []

    def not_needed(self, message) -> bool:
        return False

    def held_until(self, message, now: datetime) -> datetime | None:
        """Quiet hours: the time to hand the message back to, or None to send now."""
        return None

    def prepare(self, message) -> None:
        """Fresh data just before the attempt (a corrected number counts at once)."""

    def find_sent(self, message, marks: Marks, stats: Counts) -> Sent | None:
        """For a message an earlier attempt may have handed to the provider: the
        provider's record of it, or None to send. Channels that cannot ask send again."""
        if message.pk in marks.uncertain:
            stats.uncertain += 1
        return None

    def send_one(self, message) -> Sent:
        raise NotImplementedError

    def failed(self, message, exc: Exception) -> None:
        """A failure the channel reacts to after the batch is recorded."""

    def after(self, messages: list, now: datetime) -> None:
        """After the outcomes are recorded (also when the batch ended early)."""

    def close(self) -> None:
        pass


def record_failure(message, error: str, permanent: bool, now: datetime) -> None:
    """Retry with back-off, or failed for good (a permanent error, or the last attempt)."""
    message.error = error[:2000]
    if permanent or message.attempts >= settings.FOLLOWUP_MAX_ATTEMPTS:
        message.status = Message.FAILED
        message.next_attempt_at = None
    else:
        message.status = Message.RETRY
        backoff = settings.FOLLOWUP_RETRY_SECONDS * 2 ** (message.attempts - 1)
        message.next_attempt_at = now + timedelta(seconds=backoff)


def _set(message, **values) -> None:
    for name, value in values.items():
        if hasattr(message, name):
            setattr(message, name, value)


def send_claimed(messages: list, now: datetime, stats: Counts, sender: Sender) -> None:
    """Send the claimed ``messages`` once each and record every outcome in one update.

    In order, per message: a sent mark (the provider accepted it before a dispatcher
    died) is recorded, not sent; past half the lease the rest is handed back; a message
    no longer needed is skipped; one outside the trial's quiet hours is handed back to
    its next allowed time; one that may be in the provider's hands is looked up there
    (where the channel can ask); then it is sent."""
    stats.messages += len(messages)
    started = clock.monotonic()
    marks = read_marks(messages)
    attempts = Attempts(sender.model, sender.outcome_fields)
    budget = settings.FOLLOWUP_SENDING_LEASE_SECONDS / 2
    try:
        attempts.begin_batch([m for m in messages if m.pk not in marks.sent])
        for message in messages:
            if message.pk in marks.sent:
                message.provider_id, message.sent_at = marks.sent[message.pk]
                message.status, message.error, message.next_attempt_at = Message.SENT, "", None
                message.in_flight_at = None
                stats.recovered += 1
                continue
            if clock.monotonic() - started > budget:
                # A slow provider: hand back what was not tried before the lease runs
                # out, or another dispatcher would take over claims still in use.
                message.status, message.next_attempt_at = Message.PENDING, now
                message.attempts -= 1
                message.in_flight_at = marks.uncertain.get(message.pk)
                continue
            if sender.not_needed(message):
                message.status, message.next_attempt_at = Message.SKIPPED, None
                message.in_flight_at = None
                stats.skipped += 1
                continue
            held = sender.held_until(message, now)
            if held is not None:
                message.status, message.next_attempt_at = Message.PENDING, held
                _set(message, held_at=getattr(message, "held_at", None) or now)
                message.attempts -= 1
                message.in_flight_at = marks.uncertain.get(message.pk)
                stats.held += 1
                continue
            t0 = clock.monotonic()
            attempt_began = now + timedelta(seconds=t0 - started)
            try:
                sender.prepare(message)
                found = sender.find_sent(message, marks, stats)
                if found is None:
                    attempts.begin(message)
                    result = sender.send_one(message)
            except FAILURES as exc:
                record_failure(message, str(exc), exc.permanent, now)
                message.in_flight_at = None
                if message.pk in marks.uncertain and message.status == Message.RETRY:
                    # The provider could not be asked: still uncertain at the next attempt.
                    message.in_flight_at = marks.uncertain[message.pk]
                elif getattr(exc, "unanswered", False):
                    attempts.unanswered(message, attempt_began)
                sender.failed(message, exc)
            except InFlightUnrecorded:
                raise  # nothing was sent; the claims are taken over after the lease
            except Exception as exc:  # a bug or an unexpected provider error: retried, logged
                logger.exception("sending message %s failed", message.pk)
                record_failure(message, f"{type(exc).__name__}: {exc}", False, now)
                message.in_flight_at = None
            else:
                message.status, message.error, message.next_attempt_at = Message.SENT, "", None
                # The batch's time, for every channel (each message's own duration is
                # in ``duration_ms``): a simulated clock gives exact times.
                message.sent_at = now
                if found is not None:
                    # The provider has it from the dispatcher that died: recorded.
                    _set(message, provider_id=found.provider_id)
                    _set(message, provider_status=found.provider_status)
                    message.in_flight_at = None
                    stats.recovered += 1
                    message.duration_ms = round((clock.monotonic() - t0) * 1000)
                    continue
                _set(message, provider_id=result.provider_id)
                _set(message, provider_status=result.provider_status)
                attempts.accepted(message)
            message.duration_ms = round((clock.monotonic() - t0) * 1000)
            if message.status == Message.SENT:
                stats.sent += 1
            elif message.status == Message.RETRY:
                stats.retried += 1
            else:
                stats.failed += 1
                logger.warning("message %s failed for good: %s", message.pk, message.error)
    finally:
        # Also after an exception that ends the batch: what was sent is recorded as
        # sent; the rest stays 'sending' and is taken over after the lease.
        try:
            if messages:
                attempts.finish()  # the sent marks confirmed before the outcomes
                bulk_set(sender.model, messages, sender.outcome_fields)
                forget_marks(messages)
                sender.after(messages, now)
        finally:
            sender.close()
