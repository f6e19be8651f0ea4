"""Data management: queries, edit checks, source verification, locks, signatures and the
database lock. It sits above enrolment, questionnaires and follow-up, which never import
it: it reaches them through hooks (``enrolment.guards`` for locks, signals for checks)."""
from django.apps import AppConfig


class DataManagementConfig(AppConfig):
    name = "datamanagement"
    verbose_name = "Data management"

    def ready(self):
        from django.db.models.signals import post_save

        from enrolment import guards
        from enrolment.audit import PARTICIPANT_HISTORY_SOURCES
        from questionnaires.models import Response

        from . import bundle  # registers the bundle's built-in parts
        from .audit import participant_rows
        from .locks.guard import lock_guard
        from .queries import signals
        from .queries.export import query_log_csv
        from .sdv.services import on_response_saved

        guards.register(lock_guard)
        if participant_rows not in PARTICIPANT_HISTORY_SOURCES:
            PARTICIPANT_HISTORY_SOURCES.append(participant_rows)
        post_save.connect(on_response_saved, sender=Response, dispatch_uid="sdv_clear")
        signals.connect()
        # The locked dataset carries the whole query log (study IDs only).
        bundle.register_part(
            "query_log", lambda trial: ("query_log.csv", query_log_csv(trial).encode())
        )
