"""Demo: BetterBack participants on every channel (email, SMS, both, post) and one that
no channel can reach, so that the participant pages show the choice, the overdue list
shows the unreachable one, and the "post today" list (the paper app) has packs to print.

Preferences are changed the way staff change them (an audited change with a reason);
the post messages go through the dispatcher's one send loop, which hands them to the
post tray. Idempotent: a second run changes nothing.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction

from enrolment.actions import update_personal_details
from enrolment.models import Participant, PersonalDetails
from followup import dispatch
from followup.models import Contact, Message
from followup.sending.messages import plan

STREETS = ["Storgatan", "Kungsgatan", "Drottninggatan", "Järnvägsgatan", "Skolgatan"]
TOWNS = ["591 30 Motala", "595 30 Mjölby", "592 30 Vadstena", "582 22 Linköping"]


def _address(n: int) -> str:
    return f"{STREETS[n % len(STREETS)]} {n + 1}\n{TOWNS[n % len(TOWNS)]}"


@transaction.atomic
def assign_channels(trial, now: datetime) -> dict[str, int]:
    """Spread the active participants with an open questionnaire over the channels."""
    if PersonalDetails.objects.filter(
        participant__trial=trial, contact_preference=PersonalDetails.BY_POST
    ).exists():
        return {}
    people = list(
        Participant.objects.filter(
            trial=trial, status=Participant.ACTIVE, contacts__status=Contact.INVITED
        )
        .select_related("personal_details")
        .distinct()
        .order_by("pk")
    )
    counts = {"sms": 0, "both": 0, "post": 0, "unreachable": 0}
    post = []
    chosen = [p for p in people if not p.personal_details.is_erased][:15]
    # One more, whose questionnaires are still to come: no channel can reach them (on
    # the overdue list, with why).
    later = (
        Participant.objects.filter(
            trial=trial,
            status=Participant.ACTIVE,
            contacts__status__in=Contact.OPEN,
            personal_details__erased_at__isnull=True,
        )
        .exclude(pk__in=[p.pk for p in chosen])
        .select_related("personal_details")
        .order_by("-pk")
        .first()
    )
    if later is not None:
        chosen.append(later)
    elif len(chosen) > 4:
        later = chosen[-1]
    for n, person in enumerate(chosen):
        details = person.personal_details
        kind = ["post", "sms", "both", "post", "post", "sms", "both", "post"][n % 8]
        if person is later:
            kind = "unreachable"
        changes = {"contact_preference": kind, "postal_address": _address(n)}
        reason = (
            "patient asked for questionnaires by "
            + {
                "post": "post (answers on paper)",
                "sms": "SMS (has no email)",
                "both": "email and SMS",
                "unreachable": "post, address not yet given; email and phone no longer valid",
            }[kind]
        )
        if kind == "sms":
            changes["email"] = ""
        if kind == "unreachable":
            changes = {"contact_preference": "post", "email": "", "mobile": ""}
        update_personal_details(details, changes, reason)
        counts[kind] += 1
        if kind == "post":
            post.append(person)
    # The open questionnaire's next reminder goes to the post tray now.
    contacts = Contact.objects.filter(participant__in=post, status=Contact.INVITED)
    for contact in contacts.select_related(
        "participant__trial", "participant__personal_details", "timepoint__trial"
    ):
        messages = plan(contact, Message.REMINDER, now, dispatch.language_of(contact), "")
        Message.objects.bulk_create(messages)
        contact.reminders_sent = min(contact.reminders_sent + 1, len(dispatch.reminder_days()))
        contact._change_reason = "reminder by post (demo)"
        contact.save(update_fields=["messages_planned", "channel_note", "reminders_sent"])
    # Everything waiting goes through the one loop (email and SMS to the outbox, or held
    # by the quiet hours; post to the tray).
    dispatch.send_claimed(dispatch.claim_waiting(now, 1000), now, dispatch.Stats())
    return counts
