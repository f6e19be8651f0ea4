"""The embedded site's Celery broker hands a worker whole messages only: a worker that
looks at the queue while a message is being written finds nothing yet, instead of an
empty file that stops it ("Unrecoverable error: JSONDecodeError", seen in CI)."""

from __future__ import annotations

import os
import subprocess
import sys
from queue import Empty

import kombu.transport.filesystem
import pytest
from django.conf import settings
from kombu import Connection

import trialsite.brokerfs

EMBEDDED = "trialsite.brokerfs:Transport"


def _channel(folder, transport=EMBEDDED):
    options = {"data_folder_in": str(folder), "data_folder_out": str(folder)}
    return Connection("filesystem://", transport=transport, transport_options=options).channel()


def test_the_embedded_site_uses_it():
    """With no broker configured (the embedded default) the settings choose this
    transport; a server broker (CI's Redis) needs none."""
    env = {k: v for k, v in os.environ.items() if k != "CELERY_BROKER_URL"}
    shown = subprocess.run(
        [
            sys.executable,
            "-c",
            "from trialsite import settings; print(settings.CELERY_BROKER_URL,"
            " getattr(settings, 'CELERY_BROKER_TRANSPORT', None))",
        ],
        env={**env, "VAR_DIR": env.get("VAR_DIR") or str(settings.VAR_DIR)},
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert shown == ["filesystem://", EMBEDDED]


def test_a_worker_never_takes_a_message_being_written(tmp_path, monkeypatch):
    writer, worker = _channel(tmp_path), _channel(tmp_path)
    seen_while_writing = []

    def dumps_while_a_worker_looks(payload):
        # The moment between the file's creation and its content: a worker polls.
        try:
            seen_while_writing.append(worker._get("celery"))
        except Empty:
            pass
        return kombu.utils.json.dumps(payload)

    for module in (kombu.transport.filesystem, trialsite.brokerfs):
        monkeypatch.setattr(module, "dumps", dumps_while_a_worker_looks)
    writer._put("celery", {"body": "dispatch"})
    assert seen_while_writing == []
    assert worker._get("celery") == {"body": "dispatch"}
    with pytest.raises(Empty):
        worker._get("celery")
    assert list(tmp_path.iterdir()) == []
