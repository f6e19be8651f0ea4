"""Recording a participant's death, from the participant page (coordinators and
administrators). Every open follow-up contact is cancelled in the same transaction."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from enrolment import permissions as roles

from .actions import status as participant_status
from .models import Participant

MAY_RECORD_DEATH = roles.RECORD_DEATH


class DeathForm(forms.Form):
    died_on = forms.DateField(
        label=_("Date of death"), widget=forms.DateInput(attrs={"type": "date"})
    )
    # The history row keeps 100 characters, "death recorded: " included.
    reason = forms.CharField(
        label=_("How the death became known"),
        max_length=80,
        help_text=_("E.g. a relative's call, the population registry. Kept in the audit trail."),
    )


def may_record_death(user, participant: Participant) -> bool:
    return participant.status != Participant.DIED and roles.has_any(
        user, participant.trial, MAY_RECORD_DEATH
    )


def death_form(data=None) -> DeathForm:
    return DeathForm(data, initial={"died_on": timezone.localdate()}, prefix="death")


def record_death(request, participant: Participant):
    """The POST of the participant page's death form: a redirect when recorded, else
    the bound form with its errors for the page to show again."""
    if not may_record_death(request.user, participant):
        raise PermissionDenied
    form = death_form(request.POST)
    if form.is_valid():
        try:
            participant_status.record_death(
                participant, form.cleaned_data["died_on"], form.cleaned_data["reason"]
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(
                request,
                _("The death of %(study_id)s is recorded; open follow-up is cancelled.")
                % {"study_id": participant.study_id},
            )
            return redirect("participant_detail", study_id=participant.study_id)
    return form
