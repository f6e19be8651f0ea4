from django.db import models


class SchedulerHeartbeat(models.Model):
    """The last time Celery beat ran a task through a worker: the site shows it so that a
    stopped scheduler is noticed, not discovered when follow-ups are missing."""

    name = models.CharField(max_length=50, unique=True)
    last_beat = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} at {self.last_beat:%Y-%m-%d %H:%M:%S}"
