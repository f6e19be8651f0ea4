"""The nightly edit-check batch: time and SQL queries for 1,000 and 10,000 participants
with 20 checks, against a per-participant baseline measured in the same run.

    .venv/bin/python benchmarks/edit_checks.py [--small 1000] [--large 10000]

Runs on a scratch SQLite file under /tmp unless DATABASE_URL names a scratch PostgreSQL
database (it is dropped and created again; never one you keep data in). Two copies of
BetterBack's protocol are loaded with its 10 shipped checks plus 10 more (20); each gets
N participants with personal details, consent and four completed responses (baseline NRS
and ODI, 3-month ODI and EQ-5D), bulk inserted so that no check runs while populating.
About 3% of participants fail a check. Then :func:`run_checks` runs twice per trial: the
first run opens the queries, the second finds nothing to change (the steady state of
every later night). Its SQL query count must not grow with N. The baseline is the same
checks run participant by participant (what a save does) over the small trial.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

EXTRA_CHECKS = """
[[checks]]
code = "odi-q{n}-range"
kind = "range"
value = "baseline.odi.q{n}"
min = 0
max = 5
message = "ODI item {n} out of range."
"""
MORE = """
[[checks]]
code = "eq5d-vas-3m-range"
kind = "range"
value = "3m.eq5d3l.vas"
min = 0
max = 100
message = "EQ VAS out of range."

[[checks]]
code = "odi-3m-after-baseline"
kind = "compare"
left = "3m.odi.completed"
op = ">="
right = "baseline.odi.completed"
message = "ODI at 3 months before baseline."

[[checks]]
code = "born-before-enrolment"
kind = "compare"
left = "enrolment.date_of_birth"
op = "<"
right = "enrolment.enrolled_on"
message = "Born after enrolment."

[[checks]]
code = "baseline-nrs-window"
kind = "window"
timepoint = "baseline"
instrument = "nrs"
message = "Baseline NRS outside the window."

[[checks]]
code = "leg-range"
kind = "range"
value = "baseline.nrs.leg"
min = 0
max = 10
message = "Leg pain out of range."
"""


def setup_django() -> None:
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith("postgres"):
        from dispatch import recreate_database

        recreate_database(url)
    else:
        path = Path(tempfile.gettempdir()) / "trialsite-bench-edit-checks.sqlite3"
        path.unlink(missing_ok=True)
        os.environ["DATABASE_URL"] = f"sqlite:///{path}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "trialsite.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def protocol(code: str, prefix: str) -> Path:
    text = (ROOT / "protocols" / "betterback.toml").read_text(encoding="utf-8")
    text = text.replace('code = "betterback"', f'code = "{code}"', 1)
    text = text.replace('study_id_prefix = "BB"', f'study_id_prefix = "{prefix}"', 1)
    text += "".join(EXTRA_CHECKS.format(n=n) for n in range(1, 6)) + MORE
    path = Path(tempfile.gettempdir()) / f"bench-{code}.toml"
    path.write_text(text, encoding="utf-8")
    return path


def populate(code: str, prefix: str, n: int, seed: int):
    from django.contrib.auth import get_user_model

    from enrolment.models import Clinic, Consent, Participant, PersonalDetails, Timepoint
    from enrolment.protocol.writing import load_protocol
    from questionnaires.instruments import get
    from questionnaires.models import Response

    trial, _ = load_protocol(protocol(code, prefix))
    assert len(trial.edit_checks) == 20, len(trial.edit_checks)
    rng = random.Random(seed)
    clinics = list(Clinic.objects.filter(cluster__trial=trial))
    user, _ = get_user_model().objects.get_or_create(username="bench")
    start = date(2017, 4, 3)
    people = [
        Participant(
            trial=trial,
            study_id=f"{prefix}-{i:06d}",
            clinic=clinics[i % len(clinics)],
            sequence=i + 1,
            enrolled_on=start + timedelta(days=i % 280),
            condition="control",
        )
        for i in range(n)
    ]
    Participant.objects.bulk_create(people, batch_size=2000)
    people = list(Participant.objects.filter(trial=trial).order_by("pk"))
    PersonalDetails.objects.bulk_create(
        [
            PersonalDetails(
                participant=p,
                full_name="x",
                date_of_birth=date(1980, 1, 1),
                preferred_language="sv",
            )
            for p in people
        ],
        batch_size=2000,
    )
    Consent.objects.bulk_create(
        [
            Consent(
                participant=p,
                form_version="1.0",
                taken_by=user,
                consented_on=p.enrolled_on + timedelta(days=7 if rng.random() < 0.01 else 0),
            )
            for p in people
        ],
        batch_size=2000,
    )
    timepoints = {t.code: t for t in Timepoint.objects.filter(trial=trial)}
    odi, eq5d = get("odi"), get("eq5d3l")
    rows = []
    for p in people:
        at = datetime(p.enrolled_on.year, p.enrolled_on.month, p.enrolled_on.day, 10)
        from django.utils.timezone import make_aware

        base, late = make_aware(at + timedelta(days=1)), make_aware(at + timedelta(days=92))
        answers = {
            ("baseline", "nrs"): {
                "back": 0 if rng.random() < 0.02 else rng.randint(1, 10),
                "leg": rng.randint(0, 10),
            },
            ("baseline", "odi"): {i.id: rng.choice(i.allowed_codes()) for i in odi.items},
            ("3m", "odi"): {i.id: rng.choice(i.allowed_codes()) for i in odi.items},
            ("3m", "eq5d3l"): {**{i.id: 1 for i in eq5d.items[:5]}, "vas": rng.randint(0, 100)},
        }
        for (tp, code_), a in answers.items():
            when = base if tp == "baseline" else late
            rows.append(
                Response(
                    participant=p,
                    timepoint=timepoints[tp],
                    instrument=code_,
                    version=1,
                    answers=a,
                    mode=Response.PATIENT_ONLINE,
                    started_at=when,
                    completed_at=when,
                )
            )
    Response.objects.bulk_create(rows, batch_size=2000)
    return trial, people


def measure(fn):
    """(result, seconds, SQL statements executed): every statement is counted (Django's
    own query log keeps only the last 9,000)."""
    from django.db import connection

    count = 0

    def counting(execute, sql, params, many, context):
        nonlocal count
        count += 1
        return execute(sql, params, many, context)

    with connection.execute_wrapper(counting):
        started = time.perf_counter()
        result = fn()
        seconds = time.perf_counter() - started
    return result, seconds, count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=1000)
    parser.add_argument("--large", type=int, default=10000)
    args = parser.parse_args()
    setup_django()
    from datamanagement.queries.checks import run_checks

    small, small_people = populate("bench-small", "BS", args.small, seed=1)
    large, _ = populate("bench-large", "BL", args.large, seed=2)
    print(f"20 checks; {args.small:,} and {args.large:,} participants, 4 responses each")
    print(f"{'run':<44}{'seconds':>9}{'queries':>9}  result")
    figures = {}
    for label, trial in ((f"{args.small:,}", small), (f"{args.large:,}", large)):
        for which in ("first run", "repeated run"):
            report, seconds, queries = measure(lambda t=trial: run_checks(t))
            figures[(label, which)] = (seconds, queries)
            print(
                f"{'batch, ' + label + ' participants, ' + which:<44}{seconds:>9.2f}"
                f"{queries:>9}  {report}"
            )

    # Baseline: the same checks one participant at a time (as on save), small trial.
    def one_by_one():
        for p in small_people:
            run_checks(small, [p.pk])

    _, seconds, queries = measure(one_by_one)
    print(
        f"{'baseline: one by one, ' + f'{args.small:,}' + ' participants':<44}"
        f"{seconds:>9.2f}{queries:>9}"
    )
    s_sec, s_q = figures[(f"{args.small:,}", "repeated run")]
    l_sec, l_q = figures[(f"{args.large:,}", "repeated run")]
    print(
        f"repeated batch, large/small: queries x{l_q / s_q:.2f} (constant in N), "
        f"time x{l_sec / s_sec:.1f} for x{args.large / args.small:.0f} participants"
    )
    print(
        f"batch vs one by one ({args.small:,}): x{seconds / s_sec:.1f} faster, "
        f"{queries / s_q:.0f}x fewer queries"
    )


if __name__ == "__main__":
    main()
