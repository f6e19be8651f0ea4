from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _


class ErasureForm(forms.Form):
    # The participant's history row keeps 100 characters, "personal data erased: " included.
    reason = forms.CharField(
        label=_("Reason"),
        max_length=78,
        help_text=_(
            "E.g. 'request by letter of 2026-11-20'. Kept in the audit trail: write no "
            "name, number or address."
        ),
    )
    confirm = forms.CharField(
        label=_("Type the study ID to confirm"),
        help_text=_("Erasure cannot be undone."),
    )

    def __init__(self, *args, study_id: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.study_id = study_id

    def clean_confirm(self) -> str:
        value = self.cleaned_data["confirm"].strip()
        if value.upper() != self.study_id.upper():
            raise ValidationError(_("This is not the participant's study ID."))
        return value
