from django.core.management.base import BaseCommand


class VersionedCommand(BaseCommand):
    """A command whose ``--version`` picks an instrument version (not Django's version)."""

    def add_base_argument(self, parser, *args, **kwargs):
        if "--version" in args:
            return
        super().add_base_argument(parser, *args, **kwargs)
