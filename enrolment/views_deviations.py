"""Protocol deviations on the participant page: record one, correct one (with a reason).

The participant is fetched through ``Participant.objects.visible_to(user)`` (404 for
another clinic's participant); :mod:`enrolment.deviations` checks the role again."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from enrolment import permissions as roles

from . import deviations
from .models import Deviation, DeviationType, Participant

RULE_NOTES = {
    DeviationType.EXCLUDED: _("excludes from per-protocol"),
    DeviationType.KEPT: _("does not exclude"),
    DeviationType.JUDGED: _("you decide"),
}
# The form's answer for the flag: empty means "as the protocol says for the type".
EXCLUDES_CHOICES = [
    ("", _("As the protocol says for this type")),
    ("yes", _("Yes: excludes from the per-protocol analysis")),
    ("no", _("No: stays in the per-protocol analysis")),
]


class DeviationForm(forms.Form):
    type = forms.ModelChoiceField(label=_("Type"), queryset=DeviationType.objects.none())
    occurred_on = forms.DateField(
        label=_("Date of the deviation"), widget=forms.DateInput(attrs={"type": "date"})
    )
    description = forms.CharField(
        label=_("Description"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "What happened. Clinical free text: shown to staff who see personal details, "
            "never exported to statisticians."
        ),
    )
    excludes = forms.ChoiceField(
        label=_("Excludes from the per-protocol analysis?"),
        choices=EXCLUDES_CHOICES,
        required=False,
        help_text=_(
            "Only types marked 'you decide' need an answer; the others follow the protocol."
        ),
    )

    def __init__(self, *args, trial, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["type"]
        field.queryset = DeviationType.objects.filter(trial=trial)
        field.label_from_instance = lambda t: f"{t.label} ({RULE_NOTES[t.per_protocol]})"

    def excludes_answer(self) -> bool | None:
        return {"yes": True, "no": False}.get(self.cleaned_data.get("excludes") or "")


class CorrectDeviationForm(DeviationForm):
    reason = forms.CharField(
        label=_("Reason for the change"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        help_text=_("Stored in the audit trail with the old and the new value."),
    )


def _participant(user, study_id: str) -> Participant:
    participant = get_object_or_404(
        Participant.objects.visible_to(user).select_related("trial", "clinic__cluster"),
        study_id=study_id,
    )
    if not roles.can_record_deviation(user, participant):
        raise PermissionDenied
    return participant


def _page(request, participant, form, title):
    return render(
        request,
        "enrolment/edit.html",
        {"participant": participant, "form": form, "title": title},
        status=400 if form.is_bound else 200,
    )


@login_required
def record(request, study_id):
    participant = _participant(request.user, study_id)
    form = DeviationForm(
        request.POST or None,
        trial=participant.trial,
        initial={"occurred_on": timezone.localdate()},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            deviations.record_deviation(
                participant,
                user=request.user,
                type=data["type"],
                occurred_on=data["occurred_on"],
                description=data["description"],
                excludes=form.excludes_answer(),
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(
                request,
                _("Protocol deviation recorded for %(study_id)s.")
                % {"study_id": participant.study_id},
            )
            return redirect("participant_detail", study_id=participant.study_id)
    return _page(request, participant, form, _("Record a protocol deviation"))


@login_required
def correct(request, study_id, pk):
    participant = _participant(request.user, study_id)
    deviation = get_object_or_404(Deviation, pk=pk, participant=participant)
    if not roles.can_see_personal_details(request.user, participant):
        raise PermissionDenied  # the form shows the description
    rule = deviation.type.per_protocol
    initial_excludes = (
        ("yes" if deviation.excludes_per_protocol else "no") if rule == DeviationType.JUDGED else ""
    )
    form = CorrectDeviationForm(
        request.POST or None,
        trial=participant.trial,
        initial={
            "type": deviation.type,
            "occurred_on": deviation.occurred_on,
            "description": deviation.description,
            "excludes": initial_excludes,
        },
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        changes = {k: data[k] for k in ("type", "occurred_on", "description")}
        changes["excludes"] = form.excludes_answer()
        try:
            changed = deviations.correct_deviation(
                deviation, user=request.user, changes=changes, reason=data["reason"]
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            if changed:
                messages.success(request, _("Saved: %(fields)s.") % {"fields": ", ".join(changed)})
            else:
                messages.info(request, _("Nothing changed."))
            return redirect("participant_detail", study_id=participant.study_id)
    return _page(request, participant, form, _("Correct a protocol deviation"))


def page_context(user, participant) -> dict:
    """The participant page's deviation block: every role that sees the participant sees
    the log; only roles that see personal details see the descriptions."""
    return {
        "deviations": list(
            participant.deviations.select_related("type", "recorded_by").order_by(
                "occurred_on", "id"
            )
        ),
        "can_record_deviation": roles.can_record_deviation(user, participant),
        "show_deviation_text": roles.can_see_personal_details(user, participant),
        "has_deviation_types": DeviationType.objects.filter(trial=participant.trial).exists(),
    }
