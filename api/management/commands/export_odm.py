"""Write a trial as CDISC ODM 1.3.2 XML.

    manage.py export_odm betterback --out var/betterback.xml [--blinded]
"""

from django.core.management.base import BaseCommand, CommandError

from api.odm.export import write_odm
from enrolment.models import Trial


class Command(BaseCommand):
    help = "Export a trial (metadata, pseudonymised data, audit records) as ODM 1.3.2 XML."

    def add_arguments(self, parser):
        parser.add_argument("trial")
        parser.add_argument("--out", required=True)
        parser.add_argument("--blinded", action="store_true", help="condition as A/B")

    def handle(self, *args, **o):
        trial = Trial.objects.filter(code=o["trial"]).first()
        if trial is None:
            raise CommandError(f"no trial {o['trial']!r}")
        size = write_odm(trial, o["out"], blinded=o["blinded"])
        self.stdout.write(f"{size:,} bytes of ODM 1.3.2 written to {o['out']}")
