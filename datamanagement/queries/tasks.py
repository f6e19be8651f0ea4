"""Thin Celery tasks around plain functions, scheduled in trialsite.settings'
CELERY_BEAT_SCHEDULE (nightly edit checks, weekly digest)."""

from celery import shared_task

from .checks import run_all
from .digest import send_weekly_digests


@shared_task(name="datamanagement.queries.tasks.run_edit_checks")
def run_edit_checks() -> dict:
    return {code: str(report) for code, report in run_all().items()}


@shared_task(name="datamanagement.queries.tasks.send_query_digests")
def send_query_digests() -> int:
    return send_weekly_digests()
