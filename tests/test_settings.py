"""Production settings are secure: with DEBUG off a SECRET_KEY is required and Django's
deployment checks pass; DATABASE_URL switches the database."""

import os
import runpy
import subprocess
import sys
from pathlib import Path
from unittest import mock

import pytest
from django.core.exceptions import ImproperlyConfigured

ROOT = Path(__file__).resolve().parents[1]
_DROP = ("SECRET_KEY", "DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE")  # a test-only relaxation


def _environment(env: dict) -> dict:
    clean = {k: v for k, v in os.environ.items() if k not in _DROP}
    clean.update(env, DJANGO_SETTINGS_MODULE="trialsite.settings")
    return clean


def _run(code: str, **env) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=_environment(env), capture_output=True,
        text=True,
    )


def _settings(**env) -> dict:
    """The settings module run as Django's start imports it, in the environment ``env``:
    a process costs a second, this a few milliseconds (the settings read nothing else)."""
    with mock.patch.dict(os.environ, _environment(env), clear=True):
        return runpy.run_path(str(ROOT / "trialsite" / "settings.py"))


def test_debug_off_without_secret_key_refuses_to_start():
    result = _run("import django; django.setup()", DEBUG="0")
    assert result.returncode != 0
    assert "SECRET_KEY is required" in result.stderr
    with pytest.raises(ImproperlyConfigured, match="SECRET_KEY is required"):
        _settings(DEBUG="0")  # the module itself refuses, so _settings can be trusted


def test_debug_off_passes_the_deployment_checks(tmp_path):
    key_file = tmp_path / "secret"
    key_file.write_text("x" * 60 + "a-long-random-production-secret-key")
    result = _run(
        "import django, sys; django.setup();"
        "from django.core.management import call_command;"
        "call_command('check', '--deploy', '--fail-level', 'WARNING')",
        DEBUG="0",
        SECRET_KEY_FILE=str(key_file),
        ALLOWED_HOSTS="trial.example.org",
        VAR_DIR=str(tmp_path),
    )
    assert result.returncode == 0, result.stderr


def test_database_url_selects_postgresql():
    databases = _settings(DATABASE_URL="postgres://postgres@127.0.0.1:5432/x")["DATABASES"]
    assert databases["default"]["ENGINE"] == "django.db.backends.postgresql"


def test_postgresql_connections_persist_and_are_checked_sqlite_ones_do_not():
    """A connection per request cost the survey pages most of their throughput."""

    def show(**env):
        d = _settings(**env)["DATABASES"]["default"]
        return d.get("CONN_MAX_AGE", 0), d.get("CONN_HEALTH_CHECKS", False)  # Django's defaults

    url = "postgres://postgres@127.0.0.1:5432/x"
    assert show(DATABASE_URL=url) == (60, True)
    assert show(DATABASE_URL=url, CONN_MAX_AGE="5") == (5, True)
    # The embedded default (CI sets DATABASE_URL to PostgreSQL: name SQLite explicitly).
    sqlite = f"sqlite:///{ROOT / 'var' / 'unused.sqlite3'}"
    assert show(DATABASE_URL=sqlite) == (0, False)


def test_postgresql_jit_is_off_unless_asked_for():
    """JIT compiling the dashboard's aggregates took longer than running them."""

    def show(**env):
        return _settings(**env)["DATABASES"]["default"].get("OPTIONS", {}).get("options", "-")

    url = "postgres://postgres@127.0.0.1:5432/x"
    assert show(DATABASE_URL=url) == "-c jit=off"
    assert show(DATABASE_URL=url, DATABASE_JIT="1") == "-"


def test_the_web_process_warm_up_loads_what_it_names(caplog):
    """A renamed template or instrument would make the warm-up log and do nothing."""
    import logging

    from trialsite.warmup import warm_up

    with caplog.at_level(logging.ERROR, logger="trialsite.warmup"):
        warm_up()
    assert not caplog.records


def test_production_settings_keep_staff_accounts_safe(tmp_path):
    """With DEBUG off (as with it on): lockout on, idle sessions end, second factor asked
    before any view, scripts only from the site's own files."""
    key_file = tmp_path / "secret"
    key_file.write_text("x" * 60 + "a-long-random-production-secret-key")
    s = _settings(DEBUG="0", SECRET_KEY_FILE=str(key_file), VAR_DIR=str(tmp_path))
    assert s["AXES_FAILURE_LIMIT"] == 10
    assert s["AXES_LOCKOUT_PARAMETERS"] == ["username", "ip_address"]
    assert s["AUTHENTICATION_BACKENDS"][0].startswith("axes.")
    assert s["MIDDLEWARE"][-1] == "axes.middleware.AxesMiddleware"
    assert "accounts.middleware.TwoFactorMiddleware" in s["MIDDLEWARE"]
    assert s["SESSION_COOKIE_AGE"] == 1800 and s["SESSION_EXPIRE_AT_BROWSER_CLOSE"]
    assert s["SESSION_SAVE_EVERY_REQUEST"] and s["SESSION_COOKIE_SECURE"]
    assert s["CONTENT_SECURITY_POLICY"]["DIRECTIVES"]["script-src"] == ["'self'"]
    assert len(s["AUTH_PASSWORD_VALIDATORS"]) >= 3


def test_the_warm_up_imports_the_views_before_the_first_request():
    # Importing the URLconf (every view and the statistics libraries behind the analysis
    # pages) took 1.7 s of the monitoring dashboard's 2.0 s first load (issue 15).
    result = _run(
        "import sys, django; django.setup();"
        "from trialsite.warmup import warm_up; warm_up();"
        "print('analysis.views_monitoring' in sys.modules, 'analysis.views' in sys.modules)"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "True"]


def test_tests_hash_passwords_fast_in_a_form_the_real_settings_verify():
    """Staff fixtures cost 0.5 s each with the real hasher (tests/hashers.py); a password
    written by a test must still log in to a server started with the real settings."""
    from django.contrib.auth.hashers import PBKDF2PasswordHasher, make_password

    encoded = make_password("correct horse battery staple")
    assert encoded.startswith("pbkdf2_sha256$1$")
    assert PBKDF2PasswordHasher().verify("correct horse battery staple", encoded)
    assert PBKDF2PasswordHasher().must_update(encoded)  # re-hashed at the real cost then
