"""``{{ form|patient_form }}``: the patient's questionnaire page without crispy-forms
(:mod:`questionnaires.page_html`)."""

from __future__ import annotations

from django import template
from django.core.exceptions import NON_FIELD_ERRORS

from ..page_html import render_form

register = template.Library()


@register.filter
def patient_form(form):
    return render_form(form)


@register.filter
def item_errors(form) -> bool:
    """Whether an answer of the form is refused, not only the form as a whole (a lock's
    refusal, a save that failed): "check the answers marked below" needs one marked."""
    return any(name != NON_FIELD_ERRORS for name in form.errors)
