"""``{% participant_consent participant %}``: the consent card on the participant page."""

from django import template
from django.utils import translation

from enrolment import permissions as roles
from enrolment.consent.reading import awaits_reconsent, history, is_held, policy_of

register = template.Library()


@register.inclusion_tag("enrolment/consent/_participant_consent.html", takes_context=True)
def participant_consent(context, participant):
    user = context["request"].user
    return {
        "participant": participant,
        "policy": policy_of(participant.trial),
        "records": history(participant),
        "awaits": awaits_reconsent(participant),
        "held": is_held(participant),
        "can_record": roles.can_edit(user, participant),
    }


@register.simple_tag
def consent_item_label(policy, code: str) -> str:
    """An optional item's label in the page's language (English, else any, else the
    code), without its closing full stop:
    ``{% consent_item_label policy "interview_contact" %}``."""
    labels = ((policy.item(code) if policy else None) or {}).get("label", {})
    language = translation.get_language() or "en"
    label = labels.get(language) or labels.get("en") or next(iter(labels.values()), code)
    return label.rstrip(".")  # followed by ": yes" or quoted in a sentence
