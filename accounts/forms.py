from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from enrolment import permissions as roles
from enrolment.models import Clinic

from .staff import PHYSIOTHERAPIST, role_choices


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_("Code"),
        max_length=20,
        help_text=_("The 6 digits your authenticator app shows, or one of your recovery codes."),
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "autofocus": True,
                                      "inputmode": "text"}),
    )


class _RoleFields(forms.Form):
    role = forms.ChoiceField(label=_("Role"))
    clinic = forms.ModelChoiceField(
        label=_("Clinic"), queryset=Clinic.objects.none(), required=False,
        help_text=_("Physiotherapists and clinic managers only."),
    )
    study_code = forms.CharField(
        label=_("Study code"), max_length=20, required=False,
        help_text=_("Physiotherapists only, e.g. BB-W-MOT-PT03."),
    )

    def __init__(self, *args, trial, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = role_choices()
        self.fields["clinic"].queryset = Clinic.objects.filter(cluster__trial=trial)

    def clean(self):
        data = super().clean()
        if data.get("role") == PHYSIOTHERAPIST and not data.get("clinic"):
            self.add_error("clinic", _("Choose the clinic the physiotherapist works at."))
        if data.get("role") == roles.CLINIC_MANAGER and not data.get("clinic"):
            self.add_error("clinic", _("Choose the clinic the clinic manager manages."))
        return data


class RoleForm(_RoleFields):
    pass


class InviteForm(_RoleFields):
    email = forms.EmailField(label=_("Email"))
    username = forms.CharField(
        label=_("User name"), max_length=150,
        validators=[get_user_model().username_validator],
    )
    first_name = forms.CharField(label=_("First name"), max_length=150, required=False)
    last_name = forms.CharField(label=_("Last name"), max_length=150, required=False)
    field_order = ["email", "username", "first_name", "last_name", "role", "clinic",
                   "study_code"]


class AccessLogFilter(forms.Form):
    username = forms.CharField(label=_("User name"), required=False)
    kind = forms.ChoiceField(label=_("Event"), required=False)
    since = forms.DateField(label=_("From"), required=False,
                            widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(label=_("To"), required=False,
                            widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, **kwargs):
        from .models import AccessEvent

        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [("", _("all")), *AccessEvent.KINDS]
