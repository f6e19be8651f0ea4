"""An installation of the site run as production runs it, for the end-to-end tests: its
own database (a SQLite file in a temporary VAR_DIR, or a PostgreSQL database of its
own with a Redis database number of its own), set up by Django processes, and the
processes themselves (gunicorn, a Celery worker and beat) started in process groups
so that stopping one stops its children too.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

import pytest

from .. import schema_snapshot

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, timeout: float, what: str, interval: float = 0.1, logs=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    detail = f"\n--- logs ---\n{logs()}" if logs else ""
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}{detail}")


# Migrated once per set of migrations, then copied (tests/schema_snapshot.py): migrating
# from the first migration costs each installation 15-20 s.
MIGRATE = """
from django.core.management import call_command
call_command("migrate", verbosity=0)
print(json.dumps("migrated"))
"""

DJANGO_SCRIPT = """
import json, sys
import django
django.setup()
ARGS = json.load(sys.stdin)
"""


@dataclass
class Installation:
    name: str
    var_dir: Path
    env: dict
    database: str  # a SQLite path or a PostgreSQL URL
    redis_url: str = ""
    processes: list = field(default_factory=list)
    script_timeout = 120  # seconds for one Django script (set-up: migrate, load protocols)

    # The database, read and written directly: what the processes see.
    def sql(self, query: str, params: tuple = ()) -> list[tuple]:
        if self.database.startswith("postgres"):
            import psycopg2

            with psycopg2.connect(self.database) as db, db.cursor() as cursor:
                cursor.execute(query, params)
                return cursor.fetchall() if cursor.description else []
        with sqlite3.connect(self.database, timeout=20) as db:
            return db.execute(query.replace("%s", "?"), params).fetchall()

    def django(self, script: str, args=None, **env) -> object:
        """Run ``script`` in a Django process of this installation; its last line of
        output is JSON."""
        done = subprocess.run(
            [sys.executable, "-c", DJANGO_SCRIPT + script],
            input=json.dumps(args or {}),
            cwd=ROOT,
            env={**self.env, **env},
            capture_output=True,
            text=True,
            timeout=self.script_timeout,
        )
        assert done.returncode == 0, done.stderr[-3000:]
        return json.loads(done.stdout.strip().splitlines()[-1])

    def start(self, name: str, args: list[str], **env) -> subprocess.Popen:
        log = open(self.var_dir / f"{name}.log", "a")  # noqa: SIM115 - closed with the process
        proc = subprocess.Popen(
            [sys.executable, "-m", *args],
            cwd=ROOT,
            env={**self.env, **{k: str(v) for k, v in env.items()}},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: killed whole, children too
        )
        proc.log = log
        proc.name = name
        self.processes.append(proc)
        return proc

    def start_worker(self, beat: bool = True, **env) -> list[subprocess.Popen]:
        """The worker and beat as the installation runs them: one process with ``-B``
        and the solo pool on SQLite (as ``manage.py demo``), a worker with two pool
        processes and a separate beat on PostgreSQL + Redis (as docker-compose)."""
        common = ["celery", "-A", "trialsite"]
        quiet = ["--without-gossip", "--without-mingle", "--loglevel=INFO"]
        schedule = str(self.var_dir / "beat-schedule")
        if self.redis_url:
            worker = [self.start("worker", [*common, "worker", "--concurrency=2", *quiet], **env)]
            if not beat:
                return worker
            return [*worker, self.start("beat", [*common, "beat", "--schedule", schedule], **env)]
        return [
            self.start(
                "worker",
                [*common, "worker", "-B", "--pool=solo", "--schedule", schedule, *quiet],
                **env,
            )
        ]

    def log(self, name: str) -> str:
        path = self.var_dir / f"{name}.log"
        return path.read_text() if path.exists() else ""

    def logs(self) -> str:
        names = dict.fromkeys(p.name for p in self.processes)
        return "\n".join(f"[{name}] " + self.log(name)[-4000:] for name in names)

    def stop(self, procs, sig=signal.SIGTERM) -> None:
        for proc in procs:
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, sig)
                except ProcessLookupError:
                    pass
        for proc in procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
            proc.log.close()

    def stop_all(self) -> None:
        self.stop([p for p in self.processes if p.poll() is None])
        for p in self.processes:
            if not p.log.closed:
                p.log.close()


def base_env(var_dir: Path, **settings) -> dict:
    """This process's environment without any installation's settings, pointed at
    ``var_dir``, with ``settings`` on top."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(
            ("DATABASE_URL", "CELERY_", "FOLLOWUP_", "EMAIL_", "SMS_", "TWILIO_", "VAR_DIR")
        )
    }
    env.update(
        DJANGO_SETTINGS_MODULE="trialsite.settings",
        VAR_DIR=str(var_dir),
        HEARTBEAT_SECONDS="3600",
        LOG_LEVEL="WARNING",
        PYTHONUNBUFFERED="1",
    )
    env.update({k: str(v) for k, v in settings.items()})
    return env


@contextmanager
def embedded_installation(
    var_dir: Path, setup: str, settings: dict, kind: type[Installation] = Installation
) -> Iterator[Installation]:
    """SQLite and the filesystem broker under ``var_dir``, set up by the script ``setup``."""
    site = kind(
        "embedded", var_dir, base_env(var_dir, **settings), str(var_dir / "trialsite.sqlite3")
    )
    try:
        with contextlib.closing(sqlite3.connect(site.database)) as db:
            if not schema_snapshot.restore_sqlite(db):
                site.django(MIGRATE)
                schema_snapshot.keep_sqlite(db)
        site.django(setup)
        yield site
    finally:
        site.stop_all()


def require_postgres_and_redis(redis_db: int, what: str) -> tuple[str, str]:
    """CI runs on PostgreSQL and Redis: there a missing one fails; elsewhere it skips.
    Returns the database URL and the broker URL on database ``redis_db``."""
    database = os.environ.get("DATABASE_URL", "")
    broker = os.environ.get("CELERY_BROKER_URL", "")
    problem = ""
    if not database.startswith(("postgres://", "postgresql://")):
        problem = "DATABASE_URL is not PostgreSQL"
    else:
        import redis

        parsed = urlparse(broker if broker.startswith("redis://") else "redis://127.0.0.1:6379")
        broker = f"redis://{parsed.netloc}/{redis_db}"
        try:
            redis.Redis.from_url(broker, socket_connect_timeout=3).ping()
        except redis.exceptions.ConnectionError as exc:
            problem = f"Redis is unreachable: {exc}"
    if problem and os.environ.get("CI"):
        pytest.fail(f"CI must run {what} on PostgreSQL + Redis: {problem}")
    if problem:
        pytest.skip(f"{problem} (set DATABASE_URL=postgres://... CELERY_BROKER_URL=redis://...)")
    return database, broker


@contextmanager
def postgres_redis_installation(
    var_dir: Path,
    setup: str,
    settings: dict,
    *,
    database_name: str,
    redis_db: int,
    what: str,
    kind: type[Installation] = Installation,
) -> Iterator[Installation]:
    """A PostgreSQL database ``database_name`` and Redis database ``redis_db`` of their
    own (other tests and installations on the same servers are left alone), created
    empty and dropped and flushed after."""
    import psycopg2
    import redis

    database, broker = require_postgres_and_redis(redis_db, what)
    url = urlparse(database)._replace(path=f"/{database_name}").geturl()
    admin = psycopg2.connect(urlparse(database)._replace(path="/postgres").geturl())
    admin.autocommit = True
    template = schema_snapshot.postgresql_template()
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{database_name}" WITH (FORCE)')
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [template])
        kept = cursor.fetchone() is not None
        copy = f' TEMPLATE "{template}"' if kept else ""
        cursor.execute(f'CREATE DATABASE "{database_name}"{copy}')
    store = redis.Redis.from_url(broker)
    store.flushdb()
    env = {**base_env(var_dir, **settings), "DATABASE_URL": url, "CELERY_BROKER_URL": broker}
    site = kind("postgres_redis", var_dir, env, url, redis_url=broker)
    try:
        if not kept:
            site.django(MIGRATE)
            with admin.cursor() as cursor, contextlib.suppress(psycopg2.Error):
                # Another process may be keeping it at the same time: theirs will do.
                cursor.execute(f'CREATE DATABASE "{template}" TEMPLATE "{database_name}"')
        site.django(setup)
        yield site
    finally:
        site.stop_all()
        store.flushdb()
        with admin.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{database_name}" WITH (FORCE)')
        admin.close()


def start_site(site: Installation, port: int, **env) -> None:
    site.start("web", ["gunicorn", "trialsite.wsgi", "-b", f"127.0.0.1:{port}", "-w", "2"], **env)

    def up():
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/accounts/login/", timeout=2):
                return True
        except OSError:
            return False

    wait_for(up, 60, "the site to serve", interval=0.3, logs=site.logs)


def installation_fixtures(
    setup: str,
    settings: dict,
    *,
    kind: type[Installation],
    database_name: str,
    redis_db: int,
    what: str,
):
    """A test module's fixtures: ``embedded`` and ``postgres_redis`` (each installation
    set up once per module) and ``site``, which runs a test on each of them. Use as
    ``embedded, postgres_redis, site = installation_fixtures(...)``."""

    @pytest.fixture(scope="module")
    def embedded(tmp_path_factory):
        var_dir = tmp_path_factory.mktemp("embedded")
        with embedded_installation(var_dir, setup, settings, kind=kind) as installation:
            yield installation

    @pytest.fixture(scope="module")
    def postgres_redis(tmp_path_factory):
        with postgres_redis_installation(
            tmp_path_factory.mktemp("postgres"),
            setup,
            settings,
            database_name=database_name,
            redis_db=redis_db,
            what=what,
            kind=kind,
        ) as installation:
            yield installation

    @pytest.fixture(params=["embedded", "postgres_redis"])
    def site(request):
        installation = request.getfixturevalue(request.param)
        yield installation
        installation.stop_all()

    return embedded, postgres_redis, site
