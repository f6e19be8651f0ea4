"""The dispatcher: find due contacts in the database, claim, send, record.

Plain functions; the Celery task (:mod:`followup.tasks`) is a thin shell around
:func:`run`, and tests call :func:`dispatch_due` with an explicit ``now``.

One batch is two short steps, each a constant number of queries whatever its size:

1. **Plan** (one transaction). Open contacts whose ``next_action_at`` has come are
   locked (``SELECT ... FOR UPDATE SKIP LOCKED`` on PostgreSQL, so two dispatchers take
   disjoint batches). For each: answered -> completed; window closed -> missed;
   otherwise an invitation or the next reminder is *written* as a :class:`Message` row
   with the idempotency key ``<contact>:<kind>:<sequence>`` (unique in the database), and
   the contact's ``next_action_at`` moves on. Message rows and the contact's progress
   commit together: a contact never gets a second message for the same step, and a
   planned message is never forgotten.
2. **Send**. Waiting messages (pending, or retry whose ``next_attempt_at`` has come)
   are claimed by a conditional ``UPDATE`` to ``sending`` with a claim id and
   ``attempts + 1``, committed *before* the provider is called. Before each call an
   *in-flight mark* (when the attempt began) is written to the ``followup`` cache
   (Redis in production, files under ``VAR_DIR`` when embedded: shared by every
   worker); the moment the provider accepts, a *sent mark* (its provider id and time)
   replaces it in meaning (:class:`Attempts`). The outcomes (sent + provider id, or
   retry with back-off, or failed after ``FOLLOWUP_MAX_ATTEMPTS`` or a permanent
   error) are written in one bulk update, also when an exception ends the batch early
   (``finally``); then the batch's marks are deleted, the database holding the
   outcome. A claimed message that has been tried before (``attempts > 1``: a retry,
   or a claim taken over from a dispatcher that died) is looked up among the marks
   first, one ``get_many`` for the batch (:func:`read_marks`): a sent mark is recorded
   as sent, not handed to the provider again; an in-flight mark without a sent mark
   makes the message *uncertain*: the provider may have it. An uncertain SMS is looked
   up in the gateway's own record first (``find_sent``; Twilio's message list) and
   recorded from it when found; an uncertain email is sent again (an SMTP server cannot
   be asked; for a survey invitation a second copy, same Message-ID and link, is the
   lesser harm than a missed follow-up), as is an SMS whose backend keeps no record.

   Database queries per batch stay constant (13 for email, 14 for SMS in
   ``benchmarks/``); the cache sees two writes per message sent and at most two calls
   per batch besides. While the cache is down the marks go to the database instead:
   ``in_flight_at`` committed before the call and the outcome committed at acceptance,
   two queries per message, so that a kill still doubles at most the message in the
   provider's hands.

Delivery guarantee:

- *Never lost*: a message exists in the database before any attempt and leaves the
  waiting states only as sent, failed (visible on the overdue list and the message
  log) or skipped (its contact closed first). A dispatcher that dies while sending
  leaves its rows in ``sending``; after ``FOLLOWUP_SENDING_LEASE_SECONDS`` another
  dispatcher takes them over. Celery carries no state: a lost, flushed or doubled task
  only makes the next run find the same rows in the database. A mark is only ever
  about its own message: its key holds a random nonce (the contact's, or the SMS's),
  so another installation's or a recreated database's message (same ids, same
  idempotency key) never finds it.
- *Never sent twice*, with these exceptions, each narrow:

  - An email in the SMTP call when the process is killed (SIGKILL, power loss), or
    whose "250" never reached us: sent again, once, after the lease or at the retry
    (the rule above). At most one per killed dispatcher. An SMS in the same instant is
    not, as long as the gateway's record can be asked.
  - The dispatcher dies *and* its marks are lost before the takeover: Redis restarted
    without persistence or flushed, or the embedded cache folder removed, in the same
    minutes. Turn on Redis persistence (AOF) where this matters.
  - The cache can be written but not read at the takeover: every message tried before
    is uncertain (SMS: the gateway is asked; email: sent again).
  - One provider call that hangs longer than the lease: its claim is taken over and
    the message doubled. A dispatcher stops trying new messages after half the lease
    and hands the rest back, so set ``EMAIL_TIMEOUT`` (seconds) below that; Django's
    SMTP backend waits forever without it.

  If neither the cache nor the database can take an in-flight mark, the call is not
  made (:class:`InFlightUnrecorded` ends the batch). A Python exception never doubles
  a message (the ``finally`` records the outcome).

Without row locks (SQLite, the embedded installation) two dispatchers may read the
same due contacts; the unique idempotency key turns the second insert into a no-op
and the conditional claim lets only one of them send a message.
"""

from __future__ import annotations

import hashlib
import logging
import time as clock
import uuid
from collections import defaultdict
from dataclasses import asdict, dataclass, fields
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import caches
from django.db import connection, transaction
from django.db.models import F, Q
from django.template.loader import render_to_string
from django.utils import timezone, translation

from enrolment import consent
from questionnaires.models import Response

from .amendments import instruments_for
from .bulk import bulk_set
from .channels import Rendered, TransportError, channel_for
from .models import Contact, Message
from .planning import close_contacts
from .tokens import hash_token, link_for, token_for

logger = logging.getLogger(__name__)
HOLD_RECHECK = timedelta(hours=1)


@dataclass
class Counts:
    """Counters of one dispatcher run, added up batch by batch: what the sending step
    counts for email and SMS alike; each dispatcher adds its own planning counters."""

    sent: int = 0
    retried: int = 0
    failed: int = 0
    skipped: int = 0
    recovered: int = 0  # accepted before a dispatcher died: recorded from its mark, not resent
    uncertain: int = 0  # perhaps sent by a dispatcher that died, and sent again (no way to ask)
    messages: int = 0  # messages claimed

    def add(self, other) -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class Stats(Counts):
    invitations: int = 0
    reminders: int = 0
    completed: int = 0
    missed: int = 0
    contacts: int = 0  # contacts looked at
    held: int = 0  # not invited or reminded: data collection waits for a re-consent


def skip_locked(queryset):
    """Rows locked for this transaction; rows another dispatcher holds are skipped.
    SQLite has no row locks: it serialises writers, and the conditional updates and
    the unique idempotency key keep two dispatchers from doubling a message."""
    if connection.features.has_select_for_update_skip_locked:
        return queryset.select_for_update(skip_locked=True, of=("self",))
    return queryset


def reminder_days() -> list[float]:
    return list(settings.FOLLOWUP_REMINDER_DAYS)


def reminder_at(contact: Contact, number: int) -> datetime:
    """When reminder ``number`` (1-based) is due: the intervals add up from the invitation."""
    return contact.invited_at + timedelta(days=sum(reminder_days()[:number]))


def next_action(contact: Contact) -> datetime:
    """The next reminder if it falls inside the window, otherwise the window's end."""
    number = contact.reminders_sent + 1
    if number <= len(reminder_days()):
        at = reminder_at(contact, number)
        if at < contact.closes_at:
            return at
    return contact.closes_at


def language_of(contact: Contact) -> str:
    """The respondent's preferred language if the site speaks it, else the trial's."""
    available = {code for code, _name in settings.LANGUAGES}
    trial = contact.timepoint.trial
    if contact.participant_id:
        details = getattr(contact.participant, "personal_details", None)
        if details is not None and details.preferred_language in available:
            return details.preferred_language
    return trial.default_language if trial.default_language in available else "en"


def recipient_of(contact: Contact) -> str:
    if contact.participant_id:
        details = getattr(contact.participant, "personal_details", None)
        return details.email if details is not None else ""
    return contact.physiotherapist.user.email


# --- step 1: plan ----------------------------------------------------------------------


def _answered(contacts: list[Contact]) -> set[int]:
    """Ids of the contacts whose every instrument has a completed response (answered
    by the link, on paper or at the clinic: any way counts). One query."""
    participants = {c.participant_id for c in contacts if c.participant_id}
    physios = {c.physiotherapist_id for c in contacts if c.physiotherapist_id}
    rows = Response.objects.filter(
        Q(participant_id__in=participants) | Q(physiotherapist_id__in=physios),
        timepoint_id__in={c.timepoint_id for c in contacts},
        entry=Response.FINAL,
        completed_at__isnull=False,
    ).values_list("participant_id", "physiotherapist_id", "timepoint_id", "instrument")
    done = defaultdict(set)
    for participant_id, physio_id, timepoint_id, instrument in rows:
        done[(participant_id, physio_id, timepoint_id)].add(instrument)
    lists: dict = {}  # the instruments of each contact's protocol version
    asked = {c.pk: instruments_for(c, lists) for c in contacts}
    return {
        c.pk
        for c in contacts
        if asked[c.pk]
        and set(asked[c.pk]) <= done[(c.participant_id, c.physiotherapist_id, c.timepoint_id)]
    }


def _new_message(contact: Contact, kind: str, now: datetime) -> Message:
    sequence = contact.messages_planned
    contact.messages_planned += 1
    return Message(
        contact=contact,
        kind=kind,
        sequence=sequence,
        idempotency_key=f"{contact.pk}:{kind}:{sequence}",
        channel=Message.EMAIL,
        recipient=recipient_of(contact),
        template=f"followup/email/{kind}",
        language=language_of(contact),
        status=Message.PENDING,
        next_attempt_at=now,
        created=now,
    )


@transaction.atomic
def plan_due(now: datetime, batch_size: int, stats: Stats) -> None:
    due = Contact.objects.filter(status__in=Contact.OPEN, next_action_at__lte=now).order_by(
        "next_action_at", "id"
    )
    contacts = list(
        skip_locked(due).select_related(
            "timepoint__trial", "participant__personal_details", "physiotherapist__user"
        )[:batch_size]
    )
    stats.contacts += len(contacts)
    if not contacts:
        return
    answered = _answered(contacts)
    held = consent.held_ids(c.participant for c in contacts if c.participant_id)
    completed, missed, progressed, messages = [], [], [], []
    for contact in contacts:
        if contact.pk in answered:
            completed.append(contact)
        elif now >= contact.closes_at:
            missed.append(contact)
        elif contact.participant_id in held:
            # Looked at again later: the re-consent may come before the window closes.
            contact.next_action_at = min(now + HOLD_RECHECK, contact.closes_at)
            progressed.append(contact)
            stats.held += 1
        elif contact.status == Contact.SCHEDULED:
            messages.append(_new_message(contact, Message.INVITATION, now))
            contact.status = Contact.INVITED
            contact.invited_at = now
            contact.token_hash = contact.token_hash or hash_token(token_for(contact))
            contact.next_action_at = next_action(contact)
            progressed.append(contact)
            stats.invitations += 1
        else:
            number = contact.reminders_sent + 1
            if number <= len(reminder_days()) and reminder_at(contact, number) <= now:
                messages.append(_new_message(contact, Message.REMINDER, now))
                contact.reminders_sent = number
                stats.reminders += 1
            contact.next_action_at = next_action(contact)
            progressed.append(contact)
    # The unique idempotency key makes a second planner of the same step a no-op.
    Message.objects.bulk_create(messages, ignore_conflicts=True)
    if progressed:
        bulk_set(
            Contact,
            progressed,
            [
                "status",
                "invited_at",
                "reminders_sent",
                "messages_planned",
                "next_action_at",
                "token_hash",
            ],
        )
    stats.completed += close_contacts(completed, Contact.COMPLETED, "answered", now)
    stats.missed += close_contacts(missed, Contact.MISSED, "window closed unanswered", now)


# --- step 2: send ----------------------------------------------------------------------


def _waiting(now: datetime) -> Q:
    return Q(status__in=[Message.PENDING, Message.RETRY], next_attempt_at__lte=now) | _stale(now)


def _stale(now: datetime) -> Q:
    """Claimed by a dispatcher that has not recorded an outcome within the lease."""
    lease = timedelta(seconds=settings.FOLLOWUP_SENDING_LEASE_SECONDS)
    return Q(status=Message.SENDING, claimed_at__lt=now - lease)


MESSAGE_RELATED = (
    "contact__timepoint__trial",
    "contact__participant__personal_details",
    "contact__physiotherapist__user",
)


def claim_waiting(
    now: datetime, batch_size: int, model=Message, related: tuple[str, ...] = MESSAGE_RELATED
) -> list:
    """Claim up to ``batch_size`` waiting messages for this dispatcher and commit the
    claim (with the attempt counted) before anything is sent. ``model``: the emails'
    :class:`Message` or the SMS's :class:`~followup.models.SmsMessage` (same fields)."""
    claim = uuid.uuid4().hex
    with transaction.atomic():
        # Two index-ordered scans rather than one OR: each stops at its LIMIT.
        waiting = model.objects.filter(
            status__in=[Message.PENDING, Message.RETRY], next_attempt_at__lte=now
        ).order_by("next_attempt_at", "id")
        ids = list(skip_locked(waiting).values_list("id", flat=True)[:batch_size])
        stale = model.objects.filter(_stale(now)).order_by("claimed_at", "id")
        ids += list(skip_locked(stale).values_list("id", flat=True)[: batch_size - len(ids) + 1])
        ids = ids[:batch_size]
        if not ids:
            return []
        # Conditional: without row locks (SQLite) a row another dispatcher claimed in
        # the meantime no longer matches and stays theirs.
        model.objects.filter(_waiting(now), pk__in=ids).update(
            status=Message.SENDING, claim=claim, claimed_at=now, attempts=F("attempts") + 1
        )
    return list(
        model.objects.filter(claim=claim, status=Message.SENDING)
        .select_related(*related)
        .order_by("id")
    )


LINK_PLACEHOLDER = "https://link.invalid/personal-link/"


def render_message(message: Message, cache: dict | None = None) -> Rendered:
    """Subject, text and HTML from three templates, in the recipient's language.
    Nothing about the allocation is in the context.

    Messages of a batch mostly share template, language and window, so the templates
    are rendered once per such group (``cache``) and only the personal link differs:
    it is URL-safe base64, so it needs no escaping in the HTML either."""
    contact = message.contact
    context = {
        "kind": message.kind,
        "reminder": message.kind == Message.REMINDER,
        "window_closes": contact.window_closes,
        "office_email": settings.FOLLOWUP_TRIAL_OFFICE_EMAIL,
        "office_phone": settings.FOLLOWUP_TRIAL_OFFICE_PHONE,
        "language": message.language,
    }
    key = (message.template, *context.values())
    cache = {} if cache is None else cache
    if key not in cache:
        context["link"] = LINK_PLACEHOLDER
        with translation.override(message.language):
            subject = render_to_string(f"{message.template}_subject.txt", context)
            cache[key] = Rendered(
                subject=" ".join(subject.split()),
                text=render_to_string(f"{message.template}.txt", context),
                html=render_to_string(f"{message.template}.html", context),
            )
    generic, link = cache[key], link_for(contact)
    return Rendered(
        subject=generic.subject,
        text=generic.text.replace(LINK_PLACEHOLDER, link),
        html=generic.html.replace(LINK_PLACEHOLDER, link),
    )


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


OUTCOME_FIELDS = [
    "status",
    "provider_id",
    "error",
    "next_attempt_at",
    "sent_at",
    "duration_ms",
    "attempts",
    "in_flight_at",
]


# --- sent marks and in-flight marks ---------------------------------------------------


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

    def begin(self, message) -> None:
        at = timezone.now()
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
                sent_marks().set(
                    mark_key(message),
                    (message.provider_id, message.sent_at),
                    timeout=settings.FOLLOWUP_SENT_MARK_SECONDS,
                )
                return
            except Exception:  # noqa: BLE001 - the database takes the outcome instead
                logger.exception("could not write the sent mark of message %s", message.pk)
                self.cache_up = False
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


def forget_marks(messages: list) -> None:
    """Once the database holds the outcome the marks are not needed (and the embedded
    cache folder does not grow). An uncertain message keeps its in-flight mark."""
    keys = [mark_key(m) for m in messages if m.status == Message.SENT]
    keys += [
        in_flight_key(m)
        for m in messages
        if m.status in (Message.SENT, Message.RETRY, Message.FAILED, Message.SKIPPED)
        and m.in_flight_at is None
    ]
    if not keys:
        return
    try:
        sent_marks().delete_many(keys)
    except Exception:  # noqa: BLE001 - they expire by themselves
        logger.exception("could not delete %s marks", len(keys))


def send_claimed(messages: list[Message], now: datetime, stats: Stats) -> None:
    stats.messages += len(messages)
    started = clock.monotonic()
    channels = {}
    rendered_by_group: dict = {}
    marks = read_marks(messages)
    attempts = Attempts(Message, OUTCOME_FIELDS)
    try:
        budget = settings.FOLLOWUP_SENDING_LEASE_SECONDS / 2
        for message in messages:
            if message.pk in marks.sent:
                # The provider accepted it before the dispatcher that claimed it died.
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
                if message.pk in marks.uncertain:
                    message.in_flight_at = marks.uncertain[message.pk]
                continue
            if message.contact.status != Contact.INVITED:
                # Answered, cancelled, missed or moved since it was planned.
                message.status, message.next_attempt_at = Message.SKIPPED, None
                message.in_flight_at = None
                stats.skipped += 1
                continue
            if message.pk in marks.uncertain:
                # An SMTP server cannot be asked whether it has an email. A missed
                # follow-up costs the trial an outcome; a second copy (same Message-ID,
                # same link) costs the participant a glance: sent again.
                stats.uncertain += 1
            t0 = clock.monotonic()
            try:
                rendered = render_message(message, rendered_by_group)
                channel = channels.get(message.channel) or channel_for(message.channel)
                channels[message.channel] = channel
                attempts.begin(message)
                message.provider_id = channel.send(message, rendered)
            except TransportError as exc:
                record_failure(message, str(exc), exc.permanent, now)
                message.in_flight_at = None
            except InFlightUnrecorded:
                raise  # nothing was sent; the claims are taken over after the lease
            except Exception as exc:  # a bug or an unexpected provider error: retried, logged
                logger.exception("sending message %s failed", message.pk)
                record_failure(message, f"{type(exc).__name__}: {exc}", False, now)
                message.in_flight_at = None
            else:
                message.status, message.error, message.next_attempt_at = Message.SENT, "", None
                message.sent_at = now + timedelta(seconds=clock.monotonic() - started)
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
                bulk_set(Message, messages, OUTCOME_FIELDS)
                forget_marks(messages)
        finally:
            for channel in channels.values():
                channel.close()


def dispatch_due(now: datetime, batch_size: int) -> Stats:
    """One batch: plan what is due at ``now``, then send what is waiting."""
    stats = Stats()
    plan_due(now, batch_size, stats)
    send_claimed(claim_waiting(now, batch_size), now, stats)
    return stats


def run(batch_size: int | None = None, max_batches: int | None = None, now=None) -> Stats:
    """Batches until nothing more is due (or ``FOLLOWUP_MAX_BATCHES_PER_RUN``)."""
    batch_size = batch_size or settings.FOLLOWUP_BATCH_SIZE
    max_batches = max_batches or settings.FOLLOWUP_MAX_BATCHES_PER_RUN
    total = Stats()
    for _ in range(max_batches):
        stats = dispatch_due(now or timezone.now(), batch_size)
        total.add(stats)
        if stats.contacts < batch_size and stats.messages < batch_size:
            break
    return total
