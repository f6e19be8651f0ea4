"""Export a trial's pseudonymised data with its codebook, and log the export.

    manage.py export betterback --format sav --shape wide --level score --out var/bb.sav
    manage.py export betterback --format csv --shape analysis --out patients.csv --blinded

The codebook is written next to the file (``<stem>_codebook.csv`` and ``.html``).
Column names are documented in analysis/exports.py.
"""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from analysis import exports
from enrolment.models import Trial


class Command(BaseCommand):
    help = "Export pseudonymised data (CSV, SPSS, Stata, Parquet) with a codebook."

    def add_arguments(self, parser):
        parser.add_argument("trial", help="trial code, e.g. betterback")
        parser.add_argument("--format", choices=exports.FORMATS, default="csv")
        parser.add_argument("--shape", choices=exports.SHAPES, default="wide")
        parser.add_argument("--level", choices=exports.LEVELS, default="score")
        parser.add_argument("--blinded", action="store_true", help="condition as A/B")
        parser.add_argument("--out", required=True, help="file to write")
        parser.add_argument("--user", help="user name for the export log")

    def handle(self, *args, **o):
        try:
            trial = Trial.objects.get(code=o["trial"])
        except Trial.DoesNotExist as exc:
            raise CommandError(f"no trial {o['trial']!r}") from exc
        user = None
        if o["user"]:
            user = get_user_model().objects.filter(username=o["user"]).first()
            if user is None:
                raise CommandError(f"no user {o['user']!r}")
        log = exports.write_export(
            trial, o["out"], o["format"], o["shape"], o["level"], o["blinded"],
            user=user, user_label=o["user"] or "command line",
        )
        self.stdout.write(f"{log.rows} rows written to {o['out']} (export log {log.pk})")
