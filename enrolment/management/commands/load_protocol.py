from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from enrolment.amendments import load_versioned
from enrolment.protocol.sections import ProtocolError


class Command(BaseCommand):
    help = (
        "Create or update a trial from its protocol file (TOML). One transaction. A changed "
        "file becomes the trial's next protocol version: it needs --amendment, and "
        "--dry-run prints the changes and what they do to enrolled participants."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "paths", nargs="+", help="protocol files, e.g. protocols/betterback.toml"
        )
        parser.add_argument(
            "--amendment",
            default="",
            help='the approval of the amendment, e.g. "EPN 2017/123" (required when the '
            "trial exists and its file changed)",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="print the changes and consequences only"
        )
        parser.add_argument("--user", default="", help="the username who loads the file")

    def handle(self, *args, paths, amendment, dry_run, user, **options):
        loaded_by = None
        if user:
            loaded_by = get_user_model().objects.filter(username=user).first()
            if loaded_by is None:
                raise CommandError(f"no user {user!r}. Nothing was written.")
        for path in paths:
            try:
                result = load_versioned(
                    path,
                    amendment=amendment,
                    loaded_by=loaded_by,
                    dry_run=dry_run,
                    require_amendment=True,
                )
            except ProtocolError as exc:
                raise CommandError(f"{exc}\nNothing was written.") from None
            report = result.report
            if report is not None:
                verb = "loaded" if report.changed else "unchanged"
                self.stdout.write(f"{path}: {result.trial.code} {verb} ({report})")
                for line in report.created + report.updated:
                    self.stdout.write(f"  {line}")
            for line in result.lines():
                self.stdout.write(line)
