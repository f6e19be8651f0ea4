from django import forms
from django.utils.translation import gettext_lazy as _


class RescheduleForm(forms.Form):
    due_on = forms.DateField(
        label=_("New due date"), widget=forms.DateInput(attrs={"type": "date"})
    )
    reason = forms.CharField(
        label=_("Reason for the change"), widget=forms.Textarea(attrs={"rows": 2}), max_length=500
    )


class NewLinkForm(forms.Form):
    reason = forms.CharField(
        label=_("Why does the patient need a new link?"),
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=500,
    )
