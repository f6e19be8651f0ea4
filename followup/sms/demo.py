"""A demo trial's past weeks of SMS tracking, replayed through the real dispatcher and
the real reply handling (nothing is written around them), so that the SMS pages and the
dashboard show what a running trial looks like: most weeks answered, a few unclear
replies, one participant who stopped the SMS and one who has gone quiet."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

import time_machine

from ..models import SmsPrompt
from . import tracking

TYPED = ["{v}", "{v}", "{v}", " {v} ", "{v}.", "{v} (hård uge)", "0{v}"]
UNCLEAR = ["ved ikke", "5-6", "🙂"]


def _run(at: datetime) -> None:
    # On the moved clock as the rest of the demo's past (trialsite.demo.history): what
    # records its own time, the outbox's SMS say, shows the week's time.
    with time_machine.travel(at, tick=False):
        tracking.run(now=at)


def replay_weeks(trial, now: datetime, seed: int = 2021) -> int:
    """Send and answer every week due before ``now``; returns the replies made."""
    rng = random.Random(seed)
    people = list(trial.participants.select_related("personal_details").order_by("pk"))
    if not people or not SmsPrompt.objects.filter(participant__trial=trial).exists():
        return 0
    keen = {p.pk: rng.choice([0.95, 0.9, 0.8, 0.6]) for p in people}
    stopper, quiet = people[0].pk, people[1].pk if len(people) > 1 else None
    sundays = sorted(
        set(
            SmsPrompt.objects.filter(
                participant__trial=trial, position=0, due_at__lte=now - timedelta(days=1)
            ).values_list("due_at", flat=True)
        )
    )
    replies = 0
    for at in sundays:
        _run(at)
        for step in (1, 2):  # Q1, then Q2 once Q1 is answered
            later = at + timedelta(minutes=30 * step)
            for prompt in SmsPrompt.objects.filter(
                participant__trial=trial, status=SmsPrompt.SENT, position=step - 1
            ).select_related("participant__personal_details"):
                p = prompt.participant
                if p.pk == quiet and prompt.week > 8:
                    continue  # gone quiet: on the coordinator's list after three weeks
                if p.pk == stopper and prompt.week == 6:
                    text = "STOP"
                elif rng.random() > keen[p.pk]:
                    continue
                elif rng.random() < 0.03:
                    text = rng.choice(UNCLEAR)
                else:
                    top = 10 if step == 1 else 7
                    value = max(0, min(top, round(rng.gauss(4 if step == 1 else 1, 2))))
                    text = rng.choice(TYPED).format(v=value)
                stored, _ = tracking.store(
                    f"DEMO-{p.pk}-{prompt.pk}-{prompt.week}-{step}",
                    p.personal_details.mobile,
                    text,
                    now=later - timedelta(minutes=10),
                )
                with time_machine.travel(later - timedelta(minutes=10), tick=False):
                    tracking.receive(stored.pk, later - timedelta(minutes=10))
                replies += 1
            _run(later)
        _run(at + timedelta(days=1, hours=1))  # the next day's reminders
    return replies
