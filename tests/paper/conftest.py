import itertools

import pytest
from django.utils import timezone

from enrolment.models import Timepoint
from followup.models import Contact, Message
from tests.factories import enrol

_keys = itertools.count(1)


@pytest.fixture
def three_months(betterback):
    return Timepoint.objects.get(trial=betterback, code="3m")


def in_tray(participant, timepoint_code="3m", kind=Message.INVITATION, sequence=0):
    """A post message the dispatcher has handed to the tray (sent, not posted), on the
    participant's contact as planned at enrolment."""
    contact = Contact.objects.get(participant=participant, timepoint__code=timepoint_code)
    now = timezone.now()
    return Message.objects.create(
        contact=contact,
        kind=kind,
        sequence=sequence,
        channel=Message.POST,
        template="post",
        idempotency_key=f"paper-test-{next(_keys)}",
        language="sv",
        status=Message.SENT,
        created=now,
        sent_at=now,
    )


@pytest.fixture
def enrolled(clinic_west):
    return enrol(clinic_west, preferred_language="sv")
