"""``{{ form|patient_form }}``: the patient's questionnaire page without crispy-forms
(:mod:`questionnaires.page_html`)."""

from __future__ import annotations

from django import template

from ..page_html import render_form

register = template.Library()


@register.filter
def patient_form(form):
    return render_form(form)
