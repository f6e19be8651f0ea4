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


@register.inclusion_tag("datamanagement/_sdv_share.html", takes_context=True)
def sdv_share_by_clinic(context, trial, heading=True, forms=None):
    """The monitoring dashboard's share of forms verified per clinic and timepoint (trial-
    wide readers of the dataset only; a clinic manager's dashboard leaves it out).
    ``forms``: the trial's completed final forms per clinic and timepoint where the page
    has counted them already (``share_verified``)."""
    from ..access import DATASET_READERS
    from ..sdv.services import share_verified

    user = context["request"].user
    if not roles.has_any(user, trial, DATASET_READERS):
        return {"shown": False}
    return {"shown": True, "trial": trial, "rows": share_verified(trial, forms), "heading": heading}
