"""Locks hold in the background too: the SMS dispatcher (the body of the Celery task
``followup.sms.tasks.dispatch_sms``) keeps a reply to a frozen timepoint pending with the
lock's message, and applies it once the freeze is lifted."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from datamanagement.locks import services as locks
from datamanagement.locks.models import Lock
from enrolment.models import TrialRole
from followup.models import InboundSms
from followup.sms import tracking
from followup.sms.backends import InMemoryBackend
from questionnaires.models import Response
from tests.conftest import use_betterback_built_once

from ...factories import TrialRoleFactory, UserFactory, enrol
from ...followup.conftest import clinic_of, safe  # noqa: F401 - the SAFE trial fixture

pytestmark = pytest.mark.django_db
betterback = use_betterback_built_once()  # loaded once for the module


@pytest.fixture
def sms(settings):
    settings.SMS_BACKEND = "followup.sms.backends.InMemoryBackend"
    InMemoryBackend.outbox.clear()
    yield InMemoryBackend.outbox
    InMemoryBackend.outbox.clear()


@pytest.mark.parametrize(
    "level", [Lock.TIMEPOINT, Lock.TRIAL, Lock.PARTICIPANT, Lock.PARTICIPANT_TIMEPOINT]
)
def test_an_sms_reply_to_locked_data_waits_with_the_locks_message(safe, sms, level):  # noqa: F811
    p = enrol(clinic_of(safe), enrolled_on=date(2022, 1, 5), preferred_language="da",
              mobile="+4520100001")
    first = tracking.SmsPrompt.objects.filter(week=1, position=0).first()
    at = first.due_at
    tracking.run(now=at)
    manager = TrialRoleFactory(user=UserFactory(username="safe-dm"), trial=safe,
                               role=TrialRole.DATA_MANAGER).user
    kwargs = {
        Lock.TIMEPOINT: {"timepoint": tracking.tracking_timepoint(safe)},
        Lock.TRIAL: {},
        Lock.PARTICIPANT: {"participant": p},
        Lock.PARTICIPANT_TIMEPOINT: {"participant": p,
                                     "timepoint": tracking.tracking_timepoint(safe)},
    }[level]
    lock = locks.lock(level, trial=safe, user=manager, reason="interim", **kwargs)
    tracking.store("SMlocked0001", p.personal_details.mobile, "3", now=at)
    tracking.run(now=at + timedelta(minutes=1))
    inbound = InboundSms.objects.get()
    assert inbound.outcome == InboundSms.PENDING
    assert inbound.error.startswith("refused: Locked: ")
    assert not Response.objects.filter(participant=p, instrument="sms_tracking").exists()
    locks.unlock(lock, user=manager, reason="freeze lifted")
    tracking.run(now=at + timedelta(minutes=2))
    inbound.refresh_from_db()
    assert inbound.outcome == InboundSms.ANSWER
    assert Response.objects.get(participant=p, instrument="sms_tracking").answers


def test_a_patient_on_a_survey_link_to_a_frozen_timepoint_is_told_plainly(
    clinic_west, data_manager
):
    from django.test import Client

    from questionnaires.instruments import get

    from ...followup.test_survey_robust import first_page_post, open_link

    participant, contact, url = open_link(clinic_west, language="sv")
    locks.lock(Lock.TIMEPOINT, trial=participant.trial, timepoint=contact.timepoint,
               user=data_manager, reason="interim")
    r = Client().post(url, first_page_post(contact))
    html = r.content.decode()
    assert r.status_code == 200
    assert "Dessa svar kan inte längre ändras." in html  # Swedish, and no staff names
    assert "datamanager" not in html and "Locked" not in html
    assert not Response.objects.filter(participant=participant,
                                       instrument=get(contact.timepoint.instruments[0]).code
                                       ).exists()


def test_a_reply_that_would_change_a_locked_weekly_response_waits(safe, sms):  # noqa: F811
    """The fifth level, one form: week 1's first answer made its response; that response
    is locked; the answer to the week's second question (the same response) waits."""
    p = enrol(clinic_of(safe), enrolled_on=date(2022, 1, 5), preferred_language="da",
              mobile="+4520100002")
    at = tracking.SmsPrompt.objects.filter(week=1, position=0).first().due_at
    tracking.run(now=at)
    tracking.store("SMresp00001", p.personal_details.mobile, "3", now=at)
    tracking.run(now=at + timedelta(minutes=1))
    weekly = Response.objects.get(participant=p, instrument="sms_tracking")
    before = dict(weekly.answers)
    manager = TrialRoleFactory(user=UserFactory(username="safe-dm2"), trial=safe,
                               role=TrialRole.DATA_MANAGER).user
    lock = locks.lock(Lock.RESPONSE, trial=safe, user=manager, response=weekly)
    tracking.run(now=at + timedelta(minutes=2))  # the second question goes out
    assert tracking.SmsPrompt.objects.filter(week=1, position=1).exclude(sent_at=None).exists()
    tracking.store("SMresp00002", p.personal_details.mobile, "2", now=at + timedelta(minutes=3))
    tracking.run(now=at + timedelta(minutes=4))
    second = InboundSms.objects.get(provider_id="SMresp00002")
    assert second.outcome == InboundSms.PENDING
    assert second.error.startswith("refused: Locked: ")
    weekly.refresh_from_db()
    assert weekly.answers == before
    locks.unlock(lock, user=manager, reason="week reviewed")
    tracking.run(now=at + timedelta(minutes=5))
    second.refresh_from_db()
    assert second.outcome == InboundSms.ANSWER
    weekly.refresh_from_db()
    assert weekly.answers != before
