"""Export jobs built in the background with a progress record."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.utils import timezone

from . import exports
from .models import ExportJob

EXTENSIONS = {"csv": "csv", "sav": "sav", "dta": "dta", "parquet": "parquet"}


def exports_dir() -> Path:
    return Path(settings.VAR_DIR) / "exports"


def file_name(job: ExportJob) -> str:
    stamp = job.created.strftime("%Y%m%dT%H%M%S")
    blind = "_blinded" if job.blinded else ""
    level = "" if job.shape == "analysis" else f"_{job.level}"
    return f"{job.trial.code}_{job.shape}{level}{blind}_{stamp}_{job.pk}.{EXTENSIONS[job.format]}"


def run_export_job(job_id: int) -> ExportJob:
    job = ExportJob.objects.select_related("trial", "user").get(pk=job_id)
    path = exports_dir() / file_name(job)
    job.status, job.path = ExportJob.RUNNING, str(path)
    job.save(update_fields=["status", "path"])

    def progress(percent: int) -> None:
        ExportJob.objects.filter(pk=job.pk).update(progress=percent)

    try:
        log = exports.write_export(
            job.trial, path, job.format, job.shape, job.level, job.blinded,
            user=job.user, progress=progress,
        )
    except Exception as exc:  # recorded for the page that polls the job
        job.status, job.error = ExportJob.FAILED, f"{type(exc).__name__}: {exc}"
    else:
        job.status, job.progress, job.log = ExportJob.DONE, 100, log
        job.codebook_path = str(path.with_suffix("").with_name(path.stem + "_codebook.html"))
    job.finished = timezone.now()
    job.save(update_fields=["status", "progress", "log", "codebook_path", "error", "finished"])
    return job
