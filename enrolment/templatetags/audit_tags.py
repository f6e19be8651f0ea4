"""``{{ text|reason_shown }}``: a reason the site stored, in the reader's language."""

from django import template

from enrolment.audit import reason_shown as shown

register = template.Library()


@register.filter
def reason_shown(text: str) -> str:
    return shown(text or "")
