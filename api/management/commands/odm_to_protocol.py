"""Read the metadata of an ODM 1.3 file as a draft protocol file for review.

    manage.py odm_to_protocol study.xml > protocols/draft.toml
"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from api.odm.draft import OdmError, draft_toml, read_draft


class Command(BaseCommand):
    help = "Print a draft protocol file (TOML) from the metadata of an ODM 1.3 file."

    def add_arguments(self, parser):
        parser.add_argument("file")

    def handle(self, *args, **o):
        path = Path(o["file"])
        if not path.is_file():
            raise CommandError(f"{path}: no such file")
        try:
            draft = read_draft(path.read_bytes())
        except OdmError as exc:
            raise CommandError(f"{path}: {exc}") from exc
        self.stdout.write(draft_toml(draft, source=path.name))
