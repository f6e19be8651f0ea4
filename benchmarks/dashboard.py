"""Render time and query count of the monitoring dashboard at growing trial sizes.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/trialsite \
        .venv/bin/python benchmarks/dashboard.py [participants ...] [--explain] [--keep]
        [--profile]

(default 1,000, 10,000 and 100,000 participants; ``--explain`` prints EXPLAIN ANALYZE of
the cold render's slowest queries at each size; ``--keep`` keeps the test database and
reuses it on the next run, migrated and topped up to each size, as seeding 1,000,000
responses takes minutes; ``--profile`` prints the cold render's cProfile by cumulative
time). The goal: 100,000 participants cold < 1 s.

Creates a throw-away test database (``test_<name>``), loads BetterBack, bulk-inserts
participants (10 responses each) and screening records, then renders the coordinator's
dashboard. The query count must be the same at both sizes.

Printed per size:
  cold   the first render of that data: nothing of it cached (the figures are cached
         keyed on their numbers), the process itself warmed once on the empty trial
  cold3  median of three more renders, each after clearing the cache (this machine is
         shared: one render alone can be off by a few tenths of a second)
  warm   median of three renders with the figures cached
"""

from __future__ import annotations

import os
import random
import statistics
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "trialsite.settings")

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import RequestFactory  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402


def populate(trial, n: int, rng: random.Random) -> None:
    """``n`` more participants, in chunks (100,000 participants are 1,000,000 responses)."""
    chunk = 10_000
    for start in range(0, n, chunk):
        populate_chunk(trial, min(chunk, n - start), rng)


def populate_chunk(trial, n: int, rng: random.Random) -> None:
    from enrolment.models import Clinic, Participant, ScreeningRecord
    from questionnaires import flags
    from questionnaires.answered import refresh_answered
    from questionnaires.models import Response

    user = get_user_model().objects.get(username="bench")
    clinics = list(Clinic.objects.filter(cluster__trial=trial).select_related("cluster"))
    tps = {t.code: t for t in trial.timepoints.all()}
    start = Participant.objects.count()
    people = []
    for k in range(n):
        clinic = rng.choice(clinics)
        day = date(2017, 4, 1) + timedelta(days=rng.randint(0, 300))
        people.append(
            Participant(
                trial=trial,
                clinic=clinic,
                sequence=start + k + 1,
                study_id=f"BB-{clinic.cluster.code}-{start + k + 1:06d}",
                enrolled_on=day,
                condition=clinic.cluster.condition_on(day),
                final_visit_on=day + timedelta(days=40) if rng.random() < 0.5 else None,
            )
        )
    people = Participant.objects.bulk_create(people, batch_size=2000)
    screenings = [
        ScreeningRecord(
            trial=trial,
            clinic=p.clinic,
            screened_on=p.enrolled_on,
            screened_by=user,
            outcome="enrolled",
            participant=p,
        )
        for p in people
    ]
    screenings += [
        ScreeningRecord(
            trial=trial,
            clinic=rng.choice(clinics),
            screened_on=date(2017, 6, 1),
            screened_by=user,
            outcome="ineligible",
            unmet_criteria=["age"],
        )
        for _ in range(n // 3)
    ]
    ScreeningRecord.objects.bulk_create(screenings, batch_size=2000)
    responses = []
    plan = [
        ("baseline", "nrs"),
        ("baseline", "odi"),
        ("baseline", "eq5d3l"),
        ("3m", "nrs"),
        ("3m", "odi"),
        ("3m", "eq5d3l"),
        ("6m", "nrs"),
        ("6m", "odi"),
        ("12m", "nrs"),
        ("12m", "odi"),
    ]  # 10 responses per participant
    required = {ins: flags.required_of(ins, 1) for ins in {ins for _, ins in plan}}
    zone = ZoneInfo(trial.time_zone)
    for p in people:
        for code, ins in plan:
            tp = tps[code]
            when = datetime.combine(p.enrolled_on, datetime.min.time(), UTC) + timedelta(
                days=30 * tp.offset + rng.randint(-20, 50)
            )
            answers = {"back": 3, "leg": 2} if ins == "nrs" else {"q1": 1, "q2": 2}
            responses.append(
                Response(
                    # The flags Response.save keeps (bulk_create bypasses it).
                    # (written with the rows: an UPDATE after would leave the table
                    # twice its size until autovacuum ran)
                    unanswered=flags.unanswered_mask(required[ins], answers),
                    outside_window=_side(when.astimezone(zone).date(), p.enrolled_on, tp),
                    participant=p,
                    timepoint=tp,
                    instrument=ins,
                    version=1,
                    answers=answers,
                    mode="patient_online",
                    started_at=when,
                    completed_at=when,
                )
            )
    Response.objects.bulk_create(responses, batch_size=5000)
    # The answered timepoints Response.save keeps (questionnaires.answered).
    refresh_answered(Participant.objects.filter(pk__in=[p.pk for p in people]))


def _side(day: date, enrolled_on: date, tp) -> int:
    """Response.outside_window as questionnaires.flags computes it (the pure reference)."""
    from analysis.monitoring.pure import window_of

    opens, closes = window_of(enrolled_on, tp)
    return -1 if day < opens else 1 if day > closes else 0


SLOWEST: list = []  # the cold render's queries, slowest first (printed with --explain)


def render(trial, user) -> tuple[float, int, int]:
    from analysis.views_monitoring import dashboard

    request = RequestFactory().get(f"/monitoring/trials/{trial.code}/?today=2018-09-01")
    request.user = user
    with CaptureQueriesContext(connection) as ctx:
        t0 = time.perf_counter()
        response = dashboard(request, code=trial.code)
        elapsed = time.perf_counter() - t0
    SLOWEST[:] = sorted(ctx.captured_queries, key=lambda q: -float(q["time"]))
    return elapsed, len(ctx.captured_queries), len(response.content)


def explain(top: int = 6) -> None:
    """EXPLAIN ANALYZE of the cold render's slowest queries."""
    for query in SLOWEST[:top]:
        print(f"--- {query['time']} s: {query['sql'][:300]}")
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + query["sql"])
            for (line,) in cursor.fetchall():
                print("    " + line)


def check_flags(trial) -> None:
    """The seeded flags give the numbers computed without them (after the timings)."""
    from analysis.monitoring import quality
    from enrolment.models import Participant
    from questionnaires.answered import answered_sets, ids_of
    from questionnaires.models import AnsweredTimepoints, Response

    participants = Participant.objects.filter(trial=trial)
    assert quality.out_of_window(trial, participants) == quality.out_of_window_computed(
        trial, participants
    )
    assert quality.missing_items(participants) == quality.missing_items_from_answers(
        participants, quality.required_items()
    )
    kept = {a.participant_id: ids_of(a.timepoints) for a in AnsweredTimepoints.objects.all()}
    computed = answered_sets(Response.objects.filter(participant__trial=trial))
    assert kept == {pid: ids_of(s) for pid, s in computed.items()}


def analyse() -> None:
    # What autovacuum does shortly after a bulk load: since PostgreSQL 13 it vacuums a
    # table after inserts too (autovacuum_vacuum_insert_threshold), which sets the
    # visibility map that index-only scans need, and it analyses it. Without statistics
    # PostgreSQL plans for a table of a few rows (and autovacuum is off on some
    # development servers).
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")


def main(sizes: list[int]) -> None:
    from django.core.cache import cache

    from enrolment.models import Participant, TrialRole
    from enrolment.protocol.writing import load_protocol
    from questionnaires.models import Response

    setup_test_environment()
    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(
        verbosity=0, autoclobber=True, serialize=False, keepdb=KEEP
    )
    try:
        trial, _ = load_protocol(ROOT / "protocols" / "betterback.toml")
        user, made = get_user_model().objects.get_or_create(username="bench")
        if made:
            TrialRole.objects.create(user=user, trial=trial, role=TrialRole.COORDINATOR)
        rng = random.Random(1)
        print(f"database: {connection.vendor}")
        # Once per process: templates, the instrument registry, matplotlib's fonts.
        first, _, _ = render(trial, user)
        print(f"first render in this process (empty trial): {first:.3f}s")
        for size in sizes:
            done = Participant.objects.filter(trial=trial).count()
            if size > done:
                populate(trial, size - done, rng)
            analyse()
            cache.clear()
            cold, queries, size_b = render(trial, user)
            again = []
            for _ in range(3):
                cache.clear()
                again.append(render(trial, user)[0])
            warm = [render(trial, user) for _ in range(3)]
            print(
                f"participants={Participant.objects.count():>6} "
                f"responses={Response.objects.count():>7} cold={cold:.3f}s "
                f"cold3={statistics.median(again):.3f}s "
                f"warm={statistics.median(w[0] for w in warm):.3f}s "
                f"queries={queries} (warm {warm[0][1]}) html={size_b // 1024} KiB"
            )
            if EXPLAIN:
                cache.clear()
                render(trial, user)
                explain()
            if PROFILE:
                profile(trial, user)
            check_flags(trial)
    finally:
        if KEEP:
            connection.close()
            connection.settings_dict["NAME"] = old_name
        else:
            connection.creation.destroy_test_db(old_name, verbosity=0)


def profile(trial, user) -> None:
    """cProfile of a cold render, by cumulative time."""
    import cProfile
    import pstats

    from django.core.cache import cache

    cache.clear()
    profiler = cProfile.Profile()
    profiler.runcall(render, trial, user)
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(45)


FLAGS = {"--explain", "--keep", "--profile"}
EXPLAIN = "--explain" in sys.argv
KEEP = "--keep" in sys.argv
PROFILE = "--profile" in sys.argv

if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:] if a not in FLAGS] or [1000, 10000, 100000])
