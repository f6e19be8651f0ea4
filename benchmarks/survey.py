"""The patient survey pages under gunicorn against the login page, in one run.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/trialsite_bench \\
        .venv/bin/python benchmarks/survey.py [--users 50] [--requests 1000] [--workers 3]

The database named in DATABASE_URL is dropped and created again (it must not be one
you keep data in). BetterBack is loaded and ``--requests`` participants are bulk
inserted, each with personal details and an open 3-month survey link. gunicorn serves the
site as production does (DEBUG off, behind an HTTPS proxy, ``--workers`` sync workers,
or ``--threads`` threads each; the settings' default persistent connections unless
CONN_MAX_AGE is set); ``--users``
client threads keep it busy, each with its own CSRF cookie, in four phases of
``--requests`` requests each:

  login  GET /accounts/login/ (the baseline; run first and again last, both counted)
  GET    a survey page of a random link, the seven pages of the visit in turn
  POST   a page's answers, every one the FIRST answer of a participant of its own
         (participant i answers page i mod 7 + 1: each kind of item is sent), with
         "Next": validated, saved, scored, audited, redirected

Printed: p50, p95 and throughput of each phase, and the survey phases as ratios to login
(the goal: survey GET and POST p95 <= 2 x login's).
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

SECRET = "survey-benchmark-secret-key-" + "x" * 40


def seed(n: int) -> list[str]:
    """N participants, each with an open 3-month link; returns their tokens."""
    from django.db import connection
    from django.utils import timezone

    from enrolment.models import Clinic, Participant, PersonalDetails, Timepoint
    from enrolment.protocol.writing import load_protocol
    from followup.models import Contact
    from followup.schedule import add_months
    from followup.tokens import hash_token, make_token

    trial, _ = load_protocol(ROOT / "protocols" / "betterback.toml")
    clinic = Clinic.objects.filter(cluster__trial=trial).order_by("pk").first()
    timepoint = Timepoint.objects.get(trial=trial, code="3m")
    enrolled_on = add_months(date.today(), -3)
    now = timezone.now()
    people = Participant.objects.bulk_create(
        Participant(
            trial=trial,
            clinic=clinic,
            study_id=f"BENCH-{i:07d}",
            sequence=i + 1,
            enrolled_on=enrolled_on,
            condition="control",
        )
        for i in range(n)
    )
    PersonalDetails.objects.bulk_create(
        PersonalDetails(
            participant=p,
            full_name=f"Bench Patient {p.sequence}",
            date_of_birth=date(1970, 1, 1),
            email=f"patient{p.sequence}@example.org",
            preferred_language=("sv", "en", "da")[p.sequence % 3],
        )
        for p in people
    )
    contacts = Contact.objects.bulk_create(
        Contact(
            participant=p,
            timepoint=timepoint,
            anchor_date=enrolled_on,
            due_on=date.today(),
            window_opens=date.today() - timedelta(days=2),
            window_closes=date.today() + timedelta(days=20),
            due_at=now - timedelta(days=1),
            next_action_at=now + timedelta(days=20),
            opens_at=now - timedelta(days=2),
            closes_at=now + timedelta(days=20),
            status=Contact.INVITED,
            invited_at=now - timedelta(days=1),
        )
        for p in people
    )
    tokens = []
    for contact in contacts:
        tokens.append(make_token(contact.pk, contact.token_nonce))
        contact.token_hash = hash_token(tokens[-1])
    Contact.objects.bulk_update(contacts, ["token_hash"], batch_size=2000)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")  # what autovacuum does after a load
    return tokens


def answers_for(page: int) -> dict:
    """Valid answers to every item of page ``page`` of the 3-month visit."""
    from enrolment.models import Timepoint
    from questionnaires.instruments import base, get

    code = Timepoint.objects.get(trial__code="betterback", code="3m").instruments[page - 1]
    data = {}
    for item in get(code).items:
        if item.kind in (base.SCALE, base.NUMBER):
            data[item.id] = str(item.min)
        elif item.kind in (base.CHOICE, base.MULTI):
            data[item.id] = str(item.choices[0].code)
        elif item.kind == base.YESNO:
            data[item.id] = "1"
        elif item.kind == base.DATE:
            data[item.id] = date.today().isoformat()
        else:
            data[item.id] = "Fine."
    return data


class User:
    """One browser: its own connection, its CSRF cookie, the secure proxy's headers."""

    def __init__(self, port: int):
        self.port = port
        self.cookie = ""
        self.csrf = ""
        self.conn = None

    def request(self, method: str, path: str, body: dict | None = None) -> tuple[int, float]:
        headers = {
            "Host": "127.0.0.1",
            "X-Forwarded-Proto": "https",
            "Referer": "https://127.0.0.1/",
        }
        if self.cookie:
            headers["Cookie"] = self.cookie
        data = None
        if body is not None:
            data = urlencode({**body, "csrfmiddlewaretoken": self.csrf})
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        t0 = time.perf_counter()
        for attempt in range(2):  # a sync worker closes the connection after each answer
            try:
                if self.conn is None:
                    self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
                self.conn.request(method, path, body=data, headers=headers)
                response = self.conn.getresponse()
                response.read()
                break
            except (http.client.HTTPException, OSError):
                self.conn.close()
                self.conn = None
                if attempt:
                    raise
        elapsed = time.perf_counter() - t0
        if response.getheader("Connection", "").lower() == "close":
            self.conn.close()
            self.conn = None
        for header, value in response.getheaders():
            if header.lower() == "set-cookie" and value.startswith("csrftoken="):
                self.csrf = value.split(";", 1)[0].split("=", 1)[1]
                self.cookie = f"csrftoken={self.csrf}"
        return response.status, elapsed


def run_phase(users: list[User], jobs: list, expect: int) -> tuple[list[float], float]:
    """Run ``jobs`` (method, path, body) over the users' threads; (latencies, seconds)."""
    queue = list(reversed(jobs))
    lock = threading.Lock()
    times: list[float] = []
    wrong: list[str] = []

    def work(user: User):
        while True:
            with lock:
                if not queue:
                    return
                method, path, body = queue.pop()
            status, elapsed = user.request(method, path, body)
            with lock:
                times.append(elapsed)
                if status != expect:
                    wrong.append(f"{method} {path}: {status}")

    threads = [threading.Thread(target=work, args=(u,)) for u in users]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seconds = time.perf_counter() - t0
    if wrong:
        raise SystemExit(f"{len(wrong)} unexpected answers, e.g. {wrong[:3]}")
    return times, seconds


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_gunicorn(port: int, workers: int, threads: int) -> subprocess.Popen:
    env = {
        **os.environ,
        "DEBUG": "0",
        "SECRET_KEY": SECRET,
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "0",
        "LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
    }
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "trialsite.wsgi",
            "-b",
            f"127.0.0.1:{port}",
            "-w",
            str(workers),
            "--threads",
            str(threads),
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
        start_new_session=True,  # its own process group: stopped whole
    )
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            status, _ = User(port).request("GET", "/accounts/login/")
            if status == 200:
                return proc
        except OSError:
            pass
        time.sleep(0.3)
    os.killpg(proc.pid, signal.SIGTERM)
    raise SystemExit("gunicorn did not start")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=3)  # as the Dockerfile
    parser.add_argument("--threads", type=int, default=1)  # 1: sync workers, as the Dockerfile
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        raise SystemExit("DATABASE_URL must name a scratch PostgreSQL database")
    from dispatch import recreate_database

    recreate_database(url)
    os.environ["SECRET_KEY"] = SECRET  # the tokens are made with the server's key
    os.environ["DEBUG"] = "0"
    os.environ["ALLOWED_HOSTS"] = "127.0.0.1"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "trialsite.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    n = args.requests
    tokens = seed(n)
    pages = {page: answers_for(page) for page in range(1, 8)}
    connection.close()

    port = free_port()
    server = start_gunicorn(port, args.workers, args.threads)
    try:
        users = [User(port) for _ in range(args.users)]
        for user in users:  # each its CSRF cookie, and every worker warmed
            user.request("GET", "/accounts/login/")
        rng = random.Random(1)
        warm = [("GET", f"/s/{rng.choice(tokens)}/{p}/", None) for p in range(1, 8)] * 10
        run_phase(users, warm, 200)
        login = [("GET", "/accounts/login/", None)] * n
        survey_get = [("GET", f"/s/{rng.choice(tokens)}/{i % 7 + 1}/", None) for i in range(n)]
        survey_post = [
            ("POST", f"/s/{token}/{i % 7 + 1}/", {**pages[i % 7 + 1], "action": "next"})
            for i, token in enumerate(tokens)
        ]
        results = {}
        first, s1 = run_phase(users, login, 200)
        results["GET survey"] = run_phase(users, survey_get, 200)
        results["POST survey"] = run_phase(users, survey_post, 302)
        last, s2 = run_phase(users, login, 200)
        results = {"GET login": (first + last, s1 + s2), **results}
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(30)
    from questionnaires.models import Response

    saved = Response.objects.count()
    print(
        f"gunicorn {args.workers} workers x {args.threads} threads, {args.users} users, "
        f"{n} requests a phase, "
        f"CONN_MAX_AGE={connection.settings_dict['CONN_MAX_AGE']}; responses saved: {saved}"
    )
    base_p50 = statistics.median(results["GET login"][0])
    base_p95 = p95(results["GET login"][0])
    base_rate = len(results["GET login"][0]) / results["GET login"][1]
    for name, (times, seconds) in results.items():
        rate = len(times) / seconds
        print(
            f"{name:<12} p50 {1000 * statistics.median(times):7.1f} ms "
            f"({statistics.median(times) / base_p50:4.2f}x)  "
            f"p95 {1000 * p95(times):7.1f} ms ({p95(times) / base_p95:4.2f}x)  "
            f"{rate:7.1f} req/s ({rate / base_rate:4.2f}x)"
        )
    connection.close()


if __name__ == "__main__":
    main()
