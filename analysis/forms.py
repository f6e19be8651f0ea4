from django import forms
from django.utils.translation import gettext_lazy as _

from .models import FORMATS, LEVELS, SHAPES
from .runs import ANALYSES, OUTCOMES


class ExportForm(forms.Form):
    format = forms.ChoiceField(choices=FORMATS)
    shape = forms.ChoiceField(choices=SHAPES)
    level = forms.ChoiceField(choices=LEVELS, help_text=_("ignored for the analysis dataset"))
    blinded = forms.BooleanField(required=False, label=_("Blinded (condition as A/B)"))


class RegistryForm(forms.Form):
    file = forms.FileField(help_text=_("CSV or Excel (.xlsx), one row per participant"))
    note = forms.CharField(required=False, max_length=300)


class AnalysisForm(forms.Form):
    analysis = forms.ChoiceField(choices=list(ANALYSES.items()))
    outcome = forms.ChoiceField(choices=[(o, o) for o in OUTCOMES], required=False)


class SampleSizeForm(forms.Form):
    design = forms.ChoiceField(
        choices=[("individual", _("Individually randomised, two groups")),
                 ("paired", _("Matched pairs")),
                 ("cluster", _("Parallel cluster")),
                 ("dogleg", _("Dog-leg (Hooper & Bourke 2015)"))]
    )
    d = forms.FloatField(label=_("Effect size (Cohen's d)"), initial=0.35, min_value=0.001)
    alpha = forms.FloatField(initial=0.05, min_value=0.0001, max_value=0.5)
    sided = forms.TypedChoiceField(choices=[(1, "1"), (2, "2")], coerce=int, initial=2)
    power = forms.FloatField(initial=0.80, min_value=0.01, max_value=0.999)
    loss = forms.FloatField(initial=0.0, min_value=0, max_value=0.99, required=False)
    loss_method = forms.ChoiceField(choices=[("divide", "n/(1-loss)"),
                                             ("inflate", "n*(1+loss)")], initial="divide")
    icc = forms.FloatField(initial=0.01, min_value=0, max_value=1, required=False)
    cac = forms.FloatField(label=_("Cluster autocorrelation"), initial=0.80, min_value=0,
                           max_value=1, required=False)
    m = forms.IntegerField(label=_("Patients per cluster (period)"), initial=100, min_value=1,
                           required=False)
