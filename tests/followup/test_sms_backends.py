"""SMS backends (followup.sms.backends): choosing by setting, the outbox and in-memory
backends, the checks every backend makes, and GSM-7 text and segment counting.
Segment sizes: 3GPP TS 23.038/23.040 (GSM-7 160 septets, 153 per part of a
concatenated message; UCS-2 70 and 67 UTF-16 units)."""

import pytest

from followup.models import OutboxMessage
from followup.sms.backends import (
    BaseSmsBackend,
    InMemoryBackend,
    OutboxBackend,
    SendResult,
    SmsError,
    TwilioBackend,
    get_backend,
    gsm7_safe,
    is_gsm7,
    segments,
)


@pytest.fixture
def memory():
    InMemoryBackend.outbox.clear()
    yield InMemoryBackend.outbox
    InMemoryBackend.outbox.clear()


def test_default_backend_is_the_outbox(settings):
    if hasattr(settings, "SMS_BACKEND"):
        del settings.SMS_BACKEND
    assert isinstance(get_backend(), OutboxBackend)


def test_backend_from_setting_and_from_path(settings):
    settings.SMS_BACKEND = "followup.sms.backends.InMemoryBackend"
    assert isinstance(get_backend(), InMemoryBackend)
    assert isinstance(get_backend("followup.sms.backends.OutboxBackend"), OutboxBackend)


def test_the_interface_must_be_implemented():
    with pytest.raises(NotImplementedError):
        BaseSmsBackend().send("+46701234567", "hej")


@pytest.mark.django_db
def test_outbox_backend_writes_an_sms_row():
    result = OutboxBackend().send("+4520123456", "Hvor ondt i ryggen? Svar 0-10")
    row = OutboxMessage.objects.get()
    assert (row.channel, row.recipient, row.body) == (
        "sms",
        "+4520123456",
        "Hvor ondt i ryggen? Svar 0-10",
    )
    assert result == SendResult(provider_id=f"outbox-{row.pk}", status="sent")


def test_in_memory_backend_keeps_messages(memory):
    backend = get_backend("followup.sms.backends.InMemoryBackend")
    first = backend.send("+46701234567", "Q1", status_callback="https://x/status/1")
    second = InMemoryBackend().send("+46701234568", "Q2")  # another instance, same outbox
    assert [(m.to, m.body, m.status_callback) for m in memory] == [
        ("+46701234567", "Q1", "https://x/status/1"),
        ("+46701234568", "Q2", None),
    ]
    assert first.provider_id != second.provider_id
    assert memory[0].provider_id == first.provider_id


@pytest.mark.parametrize("to", ["0701234567", "+46 70 123 45 67", "", "+46abc"])
def test_a_number_not_in_e164_is_refused_permanently(memory, to):
    with pytest.raises(SmsError) as exc:
        InMemoryBackend().send(to, "hej")
    assert exc.value.permanent
    assert memory == []


@pytest.mark.django_db
@pytest.mark.parametrize("body", ["", "  \n"])
def test_an_empty_message_is_refused_permanently(body):
    with pytest.raises(SmsError) as exc:
        OutboxBackend().send("+46701234567", body)
    assert exc.value.permanent
    assert not OutboxMessage.objects.exists()


def test_twilio_backend_without_configuration_fails_loudly(settings):
    settings.TWILIO_ACCOUNT_SID = ""
    settings.TWILIO_AUTH_TOKEN = ""
    with pytest.raises(SmsError, match="not configured"):
        TwilioBackend()


def test_twilio_backend_checks_then_delegates_to_its_client():
    class Client:
        calls = []

        def send_message(self, to, body, *, status_callback=None):
            self.calls.append((to, body, status_callback))
            return SendResult("SM1", "queued")

    backend = TwilioBackend(client=Client())
    assert backend.send("+46701234567", "Q1", status_callback="https://cb") == SendResult(
        "SM1", "queued"
    )
    with pytest.raises(SmsError):
        backend.send("0701234567", "Q1")
    assert Client.calls == [("+46701234567", "Q1", "https://cb")]


# --- GSM-7 ---------------------------------------------------------------------------------


def test_swedish_and_danish_letters_are_gsm7():
    assert is_gsm7("Hur ont har du haft i ryggen? ÅÄÖ åäö ÆØ æø é É")
    assert not is_gsm7("Hej\u00a0Anna")  # a no-break space is not
    assert not is_gsm7("“Hej”")
    assert not is_gsm7("😀")


def test_gsm7_safe_replaces_typographic_characters():
    text = "Hej\u00a0Anna! \u201cHur\u201d m\u00e5r du? Svara 0\u201310 \u2026 it\u2019s\u00ad ok"
    assert gsm7_safe(text) == 'Hej Anna! "Hur" mår du? Svara 0-10 ... it\'s ok'
    assert is_gsm7(gsm7_safe(text))
    assert gsm7_safe("Smerte 😩") == "Smerte 😩"  # what cannot be made plain stays


@pytest.mark.parametrize(
    "text,count",
    [
        ("", 0),
        ("a", 1),
        ("a" * 160, 1),
        ("a" * 161, 2),
        ("a" * 306, 2),
        ("a" * 307, 3),
        ("a" * 159 + "€", 2),  # the euro sign takes two septets: 161
        ("a" * 158 + "€", 1),  # 160
        # 306 septets fit two parts of 153, but the escape sequence may not be split:
        # 152 + (2 + 151) + 1
        ("a" * 152 + "€" + "a" * 152, 3),
        ("ł" * 70, 1),  # UCS-2
        ("ł" * 71, 2),
        ("ł" * 134, 2),
        ("ł" * 135, 3),
        ("a" * 69 + "\u00a0", 1),  # one no-break space makes it UCS-2: 70 units
        ("a" * 70 + "\u00a0", 2),  # 71 units; as GSM-7 it would have been one
        ("😀" * 35, 1),  # surrogate pairs: 2 units each
        ("ł" * 66 + "😀" + "ł" * 66, 3),  # 134 units, but the pair is not split
    ],
)
def test_segments(text, count):
    assert segments(text) == count
