from __future__ import annotations

from django import forms
from django.conf import settings
from django.core.validators import MaxValueValidator
from django.utils.translation import gettext_lazy as _

from enrolment import permissions as roles

from .models import ApiToken


class TokenForm(forms.Form):
    trial = forms.ModelChoiceField(queryset=None, label=_("Trial"))
    name = forms.CharField(max_length=100, label=_("Name"),
                           help_text=_("What the token is for, e.g. 'weekly R pull'."))
    scope = forms.ChoiceField(choices=ApiToken.SCOPES, label=_("Scope"))
    days = forms.IntegerField(min_value=1, initial=90, label=_("Valid for (days)"))

    def __init__(self, user, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["trial"].queryset = roles.trials_of(user).order_by("code")
        self.fields["trial"].empty_label = None  # most users work in one trial
        days = self.fields["days"]
        days.max_value = settings.API_TOKEN_MAX_DAYS
        days.validators.append(MaxValueValidator(settings.API_TOKEN_MAX_DAYS))
        days.widget.attrs["max"] = settings.API_TOKEN_MAX_DAYS
