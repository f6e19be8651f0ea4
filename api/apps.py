"""The REST API (``/api/v1/``): the same services and querysets as the pages, reached with
personal tokens."""
from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "api"
    verbose_name = "REST API"

    def ready(self):
        from . import schema  # noqa: F401  (registers the token scheme with drf-spectacular)
