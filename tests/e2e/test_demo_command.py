"""The README's first command, for real: `manage.py demo` serves the site and its Celery
worker with beat runs the scheduled task, with nothing but SQLite and the filesystem;
then a newcomer's first hour on it, as every role and as a patient on a phone, finds a
trial in full flow on every page it opens."""

import contextlib
import os
import re
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from types import SimpleNamespace

import pytest
from playwright.sync_api import expect

from .. import schema_snapshot

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.e2e, pytest.mark.heavy]
PASSWORD = "demo-pass-2017"  # noqa: S105 - the demo's printed password
# BetterBack at its demo size: smaller, some cells of the plan's risk-group model are empty.
SIZE = ["--participants", "60", "--safe-participants", "3", "--other-participants", "4",
        "--workshop-physios", "2"]  # fmt: skip


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    var = tmp_path_factory.mktemp("demo-var")
    port = _free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "CELERY_BROKER_URL", "FOLLOWUP_BASE_URL")
    }
    env.update(VAR_DIR=str(var), HEARTBEAT_SECONDS="2", DJANGO_SETTINGS_MODULE="trialsite.settings")
    # The schema migrated once per set of migrations (tests/schema_snapshot.py), where a
    # test before has kept it: the command's own migrate then has nothing to do (33 s of
    # a 2-core CI machine's time). From scratch otherwise, as in the README.
    with contextlib.closing(sqlite3.connect(var / "trialsite.sqlite3")) as db:
        schema_snapshot.restore_sqlite(db)
    console = var / "console.log"
    with open(console, "w") as out:
        proc = subprocess.Popen(
            [sys.executable, "manage.py", "demo", "--addr", f"127.0.0.1:{port}", *SIZE],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
        )
    site = SimpleNamespace(
        url=f"http://127.0.0.1:{port}", var=var, env=env, proc=proc, console=console
    )
    try:
        deadline = time.monotonic() + 600  # 261 s on a CI machine three times slower
        page = ""
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                with urllib.request.urlopen(f"{site.url}/accounts/login/", timeout=2) as r:
                    page = r.read().decode()
                    break
            except OSError:
                time.sleep(0.5)
        assert "Log in" in page, console.read_text()
        yield site
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _db(site, query, params=()):
    with sqlite3.connect(site.var / "trialsite.sqlite3") as db:
        return db.execute(query, params).fetchall()


def test_demo_serves_the_site_and_beat_runs(demo):
    # The worker starts after the site; on a machine busy with other tests it takes a while.
    beat, deadline = [], time.monotonic() + 180
    while time.monotonic() < deadline and not beat:
        beat = _db(demo, "select last_beat from trialsite_schedulerheartbeat")
        time.sleep(0.5)
    assert beat, "beat never ran the heartbeat task through the worker"
    out = demo.console.read_text()
    assert f"{demo.url}/" in out and "coordinator" in out
    # The worker's banner and log have a file of their own, named on the console.
    celery_log = demo.var / "celery.log"
    assert str(celery_log) in out and "celery@" in celery_log.read_text()
    assert "celery@" not in out
    # Survey links lead to the site the demo serves (--addr), not to localhost:8000.
    bodies = [b for (b,) in _db(demo, "select html_body from followup_outboxmessage")]
    assert bodies and all("localhost:8000" not in b for b in bodies)
    url = re.escape(demo.url)
    assert re.search(rf'<a href="{url}/s/[^"]+">{url}/s/', bodies[0])  # clickable, both


def test_the_demo_is_a_trial_in_full_flow(demo):
    """Baselines for everyone, realistic response, reminders before answers, paper double
    entry, the CRPE-tool, physiotherapists around the workshop, a withdrawal, a death."""
    script = "from tests.demo_checks import assert_full_flow; assert_full_flow(60); print('ok')"
    done = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", script],
        cwd=ROOT, env=demo.env, capture_output=True, text=True,
    )  # fmt: skip
    assert done.stdout.strip().endswith("ok"), done.stderr[-3000:]


def _login(browser, site, username, **context):
    page = browser.new_context(**context).new_page()
    page.goto(f"{site.url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_load_state()
    return page


def _numbers(text: str) -> list[int]:
    return [int(n) for n in re.findall(r"\d+", text)]


def _fresh_link(site) -> str:
    """A patient's link as the email carries it: the token is recomputed from the
    contact (the database holds only its hash), for a contact open today."""
    script = (
        "from django.utils import timezone;"
        "from followup.models import Contact;"
        "from followup.tokens import link_for;"
        "now = timezone.now();"
        "c = Contact.objects.filter(status='invited', participant__isnull=False,"
        " opens_at__lte=now, closes_at__gt=now).order_by('pk').first();"
        "print(link_for(c))"
    )
    out = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", script],
        cwd=ROOT,
        env={**site.env, "FOLLOWUP_BASE_URL": site.url},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return re.search(r"http\S+/s/\S+", out).group(0)


def test_a_newcomers_first_hour_finds_a_trial_in_full_flow(demo, browser, tmp_path):
    out = demo.console.read_text()
    physio = re.search(r"^\s+(\S+)\s+physiotherapist at", out, re.M).group(1)
    # The session's browser: a second sync Playwright in this thread would fail.
    wide = {"viewport": {"width": 1280, "height": 900}}

    # The coordinator: follow-up with real response rates, a CONSORT flow with numbers.
    page = _login(browser, demo, "coordinator", **wide)
    page.goto(f"{demo.url}/monitoring/trials/betterback/")
    rates = [
        row.locator("td").last.inner_text()
        for row in page.locator("#followup-table tbody tr").all()
    ]
    assert any(r.endswith("%") and int(r[:-1]) >= 50 for r in rates), rates
    consort = page.locator("#consort-table").inner_text()
    assessed, enrolled = (
        _numbers(page.locator(f"#consort-table tr:has-text('{label}') td").inner_text())[0]
        for label in ("Assessed for eligibility", "Enrolled")
    )
    assert assessed > enrolled == 61, consort  # 60 and the one no channel reaches
    page.screenshot(path=str(tmp_path / "coordinator_monitoring.png"), full_page=True)
    for code in ("safe", "selfback", "impact-lbp"):  # every seed trial has participants
        page.goto(f"{demo.url}/trials/{code}/participants/")
        assert page.locator("tbody tr").count() > 0, code

    # The physiotherapist: their own clinic's participants.
    page = _login(browser, demo, physio, **wide)
    page.goto(f"{demo.url}/trials/betterback/participants/")
    assert page.locator("tbody tr").count() > 0

    # The data manager: a participant's questionnaires, answered and scored.
    page = _login(browser, demo, "datamanager", **wide)
    page.goto(f"{demo.url}/trials/betterback/participants/")
    page.locator("tbody tr a").first.click()
    page.wait_for_load_state()
    assert "Baseline" in page.inner_text("body")

    # The statistician: an export with rows, and the analysis plan with its figures.
    page = _login(browser, demo, "statistician", **wide)
    page.goto(f"{demo.url}/analysis/betterback/")
    page.click("#export-form button[type=submit]")
    # A failed job says so at once (and why), rather than after the whole wait.
    page.wait_for_selector(
        "#downloads:not([hidden]), #status-text:has-text('Failed')", timeout=300_000
    )
    assert page.inner_text("#status-text") == "Done", page.inner_text("#status-text")
    page.goto(f"{demo.url}/analysis/betterback/")
    rows = page.locator("table").last.locator("tbody tr").first.locator("td").nth(3)
    assert int(rows.inner_text()) > 60
    page.goto(f"{demo.url}/analysis/betterback/plan/")
    page.select_option("#id_analysis", "mixed")
    page.select_option("#id_outcome", "odi")
    page.click("#plan-form button[type=submit]")
    page.wait_for_selector("#report-link", timeout=180_000)
    page.click("#report-link")
    page.wait_for_selector("h1")
    assert "intervention - control" in page.inner_text("body")
    page.goto(f"{demo.url}/analysis/betterback/plan/")
    page.select_option("#id_analysis", "cea")  # on the demo's registry import
    page.click("#plan-form button[type=submit]")
    page.wait_for_selector("#report-link", timeout=180_000)
    page.click("#report-link")
    # The report streams: h1 is parsed long before the second figure.
    expect(page.locator("figure svg")).to_have_count(2, timeout=30_000)  # plane, curve
    page.screenshot(path=str(tmp_path / "statistician_report.png"), full_page=True)

    # A patient, on a phone, opens the link from their email: the questionnaire.
    phone = browser.new_context(
        viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
    ).new_page()
    phone.goto(_fresh_link(demo))
    assert re.search(r"/s/[^/]+/\d+/$", phone.url), phone.url
    assert phone.locator("input[type=radio]").count() > 0
    phone.screenshot(path=str(tmp_path / "patient_phone.png"), full_page=True)
