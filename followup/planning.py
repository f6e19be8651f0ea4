"""Writes to the contact schedule: plan at enrolment, cancel, reschedule.

Database writes only (the enrolment signals call these inside their transaction); the
dates come from the pure :mod:`followup.schedule`.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_noop as N_
from simple_history.utils import bulk_create_with_history

from enrolment.amendments import current_version
from enrolment.models import Participant, Physiotherapist, Timepoint
from implementation.workshops import workshop_days

from .bulk import bulk_set
from .models import Contact, Message
from .schedule import (
    PlannedContact,
    first_day_still_planned,
    local_to_utc,
    planned_contacts,
)


def send_time() -> time:
    return time.fromisoformat(settings.FOLLOWUP_SEND_TIME)


def planned_from(timepoint: Timepoint) -> date | None:
    """For a timepoint an amendment added: the first due date it was planned for
    (followup.amendments plans it for nobody whose invitation time had passed when the
    amendment was loaded). None for a timepoint of the trial's first version."""
    if timepoint.added_in_id is None:
        return None
    return first_day_still_planned(
        timepoint.added_in.loaded_at, timepoint.at or send_time(), timepoint.trial.time_zone
    )


def _timing(planned: PlannedContact, zone: ZoneInfo) -> dict:
    """The stored dates and UTC moments of one planned contact."""
    return {
        "due_on": planned.due,
        "window_opens": planned.window_opens,
        "window_closes": planned.window_closes,
        "due_at": planned.due_at,
        "opens_at": local_to_utc(planned.window_opens, time(0, 0), zone),
        # The window includes its last day: it closes at the next local midnight.
        "closes_at": local_to_utc(planned.window_closes + timedelta(days=1), time(0, 0), zone),
    }


def _contacts(planned, timepoints, trial, anchor_date, version=None, **respondent) -> list:
    """Unsaved contacts of one respondent (participant= or physiotherapist=)."""
    zone = ZoneInfo(trial.time_zone)
    return [
        Contact(
            timepoint=timepoints[p.timepoint],
            anchor_date=anchor_date,
            next_action_at=p.due_at,
            protocol_version=version,
            **respondent,
            **_timing(p, zone),
        )
        for p in planned
    ]


def plan_participant(participant: Participant) -> list[Contact]:
    """A contact per patient timepoint anchored on enrolment (baseline excluded: it is
    answered at the enrolment visit)."""
    trial = participant.trial
    timepoints = {
        tp.code: tp
        for tp in Timepoint.objects.filter(
            trial=trial, respondent=Timepoint.PATIENT, anchor=Timepoint.ENROLMENT, removed_in=None
        )
    }
    planned = planned_contacts(
        baseline=participant.enrolled_on,
        timepoints=timepoints.values(),
        time_zone=trial.time_zone,
        send_at=send_time(),
    )
    contacts = _contacts(
        planned,
        timepoints,
        trial,
        participant.enrolled_on,
        participant.protocol_version,
        participant=participant,
    )
    return bulk_create_with_history(
        contacts, Contact, default_change_reason=N_("planned at enrolment")
    )


@transaction.atomic
def replan_participant(participant: Participant, reason: str) -> int:
    """After a corrected enrolment date: contacts not yet sent move with it (audited);
    contacts already sent, answered or closed keep their history."""
    stale = list(
        Contact.objects.select_for_update()
        .select_related("timepoint")
        .filter(participant=participant, status=Contact.SCHEDULED)
        .exclude(anchor_date=participant.enrolled_on)
    )
    if not stale:
        return 0
    trial = participant.trial
    planned = {
        p.timepoint: p
        for p in planned_contacts(
            baseline=participant.enrolled_on,
            timepoints=[c.timepoint for c in stale],
            time_zone=trial.time_zone,
            send_at=send_time(),
        )
    }
    zone = ZoneInfo(trial.time_zone)
    for contact in stale:
        for field, value in _timing(planned[contact.timepoint.code], zone).items():
            setattr(contact, field, value)
        contact.anchor_date = participant.enrolled_on
        contact.next_action_at = contact.due_at
    fields = ["anchor_date", "next_action_at", *_TIMING_FIELDS]
    bulk_set(Contact, stale, fields)
    Contact.history.bulk_history_create(stale, update=True, default_change_reason=reason[:100])
    return len(stale)


_TIMING_FIELDS = ["due_on", "window_opens", "window_closes", "due_at", "opens_at", "closes_at"]


def plan_physiotherapist(physio: Physiotherapist) -> list[Contact]:
    """Contacts for the physiotherapist timepoints anchored on the workshop, each from
    the workshop day the protocol names (``workshop_day``, day 1 by default) at its
    local time (``at``, else the send time). Call it when the workshop date is set;
    contacts already planned stay."""
    days = workshop_days(physio) if physio.workshop_date is not None else {}
    if not days:
        return []
    trial = physio.clinic.cluster.trial
    timepoints = {
        tp.code: tp
        for tp in Timepoint.objects.filter(
            trial=trial,
            respondent=Timepoint.PHYSIOTHERAPIST,
            anchor=Timepoint.WORKSHOP,
            removed_in=None,
        )
    }
    existing = set(physio.contacts.values_list("timepoint__code", flat=True))
    version = current_version(trial)
    contacts = []
    for tp in timepoints.values():
        if tp.code in existing:
            continue
        anchor = days[tp.workshop_day or 1]
        # The schedule module plans from one anchor date: the workshop day is that here.
        planned = planned_contacts(
            baseline=anchor,
            timepoints=[workshop_spec(tp)],
            time_zone=trial.time_zone,
            send_at=tp.at or send_time(),
            include_baseline=True,
        )
        contacts += _contacts(planned, timepoints, trial, anchor, version, physiotherapist=physio)
    return bulk_create_with_history(
        contacts, Contact, default_change_reason=N_("planned from the workshop date")
    )


def workshop_spec(tp) -> dict:
    """A workshop timepoint as the schedule module plans it (from one anchor date)."""
    get = tp.get if isinstance(tp, dict) else lambda k, d=None: getattr(tp, k, d)
    return {
        "code": get("code"),
        "anchor": "enrolment",
        "offset": get("offset", 0),
        "unit": get("unit", "months"),
        "window_before_days": get("window_before_days", 0),
        "window_after_days": get("window_after_days", 0),
    }


def close_contacts(
    contacts: list[Contact], status: str, reason: str, now: datetime, user=None
) -> int:
    """Close open contacts (cancelled, missed, completed), audited, in bulk."""
    for c in contacts:
        c.status = status
        c.closed_at = now
        c.close_reason = reason[:200]
        c.next_action_at = None
        if status == Contact.COMPLETED:
            c.completed_at = now
    if contacts:
        fields = ["status", "closed_at", "close_reason", "next_action_at", "completed_at"]
        bulk_set(Contact, contacts, fields)
        # Audited: one history row per contact, with the reason (and the user, if any).
        Contact.history.bulk_history_create(
            contacts,
            update=True,
            default_change_reason=reason[:100],
            default_user=user,
            default_date=now,
        )
        # Messages not yet handed to the provider are no longer needed.
        Message.objects.filter(
            contact__in=contacts, status__in=[Message.PENDING, Message.RETRY]
        ).update(status=Message.SKIPPED, next_attempt_at=None)
    return len(contacts)


@transaction.atomic
def cancel_open_contacts(participant: Participant, reason: str, now=None, user=None) -> int:
    """Withdrawal, completion of the trial or death: what is left is cancelled."""
    now = now or timezone.now()
    contacts = list(
        Contact.objects.select_for_update().filter(participant=participant, status__in=Contact.OPEN)
    )
    return close_contacts(contacts, Contact.CANCELLED, reason, now, user)


@transaction.atomic
def complete_contact(contact: Contact, now=None) -> bool:
    """Close a contact whose questionnaires are all answered. True if it was open."""
    now = now or timezone.now()
    rows = list(Contact.objects.select_for_update().filter(pk=contact.pk, status__in=Contact.OPEN))
    close_contacts(rows, Contact.COMPLETED, "answered", now)
    return bool(rows)


class RescheduleError(ValidationError):
    pass


RESCHEDULABLE = (Contact.SCHEDULED, Contact.INVITED, Contact.MISSED)
NOT_TO_BE_CONTACTED = Participant.NOT_ASKED


@transaction.atomic
def reschedule_contact(contact: Contact, due_on: date, reason: str, user=None) -> Contact:
    """Move one contact to a new due date (the window moves with it), with a reason.

    The invitation goes out again on the new date with the same link; earlier messages
    not yet sent are dropped and the reminders count again from the new invitation."""
    contact = (
        # Only the contact is locked: record_death locks the participant, then contacts.
        Contact.objects.select_for_update(of=("self",))
        .select_related("timepoint__trial", "participant")
        .get(pk=contact.pk)
    )
    if contact.status not in RESCHEDULABLE:
        raise RescheduleError(
            f"A contact that is {contact.get_status_display().lower()} cannot be rescheduled."
        )
    participant = contact.participant
    if participant is not None and participant.status in NOT_TO_BE_CONTACTED:
        # A missed contact stays reschedulable for the living, never for these.
        raise RescheduleError(
            f"{participant.study_id} is {participant.get_status_display().lower()}: "
            "no more contacts."
        )
    if not (reason or "").strip():
        raise RescheduleError("Say why the contact moves.")
    tp = contact.timepoint
    zone = ZoneInfo(tp.trial.time_zone)
    planned = PlannedContact(
        timepoint=tp.code,
        due=due_on,
        window_opens=due_on - timedelta(days=tp.window_before_days),
        window_closes=due_on + timedelta(days=tp.window_after_days),
        due_at=local_to_utc(due_on, send_time(), zone),
    )
    for field, value in _timing(planned, zone).items():
        setattr(contact, field, value)
    contact.status = Contact.SCHEDULED
    contact.next_action_at = contact.due_at
    contact.invited_at = None
    contact.reminders_sent = 0
    contact.closed_at = None
    contact.close_reason = ""
    contact._change_reason = reason.strip()
    if user is not None:
        contact._history_user = user
    contact.save()
    Message.objects.filter(contact=contact, status__in=[Message.PENDING, Message.RETRY]).update(
        status=Message.SKIPPED, next_attempt_at=None
    )
    return contact
