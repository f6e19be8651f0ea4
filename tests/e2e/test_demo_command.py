"""The README's first command, for real: `manage.py demo` serves the site and its Celery
worker with beat runs the scheduled task, with nothing but SQLite and the filesystem."""

import os
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.e2e


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_demo_serves_the_site_and_beat_runs(tmp_path):
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "CELERY_BROKER_URL")}
    env.update(
        VAR_DIR=str(tmp_path), HEARTBEAT_SECONDS="2", DJANGO_SETTINGS_MODULE="trialsite.settings"
    )
    proc = subprocess.Popen(
        [sys.executable, "manage.py", "demo", "--addr", f"127.0.0.1:{port}", "--participants", "6"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        page = ""
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(
                    f"http://127.0.0.1:{port}/accounts/login/", timeout=2
                ) as r:
                    page = r.read().decode()
                    break
            except OSError:
                time.sleep(0.5)
        assert "Log in" in page
        beat = None
        while time.monotonic() < deadline and beat is None:
            with sqlite3.connect(tmp_path / "trialsite.sqlite3") as db:
                beat = db.execute("select last_beat from trialsite_schedulerheartbeat").fetchone()
            time.sleep(0.5)
        assert beat is not None, "beat never ran the heartbeat task through the worker"
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=30)
    assert f"http://127.0.0.1:{port}/" in out and "coordinator" in out
