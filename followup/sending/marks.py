"""Sent marks and in-flight marks: what a killed dispatcher leaves behind so that the
one taking over neither loses nor doubles a message (:mod:`followup.sending`).

The in-flight marks of a batch are written in one call (``set_many``, one pipelined
round trip on Redis) before the first provider call: each says "this message may be in
the provider's hands since the batch began". A sent mark follows each acceptance at
once: deferring it to the end of the batch would let a kill double every message
accepted since. On Redis it is sent at acceptance and its reply read later
(:mod:`.stream`), so a batch costs three round trips to the cache (read, in-flight
marks, delete) and one blocking read of the sent marks' replies, where it cost one
round trip per message more.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import caches
from django.utils import timezone

from ..models import Message
from . import stream

logger = logging.getLogger(__name__)


def sent_marks():
    return caches["followup"]


def _key(kind: str, message) -> str:
    # Ids and idempotency keys repeat across installations and recreated databases; a
    # random nonce does not, so a mark never stands for another message.
    seed = f"{message.mark_nonce}:{message.idempotency_key}"
    tag = hashlib.sha256(seed.encode()).hexdigest()[:16]
    return f"followup:{kind}:{message.idempotency_key}:{tag}"


def mark_key(message) -> str:
    return _key("sent", message)


def in_flight_key(message) -> str:
    return _key("inflight", message)


# Twilio's and our clocks differ by a little: a provider record this much older than
# the in-flight mark still counts.
CLOCK_SKEW = timedelta(minutes=1)


@dataclass
class Marks:
    """What the claimed messages tried before left behind: ``sent`` (message id ->
    (provider id, sent at)) the provider accepted; ``uncertain`` (message id -> when the
    attempt began) may or may not have reached it: a dispatcher died during the call,
    or the call ended without an answer."""

    sent: dict
    uncertain: dict

    def since(self, message) -> datetime:
        return self.uncertain[message.pk] - CLOCK_SKEW


def read_marks(messages: list) -> Marks:
    """The marks of the claimed messages tried before (``attempts > 1``): one cache
    call, often none. A message with an in-flight mark (in the cache or, when the cache
    was down, its ``in_flight_at``) and no sent mark is uncertain; when the cache cannot
    be read every message tried before is, since its mark may be there."""
    tried = [m for m in messages if m.attempts > 1]
    marks = Marks({}, {})
    if not tried:
        return marks
    keys = [key for m in tried for key in (mark_key(m), in_flight_key(m))]
    try:
        found = sent_marks().get_many(keys)
    except Exception:  # noqa: BLE001 - the provider is asked, or the channel's rule decides
        logger.exception("could not read the sent marks; tried messages are uncertain")
        found = None
    for m in tried:
        if found is None:
            marks.uncertain[m.pk] = m.in_flight_at or m.created
        elif mark_key(m) in found:
            marks.sent[m.pk] = found[mark_key(m)]
        elif in_flight_key(m) in found or m.in_flight_at:
            marks.uncertain[m.pk] = found.get(in_flight_key(m)) or m.in_flight_at
    return marks


class InFlightUnrecorded(Exception):
    """Neither the cache nor the database took the in-flight mark: the call is not made."""


class Attempts:
    """One batch's record of its provider calls, kept where a killed worker leaves it:
    an in-flight mark before each call and a sent mark after the provider accepted, in
    the shared cache (no database query). When the cache fails, the batch goes on with
    the database instead: ``in_flight_at`` committed before each call and the outcome
    committed at acceptance, two queries a message, so that a kill doubles at most the
    one message being sent. If the database cannot take the mark either, the call is
    not made (the exception ends the batch; the claims are taken over later)."""

    def __init__(self, model, outcome_fields: list[str]):
        self.model = model
        self.outcome_fields = outcome_fields
        self.cache_up = True
        self.batch_marked: set = set()
        self.stream = None  # Redis: the sent marks pipelined (:mod:`.stream`)

    def begin_batch(self, messages: list) -> None:
        """One in-flight mark per message about to be tried, in one cache call."""
        if not messages or not self.cache_up:
            return
        at = timezone.now()
        try:
            sent_marks().set_many(
                {in_flight_key(m): at for m in messages},
                timeout=settings.FOLLOWUP_SENT_MARK_SECONDS,
            )
            self.batch_marked = {m.pk for m in messages}
        except Exception:  # noqa: BLE001 - the database takes the marks, one by one
            logger.exception("could not write the in-flight mark; marking in the database")
            self.cache_up = False

    def begin(self, message) -> None:
        at = timezone.now()
        if self.cache_up and message.pk in self.batch_marked:
            return
        if self.cache_up:
            try:
                sent_marks().set(
                    in_flight_key(message), at, timeout=settings.FOLLOWUP_SENT_MARK_SECONDS
                )
                return
            except Exception:  # noqa: BLE001 - the database takes the mark instead
                logger.exception("could not write the in-flight mark; marking in the database")
                self.cache_up = False
        try:
            self.model.objects.filter(pk=message.pk).update(in_flight_at=at)
        except Exception as exc:
            raise InFlightUnrecorded(f"message {message.pk}: {exc}") from exc
        message.in_flight_at = at

    def accepted(self, message) -> None:
        """The provider accepted ``message`` (its outcome fields are set)."""
        message.in_flight_at = None
        if self.cache_up:
            try:
                cache = sent_marks()
                self.stream = self.stream or stream.for_cache(cache) or _Plain(cache)
                failed = self.stream.send(
                    message,
                    mark_key(message),
                    (message.provider_id, message.sent_at),
                    settings.FOLLOWUP_SENT_MARK_SECONDS,
                )
            except Exception:  # noqa: BLE001 - the database takes the outcome instead
                logger.exception("could not write the sent mark of message %s", message.pk)
                failed = [message]
            if not failed:
                return
            self.cache_up = False
            for each in failed:
                self._record(each)
            return
        self._record(message)

    def finish(self) -> None:
        """Before the batch's outcomes are recorded: every sent mark confirmed."""
        if self.stream is None:
            return
        try:
            failed = self.stream.finish()
        except Exception:  # noqa: BLE001 - the outcomes are recorded all the same
            logger.exception("could not confirm the sent marks")
            failed = []
        self.stream = None
        if failed:
            # Their outcome is written in the batch's update that follows at once.
            logger.warning("%s sent marks were not confirmed", len(failed))

    def _record(self, message) -> None:
        try:
            self.model.objects.filter(pk=message.pk).update(
                **{f: getattr(message, f) for f in self.outcome_fields}
            )
        except Exception:  # noqa: BLE001 - sent all the same; the batch's update records it
            logger.exception("could not record message %s as sent", message.pk)

    def unanswered(self, message, started: datetime) -> None:
        """The call ended without an answer (a timeout): the provider may have it, so
        the next attempt asks it, or follows the channel's rule, first."""
        message.in_flight_at = started


class _Plain:
    """The sent marks one ``set`` each, on caches that are no network round trip."""

    def __init__(self, cache):
        self.cache = cache

    def send(self, message, key: str, value, timeout) -> list:
        self.cache.set(key, value, timeout=timeout)
        return []

    def finish(self) -> list:
        return []


def forget_marks(messages: list) -> None:
    """Once the database holds the outcome the marks are not needed (and the embedded
    cache folder does not grow). An uncertain message keeps its in-flight mark."""
    keys = [mark_key(m) for m in messages if m.status == Message.SENT]
    keys += [
        in_flight_key(m)
        for m in messages
        if m.status
        in (Message.SENT, Message.RETRY, Message.FAILED, Message.SKIPPED, Message.PENDING)
        and m.in_flight_at is None
    ]
    if not keys:
        return
    try:
        sent_marks().delete_many(keys)
    except Exception:  # noqa: BLE001 - they expire by themselves
        logger.exception("could not delete %s marks", len(keys))
