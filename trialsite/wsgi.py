import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "trialsite.settings")
application = get_wsgi_application()

from django.conf import settings  # noqa: E402 - read once the application is set up

if settings.WARM_UP:
    from trialsite.warmup import warm_up

    warm_up()
