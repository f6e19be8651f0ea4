"""The demo's consent amendment: BetterBack's file reloaded with consent version 2.0
required (as after the internal pilot), the active participants re-consented on paper
with their answers to the two optional items, except the most recently enrolled one, who
awaits re-consent with their data collection held (see /trials/betterback/reconsent/).
Idempotent: a second build re-consents nobody twice."""

from __future__ import annotations

import random
import tempfile
from datetime import date, timedelta
from pathlib import Path

from django.contrib.auth import get_user_model

from enrolment.amendments import load_versioned
from enrolment.consent.writing import record_reconsent
from enrolment.demo import PROTOCOL, demo_shift_days, without_second_factor
from enrolment.models import ConsentRecord, Participant, Trial

# Illustrative: the ethics board's approval of the amendment, as the load records it.
AMENDMENT = "EPN Linköping, amendment after the internal pilot (illustrative)"


def amended_protocol_text(protocol: Path = PROTOCOL, required: str = "2.0") -> str:
    """The protocol file as the amendment that requires consent ``required``."""
    text = protocol.read_text(encoding="utf-8")
    return text.replace('\nrequired = "1.0"\n', f'\nrequired = "{required}"\n', 1)


def show_consent_amendment(trial: Trial, today: date, seed: int = 2017) -> dict[str, int]:
    coordinator = get_user_model().objects.get(username="coordinator")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / PROTOCOL.name
        path.write_text(amended_protocol_text(), encoding="utf-8")
        amended = load_versioned(
            path, demo_shift_days(today), amendment=AMENDMENT, loaded_by=coordinator
        ).trial
    without_second_factor(amended)  # as the demo's first load of the file
    active = list(
        Participant.objects.filter(trial=trial, status=Participant.ACTIVE).order_by(
            "-enrolled_on", "-pk"
        )
    )
    if (
        not active
        or ConsentRecord.objects.filter(
            participant__trial=trial, kind=ConsentRecord.RECONSENT
        ).exists()
    ):
        return {}
    rng = random.Random(f"{seed}:{trial.code}:consent")
    for p in active[1:]:
        record_reconsent(
            p,
            version="2.0",
            given_on=max(p.enrolled_on, today - timedelta(days=rng.randint(5, 40))),
            answers={
                "interview_contact": rng.random() < 0.5,
                "registry_linkage": rng.random() < 0.9,
            },
            user=coordinator,
            today=today,
        )
    return {"participants re-consented to 2.0": len(active) - 1, "awaiting re-consent": 1}
