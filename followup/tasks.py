"""Celery shells around :mod:`followup.dispatch`: the database decides what is due."""

from celery import shared_task

from . import dispatch as dispatcher


@shared_task(ignore_result=True)
def dispatch() -> dict:
    return dispatcher.run().as_dict()
