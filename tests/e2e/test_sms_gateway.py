"""Weekly SMS tracking end to end, through the processes production runs: the site
served by gunicorn (Twilio's webhooks), a Celery worker and beat sending through the
Twilio backend, and a fake Twilio in this test process (a threaded HTTP server that
implements ``Messages.json``). Once on the embedded default (SQLite, the filesystem
broker) and once on PostgreSQL + Redis.

The test plays both the participant's phone and Twilio's callbacks: it posts to the
site what Twilio would, signed with the account's auth token by a signer written here
from Twilio's documentation (not the site's own), to the StatusCallback URL the site
gave the gateway. The clock is never faked: a week's question falls due when its
``due_at`` is moved to now in the database.

Every SMS is counted where it arrived, at the gateway, so "exactly once" is what the
participant's phone would have received. The fake Twilio also lists what it accepted,
by recipient and date, as Twilio's ``GET Messages.json?To=...&DateSent>=...`` does:
the dispatcher asks it before texting again a message a killed worker may have sent.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import signal
import threading
import time
import tomllib
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from .stack import (
    ROOT,
    Installation,
    free_port,
    installation_fixtures,
    start_site,
    wait_for,
)

pytestmark = [pytest.mark.e2e, pytest.mark.heavy]

# Databases of their own: the email end-to-end tests use database 11 and
# trialsite_e2e_followup, other installations database 0.
REDIS_DB = 12
E2E_DATABASE = "trialsite_e2e_sms"

ACCOUNT_SID = "AC" + "5afe" * 8
AUTH_TOKEN = "e2e-sms-auth-token"
FROM_NUMBER = "+4570000000"
MOBILE = "+4520123456"

# The Danish wording participants must receive, from the protocol file itself.
with open(ROOT / "protocols" / "safe.toml", "rb") as _protocol:
    WORDING = {q["code"]: q["wording"]["da"] for q in tomllib.load(_protocol)["sms"]["questions"]}

# The SMS dispatcher every second through Twilio; the email dispatcher out of the way.
# Web processes skip their warm-up (fonts, PDF templates): the webhooks need none.
SETTINGS = {
    "SMS_BACKEND": "followup.sms.backends.TwilioBackend",
    "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
    "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
    "TWILIO_FROM_NUMBER": FROM_NUMBER,
    "TWILIO_TIMEOUT_SECONDS": "5",
    "SMS_DISPATCH_SECONDS": "1",
    "FOLLOWUP_DISPATCH_SECONDS": "3600",
    "WARM_UP": "0",
}


# --- the fake Twilio -------------------------------------------------------------------


@dataclass
class Sent:
    to: str
    sender: str
    body: str
    status_callback: str
    sid: str
    created: datetime = field(default_factory=lambda: datetime.now(UTC))


@dataclass
class Gateway:
    """What Twilio accepted (``sent``), what it refused for bad credentials or a wrong
    account (``refused``: request paths) and how often it was asked for its list
    (``lists``). ``delay`` slows every request down; while ``hold`` is set a message is
    accepted and its answer held back (``held``), as when a worker dies mid-call."""

    url: str = ""
    sent: list[Sent] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    lists: int = 0
    delay: float = 0.0
    hold: threading.Event = field(default_factory=threading.Event)
    held: list[Sent] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def to(self, number: str) -> list[Sent]:
        with self.lock:
            return [m for m in self.sent if m.to == number]


@pytest.fixture
def gateway():
    state = Gateway()
    path = f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
    credentials = "Basic " + base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()

    class Twilio(BaseHTTPRequestHandler):
        def do_POST(self):
            length = int(self.headers.get("Content-Length", 0))
            form = urllib.parse.parse_qs(self.rfile.read(length).decode())
            if self.path != path or self.headers.get("Authorization") != credentials:
                with state.lock:
                    state.refused.append(self.path)
                return self.answer(401, {"code": 20003, "message": "Authenticate", "status": 401})
            time.sleep(state.delay)
            sent = Sent(
                to=form.get("To", [""])[0],
                sender=form.get("From", [""])[0],
                body=form.get("Body", [""])[0],
                status_callback=form.get("StatusCallback", [""])[0],
                sid="SM" + uuid.uuid4().hex,
            )
            with state.lock:
                state.sent.append(sent)
                holding = state.hold.is_set()
                if holding:
                    state.held.append(sent)
            while state.hold.is_set():  # accepted: only the answer waits
                time.sleep(0.02)
            self.answer(201, {"sid": sent.sid, "status": "queued", "to": sent.to})

        def do_GET(self):
            """Twilio's message list: the newest first, filtered by ``To`` and by
            ``DateSent>`` (the query ``DateSent>=YYYY-MM-DD``: on or after that day)."""
            url = urllib.parse.urlsplit(self.path)
            query = urllib.parse.parse_qs(url.query)
            if url.path != path or self.headers.get("Authorization") != credentials:
                with state.lock:
                    state.refused.append(self.path)
                return self.answer(401, {"code": 20003, "message": "Authenticate", "status": 401})
            to = query.get("To", [None])[0]
            since = date.fromisoformat(query.get("DateSent>", ["0001-01-01"])[0][:10])
            with state.lock:
                state.lists += 1
                found = [
                    m
                    for m in reversed(state.sent)
                    if (to is None or m.to == to) and m.created.date() >= since
                ]
            stamp = lambda m: format_datetime(m.created.replace(microsecond=0))  # noqa: E731
            self.answer(
                200,
                {
                    "messages": [
                        {
                            "sid": m.sid,
                            "to": m.to,
                            "from": m.sender,
                            "body": m.body,
                            "status": "sent",
                            "direction": "outbound-api",
                            "date_created": stamp(m),
                            "date_sent": stamp(m),
                        }
                        for m in found
                    ],
                    "next_page_uri": None,
                },
            )

        def answer(self, status: int, payload: dict) -> None:
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(json.dumps(payload).encode())
            except OSError:
                pass  # the worker that asked was killed meanwhile

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Twilio)
    server.daemon_threads = True
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield state
    server.shutdown()
    server.server_close()


def twilio_signature(url: str, params: dict[str, str], token: str = AUTH_TOKEN) -> str:
    """X-Twilio-Signature as Twilio's "Webhooks security" page defines it: base64 of the
    HMAC-SHA1 of the URL followed by each POST parameter's name and value, sorted by name."""
    data = url + "".join(name + params[name] for name in sorted(params))
    return base64.b64encode(hmac.new(token.encode(), data.encode(), hashlib.sha1).digest()).decode()


@dataclass
class Answer:
    status: int
    content_type: str
    text: str


def post_as_twilio(url: str, params: dict[str, str], signature: str | None = "") -> Answer:
    """A webhook call: signed with the auth token unless ``signature`` is given (None:
    no signature header at all)."""
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if signature == "":
        signature = twilio_signature(url, params)
    if signature is not None:
        headers["X-Twilio-Signature"] = signature
    request = urllib.request.Request(
        url, data=urllib.parse.urlencode(params).encode(), headers=headers, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=20) as r:
            return Answer(r.status, r.headers.get("Content-Type", ""), r.read().decode())
    except urllib.error.HTTPError as exc:
        return Answer(exc.code, exc.headers.get("Content-Type", ""), exc.read().decode())


def reply(body: str, sid: str | None = None) -> dict[str, str]:
    """The participant's SMS as Twilio's incoming-message webhook posts it."""
    sid = sid or "SM" + uuid.uuid4().hex
    return {
        "MessageSid": sid,
        "SmsSid": sid,
        "AccountSid": ACCOUNT_SID,
        "From": MOBILE,
        "To": FROM_NUMBER,
        "Body": body,
        "NumMedia": "0",
        "NumSegments": "1",
        "ApiVersion": "2010-04-01",
    }


def delivered(sid: str) -> dict[str, str]:
    """Twilio's status callback for a message the phone has received."""
    return {
        "MessageSid": sid,
        "SmsSid": sid,
        "AccountSid": ACCOUNT_SID,
        "From": FROM_NUMBER,
        "To": MOBILE,
        "MessageStatus": "delivered",
        "SmsStatus": "delivered",
        "ApiVersion": "2010-04-01",
    }


# --- the installation ------------------------------------------------------------------

# SAFE randomises individually: a coordinator generates the concealed list first.
SETUP = """
from django.contrib.auth import get_user_model
from django.core.management import call_command
from enrolment import randomisation_store
from enrolment.models import TrialRole
from enrolment.protocol.writing import load_protocol
call_command("migrate", verbosity=0)
trial, _ = load_protocol("protocols/safe.toml")
# The workers run on the wall clock: any hour is allowed, or the quiet hours
# (followup.reach) would make the outcome depend on when the test runs.
trial.contact = {**trial.contact, "hours": ["00:00", "24:00"]}
trial.save()
coordinator = get_user_model().objects.create_user(
    "safe-coordinator", email="safe-coordinator@example.org"
)
TrialRole.objects.create(user=coordinator, trial=trial, role=TrialRole.COORDINATOR)
randomisation_store.generate(trial, coordinator, seed=20211101)
print(json.dumps("ready"))
"""

# Enrolled through the real action: the enrolment signal plans the 52 weekly questions.
ENROL = """
from datetime import date
from django.contrib.auth import get_user_model
from enrolment.actions.enrol import enrol_participant
from enrolment.models import Clinic
clinic = Clinic.objects.get(cluster__trial__code="safe", code="MID")
coordinator = get_user_model().objects.get(username="safe-coordinator")
today = date.today()
p = enrol_participant(
    clinic=clinic,
    enrolled_on=today,
    user=coordinator,
    personal={"full_name": "Karen Jensen", "date_of_birth": date(1971, 3, 4),
              "mobile": ARGS["mobile"], "preferred_language": "da"},
    consent={"consented_on": today, "form_version": "1.0", "taken_by": coordinator},
    sex="female",
)
print(json.dumps({"id": p.pk, "study_id": p.study_id, "weeks": p.sms_prompts.count()}))
"""

# Many at once, one process: participant id by mobile, each week 1's question due now.
ENROL_DUE = """
from datetime import date
from django.contrib.auth import get_user_model
from django.utils import timezone
from enrolment.actions.enrol import enrol_participant
from enrolment.models import Clinic
from followup.models import SmsPrompt
clinic = Clinic.objects.get(cluster__trial__code="safe", code="MID")
coordinator = get_user_model().objects.get(username="safe-coordinator")
today = date.today()
ids = {}
for n, mobile in enumerate(ARGS["mobiles"]):
    p = enrol_participant(
        clinic=clinic,
        enrolled_on=today,
        user=coordinator,
        personal={"full_name": f"Deltager {n}", "date_of_birth": date(1971, 3, 4),
                  "mobile": mobile, "preferred_language": "da"},
        consent={"consented_on": today, "form_version": "1.0", "taken_by": coordinator},
        sex="female",
    )
    ids[mobile] = p.pk
now = timezone.now()
SmsPrompt.objects.filter(participant_id__in=ids.values(), week=1, position=0).update(
    due_at=now, next_action_at=now
)
print(json.dumps(ids))
"""

# The week's first question falls due now.
MOVE_WEEK = """
from django.utils import timezone
from followup.models import SmsPrompt
now = timezone.now()
print(json.dumps(
    SmsPrompt.objects.filter(participant_id=ARGS["participant"], week=ARGS["week"], position=0)
    .update(due_at=now, next_action_at=now)
))
"""

DISPATCHED = re.compile(r"followup\.sms\.tasks\.dispatch_sms\[[^\]]+\] succeeded")


class SmsInstallation(Installation):
    def enrol(self, mobile: str) -> dict:
        return self.django(ENROL, {"mobile": mobile})

    def move_week(self, participant: int, week: int) -> None:
        assert self.django(MOVE_WEEK, {"participant": participant, "week": week}) == 1

    def dispatches(self) -> int:
        """How many runs of the SMS dispatcher have finished (the worker's log)."""
        return len(DISPATCHED.findall(self.log("worker")))

    def wait_for_dispatches(self, runs: int) -> None:
        """Until ``runs`` more runs have finished: all but the first began after now."""
        target = self.dispatches() + runs
        wait_for(
            lambda: self.dispatches() >= target,
            30,
            f"{runs} runs of the SMS dispatcher",
            interval=0.2,
            logs=self.logs,
        )

    # What the site recorded.
    def sms_messages(self, participant: int) -> list[dict]:
        names = ("kind", "status", "provider_id", "provider_status", "body")
        rows = self.sql(
            f"SELECT {', '.join(names)} FROM followup_smsmessage "
            "WHERE participant_id = %s ORDER BY id",
            (participant,),
        )
        return [dict(zip(names, r, strict=True)) for r in rows]

    def inbound(self) -> list[tuple]:
        return self.sql("SELECT provider_id, outcome FROM followup_inboundsms ORDER BY id")

    def weekly_answers(self, participant: int) -> list[tuple]:
        rows = self.sql(
            "SELECT week, mode, answers FROM questionnaires_response "
            "WHERE participant_id = %s AND instrument = 'sms_tracking' ORDER BY week",
            (participant,),
        )
        return [(w, m, json.loads(a) if isinstance(a, str) else a) for w, m, a in rows]

    def prompts(self, participant: int, week: int) -> list[tuple]:
        return self.sql(
            "SELECT question, status FROM followup_smsprompt "
            "WHERE participant_id = %s AND week = %s ORDER BY position",
            (participant, week),
        )


embedded, postgres_redis, site = installation_fixtures(
    SETUP,
    SETTINGS,
    kind=SmsInstallation,
    database_name=E2E_DATABASE,
    redis_db=REDIS_DB,
    what="the SMS gateway tests",
)


# --- the test ----------------------------------------------------------------------------


def test_weekly_questions_replies_delivery_and_stop_through_the_gateway(site, gateway):
    """A SAFE participant gets week 1's pain question in Danish, once; Twilio reports it
    delivered; the reply (with words around the number) brings the sick-leave question
    within seconds; a reply Twilio delivers twice counts once; an unsigned post is
    refused; the two answers are the week's response; STOP is confirmed once and ends
    the weekly questions."""
    enrolled = site.enrol(MOBILE)
    participant = enrolled["id"]
    assert enrolled["weeks"] == 52
    site.move_week(participant, 1)

    web_port = free_port()
    site_url = f"http://127.0.0.1:{web_port}"
    inbound_url = f"{site_url}/sms/twilio/inbound/"
    addresses = {"TWILIO_BASE_URL": gateway.url, "SMS_CALLBACK_BASE_URL": site_url}
    site.start_worker(**addresses)
    start_site(site, web_port, **addresses)

    # Week 1: the first question, in the participant's language, to their mobile.
    wait_for(lambda: gateway.to(MOBILE), 60, "week 1's question", logs=site.logs)
    (question,) = gateway.to(MOBILE)
    assert question.body == WORDING["pain"]
    assert question.sender == FROM_NUMBER
    assert question.status_callback == f"{site_url}/sms/twilio/status/"
    # The dispatcher records a batch's outcome after the batch, so Twilio's id is known
    # to the site a moment after Twilio answered; a real callback comes seconds later.
    wait_for(
        lambda: [m["provider_id"] for m in site.sms_messages(participant)] == [question.sid],
        30,
        "the question recorded as sent",
        logs=site.logs,
    )

    # Twilio calls the StatusCallback URL the site gave it.
    answer = post_as_twilio(question.status_callback, delivered(question.sid))
    assert answer.status == 204, answer
    (recorded,) = site.sms_messages(participant)
    assert (recorded["kind"], recorded["status"], recorded["provider_status"]) == (
        "question",
        "sent",
        "delivered",
    )

    # The participant answers with words around the number; the site answers Twilio
    # with empty TwiML (its own SMS go out through the API) and asks Q2 at once.
    first_reply = reply(" 5 (hård uge)")
    answer = post_as_twilio(inbound_url, first_reply)
    assert answer.status == 200, answer
    assert answer.content_type.startswith("text/xml")
    assert "<Response></Response>" in answer.text
    wait_for(lambda: len(gateway.to(MOBILE)) >= 2, 10, "the sick-leave question", logs=site.logs)
    assert gateway.to(MOBILE)[1].body == WORDING["sick_leave_days"]

    # Twilio delivers the same reply again (as it does when a webhook call times out).
    answer = post_as_twilio(inbound_url, first_reply)
    assert answer.status == 200, answer
    assert site.inbound() == [(first_reply["MessageSid"], "answer")]

    answer = post_as_twilio(inbound_url, reply("2"))
    assert answer.status == 200, answer
    week_1 = (1, "patient_sms", {"pain": 5, "sick_leave_days": 2})
    assert site.weekly_answers(participant) == [week_1]
    assert site.prompts(participant, 1) == [("pain", "answered"), ("sick_leave_days", "answered")]

    # Not from Twilio: no signature, or signed with another token. If either were
    # taken, "6" would replace the sick-leave answer (a second reply corrects the first).
    forged = reply("6")
    assert post_as_twilio(inbound_url, forged, signature=None).status == 403
    wrong = twilio_signature(inbound_url, forged, token="not-the-auth-token")
    assert post_as_twilio(inbound_url, forged, signature=wrong).status == 403
    assert len(site.inbound()) == 2
    assert site.weekly_answers(participant) == [week_1]

    # STOP: confirmed once, in Danish; a second STOP changes nothing.
    assert post_as_twilio(inbound_url, reply("STOP")).status == 200
    wait_for(lambda: len(gateway.to(MOBILE)) >= 3, 10, "the STOP confirmation", logs=site.logs)
    confirmation = gateway.to(MOBILE)[2]
    assert "ikke flere" in confirmation.body, confirmation.body
    assert post_as_twilio(inbound_url, reply("stop")).status == 200
    site.wait_for_dispatches(3)

    # Week 2's question falls due: nothing goes out to a participant who stopped.
    site.move_week(participant, 2)
    site.wait_for_dispatches(3)
    site.stop_all()

    sent = gateway.to(MOBILE)
    assert [m.body for m in sent] == [
        WORDING["pain"],
        WORDING["sick_leave_days"],
        confirmation.body,
    ]
    assert gateway.sent == sent  # nothing to any other number
    assert gateway.refused == []
    assert len({m.sid for m in sent}) == 3
    messages = site.sms_messages(participant)
    assert [(m["kind"], m["status"], m["provider_id"]) for m in messages] == [
        ("question", "sent", sent[0].sid),
        ("question", "sent", sent[1].sid),
        ("stop_confirmation", "sent", sent[2].sid),
    ]
    assert [outcome for _sid, outcome in site.inbound()] == ["answer", "answer", "stop", "stop"]
    assert site.prompts(participant, 2) == [("pain", "cancelled")]
    assert site.weekly_answers(participant) == [week_1]
    # The coordinators are told who stopped (by study ID, in the outbox email).
    notices = site.sql(
        "SELECT body FROM followup_outboxmessage WHERE channel = 'email' AND recipient LIKE %s",
        ("%safe-coordinator@example.org%",),
    )
    assert len(notices) == 1 and enrolled["study_id"] in notices[0][0], notices


def test_worker_killed_during_the_gateway_call_texts_each_participant_once(
    postgres_redis, gateway
):
    """SIGKILL of the worker while Twilio holds a request it has accepted (the gateway
    takes 50 ms a request): the SMS in the gateway's hands is neither in the database
    nor marked sent. The worker that takes the claims over asks the gateway's list for
    it and records it instead of texting it again; the SMS never tried go out once.
    (PostgreSQL + Redis only, for CI's time: the embedded installation passes it too.)"""
    site = postgres_redis
    mobiles = [f"+45310000{n:02d}" for n in range(8)]
    participants = site.django(ENROL_DUE, {"mobiles": mobiles})
    gateway.delay = 0.05
    first = site.start_worker(TWILIO_BASE_URL=gateway.url)
    wait_for(lambda: len(gateway.sent) >= 3, 60, "the first questions", logs=site.logs)
    gateway.hold.set()
    wait_for(lambda: gateway.held, 10, "a request in the gateway's hands", logs=site.logs)
    site.stop([first[0]], signal.SIGKILL)  # the worker only; beat (if apart) goes on
    (in_flight,) = gateway.held
    gateway.hold.clear()
    assert len(gateway.sent) < len(mobiles)  # killed mid-batch
    recorded = site.sql(
        "SELECT provider_id FROM followup_smsmessage WHERE status = 'sent' AND provider_id = %s",
        (in_flight.sid,),
    )
    assert recorded == []  # only the gateway knows it has this one

    site.start_worker(beat=False, TWILIO_BASE_URL=gateway.url, FOLLOWUP_SENDING_LEASE_SECONDS=2)

    def all_recorded():
        statuses = site.sql(
            "SELECT status, COUNT(*) FROM followup_smsmessage WHERE participant_id IN "
            f"({', '.join(str(p) for p in participants.values())}) GROUP BY status"
        )
        return statuses == [("sent", len(mobiles))]

    wait_for(all_recorded, 60, "every question recorded as sent", interval=0.3, logs=site.logs)
    time.sleep(0.5)  # every SMS is recorded sent: no run may send one again
    site.stop(site.processes, signal.SIGKILL)  # a graceful stop takes seconds

    texted = Counter(m.to for m in gateway.sent)
    assert texted == Counter({mobile: 1 for mobile in mobiles}), texted
    assert gateway.lists >= 1  # the gateway was asked
    (row,) = site.sql(
        "SELECT participant_id, attempts, provider_id FROM followup_smsmessage "
        "WHERE provider_id = %s",
        (in_flight.sid,),
    )
    assert row[0] == participants[in_flight.to] and row[1] >= 2, row
    sids = {r[0] for r in site.sql("SELECT provider_id FROM followup_smsmessage")}
    assert {m.sid for m in gateway.sent} <= sids
