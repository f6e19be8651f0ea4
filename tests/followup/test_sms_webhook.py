"""The gateway's webhooks as Twilio calls them: form posts signed with X-Twilio-Signature
(HMAC-SHA1 of URL + sorted parameters with the auth token, Twilio's "Webhooks security"
documentation; the signing itself is tested against Twilio's published examples in
test_sms_twilio.py)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core.cache import caches
from django.db import connection
from django.test.utils import CaptureQueriesContext

from followup.models import InboundSms, SmsMessage, SmsOptOut, SmsPrompt, SmsStatusCallback
from followup.sms import tracking
from followup.sms.backends import InMemoryBackend
from followup.sms.twilio import compute_signature
from questionnaires.models import Response

from ..factories import enrol
from ..plans import query_plan
from .conftest import clinic_of

TOKEN = "12345"
INBOUND = "http://testserver/sms/twilio/inbound/"
STATUS = "http://testserver/sms/twilio/status/"


@pytest.fixture
def gateway(settings):
    settings.TWILIO_AUTH_TOKEN = TOKEN
    settings.SMS_CALLBACK_BASE_URL = ""
    settings.SMS_BACKEND = "followup.sms.backends.InMemoryBackend"
    InMemoryBackend.outbox.clear()
    # The rate limit's counters in this process's own cache: clearing the shared one would
    # wipe the sent marks of a dispatcher test running beside this one (pytest -n).
    settings.RATELIMIT_USE_CACHE = "default"
    caches["default"].clear()
    yield
    InMemoryBackend.outbox.clear()


@pytest.fixture
def asked(safe, gateway):
    """A SAFE participant whose first weekly question has gone out."""
    p = enrol(
        clinic_of(safe), enrolled_on=date(2022, 1, 5), mobile="+4520112233", preferred_language="da"
    )
    first = SmsPrompt.objects.get(participant=p, week=1)
    tracking.run(now=first.due_at)
    return p


def post(client, url, params, token=TOKEN, **headers):
    signature = compute_signature(token, url, params)
    return client.post(url, params, HTTP_X_TWILIO_SIGNATURE=signature, **headers)


def inbound(sid="SM0001", sender="+4520112233", body="5"):
    return {
        "MessageSid": sid,
        "From": sender,
        "To": "+4570000000",
        "Body": body,
        "AccountSid": "AC123",
    }


def test_a_bad_signature_is_refused_and_stores_nothing(client, asked):
    r = post(client, INBOUND, inbound(), token="not-the-token")
    assert r.status_code == 403
    r = client.post(INBOUND, inbound())  # no signature at all
    assert r.status_code == 403
    assert not InboundSms.objects.exists()
    assert SmsPrompt.objects.get(participant=asked, week=1).status == SmsPrompt.SENT


def test_a_signed_reply_is_stored_and_becomes_the_weeks_answer(client, asked):
    r = post(client, INBOUND, inbound(body=" 5 (hård uge)"))
    assert r.status_code == 200 and r["Content-Type"].startswith("text/xml")
    assert b"<Response></Response>" in r.content  # no automatic reply from Twilio
    stored = InboundSms.objects.get()
    assert (stored.outcome, stored.value, stored.body) == ("answer", 5, " 5 (hård uge)")
    assert Response.objects.get(participant=asked, week=1).scores["pain"] == 5


def test_a_reply_finds_its_sender_by_their_number_through_an_index(client, asked):
    """A reply looks its sender up by the number it came from: at 20,000 participants a
    scan of every participant's details made a reply 1.2x as slow as at 1,000
    (benchmarks/sms_week.py), growing with the trial."""
    with CaptureQueriesContext(connection) as captured:
        post(client, INBOUND, inbound())
    assert InboundSms.objects.get().outcome == "answer"
    (lookup,) = [q["sql"] for q in captured if _is_sender_lookup(q["sql"])]
    assert "personal_mobile_idx" in query_plan(lookup)


def _is_sender_lookup(sql: str) -> bool:
    """The lookup as run: its SQL, or on PostgreSQL the EXECUTE of its prepared statement
    (trialsite.compiled; ``EXPLAIN EXECUTE`` plans it)."""
    from followup.sms import inbound as replies

    return sql.startswith(f"EXECUTE {replies._SENDERS._name} ") or (
        '"mobile" =' in sql and "personaldetails" in sql
    )


def test_a_reply_that_cannot_be_parsed_is_still_stored(client, asked):
    r = post(client, INBOUND, inbound(body="🙂🙂"))
    assert r.status_code == 200
    stored = InboundSms.objects.get()
    assert stored.body == "🙂🙂" and stored.outcome == InboundSms.UNCLEAR


def test_a_reply_is_kept_when_interpretation_fails(client, asked, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("database hiccup")

    monkeypatch.setattr(tracking, "receive", broken)
    r = post(client, INBOUND, inbound(body="4"))
    assert r.status_code == 200  # the gateway must not retry forever
    stored = InboundSms.objects.get()
    assert stored.outcome == InboundSms.PENDING and stored.body == "4"
    monkeypatch.undo()
    tracking.run(now=SmsPrompt.objects.get(participant=asked, week=1).due_at + timedelta(minutes=1))
    stored.refresh_from_db()
    assert stored.outcome == InboundSms.ANSWER and stored.value == 4


def test_the_same_provider_message_delivered_twice_is_stored_once(client, asked):
    for _ in range(2):
        assert post(client, INBOUND, inbound(sid="SMdup", body="7")).status_code == 200
    assert InboundSms.objects.filter(provider_id="SMdup").count() == 1
    prompt = SmsPrompt.objects.get(participant=asked, week=1, position=0)
    assert (
        prompt.value == 7
        and prompt.history.filter(history_change_reason__startswith="second reply").count() == 0
    )


def test_unsigned_requests_are_rate_limited_and_signed_ones_never(client, asked, settings):
    settings.SMS_WEBHOOK_RATE = "3/m"
    forged = [
        post(client, INBOUND, inbound(sid=f"SMx{i}"), token="guess").status_code for i in range(5)
    ]
    assert forged == [403, 403, 403, 429, 429]
    # the same address, signed by the gateway: still heard, and stored
    assert post(client, INBOUND, inbound(sid="SMreal", body="4")).status_code == 200
    assert list(InboundSms.objects.values_list("provider_id", flat=True)) == ["SMreal"]


def test_not_a_twilio_message_is_a_bad_request(client, asked):
    r = post(client, INBOUND, {"Body": "5"})
    assert r.status_code == 400 and not InboundSms.objects.exists()


def test_behind_a_proxy_the_public_url_is_what_is_signed(client, asked, settings):
    settings.SMS_CALLBACK_BASE_URL = "https://edc.example.org"
    params = inbound()
    # Signed for the address the request reached (the Host header), not the public one
    assert post(client, INBOUND, params).status_code == 403
    signature = compute_signature(TOKEN, "https://edc.example.org/sms/twilio/inbound/", params)
    r = client.post(INBOUND, params, HTTP_X_TWILIO_SIGNATURE=signature)
    assert r.status_code == 200 and InboundSms.objects.count() == 1


def test_delivery_failure_and_provider_opt_out_from_the_status_callback(client, asked):
    message = SmsMessage.objects.get(participant=asked, kind=SmsMessage.QUESTION)
    r = post(client, STATUS, {"MessageSid": message.provider_id, "MessageStatus": "sent"})
    assert r.status_code == 204
    message.refresh_from_db()
    assert message.provider_status == "sent" and message.status == "sent"

    r = post(
        client,
        STATUS,
        {"MessageSid": message.provider_id, "MessageStatus": "undelivered", "ErrorCode": "21610"},
    )
    assert r.status_code == 204
    message.refresh_from_db()
    assert message.status == "failed" and "21610" in message.error
    assert SmsOptOut.objects.get(participant=asked).source == "provider"
    assert not SmsPrompt.objects.filter(participant=asked, status__in=SmsPrompt.OPEN).exists()


def test_delivery_reports_out_of_order_never_set_a_message_back(client, asked):
    message = SmsMessage.objects.get(participant=asked, kind=SmsMessage.QUESTION)
    for status in ("delivered", "sent", "queued", "undelivered"):
        r = post(client, STATUS, {"MessageSid": message.provider_id, "MessageStatus": status})
        assert r.status_code == 204
        message.refresh_from_db()
        assert (message.provider_status, message.status) == ("delivered", "sent"), status
    failed = SmsMessage.objects.create(
        participant=asked,
        kind=SmsMessage.REMINDER,
        body="x",
        idempotency_key="late-report",
        language="da",
        status="sent",
        provider_id="SMlate",
        provider_status="queued",
        created=message.created,
    )
    for status in ("failed", "sent", "delivered"):
        post(
            client, STATUS, {"MessageSid": "SMlate", "MessageStatus": status, "ErrorCode": "30005"}
        )
    failed.refresh_from_db()
    assert (failed.provider_status, failed.status) == ("failed", "failed")


def test_the_status_callback_checks_the_signature_too(client, asked):
    message = SmsMessage.objects.get(participant=asked, kind=SmsMessage.QUESTION)
    r = post(
        client,
        STATUS,
        {"MessageSid": message.provider_id, "MessageStatus": "failed"},
        token="wrong",
    )
    assert r.status_code == 403
    message.refresh_from_db()
    assert message.status == "sent"


def test_a_delivery_report_that_comes_before_its_message_is_recorded_is_kept(client, asked):
    from followup.models import SmsStatusCallback

    message = SmsMessage.objects.get(participant=asked, kind=SmsMessage.QUESTION)
    provider_id = message.provider_id
    # As if the gateway reported before the dispatcher wrote the batch's outcome.
    SmsMessage.objects.filter(pk=message.pk).update(provider_id="", status="sending")
    r = post(client, STATUS, {"MessageSid": provider_id, "MessageStatus": "undelivered",
                              "ErrorCode": "30003"})  # fmt: skip
    assert r.status_code == 204
    report = SmsStatusCallback.objects.get(provider_id=provider_id)
    assert report.applied_at is None

    SmsMessage.objects.filter(pk=message.pk).update(provider_id=provider_id, status="sent")
    stats = tracking.run(now=SmsPrompt.objects.get(participant=asked, week=1).due_at)
    assert stats.reports == 1
    message.refresh_from_db()
    report.refresh_from_db()
    assert (message.status, message.provider_status) == ("failed", "undelivered")
    assert "30003" in message.error and report.applied_at is not None


def test_a_signed_request_with_an_overlong_message_id_is_refused_and_stores_nothing(
    client, asked
):
    params = inbound(sid="SM" + "0" * 98)
    params["MessageStatus"] = "delivered"
    for url in (INBOUND, STATUS):
        r = post(client, url, params)
        assert r.status_code == 400 and b"MessageSid longer than 64" in r.content, url
    assert not InboundSms.objects.exists() and not SmsStatusCallback.objects.exists()
    assert SmsPrompt.objects.get(participant=asked, week=1).status == SmsPrompt.SENT
