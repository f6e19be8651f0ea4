"""Benchmark of the streamed export against PostgreSQL's own COPY of the same rows.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/edc_bench \\
        .venv/bin/python benchmarks/export.py --participants 50000

Seeds the database named by DATABASE_URL (created if missing; its BetterBack trial is
replaced) with N participants, each with every patient questionnaire of the protocol
answered (bulk-inserted), then in a fresh process (so that peak memory is the export's
own) writes the long score-level CSV and the wide item-level CSV, and times
``COPY (SELECT ... FROM questionnaires_response ...) TO STDOUT`` of the same response
rows. Prints seconds, peak memory (ru_maxrss of the export process) and the ratios.
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
    from enrolment.protocol import load_protocol
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


def measure_export(shape: str, level: str, out: Path) -> None:
    """Runs in its own process: prints seconds, rows and peak RSS as one line."""
    setup_django()
    from analysis import exports
    from enrolment.models import Trial

    trial = Trial.objects.get(code="betterback")
    before = peak_rss_mb()
    start = time.perf_counter()
    log = exports.write_export(trial, out, "csv", shape, level, user_label="benchmark")
    seconds = time.perf_counter() - start
    print(f"RESULT {seconds:.3f} {log.rows} {peak_rss_mb():.1f} {before:.1f}")


def copy_seconds(out: Path) -> tuple[float, int]:
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
        cur.cursor.copy_expert(sql, fh) if hasattr(cur, "cursor") else cur.copy_expert(sql, fh)
    seconds = time.perf_counter() - start
    with open(out, encoding="utf-8") as fh:
        rows = sum(1 for _ in fh) - 1
    return seconds, rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--participants", type=int, default=50000)
    parser.add_argument("--no-seed", action="store_true", help="reuse the seeded database")
    parser.add_argument("--phase", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    os.environ.setdefault("DATABASE_URL", DEFAULT_DB)
    if not os.environ["DATABASE_URL"].startswith("postgres"):
        sys.exit("DATABASE_URL must name a PostgreSQL database")
    if args.phase:
        shape, level = args.phase.split("/")
        measure_export(shape, level, Path(args.out))
        return
    ensure_database(os.environ["DATABASE_URL"])
    setup_django()
    if not args.no_seed:
        start = time.perf_counter()
        print(f"seeding {args.participants} participants ...", flush=True)
        seed(args.participants)
        print(f"seeded in {time.perf_counter() - start:.1f} s")
    with tempfile.TemporaryDirectory() as tmp:
        copy_s, copy_rows = copy_seconds(Path(tmp) / "copy.csv")
        print(f"COPY of the response rows: {copy_rows} rows in {copy_s:.2f} s")
        for shape, level in (("long", "score"), ("wide", "item")):
            out = Path(tmp) / f"{shape}_{level}.csv"
            proc = subprocess.run(
                [sys.executable, __file__, "--phase", f"{shape}/{level}", "--out", str(out)],
                capture_output=True, text=True, env=os.environ.copy(), check=True,
            )
            line = next(x for x in proc.stdout.splitlines() if x.startswith("RESULT"))
            seconds, rows, peak, before = line.split()[1:]
            print(
                f"export {shape}/{level} CSV: {rows} rows in {float(seconds):.2f} s, "
                f"{out.stat().st_size / 1e6:.1f} MB, peak RSS {peak} MB "
                f"(before the export {before} MB), {float(seconds) / copy_s:.1f} x COPY"
            )


if __name__ == "__main__":
    main()
