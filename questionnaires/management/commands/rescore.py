from django.core.management.base import BaseCommand

from questionnaires.services.scoring import rescore


class Command(BaseCommand):
    help = (
        "Recompute every stored score with the instrument version it was answered on and "
        "report each score that changed; changes are audited with the reason 'rescore'."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="report, change nothing")

    def handle(self, *args, dry_run, **options):
        changes = rescore(dry_run=dry_run)
        for c in changes:
            r = c.response
            self.stdout.write(
                f"{r.respondent_code} {r.timepoint.code} {r.instrument} v{r.version} "
                f"{c.score}: {c.old!r} -> {c.new!r}"
                + (f" REFUSED: {c.refused}" if c.refused else "")
            )
        refused = len({c.response.pk for c in changes if c.refused})
        changes = [c for c in changes if not c.refused]
        responses = len({c.response.pk for c in changes})
        verb = "would change" if dry_run else "changed"
        self.stdout.write(f"{len(changes)} scores in {responses} responses {verb}.")
        if refused:
            self.stderr.write(f"{refused} responses are locked and were not rescored.")
