"""The webhook and the dispatcher at the same moment, on PostgreSQL (row locks; SQLite
runs one writer at a time). Both lock the participant first, so each sees the other's
committed work: a reply is never dropped and never lands on the wrong week."""

from __future__ import annotations

import threading
import time
from datetime import date, timedelta

import pytest
from django.db import connection

from followup.models import InboundSms, SmsPrompt
from followup.sms import inbound as sms_inbound
from followup.sms import tracking

from ..factories import enrol
from .conftest import clinic_of

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def postgres_only(settings):
    if not connection.features.has_select_for_update_skip_locked:
        pytest.skip("needs row locks: runs in CI on PostgreSQL")
    settings.SMS_BACKEND = "followup.sms.backends.InMemoryBackend"


def in_thread(fn):
    result = {}

    def target():
        try:
            result["value"] = fn()
        except Exception as exc:  # noqa: BLE001 - reported by the test
            result["error"] = exc
        finally:
            connection.close()

    thread = threading.Thread(target=target)
    thread.start()
    return thread, result


def slowed(monkeypatch, name, seconds=1.5, module=tracking):
    real = getattr(module, name)

    def slow(*args, **kwargs):
        time.sleep(seconds)
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, slow)


def week(p, n, position=0):
    return SmsPrompt.objects.get(participant=p, week=n, position=position)


def asked(safe):
    p = enrol(clinic_of(safe), enrolled_on=date(2022, 1, 5), mobile="+4520199999")
    tracking.run(now=week(p, 1).due_at)
    return p


def reply(text, sid, at):
    stored, _ = tracking.store(sid, "+4520199999", text, now=at)
    return tracking.receive(stored.pk, at)


def test_a_reply_while_the_next_weeks_question_goes_out_answers_that_question(
    safe, monkeypatch
):
    p = asked(safe)
    at = week(p, 2).due_at
    slowed(monkeypatch, "_expire_earlier")  # the dispatcher holds its locks a while
    thread, result = in_thread(lambda: tracking.plan_due(at, 50, tracking.SmsStats()))
    time.sleep(0.5)
    inbound = reply("6", "SMrace1", at + timedelta(seconds=1))
    thread.join()
    assert "error" not in result
    assert week(p, 1).status == SmsPrompt.EXPIRED
    assert (inbound.outcome, inbound.prompt.week, week(p, 2).value) == (InboundSms.ANSWER, 2, 6)


def test_the_dispatcher_leaves_a_participant_being_answered_to_its_next_run(safe, monkeypatch):
    p = asked(safe)
    at = week(p, 2).due_at
    slowed(monkeypatch, "_record_response", module=sms_inbound)  # the reply holds its locks a while
    thread, result = in_thread(lambda: reply("5", "SMrace2", at - timedelta(minutes=1)))
    time.sleep(0.5)
    stats = tracking.SmsStats()
    tracking.plan_due(at, 50, stats)
    thread.join()
    assert "error" not in result and stats.questions == 0  # skipped, not half-seen
    monkeypatch.undo()
    tracking.run(now=at + timedelta(minutes=1))  # next run: week 2 out, week 1's Q2 closed
    assert week(p, 1, position=1).status == SmsPrompt.EXPIRED
    inbound = reply("8", "SMrace3", at + timedelta(minutes=2))
    assert (inbound.outcome, inbound.prompt.week, inbound.prompt.question) == (
        InboundSms.ANSWER,
        2,
        "pain",
    )
