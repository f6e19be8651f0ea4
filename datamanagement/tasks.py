"""Celery's autodiscovery imports ``<app>.tasks``: each part's tasks are registered here.
Thin tasks around plain functions (tests call the functions directly)."""

from celery import shared_task

from .queries.tasks import run_edit_checks, send_query_digests  # noqa: F401


@shared_task
def locked_dataset_task(lock_id: int, user_id: int | None = None) -> str:
    from django.contrib.auth import get_user_model

    from . import bundle
    from .locks.models import Lock

    lock = Lock.objects.select_related("trial").get(pk=lock_id)
    user = get_user_model().objects.filter(pk=user_id).first() if user_id else None
    return bundle.store(lock, user).file_name
