"""The README's first command: the demo trial with staff for every role and ~60
participants spread over BetterBack's dog-leg schedule."""

from collections import Counter
from datetime import date

import pytest
from django.test import Client

from enrolment.demo import DEMO_PASSWORD, build_demo
from enrolment.models import Deviation, Participant, Physiotherapist

pytestmark = pytest.mark.django_db


def test_demo_follows_the_dog_leg_and_every_login_works():
    trial, logins = build_demo(date(2026, 11, 22), participants=60)
    participants = Participant.objects.filter(trial=trial).select_related("clinic__cluster")
    assert participants.count() == 60
    by_cluster = Counter((p.clinic.cluster.code, p.condition) for p in participants)
    # West in the intervention throughout, East in routine care, Central in both.
    assert {c for (cl, c) in by_cluster if cl == "W"} == {"intervention"}
    assert {c for (cl, c) in by_cluster if cl == "E"} == {"control"}
    assert {c for (cl, c) in by_cluster if cl == "C"} == {"control", "intervention"}
    assert Physiotherapist.objects.filter(clinic__cluster__trial=trial).count() == 27 + 44 + 41
    assert trial.recruitment_end < date(2026, 11, 22)
    # Every printed login works with the password alone: the demo's trials do not ask
    # for a second factor.
    assert not trial.two_factor_required
    for username in logins:
        client = Client()
        response = client.post("/accounts/login/", {"username": username,
                                                    "password": DEMO_PASSWORD})  # fmt: skip
        assert response.status_code == 302, username
        assert client.get(f"/trials/{trial.code}/").status_code == 200, username
    # A few deviations, one per per-protocol rule in turn, through the real write path.
    deviations = Deviation.objects.filter(participant__trial=trial)
    assert [d.type.per_protocol for d in deviations.order_by("id")] == [
        "excluded",
        "kept",
        "judged",
        "excluded",
    ]
    assert deviations.filter(excludes_per_protocol=True).count() == 2
