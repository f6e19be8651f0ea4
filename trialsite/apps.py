from django.apps import AppConfig

from .history import build_history_managers_once


class TrialsiteConfig(AppConfig):
    name = "trialsite"
    verbose_name = "Trial site"

    def ready(self):
        build_history_managers_once()
