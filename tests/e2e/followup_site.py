"""What the follow-up worker tests share (tests/e2e/test_followup_worker.py and
test_followup_worker_kills.py): a real SMTP server (aiosmtpd) in the test process, the
installation they enrol into and read from, and a patient answering through the link.

Two modules rather than one so that a parallel run (``--dist loadfile``) can run them on
two workers: together they took 167 s of one worker's time, the longest of the suite.
Each module has its own PostgreSQL database and Redis database.
"""

from __future__ import annotations

import asyncio
import email
import http.cookiejar
import json
import re
import threading
import urllib.parse
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from email import policy

import pytest
from aiosmtpd.controller import Controller

from questionnaires.instruments import get

from ..questionnaires.engine_helpers import as_post, valid_answers
from .stack import (
    Installation,
    free_port,
    installation_fixtures,
)

# Reminders 15.6, 1.7 and 1.7 seconds apart: the answering participant has 15.6 seconds
# (answering every page takes about two on a quiet machine; on a loaded CI machine, three
# times slower, the first reminder came at 6.9 s before the answers were in).
REMINDER_DAYS = "0.00018,0.00002,0.00002"


# --- the SMTP server ------------------------------------------------------------------


@dataclass
class Arrived:
    to: str
    subject: str
    text: str
    message_id: str


@dataclass
class Mailbox:
    """What the SMTP server accepted. ``delay`` slows every message down (before its
    data is sent, in MAIL FROM); ``hold`` stops every sender there until released, so
    that a test can kill a worker while none is between an acceptance and its mark."""

    arrived: list[Arrived] = field(default_factory=list)
    delay: float = 0.0
    port: int = 0
    hold: threading.Event = field(default_factory=threading.Event)
    # While set, a message is accepted and its "250" held back (``held``): the instant
    # a worker killed during the SMTP call leaves uncertain.
    hold_answer: threading.Event = field(default_factory=threading.Event)
    held: list[Arrived] = field(default_factory=list)

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        if self.delay:
            await asyncio.sleep(self.delay)
        while self.hold.is_set():
            await asyncio.sleep(0.02)
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        msg = email.message_from_bytes(envelope.original_content, policy=policy.default)
        body = msg.get_body(("plain",))
        arrived = Arrived(
            to=envelope.rcpt_tos[0],
            subject=str(msg["Subject"]),
            text=body.get_content() if body else "",
            message_id=str(msg["Message-ID"]),
        )
        self.arrived.append(arrived)
        if self.hold_answer.is_set():
            self.held.append(arrived)
            while self.hold_answer.is_set():
                await asyncio.sleep(0.02)
        return "250 OK"

    def to(self, address: str) -> list[Arrived]:
        return [m for m in self.arrived if m.to == address]

    def assert_each_message_once(self) -> None:
        doubled = {k: n for k, n in Counter(m.message_id for m in self.arrived).items() if n > 1}
        assert not doubled, f"arrived more than once: {doubled}"


def smtp_server():
    """A module's ``mailbox`` fixture: the SMTP server, started for each test."""

    @pytest.fixture
    def mailbox():
        box = Mailbox(port=free_port())
        controller = Controller(box, hostname="127.0.0.1", port=box.port)
        controller.start()
        yield box
        box.hold.clear()
        box.hold_answer.clear()
        controller.stop()

    return mailbox


# --- the installation: database, broker, processes --------------------------------------

# Moves a window's end: the contact is missed that many seconds after its invitation.
CLOSE_WINDOW = """
from datetime import timedelta
from django.db.models import F
from django.db.models.functions import Least
from followup.models import Contact
closes = F("invited_at") + timedelta(seconds=ARGS["seconds"])
# As a re-planned window would: the dispatcher looks at the contact again when it closes
# (on a slow machine the three reminders may all be out before the window is moved).
Contact.objects.filter(pk=ARGS["contact"]).update(
    closes_at=closes, next_action_at=Least(F("next_action_at"), closes)
)
print(json.dumps("moved"))
"""

SETUP = """
from django.core.management import call_command
from enrolment.protocol.writing import load_protocol
call_command("migrate", verbosity=0)
trial, _ = load_protocol("protocols/betterback.toml")
# The workers run on the wall clock: any hour is allowed, or the quiet hours
# (followup.reach) would make the outcome depend on when the test runs.
trial.contact = {**trial.contact, "hours": ["00:00", "24:00"]}
trial.save()
print(json.dumps("ready"))
"""

# Enrolled through the real action: the enrolment signal plans the contacts.
ENROL = """
from datetime import date
from django.contrib.auth import get_user_model
from enrolment.actions.enrol import enrol_participant
from enrolment.models import Clinic
from followup.schedule import add_months
clinic = Clinic.objects.get(cluster__trial__code="betterback", code="MOT")
taker, _ = get_user_model().objects.get_or_create(username="consent-taker")
enrolled_on = add_months(date.today(), -3)
contacts = {}
for address in ARGS["emails"]:
    p = enrol_participant(
        clinic=clinic,
        enrolled_on=enrolled_on,
        personal={"full_name": address, "date_of_birth": date(1970, 1, 1), "email": address,
                  "preferred_language": "en"},
        consent={"consented_on": enrolled_on, "form_version": "1.0", "taken_by": taker},
    )
    contacts[address] = p.contacts.get(timepoint__code="3m").pk
print(json.dumps(contacts))
"""


class FollowupInstallation(Installation):
    """The installation, with what the email tests enrol and read."""

    def enrol(self, emails: list[str]) -> dict[str, int]:
        """Participants whose 3-month contact is due now: contact id by email."""
        return self.django(ENROL, {"emails": emails}, FOLLOWUP_SEND_TIME="00:00")

    def start_worker(self, smtp_port: int, beat: bool = True, **env) -> list:
        return super().start_worker(beat=beat, **{"EMAIL_PORT": smtp_port, **env})

    # What the dispatcher recorded for these participants' 3-month contacts.
    def messages(self, emails: list[str]) -> list[dict]:
        marks = ", ".join(["%s"] * len(emails))
        rows = self.sql(
            "SELECT d.email, m.kind, m.status, m.provider_id, m.attempts "
            "FROM followup_message m JOIN followup_contact c ON c.id = m.contact_id "
            "JOIN enrolment_timepoint t ON t.id = c.timepoint_id "
            "JOIN enrolment_personaldetails d ON d.participant_id = c.participant_id "
            f"WHERE t.code = '3m' AND d.email IN ({marks}) ORDER BY m.id",
            tuple(emails),
        )
        return [
            dict(zip(("email", "kind", "status", "provider_id", "attempts"), r, strict=True))
            for r in rows
        ]

    def instruments(self, timepoint: str) -> list[str]:
        (value,) = self.sql(
            "SELECT instruments FROM enrolment_timepoint WHERE code = %s", (timepoint,)
        )[0]
        return json.loads(value) if isinstance(value, str) else value

    def contact_status(self, contact_id: int) -> str:
        return self.sql("SELECT status FROM followup_contact WHERE id = %s", (contact_id,))[0][0]


# Email through the SMTP server of the test, dispatched every second.
SETTINGS = {
    "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
    "EMAIL_HOST": "127.0.0.1",
    "EMAIL_TIMEOUT": "10",
    "FOLLOWUP_DISPATCH_SECONDS": "1",
}


def followup_installations(database_name: str, redis_db: int):
    """``embedded, postgres_redis, site`` for a module (tests/e2e/stack.py)."""
    return installation_fixtures(
        SETUP,
        SETTINGS,
        kind=FollowupInstallation,
        database_name=database_name,
        redis_db=redis_db,
        what="the follow-up worker tests",
    )


# --- the patient's side -----------------------------------------------------------------

LINK = re.compile(r"http://127\.0\.0\.1:\d+/s/[A-Za-z0-9_-]+/")


def link_in(text: str) -> str:
    match = LINK.search(text)
    assert match, text
    return match.group(0)


def answer_every_questionnaire(link: str, instruments: list[str]) -> str:
    """Open the link as a browser would (cookies, CSRF token) and answer every page;
    returns the last page's URL."""
    opener = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
    )
    with opener.open(link, timeout=20) as r:
        page, url = r.read().decode(), r.geturl()
    assert "/s/" in url and 'name="csrfmiddlewaretoken"' in page, page[:2000]
    for code in instruments:
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
        answers = as_post(valid_answers(get(code)), action="next", csrfmiddlewaretoken=token)
        data = urllib.parse.urlencode(answers, doseq=True).encode()
        with opener.open(url, data=data, timeout=20) as r:
            page, url = r.read().decode(), r.geturl()
    return url
