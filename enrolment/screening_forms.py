"""Forms for screening, consent and enrolment, built from the trial's protocol."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from . import allocation, enrol_fields
from .actions.changes import EDITABLE_PERSONAL_FIELDS
from .consent_forms import add_consent_items
from .eligibility import Criterion, needs_answer
from .enrol_checks import check_enrolment, is_late
from .models import Clinic, EligibilityCriterion, Participant, PersonalDetails, Trial

YES_NO = [("yes", _("Yes")), ("no", _("No"))]


def criteria_of(trial: Trial) -> list[Criterion]:
    return [
        Criterion(c.code, c.kind, c.text, c.rule)
        for c in EligibilityCriterion.objects.filter(trial=trial)
    ]


class ScreeningForm(forms.Form):
    clinic = forms.ModelChoiceField(queryset=Clinic.objects.none(), label=_("Clinic"))
    screened_on = forms.DateField(
        label=_("Date of screening"), widget=forms.DateInput(attrs={"type": "date"})
    )
    age = forms.IntegerField(label=_("Age (years)"), min_value=0, max_value=120)

    def __init__(self, *args, trial: Trial, clinics, **kwargs):
        super().__init__(*args, **kwargs)
        self.trial = trial
        self.fields["clinic"].queryset = clinics
        if clinics.count() == 1:
            self.fields["clinic"].initial = clinics.first()
        self.fields["screened_on"].initial = timezone.localdate()
        self.criteria = criteria_of(trial)
        for c in self.criteria:
            rule = c.rule or {}
            if "instrument" in rule:
                self.fields[f"score_{c.code}"] = forms.IntegerField(
                    label=f"{c.text} ({rule['instrument'].upper()} {rule['score']})",
                    required=True,
                )
            elif needs_answer(c):
                prefix = _("Inclusion") if c.kind == "inclusion" else _("Exclusion")
                self.fields[f"crit_{c.code}"] = forms.ChoiceField(
                    label=f"{prefix}: {c.text}",
                    choices=YES_NO,
                    widget=forms.RadioSelect,
                )

    def answers(self) -> dict[str, bool]:
        return {
            c.code: self.cleaned_data[f"crit_{c.code}"] == "yes"
            for c in self.criteria
            if f"crit_{c.code}" in self.cleaned_data
        }

    def scores(self) -> dict[str, float]:
        out = {}
        for c in self.criteria:
            key = f"score_{c.code}"
            if key in self.cleaned_data:
                out[f"{c.rule['instrument']}_{c.rule['score']}"] = self.cleaned_data[key]
        return out


class DeclineForm(forms.Form):
    decline_reason = forms.CharField(
        label=_("Reason the patient declined (if given)"), required=False, max_length=300
    )


class EnrolForm(forms.Form):
    enrolled_on = forms.DateField(
        label=_("Enrolment date"), widget=forms.DateInput(attrs={"type": "date"})
    )
    consented_on = forms.DateField(
        label=_("Date the consent form was signed"),
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    form_version = forms.CharField(label=_("Consent form version"), max_length=40)
    consent_seen = forms.BooleanField(
        label=_("I have the patient's signed consent form"), required=True
    )
    full_name = forms.CharField(label=_("Name"), max_length=200)
    national_id = forms.CharField(label=_("National ID number"), max_length=20, required=False)
    date_of_birth = forms.DateField(
        label=_("Date of birth"), widget=forms.DateInput(attrs={"type": "date"})
    )
    email = forms.EmailField(label=_("Email"), required=False)
    mobile = forms.CharField(label=_("Mobile number"), max_length=20, required=False)
    postal_address = forms.CharField(
        label=_("Postal address"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("For questionnaires by post."),
    )
    preferred_language = forms.ChoiceField(label=_("Preferred language"))
    contact_preference = forms.ChoiceField(
        label=_("Follow-up questionnaires by"),
        choices=PersonalDetails.CONTACT_PREFERENCES,
        initial=PersonalDetails.BY_EMAIL,
        required=False,
        help_text=_("If this fails, the trial's other channels take over."),
    )
    late_reason = forms.CharField(
        label=_("Reason for enrolling after the recruitment period"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Needed only after the recruitment period; kept with the enrolment."),
    )
    confirm_warnings = forms.BooleanField(
        label=_("I have read the warnings above and want to enrol all the same"),
        required=False,
    )

    def __init__(self, *args, trial: Trial, screening=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.trial = trial
        self.screening = screening
        self.warnings: list[str] = []
        today = timezone.localdate()
        self.today = today
        self.fields["enrolled_on"].initial = today
        self.fields["consented_on"].initial = today
        self.fields["form_version"].initial = trial.consent_form_version
        add_consent_items(self, trial)
        names = dict(settings.LANGUAGES)
        self.fields["preferred_language"].choices = [(c, names.get(c, c)) for c in trial.languages]
        cluster_language = screening.clinic.cluster.language if screening is not None else ""
        self.fields["preferred_language"].initial = cluster_language or trial.default_language
        self._add_enrolment_fields(trial, screening, today)
        strata = (trial.randomisation or {}).get("strata", [])
        if "sbst_risk_group" in strata:
            self.fields["sbst_risk_group"] = forms.ChoiceField(
                label=_("STarT Back risk group at baseline"),
                choices=[("1", _("Low")), ("2", _("Medium")), ("3", _("High"))],
            )

    def _add_enrolment_fields(self, trial: Trial, screening, today) -> None:
        # The protocol's [enrolment] section (enrolment.enrol_fields). The first-contact
        # clinician is asked where the screening's clinic is in the intervention condition
        # today; the enrolment itself checks it against the condition it allocates.
        if enrol_fields.asks_sex(trial):
            self.fields["sex"] = forms.ChoiceField(
                label=_("Sex"), choices=Participant.SEXES, widget=forms.RadioSelect
            )
        cluster = screening.clinic.cluster if screening is not None else None
        if cluster is not None and trial.is_cluster_design:
            condition = allocation.cluster_condition(cluster.crossover, today)
            if enrol_fields.asks_first_contact(trial, condition):
                self.fields["first_contact_clinician"] = forms.ChoiceField(
                    label=_("First-contact clinician chosen by the patient"),
                    choices=Participant.CLINICIAN_TYPES,
                    widget=forms.RadioSelect,
                )

    def enrolment_fields(self) -> dict:
        return {
            name: self.cleaned_data.get(name, "")
            for name in ("sex", "first_contact_clinician")
            if name in self.fields
        }

    def clean_mobile(self):
        return _clean_mobile(self.cleaned_data.get("mobile", ""), self.trial.time_zone)

    def clean_contact_preference(self):
        return self.cleaned_data.get("contact_preference") or PersonalDetails.BY_EMAIL

    def clean(self):
        cleaned = super().clean()
        consented, enrolled = cleaned.get("consented_on"), cleaned.get("enrolled_on")
        if consented and enrolled and consented > enrolled:
            self.add_error("consented_on", _("Consent must be given on or before enrolment."))
        if not (cleaned.get("email") or cleaned.get("mobile") or cleaned.get("postal_address")):
            self.add_error(
                "email",
                _("Give an email address, a mobile number or a postal address for follow-up."),
            )
        self._check_identity(cleaned)
        return cleaned

    def _check_identity(self, cleaned) -> None:
        found = check_enrolment(
            self.trial,
            number=cleaned.get("national_id", ""),
            date_of_birth=cleaned.get("date_of_birth"),
            enrolled_on=cleaned.get("enrolled_on"),
            screening=self.screening,
            today=self.today,
        )
        for name, messages in found.errors.items():
            for message in messages:
                self.add_error(name, message)
        if "national_id" in cleaned and "national_id" not in found.errors:
            cleaned["national_id"] = found.national_id
        late = cleaned.get("enrolled_on") and is_late(self.trial, cleaned["enrolled_on"])
        if late and not (cleaned.get("late_reason") or "").strip():
            self.add_error(
                "late_reason", _("Recruitment has ended: say why this patient is enrolled.")
            )
        if not late:
            cleaned["late_reason"] = ""
        self.warnings = found.warnings
        if self.warnings and not cleaned.get("confirm_warnings"):
            self.add_error(
                "confirm_warnings",
                _(
                    "Read the warnings and tick this box to enrol all the same, or correct "
                    "the entry."
                ),
            )

    def personal(self) -> dict:
        return {k: self.cleaned_data[k] for k in EDITABLE_PERSONAL_FIELDS}


class CrossoverForm(forms.Form):
    crossover = forms.DateField(
        label=_("New crossover date (first day in the intervention)"),
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, today, **kwargs):
        super().__init__(*args, **kwargs)
        self.today = today

    def clean_crossover(self):
        day = self.cleaned_data["crossover"]
        if day <= self.today:
            raise forms.ValidationError(
                _(
                    "A crossover can only be set for the future: patients already enrolled "
                    "keep the condition they were allocated."
                )
            )
        return day


class UploadListForm(forms.Form):
    file = forms.FileField(label=_("Randomisation list (CSV)"))
    accept_imbalance = forms.BooleanField(
        required=False,
        label=_("I have checked this list: store it although its arms are out of balance"),
    )


def _clean_mobile(number: str, time_zone: str) -> str:
    from .phone import clean_mobile

    try:
        return clean_mobile(number, time_zone)
    except ValueError as exc:
        raise forms.ValidationError(_("Mobile number: %(problem)s.") % {"problem": exc}) from exc
