"""Start the site with a demo BetterBack trial, a Celery worker and beat.

Everything runs embedded by default: SQLite, a filesystem broker, email to the outbox.
"""

import signal
import subprocess
import sys

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.utils import timezone

from enrolment.demo import DEMO_PASSWORD, build_demo, build_safe_demo


class Command(BaseCommand):
    help = "Set up the demo trial and serve the site with a Celery worker and beat."

    def add_arguments(self, parser):
        parser.add_argument("--addr", default="127.0.0.1:8000")
        parser.add_argument("--participants", type=int, default=60)
        parser.add_argument(
            "--safe-participants",
            type=int,
            default=12,
            help="SAFE participants with a history of weekly SMS (0: no SAFE trial)",
        )
        parser.add_argument(
            "--no-serve", action="store_true", help="set up the data only, then exit"
        )

    def handle(self, *args, addr, participants, safe_participants, no_serve, **options):
        call_command("migrate", interactive=False, verbosity=0)
        trial, logins = build_demo(timezone.localdate(), participants)
        self.stdout.write(self.style.SUCCESS(f"Demo trial: {trial.name}"))
        self.stdout.write(
            f"  {trial.participants.count()} participants in {trial.clusters.count()} clusters"
        )
        if safe_participants:
            # The command composes the apps: enrolment's data, then follow-up's past weeks.
            from followup.sms.demo import replay_weeks

            safe = build_safe_demo(timezone.localdate(), safe_participants)
            if not safe.participants.filter(sms_replies__isnull=False).exists():
                replay_weeks(safe, timezone.now())
            self.stdout.write(self.style.SUCCESS(f"Second trial: {safe.name}"))
            self.stdout.write(f"  {safe.participants.count()} participants with weekly SMS")
        if no_serve:
            self._print_logins(None, logins)
            return
        worker = self._start_worker()
        self._print_logins(addr, logins)
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

    def _start_worker(self) -> subprocess.Popen:
        # One process runs the worker and the embedded beat scheduler (-B); solo pool keeps
        # SQLite to one writer connection per process.
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
        return subprocess.Popen(cmd, cwd=settings.BASE_DIR)

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
