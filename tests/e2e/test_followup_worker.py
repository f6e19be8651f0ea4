"""Follow-up emails end to end, with the processes production runs: a Celery worker and
beat started as subprocesses, the site served by gunicorn, and a real SMTP server
(aiosmtpd) in this test process. Once on the embedded default (SQLite, the filesystem
broker, sent marks in files under VAR_DIR) and once on PostgreSQL + Redis.

The clock is never faked; the data moves instead. Participants are enrolled three
months ago (with FOLLOWUP_SEND_TIME 00:00, so their 3-month invitation is due
whatever the hour), reminders come seconds apart (FOLLOWUP_REMINDER_DAYS in fractions
of a day) and a window's end is moved a few seconds ahead in the database.

Every email is counted at the SMTP server by its Message-ID (the idempotency key), so
"exactly once" is what arrived, not what the database believes.
"""

from __future__ import annotations

import asyncio
import email
import http.cookiejar
import json
import re
import signal
import threading
import time
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
    start_site,
    wait_for,
)

pytestmark = [pytest.mark.e2e, pytest.mark.heavy]

# A Redis database of its own, flushed before and after: other tests and other
# installations on the same server (database 0) are left alone.
REDIS_DB = 11
E2E_DATABASE = "trialsite_e2e_followup"
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


@pytest.fixture
def mailbox():
    box = Mailbox(port=free_port())
    controller = Controller(box, hostname="127.0.0.1", port=box.port)
    controller.start()
    yield box
    box.hold.clear()
    box.hold_answer.clear()
    controller.stop()


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


embedded, postgres_redis, site = installation_fixtures(
    SETUP,
    SETTINGS,
    kind=FollowupInstallation,
    database_name=E2E_DATABASE,
    redis_db=REDIS_DB,
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


# --- the tests --------------------------------------------------------------------------


def test_invitation_link_completion_and_three_reminders_then_missed(site, mailbox):
    """A answers through the link in the email and hears nothing more; B does not answer:
    exactly one invitation and three reminders, and when the window closes the contact is
    missed. Real worker and beat, real SMTP, real web server."""
    a, b = f"main-{site.name}-a@example.org", f"main-{site.name}-b@example.org"
    contacts = site.enrol([a, b])
    web_port = free_port()
    site.start_worker(
        mailbox.port,
        FOLLOWUP_REMINDER_DAYS=REMINDER_DAYS,
        FOLLOWUP_BASE_URL=f"http://127.0.0.1:{web_port}",
    )
    start_site(site, web_port)
    wait_for(lambda: mailbox.to(a) and mailbox.to(b), 60, "both invitations", logs=site.logs)

    # A opens the link from the email they received and answers everything, well
    # before the first reminder (15.6 s after the invitation).
    (invitation,) = mailbox.to(a)
    last = answer_every_questionnaire(link_in(invitation.text), site.instruments("3m"))
    assert last.endswith("/done/")
    assert site.contact_status(contacts[a]) == "completed"
    # B's window now ends a little after the third reminder is due (15.6 + 1.7 + 1.7 s).
    site.django(CLOSE_WINDOW, {"contact": contacts[b], "seconds": 22})

    wait_for(
        lambda: site.contact_status(contacts[b]) == "missed",
        60,
        "B's contact to be missed",
        interval=0.5,
        logs=site.logs,
    )
    time.sleep(1.5)  # a beat or two more: nothing else may arrive
    site.stop_all()

    assert [m.subject for m in mailbox.to(a)] == [invitation.subject]
    to_b = mailbox.to(b)
    assert len(to_b) == 4, [m.subject for m in to_b]
    assert not to_b[0].subject.startswith("Reminder")
    assert all(m.subject.startswith("Reminder:") for m in to_b[1:])
    assert {link_in(m.text) for m in to_b} == {link_in(to_b[0].text)}  # one link for all
    assert link_in(to_b[0].text) != link_in(invitation.text)
    mailbox.assert_each_message_once()
    rows = site.messages([a, b])
    assert sorted((r["email"], r["kind"], r["status"]) for r in rows) == [
        (a, "invitation", "sent"),
        (b, "invitation", "sent"),
        (b, "reminder", "sent"),
        (b, "reminder", "sent"),
        (b, "reminder", "sent"),
    ]  # none pending, sending, failed or skipped
    assert {r["provider_id"] for r in rows} == {m.message_id for m in mailbox.arrived}
    assert site.contact_status(contacts[a]) == "completed"


def test_worker_killed_mid_batch_and_restarted_sends_every_invitation_once(site, mailbox):
    """SIGKILL (a real kill of the worker's process group) while a batch is half sent:
    the messages the SMTP server had accepted are still 'sending' in the database, and
    only their sent marks tell the restarted worker not to send them again. On
    PostgreSQL two pool processes dispatch at once (disjoint batches, SKIP LOCKED)."""
    emails = [f"kill-{site.name}-{n:02d}@example.org" for n in range(30)]
    site.enrol(emails)
    mailbox.delay = 0.25  # a slow server: the kill lands mid-batch
    first = site.start_worker(mailbox.port, FOLLOWUP_BATCH_SIZE=15)
    wait_for(lambda: len(mailbox.arrived) >= 8, 60, "the first messages", logs=site.logs)
    # Every sender stops before its next message; none is between the server's
    # acceptance and writing its mark (that instant is the documented exposure).
    mailbox.hold.set()
    time.sleep(0.5)
    site.stop([first[0]], signal.SIGKILL)  # the worker only; beat (if apart) goes on

    accepted = {m.to: m.message_id for m in mailbox.arrived}
    recorded = {r["email"] for r in site.messages(emails) if r["status"] == "sent"}
    assert 8 <= len(accepted) < 30
    # Accepted by the server in the batches being sent, but not in the database: only
    # the marks know. (Without them the restarted worker sends these again.)
    only_marked = set(accepted) - recorded
    assert only_marked, (accepted, recorded)
    if site.redis_url:
        # Two dispatchers (pool processes) were sending batches at the same time.
        claims = site.sql(
            "SELECT COUNT(DISTINCT claim) FROM followup_message WHERE status = 'sending'"
        )
        assert claims[0][0] == 2, site.logs()

    mailbox.delay = 0
    mailbox.hold.clear()
    # Beat, if apart, is still running: only the worker comes back.
    site.start_worker(
        mailbox.port, beat=False, FOLLOWUP_BATCH_SIZE=15, FOLLOWUP_SENDING_LEASE_SECONDS=2
    )
    wait_for(
        lambda: (
            len({m.to for m in mailbox.arrived}) == 30
            and {r["status"] for r in site.messages(emails)} == {"sent"}
        ),
        60,
        "every invitation",
        interval=0.5,
        logs=site.logs,
    )
    time.sleep(2)  # a couple of beats more: nothing else may arrive
    site.stop_all()

    assert Counter(m.to for m in mailbox.arrived) == Counter({e: 1 for e in emails})
    mailbox.assert_each_message_once()
    rows = site.messages(emails)
    assert [(r["kind"], r["status"]) for r in rows] == [("invitation", "sent")] * 30
    assert {r["provider_id"] for r in rows} == {m.message_id for m in mailbox.arrived}
    # Those were taken over after the lease (a second claim) and recorded from their
    # marks, with the id of the one copy the server had accepted.
    for r in rows:
        if r["email"] in only_marked:
            assert (r["attempts"], r["provider_id"]) == (2, accepted[r["email"]]), r


def test_redis_flushed_between_two_beats_loses_and_doubles_nothing(postgres_redis, mailbox):
    """FLUSHDB of the installation's Redis database (the broker's queues and bindings
    and the sent marks; FLUSHALL would also wipe other users' databases on a shared
    server) while a batch is being sent: the running batch is recorded, beat's next
    tasks still reach the worker, and contacts that fall due later still go out."""
    import redis

    site = postgres_redis
    first = [f"flush-1-{n:02d}@example.org" for n in range(10)]
    later = [f"flush-2-{n:02d}@example.org" for n in range(10)]
    site.enrol(first)
    mailbox.delay = 0.2
    site.start_worker(mailbox.port)
    wait_for(lambda: len(mailbox.arrived) >= 3, 60, "the first messages", logs=site.logs)
    redis.Redis.from_url(site.redis_url).flushdb()
    mailbox.delay = 0
    site.enrol(later)  # due now: only a dispatch after the flush can send these
    emails = first + later
    wait_for(
        lambda: (
            len({m.to for m in mailbox.arrived}) == 20
            and {r["status"] for r in site.messages(emails)} == {"sent"}
        ),
        60,
        "every invitation",
        interval=0.5,
        logs=site.logs,
    )
    time.sleep(2)
    site.stop_all()
    assert Counter(m.to for m in mailbox.arrived) == Counter({e: 1 for e in emails})
    mailbox.assert_each_message_once()
    assert {r["status"] for r in site.messages(emails)} == {"sent"}


def test_redis_down_and_the_worker_killed_doubles_only_the_email_in_the_servers_hands(
    postgres_redis, mailbox
):
    """The shared cache is down (its Redis unreachable; the broker still runs) and the
    worker is killed (SIGKILL) while the SMTP server holds the "250" of a message it
    has taken: the database took each in-flight mark and each outcome, so the worker
    that takes over sends none of the emails already accepted again. The one in the
    server's hands is uncertain, and an SMTP server cannot be asked: by the documented
    rule it is sent again, with the same Message-ID (a missed follow-up costs the trial
    more than a second copy). Before the in-flight marks, every email accepted in the
    killed batch arrived twice."""
    site = postgres_redis
    emails = [f"down-{n:02d}@example.org" for n in range(10)]
    site.enrol(emails)
    mailbox.delay = 0.05
    no_cache = {"FOLLOWUP_CACHE_URL": f"redis://127.0.0.1:{free_port()}/0"}
    first = site.start_worker(mailbox.port, **no_cache)
    wait_for(lambda: len(mailbox.arrived) >= 3, 60, "the first messages", logs=site.logs)
    mailbox.hold_answer.set()
    wait_for(lambda: mailbox.held, 10, "a message in the server's hands", logs=site.logs)
    site.stop([first[0]], signal.SIGKILL)  # the worker only; beat goes on
    in_hands = {m.to for m in mailbox.held}
    mailbox.hold_answer.clear()
    mailbox.delay = 0
    assert len({m.to for m in mailbox.arrived}) < len(emails)  # killed mid-batch

    site.start_worker(mailbox.port, beat=False, FOLLOWUP_SENDING_LEASE_SECONDS=2, **no_cache)
    wait_for(
        lambda: (
            len({m.to for m in mailbox.arrived}) == len(emails)
            and {r["status"] for r in site.messages(emails)} == {"sent"}
        ),
        60,
        "every invitation",
        interval=0.3,
        logs=site.logs,
    )
    time.sleep(0.5)  # every email is recorded sent: no run may send one again
    site.stop(site.processes, signal.SIGKILL)  # a graceful stop takes seconds

    arrived = Counter(m.to for m in mailbox.arrived)
    assert set(arrived) == set(emails)
    assert {to for to, n in arrived.items() if n > 1} == in_hands, arrived
    assert max(arrived.values()) == 2
    for to in in_hands:
        assert len({m.message_id for m in mailbox.to(to)}) == 1  # one Message-ID
    assert "could not write the in-flight mark" in site.log("worker")
