"""List (and with --erase erase) the personal data kept past its trial's retention date."""

from __future__ import annotations

from datetime import date

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from enrolment import guards
from enrolment.actions.erasure import erase_personal_data
from enrolment.models import Erasure
from followup.erasure import scrub_late_copies

from ...retention import still_identifiable, trials_past_retention


class Command(BaseCommand):
    help = (
        "List the participants whose personal details are kept past their trial's "
        "retention date (protocol file: retention_until); --erase erases them."
    )

    def add_arguments(self, parser):
        parser.add_argument("--erase", action="store_true", help="erase what is listed")
        parser.add_argument("--trial", help="only this trial (its code)")
        parser.add_argument("--today", type=date.fromisoformat, help="YYYY-MM-DD (default today)")

    def handle(self, *args, erase=False, trial=None, today=None, **options):
        today = today or timezone.localdate()
        late = {where: n for where, n in scrub_late_copies().items() if n}
        if late:
            self.stdout.write(
                "Scrubbed copies written after their erasure (a message in flight): "
                + ", ".join(f"{where} {n}" for where, n in sorted(late.items()))
            )
        trials = trials_past_retention(today)
        if trial:
            trials = trials.filter(code=trial)
            if not trials.exists():
                raise CommandError(f"{trial}: no such trial past its retention date on {today}.")
        total = 0
        for t in trials:
            participants = list(still_identifiable(t))
            total += len(participants)
            self.stdout.write(
                f"{t.code}: retention until {t.retention_until}; "
                f"{len(participants)} participant(s) with personal details to erase"
            )
            for p in participants:
                if erase:
                    # One transaction each: an interruption leaves every erasure whole.
                    try:
                        erase_personal_data(
                            p,
                            f"retention date {t.retention_until} passed",
                            source=Erasure.RETENTION,
                            today=today,
                        )
                    except guards.WriteRefused as exc:
                        # Locked data (data management): the others are still erased.
                        self.stderr.write(f"  {p.study_id} refused: {' '.join(exc.messages)}")
                        continue
                self.stdout.write(f"  {p.study_id}{' erased' if erase else ''}")
        if not erase and total:
            self.stdout.write(f"{total} to erase: run again with --erase to erase them.")
