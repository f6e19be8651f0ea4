"""A new personal link for a patient who needs one (lost the email, or the link may have
been seen by someone else): staff never read a working link (:mod:`followup.outbox`),
so helping a patient means sending them a new one.

The contact gets a new nonce, so its token changes and every earlier link stops
working; the new link goes out by email or SMS (the participant's channels, never post)
through the dispatcher like any invitation
(within a minute), and the change is in the contact's history with who and why.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop as N_

from .dispatch import language_of, recipient_of
from .models import Contact, Message, new_nonce
from .planning import NOT_TO_BE_CONTACTED
from .sending.messages import plan
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
            _("A new link is only sent while the questionnaire is open (it is %(status)s).")
            % {"status": contact.get_status_display().lower()}
        )
    participant = contact.participant
    if participant is not None and participant.status in NOT_TO_BE_CONTACTED:
        raise NewLinkError(
            _("%(study_id)s is not to be contacted.") % {"study_id": participant.study_id}
        )
    if not (reason or "").strip():
        raise NewLinkError(_("Say why the patient needs a new link."))
    # By the channels the participant is reached by (followup.reach); a link is no use
    # on paper, so post is left out.
    messages = [
        m
        for m in plan(contact, Message.NEW_LINK, now, language_of(contact), recipient_of(contact))
        if m.channel != Message.POST and m.recipient
    ]
    if not messages:
        raise NewLinkError(_("There is no email address or mobile number on file to send it to."))
    contact.token_nonce = new_nonce()
    contact.token_hash = hash_token(token_for(contact))
    contact._change_reason = f"{N_('new link sent')}: {reason.strip()}"[:100]
    if user is not None:
        contact._history_user = user
    contact.save(update_fields=["token_nonce", "token_hash", "messages_planned"])
    for message in messages:
        if message.channel == Message.EMAIL:
            # The invitation's wording: the questionnaire is open, here is the link.
            message.template = "followup/email/invitation"
        message.save()
    return messages[0]
