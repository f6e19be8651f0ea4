"""Twilio's REST API with the standard library: sending, and the signatures of the
webhooks Twilio calls (inbound replies, delivery status).

Sending is ``POST {base}/2010-04-01/Accounts/{sid}/Messages.json`` with the form fields
``To``, ``From`` (or ``MessagingServiceSid``), ``Body`` and ``StatusCallback``, HTTP
basic auth with the account SID and auth token; Twilio answers 201 with the message's
``sid`` and ``status``, or an error body ``{"code": 21211, "message": ..., "status": 400}``.

Errors, as :class:`~followup.sms.backends.SmsError`:
- permanent: the codes below (invalid or unreachable number, opted out), and any other
  4xx: the same request would get the same answer;
- temporary: 401/403 (credentials: fixed by an operator, then the retries succeed),
  429, 5xx, network errors and timeouts.
A timeout may come after Twilio accepted the message (the Messages API takes no
idempotency key): such an error is ``unanswered``, and before that message is sent
again the dispatcher asks Twilio's own record (:meth:`TwilioClient.find_message`, as
after a worker killed during the call).

Finding a message is ``GET {base}/2010-04-01/Accounts/{sid}/Messages.json?To=...&
DateSent>=YYYY-MM-DD`` (Twilio lists the newest first, ``PageSize`` at most 1000);
the message is the one with the same recipient and body created at or after the
attempt began (Twilio keeps no field of ours, so recipient, text and time are the
match; a failed or undelivered record does not count: sending again is right then).

Error texts from Twilio quote the phone number; it is masked before it reaches our
error field or logs.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime

from django.conf import settings

from .backends import SendResult, SmsError

DEFAULT_BASE_URL = "https://api.twilio.com"
API_VERSION = "2010-04-01"
DEFAULT_TIMEOUT_SECONDS = 10.0

# Twilio error codes after which trying again cannot help (https://www.twilio.com/docs/api/errors).
PERMANENT_CODES = {
    21211: "invalid 'To' number",
    21217: "number does not appear to be valid",
    21401: "invalid phone number",
    21407: "number type does not support SMS",
    21408: "sending to this region is not enabled on the account",
    21610: "the recipient has opted out (STOP)",
    21612: "'To' number is not reachable by SMS",
    21614: "'To' number is not a valid mobile number",
    21635: "'To' number is a landline",
}
OPTED_OUT = 21610

_PHONE = re.compile(r"\+?\d[\d\s().-]{5,}\d")


def mask_numbers(text: str) -> str:
    return _PHONE.sub("<number>", text)


class TwilioClient:
    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        *,
        from_number: str = "",
        messaging_service_sid: str = "",
        base_url: str = DEFAULT_BASE_URL,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
    ):
        if not account_sid or not auth_token:
            raise SmsError("Twilio account SID and auth token are not configured")
        if not from_number and not messaging_service_sid:
            raise SmsError("configure a Twilio sender number or messaging service")
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.from_number = from_number
        self.messaging_service_sid = messaging_service_sid
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout

    @classmethod
    def from_settings(cls) -> TwilioClient:
        return cls(
            getattr(settings, "TWILIO_ACCOUNT_SID", ""),
            getattr(settings, "TWILIO_AUTH_TOKEN", ""),
            from_number=getattr(settings, "TWILIO_FROM_NUMBER", ""),
            messaging_service_sid=getattr(settings, "TWILIO_MESSAGING_SERVICE_SID", ""),
            base_url=getattr(settings, "TWILIO_BASE_URL", DEFAULT_BASE_URL),
            timeout=float(getattr(settings, "TWILIO_TIMEOUT_SECONDS", DEFAULT_TIMEOUT_SECONDS)),
        )

    @property
    def messages_url(self) -> str:
        sid = urllib.parse.quote(self.account_sid, safe="")
        return f"{self.base_url}/{API_VERSION}/Accounts/{sid}/Messages.json"

    def send_message(self, to: str, body: str, *, status_callback: str | None = None) -> SendResult:
        fields = {"To": to, "Body": body}
        # A messaging service picks the sender itself (and handles opt-out keywords).
        if self.messaging_service_sid:
            fields["MessagingServiceSid"] = self.messaging_service_sid
        else:
            fields["From"] = self.from_number
        if status_callback:
            fields["StatusCallback"] = status_callback
        answer = self._call(self.messages_url, fields)
        sid, status = answer.get("sid"), answer.get("status")
        if not isinstance(sid, str) or not sid:
            raise SmsError("Twilio accepted the request but returned no message sid")
        return SendResult(provider_id=sid, status=str(status or "queued"))

    def find_message(self, to: str, body: str, since: datetime) -> SendResult | None:
        """Twilio's record of ``body`` sent to ``to`` at or after ``since``, or None."""
        query = urllib.parse.urlencode(
            # Dates only, in UTC: the day before too, in case the clocks differ at midnight.
            {"To": to, "DateSent>": (since - timedelta(days=1)).date().isoformat(), "PageSize": 100}
        )
        answer = self._call(f"{self.messages_url}?{query}")
        for record in answer.get("messages") or []:
            if not isinstance(record, dict) or (record.get("to"), record.get("body")) != (to, body):
                continue
            if record.get("status") in NOT_SENT or not record.get("sid"):
                continue
            try:
                created = parsedate_to_datetime(record.get("date_created") or "")
            except (TypeError, ValueError):
                continue
            if created >= since:
                return SendResult(provider_id=record["sid"], status=str(record.get("status")))
        return None

    def _call(self, url: str, fields: Mapping[str, str] | None = None) -> dict:
        """A POST of ``fields``, or a GET without them."""
        credentials = f"{self.account_sid}:{self.auth_token}".encode()
        headers = {
            "Authorization": "Basic " + base64.b64encode(credentials).decode("ascii"),
            "Accept": "application/json",
            "User-Agent": "lbp-trialsite-sms/1",
        }
        if fields is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded; charset=utf-8"
        request = urllib.request.Request(
            url,
            data=urllib.parse.urlencode(fields).encode() if fields is not None else None,
            method="POST" if fields is not None else "GET",
            headers=headers,
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                raw = response.read()
        except urllib.error.HTTPError as exc:
            raise _http_error(exc.code, _read(exc)) from exc
        except TimeoutError as exc:
            raise _unanswered(f"Twilio did not answer within {self.timeout:g} s") from exc
        except urllib.error.URLError as exc:
            if isinstance(exc.reason, TimeoutError):
                raise _unanswered(f"Twilio did not answer within {self.timeout:g} s") from exc
            # Not connected: nothing reached Twilio.
            raise SmsError(f"cannot reach Twilio: {exc.reason}") from exc
        except OSError as exc:  # connection reset while reading, etc.
            raise _unanswered(f"connection to Twilio failed: {type(exc).__name__}") from exc
        try:
            answer = json.loads(raw)
        except ValueError as exc:
            raise SmsError("Twilio answered with something other than JSON") from exc
        return answer if isinstance(answer, dict) else {}


# A record in these states never reached the phone: sending again is right.
NOT_SENT = {"failed", "undelivered", "canceled"}


def _unanswered(text: str) -> SmsError:
    return SmsError(text, unanswered=True)


def _read(exc: urllib.error.HTTPError) -> bytes:
    try:
        return exc.read()
    except OSError:
        return b""


def _http_error(status: int, raw: bytes) -> SmsError:
    try:
        detail = json.loads(raw)
    except ValueError:
        detail = {}
    detail = detail if isinstance(detail, dict) else {}
    code = detail.get("code")
    message = mask_numbers(str(detail.get("message") or "")).strip()
    text = f"Twilio HTTP {status}" + (f" error {code}" if code else "")
    text += f": {message}" if message else ""
    if code in PERMANENT_CODES:
        return SmsError(f"{text} ({PERMANENT_CODES[code]})", permanent=True, code=code)
    if status in (401, 403):
        return SmsError(f"{text} (check TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN)")
    if status == 429 or status >= 500:
        return SmsError(text)
    return SmsError(text, permanent=400 <= status < 500)


# --- Webhooks -----------------------------------------------------------------------------

Params = Mapping[str, str] | Mapping[str, Iterable[str]]


def compute_signature(auth_token: str, url: str, params: Params | None = None) -> str:
    """Twilio's X-Twilio-Signature: base64(HMAC-SHA1(auth token, URL + each POST parameter's
    name and value, sorted by name, no separators)). A parameter sent several times
    contributes each value, values sorted (as Twilio's own SDKs do). ``params`` may be a
    dict or a Django QueryDict."""
    data = url
    for name, values in sorted(_lists(params or {})):
        for value in sorted(values):
            data += name + value
    digest = hmac.new(auth_token.encode(), data.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


def validate_signature(
    auth_token: str, url: str, params: Params | None, signature: str | None
) -> bool:
    """Whether ``signature`` (the X-Twilio-Signature header) signs this request. ``url`` is
    the full URL Twilio called, query string included, as configured at Twilio (behind a
    proxy, rebuild it from the public base URL, not from the Host header). Twilio may
    have signed it with or without the port, so both are tried."""
    if not signature or not auth_token:
        return False
    return any(
        hmac.compare_digest(compute_signature(auth_token, candidate, params), signature)
        for candidate in _url_variants(url)
    )


def _lists(params) -> list[tuple[str, list[str]]]:
    if hasattr(params, "lists"):  # Django QueryDict
        return [(k, list(v)) for k, v in params.lists()]
    return [(k, [v] if isinstance(v, str) else list(v)) for k, v in params.items()]


def _url_variants(url: str) -> list[str]:
    parts = urllib.parse.urlsplit(url)
    try:
        port = parts.port
    except ValueError:  # a port that is not a number: only the URL as given
        return [url]
    netloc = parts.netloc[: parts.netloc.rfind(":")] if port is not None else parts.netloc
    variants = [url, urllib.parse.urlunsplit(parts._replace(netloc=netloc))]
    default = {"https": 443, "http": 80}.get(parts.scheme)
    if port is None and default:
        variants.append(urllib.parse.urlunsplit(parts._replace(netloc=f"{netloc}:{default}")))
    return list(dict.fromkeys(variants))


@dataclass(frozen=True)
class InboundSms:
    provider_id: str  # MessageSid: the same message delivered twice has the same one
    sender: str
    recipient: str
    body: str


@dataclass(frozen=True)
class StatusUpdate:
    provider_id: str
    status: str  # queued, sent, delivered, undelivered, failed, ...
    error_code: int | None

    @property
    def opted_out(self) -> bool:
        return self.error_code == OPTED_OUT


# How far along its way a message is, by the statuses Twilio reports: callbacks may
# arrive out of order (a "sent" after "delivered"), and a report of an earlier stage
# must not set a message back. The final stages are final: the first one reported stays.
STAGES = {
    "accepted": 0,
    "scheduled": 0,
    "queued": 1,
    "sending": 2,
    "sent": 3,
    "delivered": 4,
    "undelivered": 4,
    "failed": 4,
    "read": 4,
    "canceled": 4,
}
FINAL_STAGE = 4


def moves_forward(current: str, reported: str) -> bool:
    """Whether a report of ``reported`` may replace ``current`` (both Twilio statuses;
    an unknown status never replaces a known one, and replaces only another unknown)."""
    if reported not in STAGES:
        return current not in STAGES
    if current not in STAGES:
        return True
    now, then = STAGES[current], STAGES[reported]
    return then > now or (then == now and now < FINAL_STAGE)
# Twilio's ids are 34 characters; the columns keep 64. A longer one is not Twilio's.
MAX_SID = 64


def _sid(params: Mapping[str, str]) -> str:
    sid = params.get("MessageSid") or params.get("SmsSid") or ""
    if len(sid) > MAX_SID:
        raise ValueError(f"MessageSid longer than {MAX_SID} characters: not a Twilio id")
    return sid


def parse_inbound(params: Mapping[str, str]) -> InboundSms:
    """The fields of Twilio's incoming-message webhook; ValueError when it is not one."""
    sid = _sid(params)
    if not sid or not params.get("From"):
        raise ValueError("not a Twilio incoming message: MessageSid or From missing")
    return InboundSms(sid, params["From"], params.get("To", ""), params.get("Body", ""))


def parse_status(params: Mapping[str, str]) -> StatusUpdate:
    """The fields of Twilio's status callback; ValueError when it is not one."""
    sid = _sid(params)
    status = params.get("MessageStatus") or params.get("SmsStatus") or ""
    if not sid or not status:
        raise ValueError("not a Twilio status callback: MessageSid or MessageStatus missing")
    code = params.get("ErrorCode") or ""
    # Twilio's error codes have five digits; a longer number would overflow the column.
    return StatusUpdate(sid, status, int(code) if code.isdigit() and len(code) <= 9 else None)


# What the inbound webhook answers: no automatic reply (ours go out through the backend).
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
