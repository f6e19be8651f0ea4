from django.core.management.base import BaseCommand, CommandError

from enrolment.protocol import ProtocolError, load_protocol


class Command(BaseCommand):
    help = "Create or update a trial from its protocol file (TOML). One transaction."

    def add_arguments(self, parser):
        parser.add_argument(
            "paths", nargs="+", help="protocol files, e.g. protocols/betterback.toml"
        )

    def handle(self, *args, paths, **options):
        for path in paths:
            try:
                trial, report = load_protocol(path)
            except ProtocolError as exc:
                raise CommandError(f"{exc}\nNothing was written.") from None
            verb = "loaded" if report.changed else "unchanged"
            self.stdout.write(f"{path}: {trial.code} {verb} ({report})")
            for line in report.created + report.updated:
                self.stdout.write(f"  {line}")
