"""Forms of the implementation pages (workshops, SWOT analyses, interviews)."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from enrolment.models import Cluster, Physiotherapist

DATE = forms.DateInput(attrs={"type": "date"})
PRESENCE = [("", _("Not recorded")), ("yes", _("Present")), ("no", _("Absent"))]


class WorkshopForm(forms.Form):
    cluster = forms.ModelChoiceField(label=_("Cluster"), queryset=Cluster.objects.none())
    day1 = forms.DateField(label=_("Day 1"), widget=DATE)
    day2 = forms.DateField(label=_("Day 2"), widget=DATE)
    hours = forms.DecimalField(
        label=_("Hours"), initial=Decimal("13.5"), min_value=0, max_digits=4, decimal_places=1
    )
    facilitators = forms.CharField(
        label=_("Facilitators"),
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("The support team: researchers and clinical champions."),
    )
    physiotherapists = forms.ModelMultipleChoiceField(
        label=_("Physiotherapists invited"),
        queryset=Physiotherapist.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Their own questionnaires are planned from the workshop's days."),
    )

    def __init__(self, *args, trial, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["cluster"].queryset = Cluster.objects.filter(trial=trial)
        self.fields["physiotherapists"].queryset = Physiotherapist.objects.filter(
            clinic__cluster__trial=trial, active=True, workshop_attendance__isnull=True
        ).select_related("clinic")
        self.fields["physiotherapists"].label_from_instance = lambda p: (
            f"{p.study_code} ({p.clinic.name})"
        )


class AttendanceForm(forms.Form):
    day1 = forms.ChoiceField(label=_("Day 1"), choices=PRESENCE, required=False)
    day2 = forms.ChoiceField(label=_("Day 2"), choices=PRESENCE, required=False)
    diploma_on = forms.DateField(label=_("Diploma issued on"), widget=DATE, required=False)
    reason = forms.CharField(label=_("Reason for the change"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # One row of a table per physiotherapist: the inputs name their row's form.
        for field in self.fields.values():
            field.widget.attrs.update(
                {"form": f"attendance-{self.prefix}", "class": "form-control form-control-sm"}
            )

    @staticmethod
    def presence(value: str) -> bool | None:
        return {"yes": True, "no": False}.get(value)

    @staticmethod
    def initial_of(attendance) -> dict:
        as_text = {True: "yes", False: "no", None: ""}
        return {
            "day1": as_text[attendance.day1],
            "day2": as_text[attendance.day2],
            "diploma_on": attendance.diploma_on,
        }


class SwotForm(forms.Form):
    clinic = forms.ModelChoiceField(label=_("Clinic"), queryset=Cluster.objects.none())
    held_on = forms.DateField(label=_("Held on"), widget=DATE)
    document = forms.FileField(
        label=_("Document"), help_text=_("PDF, Word (.docx) or OpenDocument (.odt), at most 10 MB.")
    )

    def __init__(self, *args, trial, **kwargs):
        from enrolment.models import Clinic

        super().__init__(*args, **kwargs)
        self.fields["clinic"].queryset = Clinic.objects.filter(cluster__trial=trial)


ANSWERS = [("", _("Not yet")), ("yes", _("Consented")), ("no", _("Declined"))]


class InterviewForm(forms.Form):
    asked_on = forms.DateField(label=_("Asked on"), widget=DATE, required=False)
    answer = forms.ChoiceField(label=_("Answer"), choices=ANSWERS, required=False)
    answered_on = forms.DateField(label=_("Answered on"), widget=DATE, required=False)
    interviewed_on = forms.DateField(label=_("Interviewed on"), widget=DATE, required=False)
    reason = forms.CharField(label=_("Reason for the change"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.widget.attrs.update(
                {"form": f"interview-{self.prefix}", "class": "form-control form-control-sm"}
            )


class InviteForm(forms.Form):
    physiotherapists = forms.ModelMultipleChoiceField(
        label=_("Physiotherapists invited"),
        queryset=Physiotherapist.objects.none(),
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, workshop, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["physiotherapists"]
        field.queryset = Physiotherapist.objects.filter(
            clinic__cluster=workshop.cluster, active=True, workshop_attendance__isnull=True
        ).select_related("clinic")
        field.label_from_instance = lambda p: f"{p.study_code} ({p.clinic.name})"
