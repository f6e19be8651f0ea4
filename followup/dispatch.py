"""The dispatcher of invitations and reminders: find due contacts, plan their messages,
then send what is waiting through the one send loop (:mod:`followup.sending`, where the
delivery guarantee is written down).

Plain functions; the Celery task (:mod:`followup.tasks`) is a thin shell around
:func:`run`, and tests call :func:`dispatch_due` with an explicit ``now``.

**Plan** (one transaction). Open contacts whose ``next_action_at`` has come are locked
(``SELECT ... FOR UPDATE SKIP LOCKED`` on PostgreSQL, so two dispatchers take disjoint
batches). For each: answered -> completed; window closed -> missed; outside the trial's
quiet hours -> looked at again at the next allowed time (:mod:`followup.reach`);
otherwise an invitation or the next reminder is *written* as one :class:`Message` row per
channel the participant is reached by, with the idempotency key
``<contact>:<kind>:<sequence>`` (unique in the database), and the contact's
``next_action_at`` moves on. Message rows and the contact's progress commit together: a
contact never gets a second message for the same step, and a planned message is never
forgotten.

Without row locks (SQLite, the embedded installation) two dispatchers may read the
same due contacts; the unique idempotency key turns the second insert into a no-op
and the conditional claim lets only one of them send a message.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext_noop as N_

from enrolment.consent.reading import held_ids
from enrolment.models import Timepoint, Trial
from questionnaires.models import Response

from . import reach
from .amendments import instruments_for
from .bulk import bulk_insert, bulk_set
from .channels import LINK_PLACEHOLDER, Rendered
from .models import Contact, Message
from .planning import close_contacts
from .sending import loop
from .sending.claim import claim_rows
from .sending.loop import Counts, record_failure  # noqa: F401 - the loop's, named here too
from .sending.marks import (  # noqa: F401 - named here for the channels and tests
    Attempts,
    InFlightUnrecorded,
    forget_marks,
    in_flight_key,
    mark_key,
    read_marks,
    sent_marks,
)
from .sending.messages import MessageSender, only_by_post
from .sending.messages import plan as plan_messages
from .sms import tracking
from .tokens import hash_token, link_for, token_for

logger = logging.getLogger(__name__)
HOLD_RECHECK = timedelta(hours=1)


@dataclass
class Stats(Counts):
    invitations: int = 0
    reminders: int = 0
    completed: int = 0
    missed: int = 0
    contacts: int = 0  # contacts looked at
    consent_held: int = 0  # not invited or reminded: data collection waits for a re-consent
    quiet: int = 0  # contacts due in the trial's quiet hours: looked at again at its opening


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

# Joined to each contact; its timepoint and trial are not (:func:`with_timepoints`).
CONTACT_RELATED = (
    "participant__personal_details",
    "participant__sms_opt_out",
    "physiotherapist__user",
)


def with_timepoints(contacts: list[Contact]) -> list[Contact]:
    """Give the contacts their timepoint and trial, loaded once for the batch (one
    query) rather than joined to every row: a trial carries a dozen JSON fields, and
    decoding them twice per message was a fifth of a dispatcher's time."""
    timepoints = Timepoint.objects.select_related("trial").in_bulk(
        {c.timepoint_id for c in contacts}
    )
    trials = {tp.trial_id: tp.trial for tp in timepoints.values()}
    others = {c.participant.trial_id for c in contacts if c.participant_id} - trials.keys()
    if others:
        trials.update(Trial.objects.in_bulk(others))
    for contact in contacts:
        contact.timepoint = timepoints[contact.timepoint_id]
        if contact.participant_id:
            contact.participant.trial = trials[contact.participant.trial_id]
    return contacts


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


def _new_messages(contact: Contact, kind: str, now: datetime) -> list[Message]:
    """One message per channel the respondent is reached by (none when unreachable:
    the contact's ``channel_note`` says why)."""
    return plan_messages(contact, kind, now, language_of(contact), recipient_of(contact))


def _new_message(contact: Contact, kind: str, now: datetime) -> Message:
    return _new_messages(contact, kind, now)[0]


@transaction.atomic
def plan_due(now: datetime, batch_size: int, stats: Stats) -> dict[int, Contact]:
    """Plan the due contacts' next step; returns the contacts that got messages (by id),
    for the send step to use as loaded."""
    due = Contact.objects.filter(status__in=Contact.OPEN, next_action_at__lte=now).order_by(
        "next_action_at", "id"
    )
    contacts = list(skip_locked(due).select_related(*CONTACT_RELATED)[:batch_size])
    stats.contacts += len(contacts)
    if not contacts:
        return {}
    with_timepoints(contacts)
    answered = _answered(contacts)
    held = held_ids(c.participant for c in contacts if c.participant_id)
    completed, missed, progressed, messages = [], [], [], []
    for contact in contacts:
        trial = contact.timepoint.trial
        if contact.pk in answered:
            completed.append(contact)
        elif now >= contact.closes_at:
            missed.append(contact)
        elif contact.participant_id in held:
            # Looked at again later: the re-consent may come before the window closes.
            contact.next_action_at = min(now + HOLD_RECHECK, contact.closes_at)
            progressed.append(contact)
            stats.consent_held += 1
        elif not reach.allowed(trial, now) and not only_by_post(contact):
            # Nobody is texted or emailed at night: the step waits for the morning.
            contact.next_action_at = min(reach.next_allowed(trial, now), contact.closes_at)
            contact.held_at = contact.held_at or now
            progressed.append(contact)
            stats.quiet += 1
        elif contact.status == Contact.SCHEDULED:
            messages.extend(_new_messages(contact, Message.INVITATION, now))
            contact.status = Contact.INVITED
            contact.invited_at = now
            contact.token_hash = contact.token_hash or hash_token(token_for(contact))
            contact.next_action_at = next_action(contact)
            progressed.append(contact)
            stats.invitations += 1
        else:
            number = contact.reminders_sent + 1
            if number <= len(reminder_days()) and reminder_at(contact, number) <= now:
                messages.extend(_new_messages(contact, Message.REMINDER, now))
                contact.reminders_sent = number
                stats.reminders += 1
            contact.next_action_at = next_action(contact)
            progressed.append(contact)
    # The unique idempotency key makes a second planner of the same step a no-op.
    bulk_insert(Message, messages)
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
                "channel_note",
                "held_at",
            ],
        )
    stats.completed += close_contacts(completed, Contact.COMPLETED, N_("answered"), now)
    stats.missed += close_contacts(missed, Contact.MISSED, N_("window closed unanswered"), now)
    return {m.contact.pk: m.contact for m in messages}


# --- step 2: send ----------------------------------------------------------------------


def claim_waiting(
    now: datetime, batch_size: int, contacts: dict[int, Contact] | None = None
) -> list[Message]:
    """Claim up to ``batch_size`` waiting messages (:mod:`followup.sending.claim`), each
    with its contact: the ``contacts`` this batch has just planned as they are (what
    they committed), the others loaded (one query, and one for their timepoints)."""
    messages = claim_rows(now, batch_size, Message)
    contacts = dict(contacts or {})
    missing = {m.contact_id for m in messages} - contacts.keys()
    if missing:
        loaded = Contact.objects.filter(pk__in=missing).select_related(*CONTACT_RELATED)
        contacts.update((c.pk, c) for c in with_timepoints(list(loaded)))
    for message in messages:
        message.contact = contacts[message.contact_id]
    return messages


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
    shared, link = cache[key], link_for(contact, cache)
    return Rendered(
        subject=shared.subject,
        text=shared.text.replace(LINK_PLACEHOLDER, link),
        html=shared.html.replace(LINK_PLACEHOLDER, link),
        shared=shared,
        link=link,
    )


def send_claimed(messages: list[Message], now: datetime, stats: Stats) -> None:
    """The one send loop with the invitations' channels (email, SMS, post). A message
    planned before its participant's data collection was held (a retry, a re-consent
    required since) waits too: handed back and looked at again in an hour."""
    held = held_ids(m.contact.participant for m in messages) if messages else set()
    loop.send_claimed(
        messages, now, stats, MessageSender(render_message, tracking.opt_out, held=held)
    )


def dispatch_due(now: datetime, batch_size: int) -> Stats:
    """One batch: plan what is due at ``now``, then send what is waiting."""
    stats = Stats()
    planned = plan_due(now, batch_size, stats)
    send_claimed(claim_waiting(now, batch_size, planned), now, stats)
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
