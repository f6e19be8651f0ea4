"""A new personal link for a patient who needs one (lost the email, or the link may have
been seen by someone else): staff never read a working link (:mod:`followup.outbox`),
so helping a patient means sending them a new one.

The contact gets a new nonce, so its token changes and every earlier link stops
working; the new link goes out by email through the dispatcher like any invitation
(within a minute), and the change is in the contact's history with who and why.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from .dispatch import language_of, recipient_of
from .models import Contact, Message, new_nonce
from .planning import NOT_TO_BE_CONTACTED
from .tokens import hash_token, token_for


class NewLinkError(ValidationError):
    pass


@transaction.atomic
def send_new_link(contact: Contact, reason: str, user=None, now=None) -> Message:
    """Replace the contact's link and queue an email with the new one; audited."""
    now = now or timezone.now()
    contact = (
        Contact.objects.select_for_update(of=("self",))
        .select_related("timepoint__trial", "participant__personal_details")
        .get(pk=contact.pk)
    )
    if contact.status != Contact.INVITED:
        raise NewLinkError(
            f"A new link is only sent while the questionnaire is open (this contact is "
            f"{contact.get_status_display().lower()})."
        )
    participant = contact.participant
    if participant is not None and participant.status in NOT_TO_BE_CONTACTED:
        raise NewLinkError(f"{participant.study_id} is not to be contacted.")
    if not (reason or "").strip():
        raise NewLinkError("Say why the patient needs a new link.")
    recipient = recipient_of(contact)
    if not recipient:
        raise NewLinkError("There is no email address on file to send the link to.")
    contact.token_nonce = new_nonce()
    contact.token_hash = hash_token(token_for(contact))
    sequence = contact.messages_planned
    contact.messages_planned += 1
    contact._change_reason = f"new link sent: {reason.strip()}"[:100]
    if user is not None:
        contact._history_user = user
    contact.save(update_fields=["token_nonce", "token_hash", "messages_planned"])
    return Message.objects.create(
        contact=contact,
        kind=Message.NEW_LINK,
        sequence=sequence,
        idempotency_key=f"{contact.pk}:{Message.NEW_LINK}:{sequence}",
        channel=Message.EMAIL,
        recipient=recipient,
        # The invitation's wording: the questionnaire is open, here is the link.
        template="followup/email/invitation",
        language=language_of(contact),
        status=Message.PENDING,
        next_attempt_at=now,
        created=now,
    )
