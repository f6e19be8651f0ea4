"""Invitations (any channel) and the weekly SMS go through the one send loop
(followup.sending.loop): the same sent time, duration, error text and back-off
(issue 19, item 7)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.conf import settings

from followup import dispatch as dispatcher
from followup.models import Message, SmsMessage
from followup.sms import tracking
from followup.sms.backends import InMemoryBackend, SmsError
from tests.conftest import use_betterback_built_once

from ..factories import enrol
from .test_sms_tracking import person, week_at

DUE_3M = datetime(2017, 8, 2, 7, tzinfo=UTC)


def both(clinic_west, safe):
    """An invitation by SMS (no email on file) and a weekly question, each sent at its
    batch's time."""
    enrol(clinic_west, enrolled_on=date(2017, 5, 2), email="")
    person(safe)
    dispatcher.dispatch_due(DUE_3M, 10)
    at = week_at(1)
    tracking.dispatch_due(at, 10)
    return Message.objects.get(), SmsMessage.objects.get(), at


def test_sent_the_same_way(clinic_west, safe, sms):
    invitation, weekly, at = both(clinic_west, safe)
    assert (invitation.status, weekly.status) == (Message.SENT, Message.SENT)
    assert (invitation.sent_at, weekly.sent_at) == (DUE_3M, at)  # the batch's time
    assert invitation.duration_ms is not None and weekly.duration_ms is not None
    assert invitation.provider_id.startswith("mem-") and weekly.provider_id.startswith("mem-")


def test_failing_the_same_way(clinic_west, safe, sms, monkeypatch):
    def down(self, to, body, *, status_callback=None):
        raise SmsError("gateway down")

    monkeypatch.setattr(InMemoryBackend, "send", down)
    invitation, weekly, at = both(clinic_west, safe)
    backoff = timedelta(seconds=settings.FOLLOWUP_RETRY_SECONDS)
    assert (invitation.status, invitation.error, invitation.next_attempt_at) == (
        Message.RETRY, "gateway down", DUE_3M + backoff)  # fmt: skip
    assert (weekly.status, weekly.error, weekly.next_attempt_at) == (
        Message.RETRY, "gateway down", at + backoff)  # fmt: skip
    assert invitation.attempts == weekly.attempts == 1
    assert invitation.sent_at is None and weekly.sent_at is None


pytestmark = pytest.mark.django_db
betterback = use_betterback_built_once()  # loaded once for the module
