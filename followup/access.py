"""Who sees which contacts and messages: querysets, so a view cannot forget."""

from __future__ import annotations

from enrolment.models import Participant
from trialsite import roles

from .models import Contact, Message, SmsMessage

# Roles that may read a trial's message log (recipients only where personal details are).
MESSAGE_LOG = {roles.COORDINATOR, roles.DATA_MANAGER, roles.ADMINISTRATOR, roles.STATISTICIAN}
RESCHEDULE = {roles.COORDINATOR, roles.ADMINISTRATOR}


def contacts_visible_to(user, trial):
    """Participant contacts of ``trial`` the user may see (a physiotherapist: own clinic)."""
    visible = Participant.objects.visible_to(user).filter(trial=trial).values("pk")
    return Contact.objects.filter(participant__in=visible)


def messages_visible_to(user, trial):
    if not roles.has_any(user, trial, MESSAGE_LOG):
        return Message.objects.none()
    return Message.objects.filter(contact__timepoint__trial=trial)


def sms_messages_visible_to(user, trial):
    if not roles.has_any(user, trial, MESSAGE_LOG):
        return SmsMessage.objects.none()
    return SmsMessage.objects.filter(participant__trial=trial)


def may_see_recipients(user, trial) -> bool:
    """Trial-wide roles allowed personal details (the log spans the whole trial)."""
    return roles.has_any(user, trial, roles.PERSONAL_DETAILS - {roles.PHYSIOTHERAPIST})


def may_reschedule(user, trial) -> bool:
    return roles.has_any(user, trial, RESCHEDULE)
