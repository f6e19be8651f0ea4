from django import forms
from django.utils.translation import gettext_lazy as _


class RaiseForm(forms.Form):
    value = forms.ChoiceField(label=_("Value"))
    text = forms.CharField(
        label=_("What is wrong with it"), widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args, targets=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["value"].choices = list(targets)


class MessageForm(forms.Form):
    ACTIONS = ["answer", "correct", "close", "reopen"]
    action = forms.ChoiceField(choices=[(a, a) for a in ACTIONS], widget=forms.HiddenInput)
    text = forms.CharField(
        label=_("Message"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    new_value = forms.CharField(label=_("Corrected value"), required=False)
