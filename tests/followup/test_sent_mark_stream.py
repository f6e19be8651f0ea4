"""The sent marks pipelined on Redis (followup.sending.stream): no round trip a message,
and still in Redis when the dispatcher is killed before it read a single reply."""

from __future__ import annotations

import os
import signal
import time
import uuid
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
from django.conf import settings

from followup.sending.marks import mark_key, sent_marks
from followup.sending.stream import MarkStream, for_cache

pytestmark = pytest.mark.skipif(
    "RedisCache" not in settings.CACHES["followup"]["BACKEND"],
    reason="needs the followup cache on Redis (CELERY_BROKER_URL=redis://...): runs in CI",
)

AT = datetime(2017, 8, 2, 7, tzinfo=UTC)


def messages(n):
    nonce = uuid.uuid4().hex
    return [
        SimpleNamespace(pk=i, mark_nonce=nonce, idempotency_key=f"{i}:invitation:0")
        for i in range(n)
    ]


def test_marks_sent_before_a_kill_reach_redis_though_no_reply_was_read():
    batch = messages(200)
    keys = [mark_key(m) for m in batch]
    pid = os.fork()
    if pid == 0:  # the dispatcher: marks sent, then SIGKILL before any reply is read
        try:
            stream = MarkStream(sent_marks())
            for m in batch:
                stream.send(m, mark_key(m), (f"provider-{m.pk}", AT), 60)
            os.kill(os.getpid(), signal.SIGKILL)
        finally:
            os._exit(1)
    _, status = os.waitpid(pid, 0)
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
    found = {}
    for _ in range(50):
        found = sent_marks().get_many(keys)
        if len(found) == len(keys):
            break
        time.sleep(0.05)
    assert found == {mark_key(m): (f"provider-{m.pk}", AT) for m in batch}
    sent_marks().delete_many(keys)


def test_a_batch_of_marks_is_confirmed_once_and_the_connection_goes_back():
    batch = messages(50)
    stream = for_cache(sent_marks())
    assert isinstance(stream, MarkStream)
    failed = [f for m in batch for f in stream.send(m, mark_key(m), ("p", AT), 60)]
    assert failed == [] and stream.sent == 50
    assert stream.finish() == [] and stream.connection is None and not stream.unanswered
    assert len(sent_marks().get_many([mark_key(m) for m in batch])) == 50
    sent_marks().delete_many([mark_key(m) for m in batch])


def test_a_refused_mark_is_reported_with_its_message():
    """Redis answers an error (here: an expiry it refuses): the message comes back, so
    the dispatcher records its outcome in the database instead."""
    (message,) = messages(1)
    stream = MarkStream(sent_marks())
    failed = stream.send(message, mark_key(message), ("p", AT), -5)
    failed += stream.finish()
    assert failed == [message]
