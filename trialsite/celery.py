import os

from celery import Celery
from celery.signals import after_setup_logger, after_setup_task_logger

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "trialsite.settings")

app = Celery("trialsite")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# Packages inside apps are not found by autodiscovery.
app.autodiscover_tasks(["followup.sms"])


@after_setup_logger.connect
@after_setup_task_logger.connect
def redact_tokens(logger=None, **kwargs):
    """Celery installs its own handlers in the worker: they filter survey tokens too."""
    from trialsite.redaction import RedactTokens

    for handler in logger.handlers:
        handler.addFilter(RedactTokens())
