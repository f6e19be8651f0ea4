"""The post tray: post messages the dispatcher has handed over (status sent, not yet
posted), printed as packs and marked posted by the coordinator.

A pack whose participant's data collection is held until re-consent (an amendment
requires it, :func:`enrolment.consent.reading.held_ids`) leaves the tray while the hold lasts,
even one handed over before the hold began: it is listed apart, with why, and can be
neither printed nor marked posted. It comes back once the re-consent is recorded.

Access is in the querysets: trial-wide roles that deal with participants see the whole
trial's tray, a physiotherapist only their clinic's participants.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from enrolment import permissions as roles
from enrolment.consent.reading import held_ids, is_held
from enrolment.models import Participant
from followup.models import Message

from . import printing
from .models import Pack

TRAY_ROLES = roles.PAPER_TRAY


def may_post(user, trial) -> bool:
    return roles.has_any(user, trial, TRAY_ROLES)


def tray(user, trial):
    """Post messages of ``trial`` waiting to be printed and posted that ``user`` may see,
    without those of participants whose data collection is held (:func:`held_in_tray`)."""
    waiting = _waiting(user, trial)
    held = _held_participants(waiting)
    return waiting.exclude(contact__participant_id__in=held) if held else waiting


def held_in_tray(user, trial) -> list[Message]:
    """The tray's messages that wait for their participant's re-consent."""
    waiting = _waiting(user, trial)
    held = _held_participants(waiting)
    return list(waiting.filter(contact__participant_id__in=held)) if held else []


def _held_participants(waiting) -> set[int]:
    participants = Participant.objects.filter(
        pk__in=waiting.values("contact__participant_id")
    ).only("pk", "trial_id")
    return held_ids(participants)


def _waiting(user, trial):
    if not may_post(user, trial):
        return Message.objects.none()
    visible = Participant.objects.visible_to(user).filter(trial=trial).values("pk")
    return (
        Message.objects.filter(
            channel=Message.POST,
            status=Message.SENT,
            posted_at__isnull=True,
            contact__participant__in=visible,
        )
        .select_related("contact__participant__clinic", "contact__timepoint")
        .order_by("contact__participant__study_id", "contact__timepoint__order", "sequence")
    )


def print_tray(user, messages) -> bytes:
    """One PDF of the packs of ``messages`` (each message gets its pack, reused while
    unposted and unchanged)."""
    printed = [
        printing.pack_for(m.contact.participant, m.contact.timepoint, user=user, message=m)
        for m in messages
    ]
    return printing.render(printed)


@transaction.atomic
def mark_posted(user, trial, message_ids: list[int]) -> int:
    """Record that the packs of these tray messages went into the post: the message's
    posted_at/posted_by, and the pack's history (who, when) as the audit."""
    chosen = list(tray(user, trial).select_for_update(of=("self",)).filter(pk__in=message_ids))
    if len(chosen) != len(set(message_ids)):
        held = [m for m in held_in_tray(user, trial) if m.pk in message_ids]
        if held:
            raise ValidationError(held_reason(held[0].contact.participant))
        raise ValidationError(_("Some of the chosen packs are not in your post tray any more."))
    now = timezone.now()
    for message in chosen:
        pack = Pack.objects.filter(message=message, posted_at__isnull=True).order_by("-pk").first()
        if pack is None:
            raise ValidationError(
                _("Print the pack of %(study_id)s before marking it posted.")
                % {"study_id": message.contact.participant.study_id}
            )
        pack.posted_at, pack.posted_by = now, user
        pack._change_reason = f"posted: message {message.pk} ({message.kind} {message.sequence})"
        pack.save()
        message.posted_at, message.posted_by = now, user
        message.save(update_fields=["posted_at", "posted_by"])
    return len(chosen)


def held_reason(participant) -> str:
    return _(
        "The data collection of %(study_id)s is held until they re-consent: their pack "
        "may be neither printed nor posted."
    ) % {"study_id": participant.study_id}


def refuse_held(participant) -> None:
    """Printing a held participant's pack by hand is refused as the tray refuses it."""
    if is_held(participant):
        raise ValidationError(held_reason(participant))
