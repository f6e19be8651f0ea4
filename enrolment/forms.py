from django import forms
from django.utils.translation import gettext_lazy as _

from . import enrol_fields
from .actions.changes import EDITABLE_PERSONAL_FIELDS
from .enrol_checks import check_corrected_id
from .models import Clinic, Participant, PersonalDetails


class ReasonMixin(forms.Form):
    reason = forms.CharField(
        label=_("Reason for the change"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Stored in the audit trail with the old and the new value."),
    )

    def clean(self):
        cleaned = super().clean()
        if self.has_changed_values() and not (cleaned.get("reason") or "").strip():
            self.add_error("reason", _("Say why you change a value that was already saved."))
        return cleaned

    def has_changed_values(self) -> bool:
        return any(name != "reason" for name in self.changed_data)


class ParticipantForm(ReasonMixin, forms.ModelForm):
    class Meta:
        model = Participant
        fields = ["clinic", "enrolled_on", "sex", "first_contact_clinician"]
        widgets = {"enrolled_on": forms.DateInput(attrs={"type": "date"})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        participant = self.instance
        self.fields["clinic"].queryset = Clinic.objects.filter(
            cluster__trial=participant.trial
        ).select_related("cluster")
        # Asked as at enrolment (enrolment.enrol_fields); a value saved where it is no
        # longer asked stays on the form so that it can be cleared. The action judges.
        trial = participant.trial
        asked = {
            "sex": enrol_fields.asks_sex(trial),
            "first_contact_clinician": enrol_fields.asks_first_contact(
                trial, participant.condition
            ),
        }
        choices = {
            "sex": Participant.SEXES,
            "first_contact_clinician": Participant.CLINICIAN_TYPES,
        }
        labels = {
            "sex": _("Sex"),
            "first_contact_clinician": _("First-contact clinician chosen by the patient"),
        }
        for name, wanted in asked.items():
            if not wanted and not getattr(participant, name):
                del self.fields[name]
                continue
            self.fields[name] = forms.ChoiceField(
                label=labels[name],
                choices=choices[name] if wanted else [("", "---------"), *choices[name]],
                required=wanted,
                widget=forms.RadioSelect,
            )


class PersonalDetailsForm(ReasonMixin, forms.ModelForm):
    class Meta:
        model = PersonalDetails
        fields = list(EDITABLE_PERSONAL_FIELDS)
        widgets = {"date_of_birth": forms.DateInput(attrs={"type": "date"})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        languages = self.instance.participant.trial.languages
        from django.conf import settings

        names = dict(settings.LANGUAGES)
        self.fields["preferred_language"] = forms.ChoiceField(
            label=_("Preferred language"), choices=[(c, names.get(c, c)) for c in languages]
        )
        # A form that does not send it (an older page, a script) keeps the saved choice.
        self.fields["contact_preference"].required = False

    def clean_contact_preference(self):
        return self.cleaned_data.get("contact_preference") or self.instance.contact_preference

    def clean_national_id(self):
        typed = self.cleaned_data.get("national_id", "")
        if "national_id" not in self.changed_data:
            return typed  # an old row is not re-judged when another field changes
        normalised, errors = check_corrected_id(self.instance.participant, typed)
        if errors:
            raise forms.ValidationError(errors)
        return normalised

    def clean_mobile(self):
        from .screening_forms import _clean_mobile

        trial = self.instance.participant.trial
        return _clean_mobile(self.cleaned_data.get("mobile", ""), trial.time_zone)


class WithdrawForm(forms.Form):
    withdrawn_on = forms.DateField(
        label=_("Date of withdrawal"), widget=forms.DateInput(attrs={"type": "date"})
    )
    scope = forms.ChoiceField(
        label=_("Withdraw from"),
        choices=Participant.WITHDRAWAL_SCOPES,
        widget=forms.RadioSelect,
        help_text=_("Either way every future email and SMS stops at once."),
    )
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 3}))


class FinalVisitForm(ReasonMixin, forms.Form):
    final_visit_on = forms.DateField(
        label=_("Date of the final clinical visit"),
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    def __init__(self, *args, participant, **kwargs):
        super().__init__(*args, initial={"final_visit_on": participant.final_visit_on}, **kwargs)
        self.participant = participant

    def has_changed_values(self) -> bool:
        # The first entry needs no reason; correcting a saved date does.
        return self.participant.final_visit_on is not None and "final_visit_on" in self.changed_data

    def clean_final_visit_on(self):
        day = self.cleaned_data["final_visit_on"]
        if day < self.participant.enrolled_on:
            raise forms.ValidationError(_("The final visit cannot precede enrolment."))
        return day
