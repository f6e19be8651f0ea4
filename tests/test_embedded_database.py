"""The embedded site's SQLite file is shared by the web process and the Celery worker. A
transaction that reads and then writes (a blinded export drawing its blinding codes, a
saved answer with its audit row) must wait for the other process's write to finish,
not fail at once with "database is locked": seen in CI, where a statistician's export
on the demo ended "failed: OperationalError: database is locked" while the site was
busy. SQLite gives up without waiting when a connection that has read in a transaction
asks to write while another holds the write lock; a transaction that takes the write
lock when it begins (``BEGIN IMMEDIATE``) waits for it instead."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import time

import pytest

from .e2e.stack import DJANGO_SCRIPT, ROOT, embedded_installation

SETUP = """
from enrolment.protocol.writing import load_protocol
load_protocol("protocols/betterback.toml")
print(json.dumps("ready"))
"""

# The blinded export's first step, in a process of its own: reads the trial's arms and
# any codes drawn before, then writes the codes.
DRAW_CODES = """
from analysis.exports.columns import blinding_codes
from enrolment.models import Trial
trial = Trial.objects.get(code="betterback")
print("begin", flush=True)
print(json.dumps(sorted(blinding_codes(trial).values())), flush=True)
"""


@pytest.fixture
def site(tmp_path):
    with embedded_installation(tmp_path, SETUP, {}) as installation:
        yield installation


def test_a_transaction_that_reads_then_writes_waits_for_the_other_processs_write(site):
    other = sqlite3.connect(site.database, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # the other process is writing
    other.execute("UPDATE enrolment_trial SET name = name")
    drawing = subprocess.Popen(
        [sys.executable, "-c", DJANGO_SCRIPT + DRAW_CODES],
        cwd=ROOT,
        env=site.env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    drawing.stdin.write("{}")
    drawing.stdin.close()
    try:
        assert drawing.stdout.readline().strip() == "begin", drawing.stderr.read()
        time.sleep(1.5)  # long enough for a transaction that does not wait to fail
        other.execute("COMMIT")
        drawing.wait(timeout=60)
        out, err = drawing.stdout.read(), drawing.stderr.read()
    finally:
        other.close()
        if drawing.poll() is None:
            drawing.kill()
    assert drawing.returncode == 0, err[-2000:]
    assert out.strip().splitlines()[-1] == '["A", "B"]'
