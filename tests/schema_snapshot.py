"""The migrated test database, built once per set of migrations and copied after.

Migrating an empty database from the first migration costs 14 s of CPU on a 2-core
machine, paid by every test process (each pytest-xdist worker, every single-file run)
and every end-to-end installation (tests/e2e/stack.py: 15-20 s each).
The schema only changes when a migration does, so the first run keeps a copy keyed by
the migration files and every later run copies it in: an SQLite file restored into the
in-memory test database with SQLite's backup API, or a PostgreSQL template database.
Django's own ``create_test_db`` still runs; only its ``migrate`` call is replaced.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import sqlite3
import tempfile
from pathlib import Path

import django
from django.apps import apps
from django.core import management
from django.db import DatabaseError

CACHE_DIR = Path(tempfile.gettempdir()) / "trialsite-test-schema"


def migrations_key() -> str:
    """Changes whenever any installed app's migrations or Django's version change."""
    digest = hashlib.sha256(django.__version__.encode())
    for config in sorted(apps.get_app_configs(), key=lambda c: c.label):
        folder = Path(config.path) / "migrations"
        for path in sorted(folder.glob("*.py")):
            digest.update(f"{config.label}/{path.name}".encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def sqlite_snapshot() -> Path:
    """Where the migrated SQLite database of these migrations is kept (it may not be yet)."""
    return CACHE_DIR / f"{migrations_key()}.sqlite3"


def postgresql_template() -> str:
    """The name of the migrated PostgreSQL template database (it may not exist yet)."""
    return f"trialsite_schema_{migrations_key()}"


def keep_sqlite(source: sqlite3.Connection) -> None:
    """Keep a copy of the just-migrated database ``source`` as the snapshot."""
    snapshot = sqlite_snapshot()
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    partial = snapshot.with_suffix(f".{os.getpid()}.part")
    target = sqlite3.connect(partial)
    try:
        source.backup(target)
    finally:
        target.close()
    os.replace(partial, snapshot)  # another process may have written it too: same bytes


def restore_sqlite(target: sqlite3.Connection) -> bool:
    """Copy the snapshot into ``target``; False where none is kept yet."""
    snapshot = sqlite_snapshot()
    if not snapshot.exists():
        return False
    source = sqlite3.connect(snapshot)
    try:
        source.backup(target)
    finally:
        source.close()
    return True


def _sqlite_migrate(connection, migrate):
    connection.ensure_connection()
    if restore_sqlite(connection.connection):
        return
    migrate()
    keep_sqlite(connection.connection)


def _postgresql_migrate(connection, migrate):
    template = postgresql_template()
    name = connection.settings_dict["NAME"]
    quote = connection.ops.quote_name
    with connection.creation._nodb_cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [template])
        exists = cursor.fetchone() is not None
    if exists:
        connection.close()
        with connection.creation._nodb_cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS {quote(name)}")
            cursor.execute(f"CREATE DATABASE {quote(name)} TEMPLATE {quote(template)}")
        return
    migrate()
    connection.close()
    with connection.creation._nodb_cursor() as cursor:
        # Two workers may race to keep the copy (a duplicate name, or a template in use):
        # the loser's copy is simply not needed.
        with contextlib.suppress(DatabaseError):
            cursor.execute(f"CREATE DATABASE {quote(template)} TEMPLATE {quote(name)}")
        cursor.execute(
            "SELECT datname FROM pg_database WHERE datname LIKE 'trialsite\\_schema\\_%%'"
            " AND datname <> %s",
            [template],
        )
        for (stale,) in cursor.fetchall():
            with contextlib.suppress(DatabaseError):  # in use by another run: next time
                cursor.execute(f"DROP DATABASE IF EXISTS {quote(stale)}")


@contextlib.contextmanager
def reused():
    """Within it, the test database's ``migrate`` copies the kept schema when there is
    one. Set ``TRIALSITE_TEST_SCHEMA=migrate`` to migrate from scratch (tests of the
    migrations themselves)."""
    if os.environ.get("TRIALSITE_TEST_SCHEMA") == "migrate":
        yield
        return
    real = management.call_command

    def call_command(name, *args, **options):
        # Only create_test_db's call: migrate everything with run_syncdb, no prompt.
        if name != "migrate" or args or not options.get("run_syncdb"):
            return real(name, *args, **options)
        from django.db import connections

        connection = connections[options.get("database", "default")]

        def migrate():
            real(name, **options)

        if connection.vendor == "sqlite" and connection.creation.is_in_memory_db(
            connection.settings_dict["NAME"]
        ):
            return _sqlite_migrate(connection, migrate)
        if connection.vendor == "postgresql":
            return _postgresql_migrate(connection, migrate)
        return migrate()

    management.call_command = call_command
    try:
        yield
    finally:
        management.call_command = real
