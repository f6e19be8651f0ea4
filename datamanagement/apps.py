"""Data management: queries, edit checks, source verification, locks, signatures and the
database lock. It sits above enrolment, questionnaires and follow-up, which never import
it: it reaches them through hooks (``enrolment.guards`` for locks, signals for checks)."""
from django.apps import AppConfig


class DataManagementConfig(AppConfig):
    name = "datamanagement"
    verbose_name = "Data management"

    def ready(self):
        from .queries import signals

        signals.connect()
