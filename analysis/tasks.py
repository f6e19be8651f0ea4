"""Thin Celery tasks around plain functions (tests call the functions directly)."""

from celery import shared_task

from .jobs import run_export_job, run_registry_upload
from .monitoring.weekly import send_weekly_summaries_now


@shared_task
def export_task(job_id: int) -> str:
    return run_export_job(job_id).status


@shared_task
def registry_upload_task(upload_id: int) -> str:
    return run_registry_upload(upload_id).status


@shared_task
def analysis_task(run_id: int) -> str:
    from .models import AnalysisRun
    from .runs import run_analysis

    return run_analysis(AnalysisRun.objects.get(pk=run_id)).status


@shared_task
def send_weekly_summaries() -> int:
    return send_weekly_summaries_now()
