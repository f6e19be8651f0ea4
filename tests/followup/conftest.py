"""Fixtures of the follow-up tests: a real SMTP server on 127.0.0.1 (aiosmtpd), the
other trials from their protocol files, and a helper that enrols through the real
action so the schedule comes from the enrolment signal."""

from __future__ import annotations

import email
import re
import socket
from dataclasses import dataclass, field
from datetime import date
from email import policy

import pytest
from aiosmtpd.controller import Controller
from django.utils import timezone

from enrolment import randomisation_store
from enrolment.models import Clinic, Trial, TrialRole
from enrolment.protocol.writing import load_protocol
from followup import dispatch as dispatcher
from followup import reach
from followup.schedule import add_months

from ..built_once import rolled_back
from ..conftest import PROTOCOLS
from ..factories import TrialRoleFactory, UserFactory


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Received:
    to: list[str]
    subject: str
    text: str
    html: str
    message_id: str
    language: str = ""


@dataclass
class Handler:
    """Keeps what arrives; ``fail_with`` makes the server refuse the data (e.g. 451),
    ``refuse_recipients`` every address (550)."""

    received: list[Received] = field(default_factory=list)
    fail_with: str | None = None
    refuse_recipients: bool = False

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.refuse_recipients:
            return "550 5.1.1 No such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.fail_with:
            return self.fail_with
        msg = email.message_from_bytes(envelope.original_content, policy=policy.default)
        text = msg.get_body(("plain",))
        html = msg.get_body(("html",))
        self.received.append(
            Received(
                to=list(envelope.rcpt_tos),
                subject=str(msg["Subject"]),
                text=text.get_content() if text else "",
                html=html.get_content() if html else "",
                message_id=str(msg["Message-ID"]),
            )
        )
        return "250 OK"


@pytest.fixture
def smtp(settings):
    """A local SMTP server, and Django's SMTP backend pointed at it."""
    handler = Handler()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.FOLLOWUP_BASE_URL = "http://testserver"
    yield handler
    controller.stop()


LINK = re.compile(r"http://testserver(/s/[A-Za-z0-9_-]+/)")


def link_path(text: str) -> str:
    match = LINK.search(text)
    assert match, text
    return match.group(1)


def _load_safe():
    trial, _ = load_protocol(PROTOCOLS / "safe.toml")
    coordinator = TrialRoleFactory(
        user=UserFactory(username="safe-coord"), trial=trial, role=TrialRole.COORDINATOR
    ).user
    randomisation_store.generate(trial, coordinator, seed=20211101)
    return trial


@pytest.fixture
def safe(db):
    return _load_safe()


@pytest.fixture(scope="module")
def _safe_once(django_db_setup, django_db_blocker):
    with rolled_back(django_db_blocker):
        yield _load_safe().pk


def use_safe_built_once():
    """``safe`` loaded once for a module, as ``tests.conftest.use_betterback_built_once``
    (same conditions): its protocol and randomisation list cost 0.3 s a test."""

    @pytest.fixture
    def safe(_safe_once, db):
        return Trial.objects.get(pk=_safe_once)

    return safe


@pytest.fixture
def selfback(db):
    trial, _ = load_protocol(PROTOCOLS / "selfback.toml")
    coordinator = TrialRoleFactory(
        user=UserFactory(username="selfback-coord"), trial=trial, role=TrialRole.COORDINATOR
    ).user
    randomisation_store.generate(trial, coordinator, seed=20190301)
    return trial


def clinic_of(trial, code: str | None = None) -> Clinic:
    clinics = Clinic.objects.filter(cluster__trial=trial)
    return clinics.get(code=code) if code else clinics.first()


def three_months_ago() -> date:
    """An enrolment whose 3-month contact is due about today, so that the link's own
    check of the real clock finds the window open without mocking time."""
    return add_months(date.today(), -3)


def dispatch_now(contact, batch_size: int = 10):
    """The dispatcher's pass for ``contact`` on the real clock (its due time, or now when
    that is later), at the first moment the trial's quiet hours allow: after 21:00 in
    Stockholm a pass at now held every message until the morning."""
    at = max(contact.due_at, timezone.now())
    return dispatcher.dispatch_due(reach.next_allowed(contact.timepoint.trial, at), batch_size)


@pytest.fixture
def sms(settings):
    """SMS kept in memory (``InMemoryBackend.outbox``) instead of leaving the machine."""
    from followup.sms.backends import InMemoryBackend

    settings.SMS_BACKEND = "followup.sms.backends.InMemoryBackend"
    InMemoryBackend.outbox.clear()
    yield InMemoryBackend.outbox
    InMemoryBackend.outbox.clear()
