"""The README's first command: the demo trial with staff for every role and ~60
participants spread over BetterBack's dog-leg schedule."""

from collections import Counter
from datetime import date

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command

from enrolment.demo import DEMO_PASSWORD, build_demo
from enrolment.models import Participant, Physiotherapist

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
    for username in logins:
        assert authenticate(username=username, password=DEMO_PASSWORD), username


def test_demo_command_twice_adds_nobody(capsys):
    call_command("demo", "--no-serve", "--participants", "12")
    call_command("demo", "--no-serve", "--participants", "12")
    assert Participant.objects.count() == 12
    out = capsys.readouterr().out
    assert "coordinator" in out and DEMO_PASSWORD in out
