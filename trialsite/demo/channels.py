"""Demo: BetterBack participants on every channel (email, SMS, both, post), so that the
participant pages show the choice, an SMS with a link is in the outbox, and the "post
today" list (the paper app) has packs to print.

Preferences are changed the way staff change them (an audited change with a reason);
the post messages go through the dispatcher's one send loop, which hands them to the
post tray. Idempotent: a second run changes nothing.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction

from enrolment.actions.changes import update_personal_details
from enrolment.models import Participant, PersonalDetails
from followup import dispatch
from followup.links import send_new_link
from followup.models import Contact, Message
from followup.sending.messages import plan

STREETS = ["Storgatan", "Kungsgatan", "Drottninggatan", "Järnvägsgatan", "Skolgatan"]
TOWNS = ["591 30 Motala", "595 30 Mjölby", "592 30 Vadstena", "582 22 Linköping"]


def _address(n: int) -> str:
    return f"{STREETS[n % len(STREETS)]} {n + 1}\n{TOWNS[n % len(TOWNS)]}"


@transaction.atomic
def assign_channels(trial, now: datetime) -> dict[str, int]:
    """Spread active participants over the channels. The questionnaires still open get
    their next step by the new channel, within the trial's rules (at most 3 reminders):
    the one with reminders left by post (the "post today" list; the paper demo scans one
    of them back), the one with none left a new link by SMS, as a coordinator sends it."""
    if PersonalDetails.objects.filter(
        participant__trial=trial, contact_preference=PersonalDetails.BY_POST
    ).exists():
        return {}
    active = Participant.objects.filter(
        trial=trial, status=Participant.ACTIVE, personal_details__erased_at__isnull=True
    ).select_related("personal_details")
    open_contacts = list(
        Contact.objects.filter(participant__in=active, status=Contact.INVITED)
        .select_related("participant__trial", "participant__personal_details", "timepoint__trial")
        .order_by("reminders_sent", "pk")
    )
    reminders = len(dispatch.reminder_days())
    kinds: dict[int, str] = {}
    for contact in open_contacts:
        kinds.setdefault(
            contact.participant_id, "post" if contact.reminders_sent < reminders else "sms"
        )
    # Some more, whose questionnaires are over: their pages show the choice.
    others = active.exclude(pk__in=list(kinds)).order_by("pk")[:12]
    for n, person in enumerate(others):
        kinds[person.pk] = ["sms", "both", "post", "sms", "both", "email"][n % 6]
    counts: dict[str, int] = {}
    for n, person in enumerate(active.filter(pk__in=list(kinds)).order_by("pk")):
        kind = kinds[person.pk]
        changes = {"contact_preference": kind, "postal_address": _address(n)}
        if kind == "sms":
            changes["email"] = ""
        update_personal_details(person.personal_details, changes, REASONS[kind])
        counts[kind] = counts.get(kind, 0) + 1
    for contact in open_contacts:
        contact.participant.refresh_from_db()
        if contact.reminders_sent < reminders:
            # The next reminder, by the new channel (the post tray), the dispatcher's way.
            language = dispatch.language_of(contact)
            Message.objects.bulk_create(plan(contact, Message.REMINDER, now, language, ""))
            contact.reminders_sent += 1
            contact._change_reason = "reminder by post (demo)"
            contact.save(update_fields=["messages_planned", "channel_note", "reminders_sent"])
        else:
            send_new_link(contact, "patient lost the email; asked for the link by SMS", now=now)
    # Everything waiting goes through the one loop (SMS to the outbox, or held by the
    # quiet hours; post to the tray).
    dispatch.send_claimed(dispatch.claim_waiting(now, 1000), now, dispatch.Stats())
    return counts


REASONS = {
    "post": "patient asked for questionnaires by post (answers on paper)",
    "sms": "patient asked for questionnaires by SMS (has no email any more)",
    "both": "patient asked for questionnaires by email and SMS",
    "email": "patient asked for questionnaires by email",
}
