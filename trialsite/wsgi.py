import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "trialsite.settings")
application = get_wsgi_application()

if os.environ.get("WARM_UP", "1") != "0":
    from trialsite.warmup import warm_up

    warm_up()
