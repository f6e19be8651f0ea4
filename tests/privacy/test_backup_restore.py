"""Backup and restore as the README tells an operator: ``pg_dump -Fc`` of a populated
database, ``pg_restore`` into a fresh one, and every row is there: participants, personal
details, responses, contacts, messages, SMS, audit (history) rows, and any table added
later (data management's queries) without this test changing.

PostgreSQL only (the production stack); skipped without it, a failure in CI."""

from __future__ import annotations

import os
import shutil
import subprocess
from datetime import date

import pytest
from django.db import connection

from enrolment.actions.status import record_death, withdraw_participant
from enrolment.models import Timepoint
from questionnaires.instruments import get
from questionnaires.models import Response
from questionnaires.services.saving import save_answers

from ..factories import enrol
from ..followup.conftest import clinic_of

RESTORED = "trialsite_gdpr_restore"


@pytest.fixture
def tools() -> tuple[str, str]:
    """pg_dump and pg_restore, and a PostgreSQL under test; else skip (fail in CI)."""
    problem = ""
    dump = shutil.which("pg_dump") or "/usr/bin/pg_dump"
    restore = shutil.which("pg_restore") or "/usr/bin/pg_restore"
    if connection.vendor != "postgresql":
        problem = "the tests run on SQLite (set DATABASE_URL=postgres://...)"
    elif not (os.path.exists(dump) and os.path.exists(restore)):
        problem = "pg_dump/pg_restore are not installed (apt-get install postgresql-client)"
    else:
        version = subprocess.run([dump, "--version"], capture_output=True, text=True).stdout
        client_major = int(version.split()[-2 if "(" in version.split()[-1] else -1].split(".")[0])
        server_major = connection.pg_version // 10000
        if client_major < server_major:
            problem = f"pg_dump {client_major} cannot dump a PostgreSQL {server_major} server"
    if problem and os.environ.get("CI"):
        pytest.fail(f"CI must test backup and restore on PostgreSQL: {problem}")
    if problem:
        pytest.skip(problem)
    return dump, restore


def _url(database: str) -> str:
    """A libpq URL of ``database`` on the server the tests use."""
    s = connection.settings_dict
    auth = s["USER"] + (f":{s['PASSWORD']}" if s["PASSWORD"] else "")
    return f"postgresql://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{database}"


def _tables(cursor) -> list[str]:
    cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")
    return [r[0] for r in cursor.fetchall()]


def _contents(database: str) -> dict[str, tuple[int, str]]:
    """Table -> (rows, a digest of every row's text): equal digests, equal contents."""
    import psycopg2

    with psycopg2.connect(_url(database)) as db, db.cursor() as cursor:
        result = {}
        for table in _tables(cursor):
            cursor.execute(
                f"SELECT count(*), md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) "
                f'FROM "{table}" t'
            )
            result[table] = cursor.fetchone()
        return result


def _populate(trial) -> None:
    """Participants through the real actions (schedule, SMS questions, history rows),
    a response with its audit rows, a withdrawal and a death."""
    clinic = clinic_of(trial)
    people = [
        enrol(clinic, enrolled_on=date(2022, 1, 5), preferred_language="da") for _ in range(4)
    ]
    baseline = Timepoint.objects.get(trial=trial, code="baseline")
    for p in people[:3]:
        save_answers(
            instrument=get("nrs", 1),
            timepoint=baseline,
            answers={"back": 6, "leg": 1},
            complete=True,
            mode=Response.STAFF_CLINIC,
            participant=p,
        )
    withdraw_participant(people[1], date(2022, 2, 1), "moved away")
    record_death(people[2], date(2022, 3, 1), "registry", today=date(2022, 3, 2))


@pytest.mark.django_db(transaction=True)
def test_a_dump_restored_into_a_fresh_database_has_every_row(tools, safe, tmp_path):
    import psycopg2

    dump, restore = tools
    _populate(safe)
    source = connection.settings_dict["NAME"]
    before = _contents(source)
    for table in (
        "enrolment_participant",
        "enrolment_personaldetails",
        "enrolment_historicalparticipant",
        "enrolment_historicalpersonaldetails",
        "questionnaires_response",
        "questionnaires_historicalresponse",
        "followup_contact",
        "followup_historicalcontact",
        "followup_smsprompt",
    ):
        assert before[table][0] > 0, table  # populated, so the comparison means something

    # The README's commands: a custom-format dump, restored into a new empty database.
    backup = tmp_path / "trialsite.dump"
    subprocess.run([dump, "-Fc", "--no-owner", "-f", str(backup), _url(source)], check=True)
    admin = psycopg2.connect(_url("postgres"))
    admin.autocommit = True
    try:
        with admin.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{RESTORED}" WITH (FORCE)')
            cursor.execute(f'CREATE DATABASE "{RESTORED}"')
        subprocess.run(
            [restore, "--no-owner", "--exit-on-error", "-d", _url(RESTORED), str(backup)],
            check=True,
        )
        after = _contents(RESTORED)
        assert after == before  # every table, every row, byte for byte
        with psycopg2.connect(_url(RESTORED)) as db, db.cursor() as cursor:
            # Sequences restored too: the next participant gets a new id, not a taken one.
            cursor.execute("SELECT max(id) FROM enrolment_participant")
            highest = cursor.fetchone()[0]
            cursor.execute(
                "SELECT last_value FROM pg_sequences WHERE sequencename = "
                "'enrolment_participant_id_seq'"
            )
            assert cursor.fetchone()[0] >= highest
    finally:
        with admin.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{RESTORED}" WITH (FORCE)')
        admin.close()
