"""The Twilio client (followup.sms.twilio) against a local HTTP server on 127.0.0.1 that
plays Twilio's Messages API, so the real urllib code runs; and the X-Twilio-Signature
algorithm against the examples Twilio publishes."""

from __future__ import annotations

import base64
import json
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import pytest
from django.http import QueryDict

from followup.sms.backends import SendResult, SmsError, TwilioBackend, get_backend
from followup.sms.twilio import (
    EMPTY_TWIML,
    TwilioClient,
    compute_signature,
    mask_numbers,
    parse_inbound,
    parse_status,
    validate_signature,
)

SID = "AC0123456789abcdef0123456789abcdef"
TOKEN = "test-auth-token"


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict
    form: dict


@dataclass
class Gateway:
    """What the fake Twilio answers next: (HTTP status, JSON body, delay in seconds)."""

    url: str = ""
    requests: list[Recorded] = field(default_factory=list)
    status: int = 201
    answer: dict | str = field(default_factory=lambda: {"sid": "SM" + "a" * 32, "status": "queued"})
    delay: float = 0.0


@pytest.fixture
def gateway():
    state = Gateway()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            length = int(self.headers.get("Content-Length", 0))
            body = self.rfile.read(length).decode()
            state.requests.append(Recorded("POST", self.path, dict(self.headers), parse_qs(body)))
            if state.delay:
                time.sleep(state.delay)
            payload = state.answer if isinstance(state.answer, str) else json.dumps(state.answer)
            try:
                self.send_response(state.status)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(payload.encode())
            except OSError:  # the client gave up (timeout test)
                pass

        def do_GET(self):
            state.requests.append(Recorded("GET", self.path, dict(self.headers), {}))
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(json.dumps(state.answer).encode())

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.handle_error = lambda *args: None
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
    )
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield state
    server.shutdown()
    server.server_close()


def client(gateway, **kwargs) -> TwilioClient:
    options = {"from_number": "+46700000000", "base_url": gateway.url, "timeout": 2.0}
    return TwilioClient(SID, TOKEN, **(options | kwargs))


def test_send_posts_the_form_twilio_expects(gateway):
    result = client(gateway).send_message(
        "+46701234567", "Hur ont? Svara 0-10", status_callback="https://site/sms/status/7"
    )
    assert result == SendResult(provider_id="SM" + "a" * 32, status="queued")
    [request] = gateway.requests
    assert request.path == f"/2010-04-01/Accounts/{SID}/Messages.json"
    assert request.form == {
        "To": ["+46701234567"],
        "From": ["+46700000000"],
        "Body": ["Hur ont? Svara 0-10"],
        "StatusCallback": ["https://site/sms/status/7"],
    }
    expected_auth = "Basic " + base64.b64encode(f"{SID}:{TOKEN}".encode()).decode()
    assert request.headers["Authorization"] == expected_auth
    assert request.headers["Content-Type"].startswith("application/x-www-form-urlencoded")


def test_a_messaging_service_replaces_from_and_no_callback_is_not_sent(gateway):
    client(gateway, from_number="", messaging_service_sid="MG123").send_message(
        "+4520123456", "Hvor ondt?"
    )
    form = gateway.requests[0].form
    assert form["MessagingServiceSid"] == ["MG123"]
    assert "From" not in form and "StatusCallback" not in form


def test_the_twilio_backend_reads_its_settings(gateway, settings):
    settings.SMS_BACKEND = "followup.sms.backends.TwilioBackend"
    settings.TWILIO_ACCOUNT_SID = SID
    settings.TWILIO_AUTH_TOKEN = TOKEN
    settings.TWILIO_FROM_NUMBER = "+4512345678"
    settings.TWILIO_BASE_URL = gateway.url
    backend = get_backend()
    assert isinstance(backend, TwilioBackend)
    assert backend.send("+4520123456", "Q1").provider_id.startswith("SM")
    assert gateway.requests[0].form["From"] == ["+4512345678"]


@pytest.mark.parametrize(
    "code,explained",
    [(21211, "invalid 'To' number"), (21614, "not a valid mobile"), (21610, "opted out")],
)
def test_invalid_or_opted_out_number_is_permanent(gateway, code, explained):
    gateway.status = 400
    gateway.answer = {
        "code": code,
        "message": "The 'To' number +46701234567 is not a valid phone number.",
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": 400,
    }
    with pytest.raises(SmsError) as exc:
        client(gateway).send_message("+46701234567", "Q1")
    assert exc.value.permanent
    assert str(code) in str(exc.value) and explained in str(exc.value)
    assert "701234567" not in str(exc.value)  # the number is masked


@pytest.mark.parametrize("status", [429, 500, 503])
def test_rate_limit_and_server_errors_are_temporary(gateway, status):
    gateway.status = status
    gateway.answer = {"code": 20429 if status == 429 else 20500, "message": "busy"}
    with pytest.raises(SmsError) as exc:
        client(gateway).send_message("+46701234567", "Q1")
    assert not exc.value.permanent
    assert f"HTTP {status}" in str(exc.value)


def test_an_error_page_that_is_not_json_is_still_classified(gateway):
    gateway.status = 502
    gateway.answer = "<html>Bad gateway</html>"
    with pytest.raises(SmsError) as exc:
        client(gateway).send_message("+46701234567", "Q1")
    assert not exc.value.permanent


def test_bad_credentials_are_temporary_with_a_hint(gateway):
    gateway.status = 401
    gateway.answer = {"code": 20003, "message": "Authenticate"}
    with pytest.raises(SmsError, match="TWILIO_AUTH_TOKEN") as exc:
        client(gateway).send_message("+46701234567", "Q1")
    assert not exc.value.permanent


def test_another_client_error_is_permanent(gateway):
    gateway.status = 400
    gateway.answer = {"code": 21602, "message": "Message body is required."}
    with pytest.raises(SmsError) as exc:
        client(gateway).send_message("+46701234567", "Q1")
    assert exc.value.permanent


def test_timeout_is_temporary_and_leaves_the_message_uncertain(gateway):
    gateway.delay = 1.0
    started = time.monotonic()
    with pytest.raises(SmsError, match="did not answer") as exc:
        client(gateway, timeout=0.2).send_message("+46701234567", "Q1")
    assert not exc.value.permanent
    assert exc.value.unanswered  # Twilio may have it: asked before it is sent again
    assert time.monotonic() - started < 0.9


def test_unreachable_gateway_is_temporary(gateway):
    with pytest.raises(SmsError) as exc:
        client(gateway, base_url="http://127.0.0.1:1").send_message("+46701234567", "Q1")
    assert not exc.value.permanent
    assert not exc.value.unanswered  # never connected: Twilio has nothing


def record(sid, to, body, created, status="delivered") -> dict:
    return {"sid": sid, "to": to, "body": body, "status": status, "date_created": created}


def test_find_message_lists_by_recipient_and_date_and_matches_body_and_time(gateway):
    """Twilio's list of messages, newest first: the one with this recipient and body
    created since the attempt began; an older one (last week's same question), another
    text, or a failed record is not it."""
    gateway.answer = {
        "messages": [
            record("SMfailed", "+46701234567", "Q1", "Mon, 30 Nov 2026 10:00:09 +0000", "failed"),
            record("SMother", "+46701234567", "Q2", "Mon, 30 Nov 2026 10:00:08 +0000"),
            record("SMours", "+46701234567", "Q1", "Mon, 30 Nov 2026 10:00:05 +0000", "sent"),
            record("SMold", "+46701234567", "Q1", "Mon, 23 Nov 2026 10:00:05 +0000"),
        ]
    }
    since = datetime(2026, 11, 30, 10, 0, 1, tzinfo=UTC)
    found = client(gateway).find_message("+46701234567", "Q1", since)
    assert found == SendResult(provider_id="SMours", status="sent")
    [request] = gateway.requests
    assert request.method == "GET"
    path, _, query = request.path.partition("?")
    assert path == f"/2010-04-01/Accounts/{SID}/Messages.json"
    assert parse_qs(query) == {
        "To": ["+46701234567"],
        "DateSent>": ["2026-11-29"],
        "PageSize": ["100"],
    }
    expected_auth = "Basic " + base64.b64encode(f"{SID}:{TOKEN}".encode()).decode()
    assert request.headers["Authorization"] == expected_auth
    later = datetime(2026, 11, 30, 10, 0, 6, tzinfo=UTC)
    assert client(gateway).find_message("+46701234567", "Q1", later) is None


def test_success_without_a_sid_is_an_error(gateway):
    gateway.answer = {"status": "queued"}
    with pytest.raises(SmsError, match="no message sid"):
        client(gateway).send_message("+46701234567", "Q1")


def test_mask_numbers():
    assert mask_numbers("The 'To' number +46 70 123 45 67 is bad") == (
        "The 'To' number <number> is bad"
    )
    assert mask_numbers("error 21211") == "error 21211"


# --- signatures ----------------------------------------------------------------------------

URL = "https://mycompany.com/myapp.php?foo=1&bar=2"


def test_signature_of_twilio_s_documentation_example():
    """twilio.com/docs/usage/webhooks/webhooks-security, "Validating signatures from
    Twilio": auth token 12345, this URL and these parameters sign to 0/KCTR6DLp..."""
    params = {
        "CallSid": "CA1234567890ABCDE",
        "Caller": "+12349013030",
        "Digits": "1234",
        "From": "+12349013030",
        "To": "+18005551212",
    }
    assert compute_signature("12345", URL, params) == "0/KCTR6DLpKmkAf8muzZqo1nDgQ="
    assert validate_signature("12345", URL, params, "0/KCTR6DLpKmkAf8muzZqo1nDgQ=")


# Vectors of Twilio's own SDK tests (twilio/twilio-python tests/unit/test_request_validator.py).
SDK_PARAMS = {
    "CallSid": "CA1234567890ABCDE",
    "Digits": "1234",
    "From": "+14158675309",
    "To": "+18005551212",
    "Caller": "+14158675309",
}
SDK_EXPECTED = "RSOYDt4T1cUTdK1PDd93/VVr8B8="


def test_signature_of_twilio_s_sdk_example():
    assert compute_signature("12345", URL, SDK_PARAMS) == SDK_EXPECTED


def test_a_parameter_sent_twice_contributes_both_values_sorted():
    expected = "IK+Dwps556ElfBT0I3Rgjkr1wJU="  # twilio-python, duplicate parameters
    query = QueryDict("Sid=CA123&SidAccount=AC123&Digits=5678&Digits=1234")
    assert compute_signature("12345", URL, query) == expected
    as_dict = {"Sid": "CA123", "SidAccount": "AC123", "Digits": ["5678", "1234"]}
    assert compute_signature("12345", URL, as_dict) == expected


@pytest.mark.parametrize(
    "url,signature",
    [
        # twilio-python: Twilio may sign with or without the port.
        ("https://mycompany.com:1234/myapp.php?foo=1&bar=2", SDK_EXPECTED),
        ("http://mycompany.com:1234/myapp.php?foo=1&bar=2", "Zmvh+3yNM1Phv2jhDCwEM3q5ebU="),
        (URL, "kvajT1Ptam85bY51eRf/AJRuM3w="),  # signed as https://mycompany.com:443/...
        (URL.replace("https", "http"), "0ZXoZLH/DfblKGATFgpif+LLRf4="),  # as ...com:80/...
    ],
)
def test_port_variants(url, signature):
    assert validate_signature("12345", url, SDK_PARAMS, signature)


@pytest.mark.parametrize(
    "token,url,params,signature",
    [
        ("12345", URL, SDK_PARAMS | {"Digits": "9999"}, SDK_EXPECTED),  # tampered parameter
        ("12345", URL, SDK_PARAMS | {"Body": "5"}, SDK_EXPECTED),  # added parameter
        ("12345", URL.replace("bar=2", "bar=3"), SDK_PARAMS, SDK_EXPECTED),
        ("54321", URL, SDK_PARAMS, SDK_EXPECTED),  # another account's token
        ("12345", URL, SDK_PARAMS, SDK_EXPECTED[:-1]),
        ("12345", URL, SDK_PARAMS, ""),
        ("12345", URL, SDK_PARAMS, None),
        ("", URL, SDK_PARAMS, SDK_EXPECTED),  # no token configured: nothing is valid
    ],
)
def test_invalid_signatures(token, url, params, signature):
    assert not validate_signature(token, url, params, signature)


def test_inbound_and_status_parameters():
    inbound = parse_inbound(
        {"MessageSid": "SM1", "From": "+4520123456", "To": "+4512345678", "Body": " 5 "}
    )
    assert (inbound.provider_id, inbound.sender, inbound.body) == ("SM1", "+4520123456", " 5 ")
    with pytest.raises(ValueError):
        parse_inbound({"Body": "5"})
    status = parse_status(
        {"MessageSid": "SM1", "MessageStatus": "undelivered", "ErrorCode": "21610"}
    )
    assert (status.status, status.error_code, status.opted_out) == ("undelivered", 21610, True)
    assert parse_status({"MessageSid": "SM1", "MessageStatus": "delivered"}).error_code is None
    with pytest.raises(ValueError):
        parse_status({"MessageSid": "SM1"})
    assert EMPTY_TWIML.endswith("<Response></Response>")
