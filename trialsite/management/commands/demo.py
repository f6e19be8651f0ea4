"""Start the site with the demo trials in full flow, a Celery worker and beat.

Everything runs embedded by default: SQLite, a filesystem broker, email to the outbox.
The command lives in the top app: it composes enrolment, follow-up and questionnaires.
"""

import os
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import connection
from django.utils import timezone

from enrolment.demo import DEMO_PASSWORD
from trialsite import fresh_schema
from trialsite.demo.build import build_site


class Command(BaseCommand):
    help = "Set up the demo trials and serve the site with a Celery worker and beat."

    def add_arguments(self, parser):
        parser.add_argument("--addr", default="127.0.0.1:8000")
        parser.add_argument("--participants", type=int, default=60, help="BetterBack's")
        parser.add_argument(
            "--safe-participants",
            type=int,
            default=12,
            help="SAFE participants with a history of weekly SMS (0: no SAFE trial)",
        )
        parser.add_argument(
            "--other-participants",
            type=int,
            default=16,
            help="participants in each of selfBACK and IMPACt-LBP (0: not loaded)",
        )
        parser.add_argument(
            "--workshop-physios",
            type=int,
            default=None,
            help="at most this many physiotherapists per clinic answer their own "
            "questionnaires (default: all; fewer build faster)",
        )
        parser.add_argument(
            "--no-serve", action="store_true", help="set up the data only, then exit"
        )

    def handle(self, *args, addr, participants, safe_participants, other_participants,
               workshop_physios, no_serve, **options):  # fmt: skip
        self._base_url(addr)
        started = time.monotonic()

        def say(step: str) -> None:
            # Each step as it starts: a first build is most of a minute of work.
            self.stdout.write(f"  [{time.monotonic() - started:3.0f} s] {step}")
            self.stdout.flush()

        say("Creating or updating the database tables")
        fresh_schema.create(connection)  # a new embedded database: built, not migrated
        call_command("migrate", interactive=False, verbosity=0)
        built = build_site(
            timezone.localdate(), timezone.now(), participants, safe_participants,
            other_participants, workshop_physios, say,
        )  # fmt: skip
        for trial in built.trials:
            self.stdout.write(self.style.SUCCESS(f"Demo trial: {trial.name}"))
            self.stdout.write(f"  participants: {trial.participants.count()}")
        if built.history:
            # "what: n", not "n what": one count of a plural name read "1 casebooks signed".
            done = "; ".join(f"{what}: {n}" for what, n in built.history.items())
            self.stdout.write(f"  Past follow-up replayed: {done}")
        self.stdout.write(f"  Ready in {time.monotonic() - started:.0f} s")
        if no_serve:
            self._print_logins(None, built.logins)
            return
        worker, log = self._start_worker()
        self._print_logins(addr, built.logins)
        self.stdout.write(f"The Celery worker and beat log to {log}; below is the web log.\n")
        # Stopping the demo with SIGTERM (not only Ctrl-C) must stop the worker too.
        signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))
        try:
            call_command("runserver", addr, use_reloader=False)
        finally:
            worker.send_signal(signal.SIGTERM)
            try:
                worker.wait(timeout=15)
            except subprocess.TimeoutExpired:
                worker.kill()

    def _base_url(self, addr: str) -> None:
        """Survey links in the demo's emails lead to this site, unless the operator set
        FOLLOWUP_BASE_URL (e.g. behind a proxy). The worker inherits it."""
        if not os.environ.get("FOLLOWUP_BASE_URL"):
            host = addr if ":" in addr else f"127.0.0.1:{addr}"
            os.environ["FOLLOWUP_BASE_URL"] = f"http://{host}"
            settings.FOLLOWUP_BASE_URL = os.environ["FOLLOWUP_BASE_URL"]

    def _start_worker(self):
        # One process runs the worker and the embedded beat scheduler (-B); solo pool keeps
        # SQLite to one writer connection per process.
        log = settings.VAR_DIR / "celery.log"
        cmd = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "trialsite",
            "worker",
            "-B",
            "--pool=solo",
            "--loglevel=WARNING",
            "--schedule",
            settings.CELERY_BEAT_SCHEDULE_FILENAME,
        ]
        self.stdout.write("Starting the Celery worker and beat: " + " ".join(cmd[1:]))
        # Its banner and log go to a file of their own: the console stays the web log.
        out = open(log, "a", encoding="utf-8")  # noqa: SIM115 - the worker holds it open
        return subprocess.Popen(cmd, cwd=settings.BASE_DIR, stdout=out, stderr=out), log

    def _print_logins(self, addr, logins):
        if addr:
            self.stdout.write(self.style.SUCCESS(f"\nThe site: http://{addr}/"))
        self.stdout.write(f"Logins (password for all: {DEMO_PASSWORD}):")
        for username, role in logins.items():
            self.stdout.write(f"  {username:<14} {role}")
        self.stdout.write(
            "Two-factor codes are off for the demo trials (on by default in protocol files);\n"
            "anyone may still set up an authenticator from the menu under their user name."
        )
        self.stdout.write("")
