from celery import shared_task
from django.utils import timezone

from .models import SchedulerHeartbeat


def record_heartbeat_now(name: str = "beat") -> SchedulerHeartbeat:
    beat, _ = SchedulerHeartbeat.objects.update_or_create(
        name=name, defaults={"last_beat": timezone.now()}
    )
    return beat


@shared_task
def record_heartbeat() -> str:
    return str(record_heartbeat_now())
