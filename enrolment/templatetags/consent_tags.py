"""``{% participant_consent participant %}``: the consent card on the participant page."""

from django import template

from enrolment import permissions as roles

from .. import consent

register = template.Library()


@register.inclusion_tag("enrolment/consent/_participant_consent.html", takes_context=True)
def participant_consent(context, participant):
    user = context["request"].user
    return {
        "participant": participant,
        "records": consent.history(participant),
        "awaits": consent.awaits_reconsent(participant),
        "held": consent.is_held(participant),
        "can_record": roles.can_edit(user, participant),
    }
