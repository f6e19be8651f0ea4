"""The Celery app runs real tasks through the configured broker: the filesystem broker
when embedded, Redis in CI (CELERY_BROKER_URL)."""

import time

import pytest
from celery.contrib.testing.worker import start_worker

from trialsite.celery import app
from trialsite.models import SchedulerHeartbeat
from trialsite.tasks import record_heartbeat


@pytest.mark.django_db(transaction=True)
def test_heartbeat_task_runs_through_the_broker_and_a_worker():
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        record_heartbeat.delay()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if SchedulerHeartbeat.objects.filter(name="beat").exists():
                break
            time.sleep(0.2)
    assert SchedulerHeartbeat.objects.filter(name="beat").exists()


def test_beat_schedule_names_a_registered_task():
    app.loader.import_default_modules()
    for entry in app.conf.beat_schedule.values():
        assert entry["task"] in app.tasks
