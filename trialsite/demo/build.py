"""Build the demo site: every seed trial loaded, participants enrolled, and their past
months of follow-up replayed (see :mod:`.history`)."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction

from analysis import registry
from enrolment.demo import (
    PROTOCOL,
    build_safe_demo,
    create_staff,
    demo_password_hash,
    load_trial,
    record_demo_deviations,
)
from enrolment.models import Physiotherapist, Trial, TrialRole
from followup.sms.demo import replay_weeks
from questionnaires.models import Response

from .amendments import amend_demo_trials
from .api import demo_api_token
from .channels import assign_channels
from .consent import show_consent_amendment
from .history import Replay, plan_baselines, plan_clinic_visits, plan_endings, plan_workshops
from .imports import import_declared
from .locks import add_data_management
from .missing import add_missing_reasons
from .paper import build_paper_demo
from .queries import build_queries, busiest_clinic_id
from .unreachable import enrol_unreachable

PROTOCOLS = Path(settings.BASE_DIR) / "protocols"
OTHER_TRIALS = [  # (protocol, seed): BetterBack and SAFE have their own sizes
    (PROTOCOLS / "selfback.toml", 2019),
    (PROTOCOLS / "impact-lbp.toml", 2022),
]


@dataclass
class Built:
    trials: list[Trial]
    logins: dict[str, str]
    history: dict[str, int]


def build_site(
    today: date,
    now: datetime,
    participants: int = 60,
    safe: int = 12,
    others: int = 16,
    workshop_physios: int | None = None,
    say: Callable[[str], None] = lambda step: None,
) -> Built:
    """Idempotent: a second run adds nobody and replays nothing. ``say`` hears each step
    as it starts (the command prints them: the first build takes most of a minute)."""
    say("Loading the trials, their clinics, staff and participants")
    betterback = load_trial(PROTOCOL, today, participants, seed=2017)
    logins = create_staff(betterback)
    # The physiotherapist to try: one at the clinic with the most participants.
    busiest = busiest_clinic_id(betterback)
    if busiest:
        physio = Physiotherapist.objects.filter(clinic_id=busiest).order_by("pk").first()
        logins = {k: v for k, v in logins.items() if not v.startswith("physiotherapist")}
        logins[physio.user.username] = f"physiotherapist at {physio.clinic.name}"
        logins["manager"] = f"clinic manager at {add_clinic_manager(physio.clinic)}"
    record_demo_deviations(betterback, today)
    trials = [betterback]
    if safe:
        trials.append(build_safe_demo(today, safe))
    if others:
        trials += [load_trial(path, today, others, seed=seed) for path, seed in OTHER_TRIALS]
    history: dict[str, int] = {}
    if not Response.objects.filter(participant__trial__in=trials).exists():
        # One transaction: a thousand small commits cost SQLite most of the build's time,
        # and an interrupted build leaves nothing half-replayed to trip the next start.
        with transaction.atomic():
            enrolled = sum(trial.participants.count() for trial in trials)
            say(
                f"Replaying the past follow-up of {enrolled} participants through the "
                "dispatcher, the surveys and the paper forms (the longest step)"
            )
            replay = Replay(trials, now, seed=2017)
            for trial in trials:
                replay.current = trial.code
                plan_workshops(trial, workshop_physios)
                plan_baselines(replay, trial)
                plan_clinic_visits(replay, trial)
            replay.current = betterback.code
            plan_endings(replay, betterback)
            history = replay.run()
            history.update(add_missing_reasons(betterback))
            if safe:
                say("Replaying SAFE's weekly SMS questions and replies")
                history["weekly SMS replies"] = replay_weeks(trials[1], now)
        say("Amendments, contact channels, the post tray and scanned paper forms")
        history.update(amend_demo_trials(trials, now))
        # Channels first: the post tray the paper demo prints is filled by post contacts.
        history.update({f"contact by {k}": v for k, v in assign_channels(betterback, now).items()})
        history.update(build_paper_demo(betterback, now))
        # After the replay and the channels: nobody may reach them, the overdue list says why.
        history.update(enrol_unreachable(betterback, busiest))
        if not registry.current_import(betterback):
            history["registry rows imported"] = import_registry(betterback)
    say("Imports, re-consent, queries, locks and the API token")
    history.update(import_declared(trials))
    history.update(show_consent_amendment(betterback, today))
    history.update(build_queries(trials))
    history.update(add_data_management(betterback))
    history.update(demo_api_token(betterback))
    return Built(trials, logins, history)


def add_clinic_manager(clinic, username: str = "manager") -> str:
    """A clinic manager of ``clinic``: their clinic's recruitment, and Monday's email."""
    User = get_user_model()
    user, created = User.objects.get_or_create(
        username=username, defaults={"email": f"{username}@example.org"}
    )
    if created:
        user.password = demo_password_hash()
        user.save(update_fields=["password"])
    role, _ = TrialRole.objects.get_or_create(
        user=user, trial=clinic.cluster.trial, role=TrialRole.CLINIC_MANAGER
    )
    role.clinics.add(clinic)
    return clinic.name


def import_registry(trial: Trial, seed: int = 2017) -> int:
    """A synthetic health-care registry extract, imported the way a statistician uploads
    one, so that the cost-effectiveness analysis (with its figures) runs too. Counts per
    participant over 12 months, fewer in the intervention."""
    rng = random.Random(f"{seed}:{trial.code}:registry")
    lines = ["study_id," + ",".join(registry.ITEMS)]
    for p in trial.participants.order_by("pk"):
        fewer = 0.7 if p.condition == "intervention" else 1.0
        visits = [
            rng.randint(0, 4),
            int(rng.random() < 0.1 * fewer),
            int(rng.random() < 0.05),
            int(rng.random() < 0.15 * fewer),
            0,
            round(rng.randint(0, 30) * fewer),
        ]
        lines.append(",".join([p.study_id, *map(str, visits[: len(registry.ITEMS)])]))
    statistician = get_user_model().objects.get(username="statistician")
    registry.import_file(
        trial, "demo-registry.csv", "\n".join(lines).encode(), statistician, "demo (synthetic)"
    )
    return len(lines) - 1
