"""Invitations, reminders and new links (:class:`~followup.models.Message`): written
for the channels the participant is reached by (:mod:`followup.reach`), sent by the
one loop with a ``send_one`` per channel:

- email: the three templates, through Django's email backend (:mod:`followup.channels`);
- SMS: a short text with the same personal link (:func:`sms_text`), through the SMS
  backend (``SMS_BACKEND``) with its delivery reports; an SMS that may be in the
  gateway's hands after a kill is looked up in the gateway's record first;
- post: handed to the post tray (status sent, no provider call); the paper app prints
  the pack from its "post today" list and sets ``posted_at``.

A message that fails for good (no address, refused, unreachable number, SMS opt-out)
hands its contact to the next channel of the trial's fallback order: the same step is
written again for that channel at once and the contact records why (``channel_note``).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import formats, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop as N_

from .. import reach
from ..bulk import bulk_set
from ..channels import EmailChannel, TransportError
from ..models import Contact, Message
from ..sms.backends import CannotTell, SmsError, get_backend, gsm7_safe, segments
from ..tokens import link_for
from .loop import Sender, Sent

logger = logging.getLogger(__name__)

# A message whose participant's data collection is held is looked at again this often
# (as the dispatcher re-checks a held contact: followup.dispatch.HOLD_RECHECK).
CONSENT_RECHECK = timedelta(hours=1)

OUTCOME_FIELDS = [
    "status",
    "provider_id",
    "error",
    "next_attempt_at",
    "sent_at",
    "duration_ms",
    "attempts",
    "in_flight_at",
    "held_at",
]

TEMPLATES = {
    reach.EMAIL: "followup/email/{kind}",
    reach.SMS: "followup/sms/{kind}",
    reach.POST: "paper/{kind}",
}

MAX_SEGMENTS = 2
OPTED_OUT = 21610  # Twilio: the recipient has opted out at the gateway


# --- texts -------------------------------------------------------------------------------


def sms_text(message: Message) -> str:
    """The SMS: who asks, what, the link and until when; GSM-7 only, two segments at
    most (the timepoint's name is shortened first, never the link)."""
    contact = message.contact
    trial = contact.timepoint.trial
    with translation.override(message.language):
        label = contact.timepoint.label_in(message.language)
        closes = formats.date_format(contact.window_closes, "SHORT_DATE_FORMAT")
        for name in (label, label[:20], ""):
            values = {"trial": trial.name.split(":")[0][:20], "questionnaire": name}
            if message.kind == Message.REMINDER:
                text = _(
                    "Reminder from %(trial)s: please answer your %(questionnaire)s questionnaire"
                )
            elif message.kind == Message.NEW_LINK:
                text = _("%(trial)s: here is your new link to the %(questionnaire)s questionnaire")
            else:
                text = _("%(trial)s: your %(questionnaire)s questionnaire is ready")
            text = gsm7_safe(
                " ".join((text % values).split())
                + " "
                + _("by %(date)s:") % {"date": closes}
                + " "
                + link_for(contact)
            )
            if segments(text) <= MAX_SEGMENTS:
                return text
    return text


# --- planning ------------------------------------------------------------------------------


def channels_of(contact: Contact) -> tuple[list[str], str]:
    if contact.participant_id is None:
        return [reach.EMAIL], ""
    return reach.channels_for(contact.participant, contact)


def only_by_post(contact: Contact) -> bool:
    """Does the next step of ``contact`` go by letter alone? A letter waits in the tray
    for staff, who empty it by day: quiet hours do not hold it back."""
    return channels_of(contact)[0] == [reach.POST]


def plan(contact: Contact, kind: str, now: datetime, language: str, email: str) -> list[Message]:
    """The messages of one step of ``contact`` (an invitation, a reminder): one per
    channel it goes by. A physiotherapist is reached by email. Unreachable: none, and
    ``contact.channel_note`` says why (the overdue list shows it)."""
    channels, note = channels_of(contact)
    contact.channel_note = note[:200]
    messages = []
    for channel in channels:
        sequence = contact.messages_planned
        contact.messages_planned += 1
        recipient = email
        if contact.participant_id is not None:
            recipient = reach.address_of(contact.participant, channel)
        messages.append(
            Message(
                contact=contact,
                kind=kind,
                sequence=sequence,
                idempotency_key=f"{contact.pk}:{kind}:{sequence}",
                channel=channel,
                recipient=recipient,
                template=TEMPLATES[channel].format(kind=kind),
                language=language,
                status=Message.PENDING,
                next_attempt_at=now,
                created=now,
                held_at=contact.held_at,
            )
        )
    contact.held_at = None  # counted on the messages it held back
    return messages


# --- sending ------------------------------------------------------------------------------


def status_callback_url() -> str | None:
    base = getattr(settings, "SMS_CALLBACK_BASE_URL", "")
    return f"{base.rstrip('/')}/sms/twilio/status/" if base else None


class MessageSender(Sender):
    model = Message
    outcome_fields = OUTCOME_FIELDS

    def __init__(self, render, opt_out=None, held: set[int] | frozenset = frozenset()):
        self.render = render  # followup.dispatch.render_message (the email templates)
        self.opt_out = opt_out  # followup.sms.tracking.opt_out
        self.held = held  # participants whose data collection waits for a re-consent
        self.rendered: dict = {}
        self.email: EmailChannel | None = None
        self.sms = None
        self.permanent: list[Message] = []
        self.refused_at_gateway = []

    def not_needed(self, message) -> bool:
        # Answered, cancelled, missed or moved since it was planned.
        return message.contact.status != Contact.INVITED

    def held_until(self, message, now):
        if message.contact.participant_id in self.held:
            return now + CONSENT_RECHECK  # nothing goes out, by any channel, until re-consent
        if message.channel == reach.POST:
            return None  # the tray is emptied by day, by staff
        trial = message.contact.timepoint.trial
        return None if reach.allowed(trial, now) else reach.next_allowed(trial, now)

    def prepare(self, message) -> None:
        if message.contact.participant_id and message.channel == reach.SMS:
            # A corrected number counts at once.
            message.recipient = reach.address_of(message.contact.participant, reach.SMS)

    def find_sent(self, message, marks, stats):
        if message.pk not in marks.uncertain:
            return None
        if message.channel != reach.SMS:
            # An SMTP server cannot be asked whether it has an email. A missed follow-up
            # costs the trial an outcome; a second copy (same Message-ID, same link)
            # costs the participant a glance: sent again. The tray is ours: no copy.
            stats.uncertain += 1
            return None
        self.sms = self.sms or get_backend()
        try:
            found = self.sms.find_sent(message.recipient, sms_text(message), marks.since(message))
        except CannotTell:
            stats.uncertain += 1
            return None
        except SmsError as exc:  # never permanent: the message itself may be fine
            raise SmsError(f"could not ask the gateway whether it has this SMS: {exc}") from exc
        if found is None:
            return None
        return Sent(found.provider_id, found.status)

    def send_one(self, message) -> Sent:
        if message.channel == reach.EMAIL:
            self.email = self.email or EmailChannel()
            return Sent(self.email.send(message, self.render(message, self.rendered)))
        if message.channel == reach.SMS:
            self.sms = self.sms or get_backend()
            if not message.recipient:
                raise SmsError(str(reach.MISSING[reach.SMS]), permanent=True)
            if reach.opted_out_of_sms(message.contact.participant):
                raise SmsError(_("opted out of SMS"), permanent=True)
            result = self.sms.send(
                message.recipient, sms_text(message), status_callback=status_callback_url()
            )
            return Sent(result.provider_id, result.status)
        if message.channel == reach.POST:
            if not message.recipient.strip():
                raise TransportError(str(reach.MISSING[reach.POST]), permanent=True)
            return Sent(f"post-tray-{message.pk}")
        raise TransportError(f"no channel {message.channel!r}", permanent=True)

    def failed(self, message, exc) -> None:
        if exc.permanent and message.contact.participant_id:
            self.permanent.append(message)
        if getattr(exc, "code", None) == OPTED_OUT and message.contact.participant_id:
            self.refused_at_gateway.append(message.contact.participant)

    def after(self, messages, now) -> None:
        for participant in self.refused_at_gateway:
            # Stopped at the gateway (Twilio's own STOP): an opt-out, as for the weekly SMS.
            if self.opt_out is not None:
                self.opt_out(participant, now, source="provider")
        fall_back(self.permanent, now)

    def close(self) -> None:
        if self.email is not None:
            self.email.close()


@transaction.atomic
def fall_back(failed: list[Message], now: datetime) -> int:
    """Each message that failed for good hands its contact to the next usable channel:
    the same step is planned again there, and the contact says why. Returns how many
    contacts moved on."""
    moved = []
    for message in failed:
        contact = Contact.objects.select_for_update(of=("self",)).get(pk=message.contact_id)
        if contact.status != Contact.INVITED or contact.channel not in ("", message.channel):
            continue  # closed, or already moved on by another message of the step
        participant = message.contact.participant
        why = f"{message.channel} failed: {reach.short_error(message.error)}"
        reached = (
            Message.objects.filter(contact=contact, kind=message.kind, created=message.created)
            .exclude(pk=message.pk)
            .exclude(status__in=[Message.FAILED, Message.SKIPPED])
            .values_list("channel", flat=True)
            .first()
        )
        if reached:
            # "Both": the step reached the participant by its other channel.
            contact.channel_note = f"{why}; reached by {reached}"[:200]
            bulk_set(Contact, [contact], ["channel_note"])
            continue
        following = reach.next_channel(participant, message.channel)
        if not following:
            contact.channel_note = f"unreachable: {why}"[:200]
            bulk_set(Contact, [contact], ["channel_note"])
            continue
        contact.participant = participant
        contact.channel = following
        contact.channel_note = f"by {following} ({why})"[:200]
        language = message.language
        planned = plan(contact, message.kind, now, language, "")
        contact.channel_note = f"by {following} ({why})"[:200]
        Message.objects.bulk_create(planned, ignore_conflicts=True)
        bulk_set(Contact, [contact], ["channel", "channel_note", "messages_planned"])
        moved.append(contact)
    if moved:
        Contact.history.bulk_history_create(
            moved,
            update=True,
            default_change_reason=N_("channel failed; next channel"),
            default_date=now,
        )
    return len(moved)
