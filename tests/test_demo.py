"""The README's first command: the demo trial with staff for every role and ~60
participants spread over BetterBack's dog-leg schedule."""

from collections import Counter
from datetime import date

import pytest
from django.core.management import call_command
from django.test import Client

from enrolment.demo import DEMO_PASSWORD, build_demo
from enrolment.models import Deviation, Participant, Physiotherapist
from questionnaires.models import Response

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


def test_demo_command_twice_adds_nobody(capsys):
    from followup.models import InboundSms

    args = ["--participants", "6", "--safe-participants", "3", "--other-participants", "0"]
    call_command("demo", "--no-serve", *args)
    replies = InboundSms.objects.count()
    responses = Response.objects.count()
    call_command("demo", "--no-serve", *args)
    assert Response.objects.count() == responses > 0  # the past is replayed once
    assert Participant.objects.filter(trial__code="betterback").count() == 6
    assert Participant.objects.filter(trial__code="safe").count() == 3
    assert InboundSms.objects.count() == replies > 0  # past weeks replayed once
    out = capsys.readouterr().out
    assert "coordinator" in out and DEMO_PASSWORD in out
    # Each login as the site names its role (the login is datamanager, no underscore).
    assert "datamanager    data manager" in out and "data_manager" not in out


def test_demo_has_a_safe_trial_with_a_history_of_weekly_sms():
    from django.utils import timezone

    from enrolment.demo import build_safe_demo
    from followup.models import InboundSms, SmsOptOut, SmsPrompt
    from followup.sms import tracking
    from followup.sms.demo import replay_weeks

    build_demo(date.today(), participants=4)
    safe = build_safe_demo(date.today(), participants=6)
    assert replay_weeks(safe, timezone.now()) > 0
    statuses = set(
        SmsPrompt.objects.filter(participant__trial=safe).values_list("status", flat=True)
    )
    assert {"answered", "expired", "scheduled", "cancelled"} <= statuses
    # every reply went through the real interpretation: none left pending
    assert not InboundSms.objects.filter(outcome="pending").exists()
    assert SmsOptOut.objects.filter(participant__trial=safe).count() == 1
    quiet = safe.participants.order_by("pk")[1]
    assert quiet.study_id in tracking.missed_in_a_row(tracking.weekly_rows(safe.participants.all()))


def test_demo_has_a_participant_awaiting_reconsent():
    from django.utils import timezone

    from enrolment import consent
    from enrolment.models import Trial
    from trialsite.demo.build import build_site

    build_site(date.today(), timezone.now(), participants=8, safe=0, others=0)
    trial = Trial.objects.get(code="betterback")
    waiting = consent.awaiting_reconsent(trial)
    assert len(waiting) == 1 and consent.is_held(waiting[0])
    assert consent.required_document(trial).version == "2.0"
    # The amendment's reload keeps the demo's logins working without a second factor.
    assert not trial.two_factor_required


def test_the_demo_has_a_clinic_manager_of_the_printed_physiotherapists_clinic():
    from django.utils import timezone

    from enrolment.models import TrialRole
    from trialsite.demo.build import build_site

    built = build_site(date.today(), timezone.now(), participants=8, safe=0, others=0)
    (physio,) = [u for u, what in built.logins.items() if what.startswith("physiotherapist")]
    role = TrialRole.objects.get(user__username="manager", role=TrialRole.CLINIC_MANAGER)
    clinic = Physiotherapist.objects.get(user__username=physio).clinic
    assert list(role.clinics.all()) == [clinic] and role.trial.code == "betterback"
    assert built.logins["manager"] == f"clinic manager at {clinic.name}"
    client = Client()
    client.post("/accounts/login/", {"username": "manager", "password": DEMO_PASSWORD})
    page = client.get("/monitoring/trials/betterback/clinics/").content.decode()
    assert clinic.name in page
