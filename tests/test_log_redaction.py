"""Survey tokens never reach a log line (issue 13, finding 7): the handlers configured
from settings.LOGGING filter them, for Django's request log and for runserver's request
lines alike. Real requests, the real configured handlers."""

import io
import logging
import threading
from contextlib import contextmanager
from datetime import date, timedelta
from urllib.error import HTTPError
from urllib.request import urlopen

import pytest
from django.core.servers.basehttp import WSGIRequestHandler, WSGIServer
from django.core.wsgi import get_wsgi_application
from django.utils import timezone

from followup.tokens import hash_token, make_token, token_for
from trialsite.redaction import RedactTokens

from .factories import enrol


@contextmanager
def captured(*loggers: str):
    """What the handlers of these loggers write (their configured filters included)."""
    out = io.StringIO()
    handlers = []
    for name in loggers:
        # pytest adds handlers of its own to the root logger: the site's are the ones
        # settings.LOGGING made, and each must carry the filter.
        ours = [
            h
            for h in logging.getLogger(name).handlers
            if any(isinstance(f, RedactTokens) for f in h.filters)
        ]
        assert ours, f"no handler of {name or 'root'} filters tokens"
        handlers += ours
    old = [h.setStream(out) for h in handlers]
    try:
        yield out
    finally:
        for h, stream in zip(handlers, old, strict=True):
            h.setStream(stream)


@pytest.mark.django_db
def test_a_link_not_open_yet_is_logged_without_its_token(client, clinic_west):
    patient = enrol(clinic_west, enrolled_on=date.today())
    contact = patient.contacts.get(timepoint__code="3m")
    token = token_for(contact)
    contact.token_hash = hash_token(token)
    contact.opens_at = timezone.now() + timedelta(days=30)  # e.g. rescheduled after sending
    contact.save()
    with captured("") as log:
        assert client.get(f"/s/{token}/").status_code == 403
    assert "Forbidden: /s/[hidden]/" in log.getvalue()
    assert token not in log.getvalue()


@pytest.mark.django_db(transaction=True)
def test_runserver_request_lines_carry_no_token():
    server = WSGIServer(("127.0.0.1", 0), WSGIRequestHandler)
    server.set_app(get_wsgi_application())
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    token = make_token(1, "guessed")
    with captured("", "django.server") as log:
        try:
            with pytest.raises(HTTPError) as answer:
                urlopen(f"http://127.0.0.1:{server.server_port}/s/{token}/", timeout=10)
            assert answer.value.code == 404
        finally:
            # The request line is written as the handler closes, after the answer: the
            # server finishes the request before it stops.
            server.shutdown()
            server.server_close()
    lines = log.getvalue()
    assert '"GET /s/[hidden]/ HTTP/1.1" 404' in lines and "Not Found: /s/[hidden]/" in lines
    assert token not in lines


def test_a_token_inside_a_traceback_is_hidden():
    token = make_token(7, "nonce")
    record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed %s", (token,), None)
    try:
        raise ValueError(f"while sending http://x/s/{token}/")
    except ValueError:
        import sys

        record.exc_info = sys.exc_info()
    RedactTokens().filter(record)
    assert record.getMessage() == "failed [hidden]"
    assert token not in record.exc_text and "/s/[hidden]/" in record.exc_text


def test_the_celery_worker_handlers_filter_tokens_too():
    from celery.signals import after_setup_logger

    import trialsite.celery  # noqa: F401 - connects the receiver, as the worker does

    worker = logging.getLogger("test-celery-worker")
    out = io.StringIO()
    worker.addHandler(logging.StreamHandler(out))
    after_setup_logger.send(sender=None, logger=worker, loglevel=logging.INFO, logfile=None,
                            format="", colorize=False)  # fmt: skip
    token = make_token(3, "worker")
    worker.error("sending http://x/s/%s/ failed", token)
    assert "/s/[hidden]/" in out.getvalue() and token not in out.getvalue()
