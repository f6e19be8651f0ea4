"""Erasing a participant's personal data on request or at the end of retention: the
personal details and every history row overwritten (a birth date kept only to the
precision the analysis needs for age), the erasure recorded, and ``personal_data_erased``
sent so other apps erase what they hold.
"""

from __future__ import annotations

import calendar
import logging
from datetime import date

from django.db import transaction
from django.utils import timezone

from ..models import Erasure, Participant, PersonalDetails
from ..signals import personal_data_erased
from .errors import EnrolmentError
from .status import withdraw_participant

logger = logging.getLogger(__name__)

# What an erased name reads as, in the row and in every history row.
ERASED = "[erased]"


def birth_date_kept_for_age(born: date, enrolled_on: date) -> date:
    """A date of birth that gives the same age at enrolment as ``born`` (the analysis
    covariate) and nothing more: the birthday becomes the enrolment day."""
    before_birthday = (enrolled_on.month, enrolled_on.day) < (born.month, born.day)
    year = born.year + before_birthday
    if (enrolled_on.month, enrolled_on.day) == (2, 29) and not calendar.isleap(year):
        return date(year, 2, 28)
    return enrolled_on.replace(year=year)


# The identifiers an erasure removes; the rest of the row (language, tombstone) stays.
_ERASED_VALUES = {
    "full_name": ERASED,
    "national_id": "",
    "email": "",
    "mobile": "",
    "postal_address": "",
}


@transaction.atomic
def erase_personal_data(
    participant: Participant,
    reason: str,
    user=None,
    *,
    source: str = Erasure.REQUEST,
    today: date | None = None,
) -> Erasure:
    """Erase a participant's identifiers everywhere they are stored; keep the research
    data under the study ID.

    Name, national ID, email and mobile are replaced by a tombstone in the row and in
    every history row (django-simple-history keeps old values, and the reasons given
    for corrections may quote them); the date of birth becomes one that gives the same
    age at enrolment. An active participant is withdrawn from all contact (the
    withdrawal path cancels every contact and SMS question), and the other apps scrub
    their copies (message recipients and bodies, SMS replies) when they hear of it."""
    participant = Participant.objects.select_for_update().get(pk=participant.pk)
    details = PersonalDetails.objects.select_for_update().get(participant=participant)
    reason = (reason or "").strip()
    if details.is_erased:
        raise EnrolmentError(f"The personal data of {participant.study_id} is already erased.")
    if not reason:
        raise EnrolmentError("Say why the personal data is erased (e.g. the request's date).")
    now = timezone.now()
    if participant.status == Participant.ACTIVE:
        withdraw_participant(
            participant, today or timezone.localdate(), f"personal data erased: {reason}"
        )
    history = PersonalDetails.history.filter(participant_id=participant.pk)
    identifiers = {
        value
        for row in [
            *history.values(*_ERASED_VALUES),
            {f: getattr(details, f) for f in _ERASED_VALUES},
        ]
        for value in row.values()
        if value and value != ERASED
    }
    new_birth_date = birth_date_kept_for_age(details.date_of_birth, participant.enrolled_on)
    # The history rows first: the erasure's own row (written by save) is already clean.
    scrubbed = {
        "personal_details_history": history.update(**_ERASED_VALUES, date_of_birth=new_birth_date)
    }
    # A correction's reason may quote the old value ("typo in 19800101-1234").
    history.exclude(history_change_reason="enrolment").update(history_change_reason=ERASED)
    for field, value in _ERASED_VALUES.items():
        setattr(details, field, value)
    details.date_of_birth = new_birth_date
    details.erased_at = now
    details._change_reason = f"personal data erased: {reason}"[:100]
    if user is not None:
        details._history_user = user
    details.save()
    for _receiver, answer in personal_data_erased.send(
        Participant, participant=participant, identifiers=identifiers, now=now
    ):
        scrubbed.update(answer or {})
    record = Erasure.objects.create(
        participant=participant,
        erased_at=now,
        erased_by=user,
        source=source,
        reason=reason[:300],
        scrubbed=scrubbed,
    )
    # Outside the database too (study ID only): a restore of an older backup brings the
    # identifiers back, and this line tells the operator whom to erase again.
    transaction.on_commit(
        lambda: logger.warning(
            "ERASURE %s: personal data erased (%s) at %s", participant.study_id, source, now
        )
    )
    return record
