"""When a participant's personal data is erased (enrolment.actions.erasure.erase_personal_data):
stop every contact and scrub the copies of identifiers follow-up stores. Database writes
only, inside the erasure's transaction."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Q
from django.utils.translation import gettext_noop as N_

from enrolment.models import Participant

from . import planning
from .models import InboundSms, Message, OutboxMessage, SmsMessage
from .sms import tracking

# What a scrubbed message body reads as; the kind, times and status of the message stay.
SCRUBBED = "[erased]"


def stop_all_contact(participant: Participant, now: datetime) -> None:
    """The withdrawal and death paths: open contacts and SMS questions cancelled, messages
    not yet handed to a provider skipped. Already done if the erasure withdrew the
    participant; needed for one withdrawn from follow-up only."""
    planning.cancel_open_contacts(participant, N_("personal data erased"), now=now)
    tracking.cancel_participant(participant.pk, "personal data erased", now)
    # Not even the STOP confirmation: there is no number left to send it to.
    SmsMessage.objects.filter(
        participant=participant, status__in=[SmsMessage.PENDING, SmsMessage.RETRY]
    ).update(status=SmsMessage.SKIPPED, next_attempt_at=None)


def scrub_messages(participant: Participant, identifiers: set[str]) -> dict[str, int]:
    """Recipients and bodies of what was sent to the participant, and the texts of their
    replies, scrubbed; their kinds, times, statuses and parsed answers stay (research
    data). The embedded outbox has no link to a participant: its rows are found by the
    addresses the participant's details ever held."""
    addresses = {i for i in identifiers if "@" in i or i.startswith("+")}
    emails = Message.objects.filter(contact__participant=participant)
    sms = SmsMessage.objects.filter(participant=participant)
    # A provider's error may quote the address ("recipient refused: {'a@b.se'}").
    for model, rows in ((Message, emails), (SmsMessage, sms)):
        quoting = [m.pk for m in rows.exclude(error="") if any(i in m.error for i in identifiers)]
        model.objects.filter(pk__in=quoting).update(error=SCRUBBED)
    return {
        "email_messages": emails.exclude(recipient="").update(recipient=""),
        "sms_sent": sms.update(recipient="", body=SCRUBBED),
        # Replies matched to nobody (sender and text already erased) or to this participant;
        # another participant sharing the number keeps theirs.
        "sms_replies": InboundSms.objects.filter(
            Q(participant=participant) | Q(participant=None, sender__in=addresses)
        ).update(sender="", body=SCRUBBED),
        "outbox": OutboxMessage.objects.filter(recipient__in=addresses).update(
            recipient="", subject=SCRUBBED, body=SCRUBBED, html_body=""
        ),
    }


def scrub_late_copies() -> dict[str, int]:
    """Addresses written after an erasure committed, by a dispatcher that was mid-batch
    then (it read the number before, and records it with the outcome), or a reply being
    interpreted at that moment: found by their erased participant and scrubbed, with the
    embedded outbox's rows to the same addresses. Idempotent; `manage.py retention` runs it."""
    erased = Participant.objects.filter(personal_details__erased_at__isnull=False)
    emails = Message.objects.filter(contact__participant__in=erased).exclude(recipient="")
    sms = SmsMessage.objects.filter(participant__in=erased).exclude(recipient="")
    replies = InboundSms.objects.filter(participant__in=erased).exclude(sender="")
    addresses = {
        *emails.values_list("recipient", flat=True),
        *sms.values_list("recipient", flat=True),
        *replies.values_list("sender", flat=True),
    }
    return {
        "email_messages": emails.update(recipient=""),
        "sms_sent": sms.update(recipient="", body=SCRUBBED),
        "sms_replies": replies.update(sender="", body=SCRUBBED),
        "outbox": OutboxMessage.objects.filter(recipient__in=addresses).update(
            recipient="", subject=SCRUBBED, body=SCRUBBED, html_body=""
        ),
    }


def on_erased(sender, participant, identifiers, now, **kwargs) -> dict[str, int]:
    stop_all_contact(participant, now)
    return scrub_messages(participant, identifiers)
