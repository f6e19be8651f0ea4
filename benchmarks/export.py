"""Benchmark of the streamed export against PostgreSQL's own COPY of the same rows.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/edc_bench \\
        .venv/bin/python benchmarks/export.py --participants 50000

Seeds the database named by DATABASE_URL (created if missing; its BetterBack trial is
replaced) with N participants, each with every patient questionnaire of the protocol
answered (bulk-inserted), then in a fresh process (so that peak memory is the export's
own) writes each export of :data:`CASES`, and times a ``COPY (SELECT ...) TO STDOUT`` of
the same rows and columns (:func:`same_shape_sql`: values as stored, no formatting) just
before it. The tables are analysed after seeding, as autovacuum would. Prints seconds,
peak memory (VmHWM of the export process) and the ratio export / COPY with its goal.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/edc_bench"


def setup_django():
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "trialsite.settings")
    import django

    django.setup()


def ensure_database(url: str) -> None:
    from urllib.parse import urlparse

    import psycopg2

    parts = urlparse(url)
    name = parts.path.lstrip("/")
    conn = psycopg2.connect(host=parts.hostname, port=parts.port or 5432,
                            user=parts.username or "postgres", password=parts.password,
                            dbname="postgres")
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if cur.fetchone() is None:
            cur.execute(f'CREATE DATABASE "{name}"')
    conn.close()


def seed(n: int) -> None:
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    from enrolment.models import Clinic, Participant, PersonalDetails, Timepoint, Trial
    from enrolment.protocol.writing import load_protocol
    from questionnaires.instruments import get
    from questionnaires.models import Response
    from tests.analysis.exportdata import answers_for

    if Trial.objects.filter(code="betterback").exists():
        with connection.cursor() as cur:  # a clean trial: drop the previous run's rows fast
            cur.execute("TRUNCATE analysis_exportlog, analysis_exportjob, analysis_registryrecord,"
                        " analysis_registryimport, analysis_analysisrun, analysis_blindingcode,"
                        " questionnaires_response, questionnaires_historicalresponse,"
                        " enrolment_personaldetails, enrolment_historicalpersonaldetails,"
                        " enrolment_consent, enrolment_historicalconsent,"
                        " enrolment_screeningrecord, enrolment_historicalscreeningrecord,"
                        " enrolment_randomisationslot, enrolment_participant,"
                        " enrolment_historicalparticipant CASCADE")
    trial, _ = load_protocol(ROOT / "protocols" / "betterback.toml")
    clinics = list(Clinic.objects.filter(cluster__trial=trial))
    tps = list(trial.timepoints.filter(respondent=Timepoint.PATIENT))
    rng = random.Random(1)
    # answers are drawn once per instrument and reused: the benchmark measures I/O
    pool = {code: [answers_for(code, rng) for _ in range(50)]
            for tp in tps for code in tp.instruments}
    scored = {code: [(a, get(code).score(a, **({"value_set": "SE"} if "value_set" in
                                                 get(code).options else {})))
                     for a in answers] for code, answers in pool.items()}
    batch = 2000
    for start in range(0, n, batch):
        people = []
        for i in range(start, min(n, start + batch)):
            clinic = clinics[i % len(clinics)]
            people.append(Participant(
                trial=trial, study_id=f"BB-{i:07d}", clinic=clinic, sequence=i + 1,
                enrolled_on=date(2017, 5, 2) + timedelta(days=i % 200),
                condition="control" if i % 2 else "intervention",
            ))
        Participant.objects.bulk_create(people)
        PersonalDetails.objects.bulk_create([
            PersonalDetails(participant=p, full_name=f"Bench {p.study_id}",
                            date_of_birth=date(1970, 1, 1) + timedelta(days=p.sequence % 9000),
                            preferred_language="sv")
            for p in people
        ])
        responses = []
        for p in people:
            for tp in tps:
                when = datetime.combine(p.enrolled_on, datetime.min.time(), UTC) + timedelta(
                    days=30 * tp.offset + 1)
                for code in tp.instruments:
                    answers, scores = rng.choice(scored[code])
                    responses.append(Response(
                        participant=p, timepoint=tp, instrument=code, version=1,
                        answers=answers, scores=scores, mode=Response.PATIENT_ONLINE,
                        started_at=when, completed_at=when))
        Response.objects.bulk_create(responses, batch_size=5000)
        print(f"  seeded {min(n, start + batch)} participants", flush=True)


def peak_rss_mb() -> float:
    """This process's peak resident memory. VmHWM, not ru_maxrss: Linux carries
    ru_maxrss over from the parent (the seeding process) across fork and exec."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def analyse() -> None:
    """Planner statistics, as autovacuum gathers them on a database in use: freshly
    bulk-loaded tables have none, and the plan then assumes one participant."""
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("ANALYZE")


def measure_export(shape: str, level: str, fmt: str, out: Path) -> None:
    """Runs in its own process: prints seconds, rows and peak RSS as one line."""
    setup_django()
    from analysis import exports
    from enrolment.models import Trial

    trial = Trial.objects.get(code="betterback")
    before = peak_rss_mb()
    start = time.perf_counter()
    log = exports.write_export(trial, out, fmt, shape, level, user_label="benchmark")
    seconds = time.perf_counter() - start
    print(f"RESULT {seconds:.3f} {log.rows} {peak_rss_mb():.1f} {before:.1f}")


# --- the same rows and columns by a plain COPY -------------------------------------------


def _people_sql(trial) -> str:
    """The participant columns as stored (no formatting), and the joins they need."""
    from analysis.exports.columns import baseline_risk

    return (
        "p.study_id, k.allocation_order, c.code, p.condition, p.enrolled_on,"
        " p.crossover_washout, rk.risk, p.status, p.withdrawn_on, p.died_on,"
        " date_part('year', age(p.enrolled_on, d.date_of_birth)), pv.number",
        " FROM enrolment_participant p JOIN enrolment_clinic c ON c.id = p.clinic_id"
        " JOIN enrolment_cluster k ON k.id = c.cluster_id"
        " LEFT JOIN enrolment_personaldetails d ON d.participant_id = p.id"
        " LEFT JOIN enrolment_protocolversion pv ON pv.id = p.protocol_version_id"
        f" LEFT JOIN LATERAL ({baseline_risk(trial)[2]}) rk ON true",
    )


def same_shape_sql(trial, shape: str, level: str) -> str:
    """A hand-written SELECT of the export's rows and columns: values as stored (``->>``),
    the long rows joined to the list of variables, the wide ones pivoted with one
    ``FILTER`` aggregate a column over the participant's responses; the same order."""
    from analysis.exports.columns import participant_timepoints, weekly_timepoints
    from analysis.exports.stream import long_columns, wide_columns

    src = "scores" if level == "score" else "answers"
    cols, joins = _people_sql(trial)
    tps = participant_timepoints(trial)
    ids = ", ".join(str(t.id) for t in tps)
    tz = trial.time_zone
    days = f"((r.completed_at AT TIME ZONE '{tz}')::date - p.enrolled_on)"
    where = f"r.entry = 0 AND r.completed_at IS NOT NULL AND r.timepoint_id IN ({ids})"
    if shape == "long":
        _p, _c, variables = long_columns(trial, level, False)
        values = ", ".join(f"('{code}', '{v.name}', '{v.name[len(code) + 1:]}', "
                           f"{str(v.type == 'numeric').lower()}, {n})"
                           for code, vs in variables.items() for n, v in enumerate(vs))
        return (
            f"SELECT {cols}, t.code, {days}, r.week, r.mode, r.instrument, r.version, v.name,"
            f" CASE WHEN v.numeric THEN r.{src} ->> v.key END,"
            f" CASE WHEN NOT v.numeric THEN r.{src} ->> v.key END, r.missing ->> v.key"
            f"{joins} JOIN questionnaires_response r ON r.participant_id = p.id AND {where}"
            " JOIN enrolment_timepoint t ON t.id = r.timepoint_id"
            f" JOIN (VALUES {values}) v(instrument, name, key, numeric, n)"
            f" ON v.instrument = r.instrument WHERE p.trial_id = {trial.pk}"
            " ORDER BY p.id, r.timepoint_id, r.instrument, r.week, r.id, v.n"
        )
    _p, _c, layout = wide_columns(trial, level, False)
    weekly = weekly_timepoints(trial)
    aggs = []
    pos = 0
    for t in tps:
        if t.id not in weekly:
            aggs += [f"min({days}) FILTER (WHERE r.timepoint_id = {t.id})",
                     f"min(r.mode) FILTER (WHERE r.timepoint_id = {t.id})"]
        while pos < len(layout) and layout[pos][0] == t.id:
            _tp, code, week, var = layout[pos]
            key = var.name[len(code) + 1:]
            at = (f"r.timepoint_id = {t.id} AND r.instrument = '{code}' AND r.week "
                  + ("IS NULL" if week is None else f"= {week}"))
            aggs += [f"max(r.{src} ->> '{key}') FILTER (WHERE {at})",
                     f"max(r.missing ->> '{key}') FILTER (WHERE {at})"]
            pos += 1
    # per participant (a GROUP BY over the whole trial spills and grows faster than the rows)
    return (
        f"SELECT {cols}, a.*{joins} LEFT JOIN LATERAL (SELECT {', '.join(aggs)}"
        f" FROM questionnaires_response r WHERE r.participant_id = p.id AND {where}) a ON true"
        f" WHERE p.trial_id = {trial.pk} ORDER BY p.id"
    )


def copy_seconds(shape: str, level: str, out: Path) -> tuple[float, int, int]:
    """Seconds, rows and columns of ``COPY (same_shape_sql) TO STDOUT`` into a file."""
    from django.db import connection

    from enrolment.models import Trial

    trial = Trial.objects.get(code="betterback")
    sql = f"COPY ({same_shape_sql(trial, shape, level)}) TO STDOUT WITH CSV HEADER"
    start = time.perf_counter()
    with open(out, "w", encoding="utf-8") as fh, connection.cursor() as cur:
        cur.cursor.copy_expert(sql, fh)
    seconds = time.perf_counter() - start
    with open(out, encoding="utf-8") as fh:
        columns = len(fh.readline().split(","))
        rows = sum(1 for _ in fh)
    return seconds, rows, columns


def table_copy_seconds(csv_file: Path, out: Path) -> float:
    """The floor: seconds of ``COPY <table> TO STDOUT`` of a table holding the exported
    file's rows and columns (all text), loaded from the file."""
    from django.db import connection

    with open(csv_file, encoding="utf-8") as fh:
        columns = len(fh.readline().split(","))
    with connection.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS export_floor")
        cur.execute("CREATE UNLOGGED TABLE export_floor ("
                    + ", ".join(f"c{i} text" for i in range(columns)) + ")")
        with open(csv_file, encoding="utf-8") as fh:
            cur.cursor.copy_expert("COPY export_floor FROM STDIN WITH CSV HEADER", fh)
        cur.execute("ANALYZE export_floor")
        start = time.perf_counter()
        with open(out, "w", encoding="utf-8") as fh:
            cur.cursor.copy_expert("COPY export_floor TO STDOUT WITH CSV HEADER", fh)
        seconds = time.perf_counter() - start
        cur.execute("DROP TABLE export_floor")
    return seconds


def response_copy_seconds(out: Path) -> tuple[float, int]:
    """The reference of issue 19: a ``COPY`` of the exported response rows as stored."""
    from django.db import connection

    from enrolment.models import Trial

    trial = Trial.objects.get(code="betterback")
    sql = (
        "COPY (SELECT p.study_id, r.timepoint_id, r.instrument, r.version, r.answers, r.scores,"
        " r.mode, r.completed_at FROM questionnaires_response r"
        " JOIN enrolment_participant p ON p.id = r.participant_id"
        f" WHERE p.trial_id = {int(trial.pk)} AND r.entry = 0 AND r.completed_at IS NOT NULL"
        " ORDER BY r.participant_id, r.timepoint_id, r.instrument) TO STDOUT WITH CSV HEADER"
    )
    start = time.perf_counter()
    with open(out, "w", encoding="utf-8") as fh, connection.cursor() as cur:
        cur.cursor.copy_expert(sql, fh)
    seconds = time.perf_counter() - start
    with open(out, encoding="utf-8") as fh:
        rows = sum(1 for _ in fh) - 1
    return seconds, rows


CASES = [  # (shape, level, format, goal as a multiple of the same-shape COPY)
    ("long", "score", "csv", 1.5),
    ("long", "item", "csv", 1.5),
    ("wide", "score", "csv", 1.5),
    ("wide", "item", "csv", 1.5),
    ("long", "score", "parquet", 3),
    ("wide", "item", "parquet", 3),
    ("long", "score", "sav", 3),
    ("long", "score", "dta", 3),
    ("wide", "item", "sav", 3),
    ("wide", "item", "dta", 3),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--participants", type=int, default=50000)
    parser.add_argument("--no-seed", action="store_true", help="reuse the seeded database")
    parser.add_argument("--only", help="shape/level/format[,...] of the cases to run")
    parser.add_argument("--phase", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    os.environ.setdefault("DATABASE_URL", DEFAULT_DB)
    if not os.environ["DATABASE_URL"].startswith("postgres"):
        sys.exit("DATABASE_URL must name a PostgreSQL database")
    if args.phase:
        shape, level, fmt = args.phase.split("/")
        measure_export(shape, level, fmt, Path(args.out))
        return
    ensure_database(os.environ["DATABASE_URL"])
    setup_django()
    if not args.no_seed:
        start = time.perf_counter()
        print(f"seeding {args.participants} participants ...", flush=True)
        seed(args.participants)
        analyse()
        print(f"seeded and analysed in {time.perf_counter() - start:.1f} s", flush=True)
    cases = [c for c in CASES if not args.only or "/".join(c[:3]) in args.only.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        response_s, response_rows = response_copy_seconds(Path(tmp) / "responses.csv")
        print(f"COPY of the response rows (answers and scores as stored): {response_rows} rows"
              f" in {response_s:.2f} s", flush=True)
        for shape, level, fmt, goal in cases:
            copy_s, copy_rows, copy_cols = copy_seconds(shape, level, Path(tmp) / "copy.csv")
            out = Path(tmp) / f"{shape}_{level}.{fmt}"
            proc = subprocess.run(
                [sys.executable, __file__, "--phase", f"{shape}/{level}/{fmt}", "--out",
                 str(out)],
                capture_output=True, text=True, env=os.environ.copy(), check=False,
            )
            if proc.returncode:
                sys.exit(f"{shape}/{level}/{fmt} failed:\n{proc.stderr[-3000:]}")
            line = next(x for x in proc.stdout.splitlines() if x.startswith("RESULT"))
            seconds, rows, peak, before = line.split()[1:]
            ratio = float(seconds) / copy_s
            floor = ""
            if fmt == "csv":
                table_s = table_copy_seconds(out, Path(tmp) / "floor.csv")
                floor = (f"; COPY of a table of the file's rows {table_s:.2f} s "
                         f"({float(seconds) / table_s:.2f} x)")
            print(
                f"{shape}/{level} {fmt}: {rows} rows in {float(seconds):.2f} s, "
                f"{out.stat().st_size / 1e6:.1f} MB, peak RSS {peak} MB (before {before} MB);"
                f" same-shape COPY {copy_rows} rows x {copy_cols} columns in {copy_s:.2f} s;"
                f" {ratio:.2f} x COPY (goal <= {goal} x: {'met' if ratio <= goal else 'NOT met'})"
                + floor,
                flush=True,
            )


if __name__ == "__main__":
    main()
