"""SMS backends, chosen by ``settings.SMS_BACKEND`` like Django's email backends.

- :class:`OutboxBackend` (the default): writes the outbox table, nothing leaves the
  machine; staff read what participants would have received.
- :class:`InMemoryBackend`: a class-level list, for tests (like Django's locmem).
- :class:`TwilioBackend`: Twilio's REST API (:mod:`followup.sms.twilio`).

``send(to, body, status_callback=None)`` returns a :class:`SendResult` or raises
:class:`SmsError`; ``permanent`` means trying the same message again cannot help (an
invalid number, a participant who opted out), so the dispatcher gives up at once;
``unanswered`` that the provider may have the message all the same (a timeout).

``find_sent(to, body, since)`` asks the provider's own record whether it has this
text to this number from ``since`` on: the dispatcher does before sending a message
again whose earlier attempt may have reached the provider (a worker killed during the
call). It returns the record as a :class:`SendResult`, None when there is none, raises
:class:`SmsError` when the provider cannot be reached, and :class:`CannotTell` when the
backend keeps no record to ask.
Recipients must already be E.164 (:func:`enrolment.phone.normalise` at data entry).

Text helpers: keep messages in the GSM-7 alphabet (Swedish and Danish letters are in
it); one typographic quote or non-breaking space switches the whole message to UCS-2,
70 characters a segment instead of 160, at up to twice the cost.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from django.conf import settings
from django.utils.module_loading import import_string

from enrolment.phone import is_e164

DEFAULT_BACKEND = "followup.sms.backends.OutboxBackend"


class SmsError(Exception):
    def __init__(
        self,
        message: str,
        permanent: bool = False,
        code: int | None = None,
        unanswered: bool = False,
    ):
        super().__init__(message)
        self.permanent = permanent
        self.code = code  # the gateway's error code, when it gave one
        self.unanswered = unanswered  # no answer came: the gateway may have the message


class CannotTell(Exception):
    """The backend keeps no record of what it sent that could be asked."""


@dataclass(frozen=True)
class SendResult:
    provider_id: str  # the provider's id: delivery callbacks and inbound replies refer to it
    status: str  # the provider's status at hand-over ("queued", "accepted", "sent")


def get_backend(path: str | None = None, **kwargs) -> BaseSmsBackend:
    """An instance of the backend at ``path``, or of ``settings.SMS_BACKEND``."""
    path = path or getattr(settings, "SMS_BACKEND", DEFAULT_BACKEND)
    return import_string(path)(**kwargs)


class BaseSmsBackend:
    def __init__(self, **kwargs):
        pass

    def send(self, to: str, body: str, *, status_callback: str | None = None) -> SendResult:
        raise NotImplementedError

    def find_sent(self, to: str, body: str, since: datetime) -> SendResult | None:
        raise CannotTell(type(self).__name__)

    def check(self, to: str, body: str) -> None:
        """What no provider would accept: refused here, permanently, before any call."""
        if not is_e164(to):
            raise SmsError("recipient is not an E.164 mobile number", permanent=True)
        if not body or not body.strip():
            raise SmsError("empty message", permanent=True)


class OutboxBackend(BaseSmsBackend):
    def send(self, to: str, body: str, *, status_callback: str | None = None) -> SendResult:
        from followup import outbox
        from followup.models import OutboxMessage

        self.check(to, body)
        row = outbox.store(OutboxMessage.SMS, to, body)
        return SendResult(provider_id=f"outbox-{row.pk}", status="sent")

    def find_sent(self, to: str, body: str, since: datetime) -> SendResult | None:
        from followup.models import OutboxMessage

        row = (
            OutboxMessage.objects.filter(
                channel=OutboxMessage.SMS, recipient=to, body=body, created__gte=since
            )
            .order_by("created", "id")
            .first()
        )
        return row and SendResult(provider_id=f"outbox-{row.pk}", status="sent")


@dataclass(frozen=True)
class SentSms:
    to: str
    body: str
    status_callback: str | None
    provider_id: str


class InMemoryBackend(BaseSmsBackend):
    """Keeps every message in ``InMemoryBackend.outbox``; tests empty it themselves."""

    outbox: ClassVar[list[SentSms]] = []
    _ids = itertools.count(1)

    def send(self, to: str, body: str, *, status_callback: str | None = None) -> SendResult:
        self.check(to, body)
        sent = SentSms(to, body, status_callback, provider_id=f"mem-{next(self._ids)}")
        InMemoryBackend.outbox.append(sent)
        return SendResult(provider_id=sent.provider_id, status="sent")

    def find_sent(self, to: str, body: str, since: datetime) -> SendResult | None:
        for sent in InMemoryBackend.outbox:
            if (sent.to, sent.body) == (to, body):
                return SendResult(provider_id=sent.provider_id, status="sent")
        return None


class TwilioBackend(BaseSmsBackend):
    """Settings are read when the backend is made, not at import (tests override them):
    TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, TWILIO_FROM_NUMBER or
    TWILIO_MESSAGING_SERVICE_SID, TWILIO_BASE_URL, TWILIO_TIMEOUT_SECONDS."""

    def __init__(self, client=None, **kwargs):
        super().__init__(**kwargs)
        from .twilio import TwilioClient

        self.client = client or TwilioClient.from_settings()

    def send(self, to: str, body: str, *, status_callback: str | None = None) -> SendResult:
        self.check(to, body)
        return self.client.send_message(to, body, status_callback=status_callback)

    def find_sent(self, to: str, body: str, since: datetime) -> SendResult | None:
        return self.client.find_message(to, body, since)


# --- GSM-7 -------------------------------------------------------------------------------

# GSM 03.38 default alphabet (one septet each) and its extension table (escape + char).
GSM7_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = set("^{}\\[~]|€\f")

# Characters word processors and phones put in that cost a UCS-2 message, and their
# plain equivalent.
_PLAIN = {
    "\u00a0": " ",  # no-break space
    "\u202f": " ",  # narrow no-break space (French and Nordic number formatting)
    "\u2007": " ",  # figure space
    "\u2009": " ",  # thin space
    "\u2002": " ",
    "\u2003": " ",
    "\u00ad": "",  # soft hyphen
    "\u200b": "",  # zero-width space
    "\u200c": "",
    "\u200d": "",
    "\u2060": "",  # word joiner
    "\ufeff": "",  # byte order mark
    "\u2018": "'",
    "\u2019": "'",
    "\u201a": "'",
    "\u2032": "'",
    "\u00b4": "'",
    "\u201c": '"',
    "\u201d": '"',
    "\u201e": '"',
    "\u2033": '"',
    "\u00ab": '"',
    "\u00bb": '"',
    "\u2010": "-",
    "\u2011": "-",  # non-breaking hyphen
    "\u2012": "-",
    "\u2013": "-",  # en dash
    "\u2014": "-",  # em dash
    "\u2212": "-",  # minus sign
    "\u2026": "...",
    "\u2022": "-",  # bullet
}
_PLAIN_TABLE = str.maketrans(_PLAIN)


def gsm7_safe(text: str) -> str:
    """``text`` with typographic spaces, quotes, dashes and ellipses made plain, so that
    a message written in a word processor stays GSM-7. Other characters are left alone
    (an emoji or a Polish letter still needs UCS-2: ``segments`` tells)."""
    return text.translate(_PLAIN_TABLE)


def is_gsm7(text: str) -> bool:
    return all(c in GSM7_BASIC or c in GSM7_EXTENSION for c in text)


def segments(text: str) -> int:
    """How many SMS ``text`` is sent as: GSM-7 160 septets in one, 153 a part when
    concatenated (an extension character takes two and is never split); UCS-2 70
    UTF-16 units in one, 67 a part (a surrogate pair is never split). 0 for ''."""
    if not text:
        return 0
    if is_gsm7(text):
        units = [2 if c in GSM7_EXTENSION else 1 for c in text]
        single, part = 160, 153
    else:
        units = [len(c.encode("utf-16-le")) // 2 for c in text]
        single, part = 70, 67
    if sum(units) <= single:
        return 1
    return _parts(units, part)


def _parts(units: list[int], size: int) -> int:
    count, used = 1, 0
    for unit in units:
        if used + unit > size:  # an escape or surrogate pair goes whole to the next part
            count, used = count + 1, 0
        used += unit
    return count
