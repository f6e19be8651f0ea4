"""Celery shell around :mod:`followup.sms.tracking`: the database decides what is due."""

from celery import shared_task

from . import tracking


@shared_task(ignore_result=True)
def dispatch_sms() -> dict:
    return tracking.run().as_dict()
