"""``{% participant_privacy participant %}``: the subject access and erasure buttons on the
participant page, for the roles that may use them."""

from django import template

from enrolment import permissions as roles
from enrolment.models import Erasure, PersonalDetails

register = template.Library()


@register.inclusion_tag("privacy/_participant_privacy.html", takes_context=True)
def participant_privacy(context, participant):
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not roles.has_any(user, participant.trial, roles.PRIVACY_RIGHTS):
        return {"allowed": False}
    details = PersonalDetails.objects.filter(participant=participant).first()
    return {
        "allowed": True,
        "participant": participant,
        "erasable": details is not None and not details.is_erased,
        "erasure": Erasure.objects.filter(participant=participant).first(),
    }
