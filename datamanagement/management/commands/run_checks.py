"""``manage.py run_checks <trial>``: run the trial's edit checks now (as the nightly batch
does) and say how many queries were opened, re-opened and closed."""

from django.core.management.base import BaseCommand, CommandError

from datamanagement.queries.checks import run_checks
from enrolment.models import Trial


class Command(BaseCommand):
    help = "Run a trial's edit checks (from its protocol file) and open or close queries."

    def add_arguments(self, parser):
        parser.add_argument("trial", help="the trial's code, e.g. betterback")

    def handle(self, *args, trial, **options):
        found = Trial.objects.filter(code=trial).first()
        if found is None:
            known = ", ".join(Trial.objects.values_list("code", flat=True)) or "none"
            raise CommandError(f"No trial {trial!r}; known: {known}")
        if not found.edit_checks:
            self.stdout.write(f"{found.code}: the protocol file declares no checks.")
            return
        report = run_checks(found)
        self.stdout.write(f"{found.code}: {len(found.edit_checks)} checks; {report}")
