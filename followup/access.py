"""Who sees which contacts and messages: querysets, so a view cannot forget."""

from __future__ import annotations

from django.db.models import Q
from django.utils import timezone

from enrolment import permissions as roles
from enrolment.models import Participant

from .models import Contact, Message, OutboxMessage, SmsMessage

# Roles that may read a trial's message log (recipients only where personal details are).
MESSAGE_LOG = roles.MESSAGE_LOG
RESCHEDULE = roles.RESCHEDULE


def contacts_visible_to(user, trial):
    """Participant contacts of ``trial`` the user may see (a physiotherapist: own clinic)."""
    visible = Participant.objects.visible_to(user).filter(trial=trial).values("pk")
    return Contact.objects.filter(participant__in=visible)


def contact_or_404(user, pk: int) -> Contact:
    """A participant's contact the user may see; 404 alike for another trial's or clinic's
    contact and for one that does not exist, so an id tells nothing."""
    from django.shortcuts import get_object_or_404

    visible = Participant.objects.visible_to(user).values("pk")
    return get_object_or_404(
        Contact.objects.select_related("timepoint__trial", "participant"),
        pk=pk,
        participant__in=visible,
    )


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
    return roles.has_any(user, trial, roles.OUTBOX_TRIAL_WIDE)


def may_reschedule(user, trial) -> bool:
    return roles.has_any(user, trial, RESCHEDULE)


# Roles that read a whole trial's outbox (recipients and bodies are personal data).
OUTBOX_TRIAL_WIDE = roles.OUTBOX_TRIAL_WIDE


def outbox_visible_to(user):
    """Outbox rows ``user`` may read: the whole trial for trial-wide roles allowed
    personal details, a physiotherapist's own clinic's participants, nothing for
    statisticians. Rows about no trial: administrators only."""
    if not user.is_authenticated or not user.is_active:
        return OutboxMessage.objects.none()
    if user.is_superuser:
        return OutboxMessage.objects.all()
    from enrolment.models import Physiotherapist, TrialRole

    trial_wide = TrialRole.objects.filter(user=user, role__in=OUTBOX_TRIAL_WIDE).values("trial_id")
    own_clinics = Physiotherapist.objects.filter(user=user, active=True).values("clinic_id")
    return OutboxMessage.objects.filter(
        Q(trial_id__in=trial_wide) | Q(participant__clinic_id__in=own_clinics)
    )


def may_read_outbox_of(user, trial) -> bool:
    return roles.has_any(user, trial, roles.PERSONAL_DETAILS)


def may_read_outbox(user) -> bool:
    """Whether the menu offers the outbox: some trial where the user sees personal details."""
    if user.is_superuser:
        return True
    return any(may_read_outbox_of(user, t) for t in roles.my_trials(user))


def context_processor(request) -> dict:
    """The menu offers the outbox only to whom it would show something."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"may_read_outbox": may_read_outbox(user)}


def overdue_participants() -> Q:
    """Participants with a contact past due and not answered, as a filter on Participant."""
    return Q(
        contacts__status__in=[Contact.INVITED, Contact.MISSED],
        contacts__due_at__lt=timezone.now(),
    )
