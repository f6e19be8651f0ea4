"""Which personal data must be erased because its trial's retention date has passed."""

from __future__ import annotations

from datetime import date

from django.db.models import QuerySet

from enrolment.models import Participant, Trial


def trials_past_retention(today: date) -> QuerySet[Trial]:
    """Trials whose retention date is before ``today`` (the date itself is still kept)."""
    return Trial.objects.filter(retention_until__lt=today).order_by("code")


def still_identifiable(trial: Trial) -> QuerySet[Participant]:
    """The trial's participants whose personal details are not erased yet."""
    return (
        Participant.objects.filter(trial=trial, personal_details__erased_at__isnull=True)
        .exclude(personal_details=None)
        .order_by("study_id")
    )
