"""One week's SMS questions to a large trial: messages per second and queries per batch.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench \\
        .venv/bin/python benchmarks/sms_week.py [--participants 50000] [--batch-sizes 200 1000] \\
        [--replies 300]

The database named in DATABASE_URL is dropped and created again (a scratch database).
SAFE is loaded from its protocol file; N participants with a mobile number and their
week-1 question, all due, are bulk inserted; then the real
:func:`followup.sms.tracking.dispatch_due` runs with the in-memory SMS backend (planning,
the idempotent message rows, the claim and the outcome update included, no network):
half of the questions at the first batch size, the rest at the second (all but the first
1,000, whose questions went out for the replies below). The queries of every batch are
counted: they must not grow with the batch size.

Baseline, measured in the same run: inserting the same number of message rows with one
``bulk_create`` per batch, the least any design that records each SMS must write.

Then the replies: ``--replies`` participants answer through the webhook's path
(:func:`followup.sms.tracking.store`, then ``receive``: the sender found by their number,
the question answered, the week's response saved and audited), once while the trial
holds 1,000 participants and once at its full size. A reply must cost the same whatever
the size of the trial (the goal: a ratio near 1x); the plan PostgreSQL chooses for the
sender lookup is printed beside it.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.dispatch import recreate_database, setup_django  # noqa: E402

SMALL = 1000  # participants when the first replies are timed


def populate(n: int, first: int = 0):
    """Participants ``first`` to ``n`` (SAFE loaded with the first ones)."""
    from django.db import connection
    from django.utils import timezone

    from enrolment.models import Clinic, Participant, PersonalDetails
    from enrolment.protocol.writing import load_protocol
    from followup.models import SmsPrompt

    trial, _ = load_protocol(ROOT / "protocols" / "safe.toml")
    # Any hour: the figures must not depend on the wall clock (quiet hours, followup.reach).
    trial.contact = {**(trial.contact or {}), "hours": ["00:00", "24:00"]}
    trial.save()
    clinic = Clinic.objects.filter(cluster__trial=trial).first()
    due = timezone.now() - timedelta(minutes=1)
    chunk = 5000
    for start in range(first, n, chunk):
        people = Participant.objects.bulk_create(
            Participant(
                trial=trial,
                clinic=clinic,
                study_id=f"SAFE-B-{i:07d}",
                sequence=i + 1,
                enrolled_on=date.today() - timedelta(days=7),
                condition="control",
            )
            for i in range(start, min(start + chunk, n))
        )
        PersonalDetails.objects.bulk_create(
            PersonalDetails(
                participant=p,
                full_name=f"Bench Patient {p.sequence}",
                date_of_birth=date(1970, 1, 1),
                mobile=f"+4520{p.sequence:06d}",
                preferred_language=("da", "en")[p.sequence % 2],
            )
            for p in people
        )
        SmsPrompt.objects.bulk_create(
            SmsPrompt(participant=p, week=1, question="pain", position=0, due_at=due,
                      next_action_at=due)
            for p in people
        )  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    return trial


def run_batches(count: int, batch_size: int):
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from followup.sms.backends import InMemoryBackend
    from followup.sms.tracking import dispatch_due

    queries, sent, done = [], 0, 0
    started = time.perf_counter()
    while done < count:
        # The query log holds 9,000 entries: once full (DEBUG, the replies before), a
        # batch's count would read 0.
        reset_queries()
        with CaptureQueriesContext(connection) as captured:
            stats = dispatch_due(timezone.now(), min(batch_size, count - done))
        queries.append(len(captured.captured_queries))
        done += stats.questions
        sent += stats.sent
        InMemoryBackend.outbox.clear()  # keep memory flat
        if stats.questions == 0:
            break
    return time.perf_counter() - started, queries, sent


def baseline(count: int, batch_size: int) -> float:
    """Seconds to write ``count`` message rows in batches, nothing else."""
    from django.db import transaction
    from django.utils import timezone

    from enrolment.models import Participant
    from followup.models import SmsMessage

    ids = list(Participant.objects.values_list("pk", flat=True)[:count])
    now = timezone.now()
    started = time.perf_counter()
    for start in range(0, len(ids), batch_size):
        with transaction.atomic():
            SmsMessage.objects.bulk_create(
                SmsMessage(participant_id=pk, kind="question", idempotency_key=f"base:{pk}",
                           recipient="+4520000000", body="x" * 120, language="da",
                           created=now)
                for pk in ids[start : start + batch_size]
            )  # fmt: skip
    seconds = time.perf_counter() - started
    SmsMessage.objects.filter(idempotency_key__startswith="base:").delete()
    return seconds


def replies(count: int, seed: int) -> tuple[float, float, str]:
    """Seconds a reply, over ``count`` replies from participants whose question is out;
    the seconds of its sender lookup (the database's part); and that lookup's plan."""
    import random

    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from enrolment.models import PersonalDetails
    from followup.models import SmsPrompt
    from followup.sms import inbound, tracking
    from followup.sms.backends import InMemoryBackend

    tracking.dispatch_due(timezone.now(), 100_000)  # the questions not yet sent
    InMemoryBackend.outbox.clear()
    waiting = list(
        SmsPrompt.objects.filter(status=SmsPrompt.SENT, position=0).values_list(
            "participant__personal_details__mobile", flat=True
        )
    )
    numbers = random.Random(seed).sample(waiting, min(count, len(waiting)))
    reset_queries()
    started = time.perf_counter()
    with CaptureQueriesContext(connection) as captured:
        for i, number in enumerate(numbers):
            stored, _ = tracking.store(f"BENCH-{seed}-{i}", number, "4")
            tracking.receive(stored.pk)
    seconds = (time.perf_counter() - started) / len(numbers)
    # The lookup's SQL, or its prepared statement's EXECUTE (trialsite.compiled).
    prepared = f"EXECUTE {inbound._SENDERS._name} "
    lookups = [
        float(q["time"]) for q in captured
        if '"mobile" =' in q["sql"] or q["sql"].startswith(prepared)
    ]  # fmt: skip
    lookup = PersonalDetails.objects.filter(mobile=numbers[0]).values("pk")
    sql, params = lookup.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = " ".join(row[0].strip() for row in cursor.fetchall()[:2])
    return seconds, sum(lookups) / len(lookups), plan


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--participants", type=int, default=50_000)
    parser.add_argument("--batch-sizes", type=int, nargs=2, default=[200, 1000])
    parser.add_argument("--replies", type=int, default=300)
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        raise SystemExit("set DATABASE_URL to a scratch PostgreSQL database")
    recreate_database(url)
    os.environ["SMS_BACKEND"] = "followup.sms.backends.InMemoryBackend"
    setup_django()
    populate(SMALL)
    small, small_lookup, small_plan = replies(args.replies, seed=1)
    t0 = time.perf_counter()
    populate(args.participants, first=SMALL)
    n = args.participants - SMALL
    print(f"inserted {n} participants with a due week-1 question in "
          f"{time.perf_counter() - t0:.1f} s")  # fmt: skip
    halves = [n // 2, n - n // 2]
    for batch_size, count in zip(args.batch_sizes, halves, strict=True):
        floor = baseline(count, batch_size)
        seconds, queries, sent = run_batches(count, batch_size)
        print(
            f"batch size {batch_size:>5}: {sent} SMS in {seconds:.1f} s = "
            f"{sent / seconds:,.0f} messages/s; queries per batch min {min(queries)} "
            f"max {max(queries)} over {len(queries)} batches; "
            f"{seconds / floor:.1f}x the time of only inserting the rows ({floor:.1f} s)"
        )
    from followup.models import SmsMessage, SmsPrompt

    per_prompt = SmsMessage.objects.count() - SmsMessage.objects.values("prompt").distinct().count()
    print(f"messages {SmsMessage.objects.count()}, sent "
          f"{SmsMessage.objects.filter(status='sent').count()}, duplicates {per_prompt}, "
          f"prompts still due {SmsPrompt.objects.filter(status='scheduled').count()}")  # fmt: skip
    large, large_lookup, large_plan = replies(args.replies, seed=2)
    for size, reply, lookup, plan in (
        (SMALL, small, small_lookup, small_plan),
        (args.participants, large, large_lookup, large_plan),
    ):
        print(f"a reply at {size:,} participants: {reply * 1000:.1f} ms, of which the sender "
              f"lookup {lookup * 1000:.2f} ms ({plan})")  # fmt: skip
    print(f"at {args.participants:,} participants against {SMALL:,}: a reply "
          f"{large / small:.2f}x, its sender lookup {large_lookup / small_lookup:.2f}x "
          f"(the goal: near 1x, whatever the size of the trial)")


if __name__ == "__main__":
    main()
