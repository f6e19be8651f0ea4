"""The README's first command: the demo trial with staff for every role and ~60
participants spread over BetterBack's dog-leg schedule."""

from collections import Counter
from datetime import date

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.core.management import call_command

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
    for username in logins:
        assert authenticate(username=username, password=DEMO_PASSWORD), username
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

    args = ["--participants", "12", "--safe-participants", "3", "--other-participants", "0"]
    call_command("demo", "--no-serve", *args)
    replies = InboundSms.objects.count()
    responses = Response.objects.count()
    call_command("demo", "--no-serve", *args)
    assert Response.objects.count() == responses > 0  # the past is replayed once
    assert Participant.objects.filter(trial__code="betterback").count() == 12
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


def test_demo_is_a_trial_in_full_flow(tmp_path, settings):
    """Every seed trial with participants, and their past follow-up as a running trial
    has it: what a coordinator and a statistician look at first is never empty."""
    from django.db.models import Count, Q
    from django.utils import timezone

    from analysis.models import AnalysisRun
    from followup.models import Contact, Message
    from trialsite.demo.build import build_site

    settings.VAR_DIR = tmp_path
    built = build_site(timezone.localdate(), timezone.now(), participants=24, safe=3, others=4)
    trials = {t.code: t for t in built.trials}
    assert set(trials) == {"betterback", "safe", "selfback", "impact-lbp"}
    assert all(t.participants.exists() for t in trials.values())
    finals = Response.objects.filter(entry=Response.FINAL, completed_at__isnull=False)
    for trial in trials.values():  # a baseline for everyone
        assert finals.filter(participant__trial=trial, timepoint__offset=0,
                             timepoint__anchor="enrolment").values("participant").distinct(
        ).count() == trial.participants.count(), trial.code  # fmt: skip
    bb = trials["betterback"]
    rates = (
        Contact.objects.filter(timepoint__trial=bb, participant__isnull=False)
        .values("timepoint__code")
        .annotate(
            done=Count("id", filter=Q(status="completed")),
            missed=Count("id", filter=Q(status="missed")),
        )  # fmt: skip
    )
    rate = {r["timepoint__code"]: r["done"] / (r["done"] + r["missed"]) for r in rates
            if r["done"] + r["missed"]}  # fmt: skip
    assert 0.6 <= rate["3m"] <= 0.95, rate
    # Reminders went out before some answers came in, on the moved clock.
    reminded = Contact.objects.filter(status="completed", reminders_sent__gt=0)
    assert reminded.exists()
    c = reminded.first()
    last_reminder = c.messages.filter(kind=Message.REMINDER).latest("created").created
    answered = finals.filter(participant=c.participant, physiotherapist=c.physiotherapist,
                             timepoint=c.timepoint).latest("completed_at").completed_at  # fmt: skip
    assert c.invited_at < last_reminder < answered <= timezone.now()
    # Paper forms entered twice and resolved; the CRPE-tool at the first and final visit;
    # physiotherapists' questionnaires before and after the workshop.
    assert Response.objects.filter(entry=Response.SECOND_ENTRY).exists()
    assert finals.filter(mode=Response.STAFF_PAPER).exclude(resolution={}).exists()
    crpe = finals.filter(participant__trial=bb, timepoint__respondent="clinician")
    assert set(crpe.values_list("timepoint__code", flat=True)) == {"crpe-first", "crpe-final"}
    physio = finals.filter(physiotherapist__clinic__cluster__trial=bb)
    assert {"pt-before", "pt-after"} <= set(physio.values_list("timepoint__code", flat=True))
    assert bb.participants.filter(status=Participant.WITHDRAWN).count() == 1
    assert bb.participants.filter(status=Participant.DIED).count() == 1
    # The analysis plan runs on it and finds the simulated effect's direction.
    from analysis.runs import run_analysis

    statistician = get_user_model().objects.get(username="statistician")
    run = run_analysis(AnalysisRun.objects.create(trial=bb, user=statistician,
                                                  analysis="mixed", outcome="odi"))  # fmt: skip
    assert run.status == AnalysisRun.DONE, run.error
    assert "intervention - control" in run.output
