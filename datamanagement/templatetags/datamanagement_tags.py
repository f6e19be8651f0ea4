"""The data-management block of the participant page: the locks that cover the
participant's data and the investigator's signatures (broken ones shown as such)."""

from __future__ import annotations

from django import template

from enrolment import permissions as roles

from ..access import READERS
from ..locks.services import locks_of_participant
from ..signatures.services import signatures_of

register = template.Library()


@register.inclusion_tag("datamanagement/_participant_panel.html", takes_context=True)
def participant_data_management(context, participant):
    user = context["request"].user
    return {
        "participant": participant,
        "locks": locks_of_participant(participant),
        "signatures": signatures_of(participant),
        "may_read": roles.has_any(user, participant.trial, READERS),
    }
