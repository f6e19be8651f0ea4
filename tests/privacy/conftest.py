"""Fixtures of the GDPR tests: SAFE (weekly SMS and email follow-up) from its protocol
file, a participant with a history of corrections, messages sent and SMS answered."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.contrib.auth import get_user_model

from enrolment.actions.changes import update_personal_details
from enrolment.models import Clinic, TrialRole
from followup import dispatch
from followup.models import SmsPrompt
from followup.sms import tracking

from ..factories import PhysiotherapistFactory, TrialRoleFactory, enrol
from ..followup.conftest import clinic_of, safe  # noqa: F401 - fixtures used here

BASELINE = date(2022, 1, 5)
OLD_EMAIL = "karen.old@example.dk"
OLD_MOBILE = "+4520111111"


@pytest.fixture
def outbox_channels(settings):
    """Email and SMS kept in the embedded outbox table, as the embedded site does."""
    settings.EMAIL_BACKEND = "followup.backends.OutboxEmailBackend"
    settings.SMS_BACKEND = "followup.sms.backends.OutboxBackend"


def user(username: str):
    # No password: force_login is enough, and hashing one per user costs a second here.
    return get_user_model().objects.create(username=username)


def staff(trial, role: str, username: str):
    return TrialRoleFactory(user=user(username), trial=trial, role=role).user


@pytest.fixture
def safe_staff(safe):  # noqa: F811
    here = clinic_of(safe)
    # Sorts after the participant's clinic: clinic_of takes the first.
    away = Clinic.objects.create(cluster=here.cluster, code="ZZZ", name="Another clinic")
    return {
        "coordinator": staff(safe, TrialRole.COORDINATOR, "gdpr-coord"),
        "data_manager": staff(safe, TrialRole.DATA_MANAGER, "gdpr-dm"),
        "statistician": staff(safe, TrialRole.STATISTICIAN, "gdpr-stat"),
        "physio_here": PhysiotherapistFactory(
            user=user("gdpr-pt-here"), clinic=clinic_of(safe)
        ).user,
        "physio_away": PhysiotherapistFactory(user=user("gdpr-pt-away"), clinic=away).user,
    }


@pytest.fixture
def karen(safe, outbox_channels):  # noqa: F811
    """A Danish SAFE participant who changed email and mobile once (the history keeps the
    old ones), got the week-1 SMS question and answered it, and got her 3-month email."""
    p = enrol(
        clinic_of(safe),
        enrolled_on=BASELINE,
        full_name="Karen Øster Jensen",
        national_id="050380-1234",
        date_of_birth=date(1980, 3, 5),
        email=OLD_EMAIL,
        mobile=OLD_MOBILE,
        preferred_language="da",
    )
    update_personal_details(
        p.personal_details,
        {"email": "karen@example.dk", "mobile": "+4520222222"},
        f"new address, was {OLD_EMAIL}",
    )
    first = SmsPrompt.objects.get(participant=p, week=1, position=0).due_at
    tracking.run(now=first)
    inbound, _ = tracking.store("SM" + "1" * 32, "+4520222222", "5", now=first)
    tracking.receive(inbound.pk, first + timedelta(minutes=5))
    contact = p.contacts.get(timepoint__code="3m")
    dispatch.run(now=contact.due_at)
    return p


IDENTIFIERS = (
    "Karen Øster Jensen",
    "050380-1234",
    OLD_EMAIL,
    OLD_MOBILE,
    "karen@example.dk",
    "+4520222222",
    "1980-03-05",
)
