"""The enrol form's consent part: the version the trial requires now, and a yes/no box
for each optional item that version asks (labels in the page's language)."""

from __future__ import annotations

from django import forms
from django.utils import translation

from .consent.reading import policy_of, required_document

PREFIX = "consent_item_"


def add_consent_items(form: forms.Form, trial) -> None:
    document = required_document(trial)
    if document is None:
        return
    form.fields["form_version"].initial = document.version
    policy = policy_of(trial)
    language = translation.get_language() or "en"
    for code in document.items:
        labels = (policy.item(code) or {}).get("label", {})
        label = labels.get(language) or labels.get("en") or next(iter(labels.values()), code)
        form.fields[PREFIX + code] = forms.BooleanField(label=label, required=False)


def consent_answers(cleaned_data: dict) -> dict | None:
    """The optional items' answers, or None when the form asked none."""
    answers = {k.removeprefix(PREFIX): v for k, v in cleaned_data.items() if k.startswith(PREFIX)}
    return answers or None
