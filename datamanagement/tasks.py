"""Celery's autodiscovery imports ``<app>.tasks``: each concern's tasks are registered here."""

from .queries.tasks import run_edit_checks, send_query_digests  # noqa: F401
