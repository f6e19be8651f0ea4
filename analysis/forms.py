from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from . import runs
from .models import FORMATS, LEVELS, SHAPES
from .runs import ANALYSES


class ExportForm(forms.Form):
    format = forms.ChoiceField(label=_("Format"), choices=FORMATS)
    shape = forms.ChoiceField(label=_("Shape"), choices=SHAPES)
    level = forms.ChoiceField(
        label=_("Level"), choices=LEVELS, help_text=_("ignored for the analysis dataset")
    )
    blinded = forms.BooleanField(required=False, label=_("Blinded (condition as A/B)"))


class RegistryForm(forms.Form):
    file = forms.FileField(
        label=_("File"), help_text=_("CSV or Excel (.xlsx), one row per participant")
    )
    note = forms.CharField(label=_("Note"), required=False, max_length=300)


class AnalysisForm(forms.Form):
    """The plan's analyses and outcomes that the trial's data can feed (a walk found
    SAFE offered BetterBack's ODI and its physiotherapist analyses)."""

    analysis = forms.ChoiceField(label=_("Analysis"))
    outcome = forms.ChoiceField(label=_("Outcome"), required=False)

    def __init__(self, *args, trial, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["analysis"].choices = [
            (name, ANALYSES[name]) for name in runs.analyses_for(trial)
        ]
        self.fields["outcome"].choices = [(o, o) for o in runs.outcomes_for(trial)]


class SampleSizeForm(forms.Form):
    design = forms.ChoiceField(
        label=_("Design"),
        choices=[("individual", _("Individually randomised, two groups")),
                 ("paired", _("Matched pairs")),
                 ("cluster", _("Parallel cluster (layout C,I)")),
                 ("dogleg", _("Dog-leg (Hooper & Bourke 2015, layout I.,CI,.C)")),
                 ("layout", _("Any cluster layout (sequences × periods)"))]
    )
    d = forms.FloatField(label=_("Effect size (Cohen's d)"), initial=0.35, min_value=0.001)
    alpha = forms.FloatField(
        label=_("Significance level (α)"), initial=0.05, min_value=0.0001, max_value=0.5
    )
    sided = forms.TypedChoiceField(
        label=_("Sides (1 or 2)"), choices=[(1, "1"), (2, "2")], coerce=int, initial=2
    )
    power = forms.FloatField(label=_("Power"), initial=0.80, min_value=0.01, max_value=0.999)
    method = forms.ChoiceField(
        label=_("Individually randomised n from"), required=False,
        choices=[("", _("default: t for individual and paired, normal for clusters")),
                 ("t", _("noncentral t (power.t.test)")), ("z", _("normal approximation"))],
    )
    loss = forms.FloatField(
        label=_("Loss to follow-up (share)"), initial=0.0, min_value=0, max_value=0.99,
        required=False,
    )
    loss_method = forms.ChoiceField(
        label=_("Allowance for loss"),
        choices=[("divide", "n/(1-loss)"), ("inflate", "n*(1+loss)")], initial="divide",
    )
    layout = forms.CharField(
        required=False, max_length=200, initial="I.,CI,.C",
        label=_("Layout (any cluster layout)"),
        help_text=_("One sequence per group of clusters, separated by commas; each period C "
                    "(control), I (intervention) or . (not assessed). Parallel C,I; with "
                    "baseline CC,CI; dog-leg I.,CI,.C; stepped wedge CII,CCI."),
    )
    icc = forms.FloatField(label=_("Intracluster correlation (ICC)"), initial=0.01,
                           min_value=0, max_value=1, required=False)
    cac = forms.FloatField(label=_("Cluster autocorrelation (CAC)"), initial=0.80,
                           min_value=0, max_value=1, required=False)
    m = forms.IntegerField(label=_("Patients per cluster-period (m)"), initial=100,
                           min_value=1, required=False)
    clusters = forms.IntegerField(
        label=_("Clusters (optional)"), min_value=1, required=False,
        help_text=_("Leave empty to round up to whole clusters per sequence; give a number "
                    "to see the power of that design."),
    )

    CLUSTER_FIELDS = ("icc", "cac", "m")

    @classmethod
    def initial_from(cls, protocol: dict) -> dict:
        """Start from the protocol file's [sample_size] inputs when the trial has them."""
        if not protocol:
            return {}
        keys = ("d", "alpha", "sided", "power", "icc", "cac", "m", "layout", "method")
        initial = {k: protocol[k] for k in keys if protocol.get(k) not in (None, "")}
        if protocol.get("layout"):
            initial["design"] = "layout"
        return initial

    def clean(self):
        data = super().clean()
        design = data.get("design")
        if design in ("cluster", "dogleg", "layout"):
            for name in self.CLUSTER_FIELDS:
                if data.get(name) is None and name not in self.errors:
                    self.add_error(name, _("Needed for a cluster design."))
        if design == "layout" and not data.get("layout") and "layout" not in self.errors:
            self.add_error("layout", _("Give the layout, e.g. I.,CI,.C"))
        return data


class ImportForm(forms.Form):
    """An upload for one of the trial's declared imports (``[[imports]]``)."""

    code = forms.ChoiceField(label=_("Import"))
    file = forms.FileField(label=_("File"), help_text=_("CSV or Excel (.xlsx)"))
    note = forms.CharField(label=_("Note"), required=False, max_length=300)

    def __init__(self, trial, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["code"].choices = [(s["code"], s["label"]) for s in trial.imports or []]

    def clean_file(self):
        # Checked in the request (analysis.imports): a file beyond the limit would hold a
        # worker for minutes; nothing is read before this check.
        file = self.cleaned_data["file"]
        limit = settings.IMPORT_MAX_MB
        if file.size > limit * 1024 * 1024:
            raise forms.ValidationError(
                _(
                    "The file is %(size).1f MB; an import may be at most %(limit)s MB. "
                    "Split it by participants, or ask the administrator to raise IMPORT_MAX_MB."
                )
                % {"size": file.size / 1024 / 1024, "limit": limit}
            )
        return file
