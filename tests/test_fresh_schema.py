"""A new embedded database built from the models (trialsite.fresh_schema, what the Quick
start's first ``manage.py demo`` does) is the database ``migrate`` builds: the same
tables with the same column definitions and constraints, the same indexes, every
migration recorded as applied, so that later migrations apply to it as to any other."""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

from django.conf import settings

from tests import schema_snapshot

BUILD = "from django.db import connection; from trialsite import fresh_schema; " \
        "print(fresh_schema.create(connection))"


def _django(database: Path, code: str) -> str:
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{database}", "LOG_LEVEL": "WARNING"}
    env.pop("CELERY_BROKER_URL", None)
    run = subprocess.run(
        [sys.executable, "manage.py", "shell", "--no-imports", "-c", code],
        cwd=settings.BASE_DIR, env=env, capture_output=True, text=True, timeout=300,
    )
    assert run.returncode == 0, run.stderr
    return run.stdout


def _migrated(tmp_path: Path) -> Path:
    """The migrated SQLite database the tests keep (migrated here where none is kept)."""
    snapshot = schema_snapshot.sqlite_snapshot()
    if not snapshot.exists():
        database = tmp_path / "migrated.sqlite3"
        _django(database, "from django.core.management import call_command; "
                          "call_command('migrate', verbosity=0)")
        with sqlite3.connect(database) as db:
            schema_snapshot.keep_sqlite(db)
    return snapshot


def _definitions(sql: str) -> set[str]:
    """A CREATE TABLE's column and constraint definitions, whatever their order (a
    migration adds a column at the end; the model lists it where it is declared)."""
    body = sql[sql.index("(") + 1 : sql.rindex(")")]
    parts, depth, start = [], 0, 0
    for i, char in enumerate(body):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == "," and depth == 0:
            parts.append(body[start:i])
            start = i + 1
    parts.append(body[start:])
    return {re.sub(r"\s+", " ", p).strip() for p in parts}


def _schema(path: Path) -> dict:
    with sqlite3.connect(path) as db:
        rows = db.execute("SELECT type, name, tbl_name, sql FROM sqlite_master"
                          " WHERE name NOT LIKE 'sqlite_%'").fetchall()
        applied = set(db.execute("SELECT app, name FROM django_migrations").fetchall())
    tables = {name: _definitions(sql) for kind, name, _t, sql in rows if kind == "table"}
    indexes = {name: re.sub(r"\s+", " ", sql) for kind, name, _t, sql in rows
               if kind == "index" and sql}
    return {"tables": tables, "indexes": indexes, "applied": applied}


def test_the_fresh_embedded_database_is_the_migrated_one(tmp_path):
    migrated = _schema(_migrated(tmp_path))
    fresh_file = tmp_path / "fresh.sqlite3"
    assert _django(fresh_file, BUILD).strip() == "True"
    fresh = _schema(fresh_file)
    assert fresh["tables"].keys() == migrated["tables"].keys()
    for table, definitions in migrated["tables"].items():
        assert fresh["tables"][table] == definitions, table
    assert fresh["indexes"] == migrated["indexes"]
    assert fresh["applied"] == migrated["applied"]
    # Nothing left for migrate, and a second start builds nothing.
    assert "[X]" in _django(fresh_file, "from django.core.management import call_command; "
                                        "call_command('showmigrations', 'enrolment')")
    assert _django(fresh_file, BUILD).strip() == "False"
