"""Export jobs and registry uploads, run in the background with a progress record."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.utils import timezone

from . import exports, registry
from .models import ExportJob, RegistryUpload

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


def registry_dir() -> Path:
    return Path(settings.VAR_DIR) / "registry"


def store_registry_file(upload: RegistryUpload, chunks) -> None:
    """Keep the uploaded file until the task reads it (the request only stores it)."""
    folder = registry_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{upload.pk}{Path(upload.file_name).suffix.lower()[:8]}"
    with path.open("wb") as out:
        for chunk in chunks:
            out.write(chunk)
    upload.path = str(path)
    upload.save(update_fields=["path"])


def run_registry_upload(upload_id: int) -> RegistryUpload:
    """Check and import one uploaded registry file; the file is deleted afterwards
    whatever the outcome, as it may carry national ID numbers."""
    upload = RegistryUpload.objects.select_related("trial", "user").get(pk=upload_id)
    upload.status = RegistryUpload.RUNNING
    upload.save(update_fields=["status"])

    def progress(percent: int) -> None:
        RegistryUpload.objects.filter(pk=upload.pk).update(progress=min(percent, 99))

    path = Path(upload.path)
    try:
        imported = registry.import_file(
            upload.trial, upload.file_name, path.read_bytes(), upload.user, upload.note,
            progress=progress,
        )
    except registry.RegistryError as exc:
        upload.status, upload.errors, upload.error_count = (
            RegistryUpload.FAILED, [list(e) for e in exc.errors], exc.total
        )
    except Exception as exc:  # recorded for the page that shows the upload
        upload.status, upload.error_count = RegistryUpload.FAILED, 1
        upload.errors = [[0, f"the file could not be checked: {type(exc).__name__}"]]
        raise
    else:
        upload.status, upload.progress, upload.registry_import = (
            RegistryUpload.DONE, 100, imported
        )
    finally:
        path.unlink(missing_ok=True)
        upload.finished = timezone.now()
        upload.save(update_fields=[
            "status", "progress", "errors", "error_count", "registry_import", "finished"
        ])
    return upload
