"""Weekly SMS tracking of the SAFE trial through the database: the questions planned at
enrolment, sent one at a time by the dispatcher, replies matched to the oldest open
question, clarification once, STOP, reminders and the 3-missed-weeks list.

The SAFE defaults come from protocols/safe.toml (shared seeds: weekly SMS on Sunday
evening, Q1 pain 0-10, Q2 days of sick leave 0-7, Q2 after Q1 is answered)."""

from __future__ import annotations

from datetime import date, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.utils import translation

from enrolment.actions.status import withdraw_participant
from enrolment.audit import participant_history
from followup.models import InboundSms, SmsMessage, SmsOptOut, SmsPrompt
from followup.sending import loop as send_loop
from followup.sms import tracking
from followup.sms.backends import BaseSmsBackend, InMemoryBackend
from questionnaires.models import Response

from ..factories import enrol
from .conftest import clinic_of, use_safe_built_once

CPH = ZoneInfo("Europe/Copenhagen")
BASELINE = date(2022, 1, 5)  # a Wednesday: the first question goes on Sunday 9 January
safe = use_safe_built_once()  # loaded once for the module


@pytest.fixture
def sms(settings):
    settings.SMS_BACKEND = "followup.sms.backends.InMemoryBackend"
    InMemoryBackend.outbox.clear()
    yield InMemoryBackend.outbox
    InMemoryBackend.outbox.clear()


def person(safe, n=1, **kw):
    return enrol(
        clinic_of(safe),
        enrolled_on=BASELINE,
        preferred_language=kw.pop("preferred_language", "da"),
        mobile=kw.pop("mobile", f"+45201{n:05d}"),
        **kw,
    )


_sids = iter(range(1, 10**9))


def reply(participant, text, at):
    """A reply as the webhook stores it, then interpreted."""
    number = participant.personal_details.mobile
    inbound, _ = tracking.store(f"SM{next(_sids):032d}", number, text, now=at)
    return tracking.receive(inbound.pk, at)


def to(participant, outbox):
    return [m for m in outbox if m.to == participant.personal_details.mobile]


def week_at(week: int):
    first = tracking.SmsPrompt.objects.filter(week=week, position=0).first()
    return first.due_at


def run(at):
    return tracking.run(now=at)


def test_52_sunday_evening_questions_at_local_time_across_daylight_saving(safe, sms):
    p = person(safe)
    prompts = list(SmsPrompt.objects.filter(participant=p).order_by("week"))
    assert [q.week for q in prompts] == list(range(1, 53))
    assert {q.question for q in prompts} == {"pain"}  # Q2 only after Q1 is answered
    local = [q.due_at.astimezone(CPH) for q in prompts]
    assert all(t.weekday() == 6 and t.time() == time(18, 0) for t in local)
    assert local[0].date() == date(2022, 1, 9)
    # Both clock changes of 2022 fall inside the year: the UTC hour moves, the local one not.
    assert {t.utcoffset() for t in local} == {timedelta(hours=1), timedelta(hours=2)}


def test_a_simulated_year_gives_52_rows_for_a_participant_who_answers(safe, sms):
    keen = person(safe, 1)
    pain_only = person(safe, 2, preferred_language="en")
    silent = person(safe, 3)
    for week in range(1, 53):
        at = SmsPrompt.objects.get(participant=keen, week=week, position=0).due_at
        run(at)
        reply(keen, f"{week % 11}", at + timedelta(minutes=5))
        reply(pain_only, "3", at + timedelta(minutes=6))
        run(at + timedelta(minutes=7))  # Q2 goes out to those who answered Q1
        reply(keen, "2 dage", at + timedelta(minutes=9))
        run(at + timedelta(days=1, minutes=10))  # next-day reminders of unanswered questions
    run(week_at(52) + timedelta(days=8))  # the last week closes

    rows = Response.objects.filter(participant=keen, instrument="sms_tracking").order_by("week")
    assert [r.week for r in rows] == list(range(1, 53))
    assert all(r.mode == Response.PATIENT_SMS and r.completed_at for r in rows)
    assert [r.scores["pain"] for r in rows] == [w % 11 for w in range(1, 53)]
    assert {r.scores["sick_leave_days"] for r in rows} == {2}
    partial = Response.objects.filter(participant=pain_only, instrument="sms_tracking")
    assert partial.count() == 52
    assert {r.scores["sick_leave_days"] for r in partial} == {None}
    assert not Response.objects.filter(participant=silent, instrument="sms_tracking").exists()

    def reminders(p):
        return SmsMessage.objects.filter(participant=p, kind=SmsMessage.REMINDER).count()

    # keen: Q1 and Q2 every week, no reminder ever
    assert len(to(keen, sms)) == 104 and reminders(keen) == 0
    # pain only: Q1 and Q2 every week, and a reminder of each unanswered Q2
    assert len(to(pain_only, sms)) == 52 * 3 and reminders(pain_only) == 52
    assert sum(m.body.startswith("Reminder:") for m in to(pain_only, sms)) == 52
    # silent: 52 questions, 52 reminders, never Q2; on the list to be phoned
    assert len(to(silent, sms)) == 104
    assert not SmsPrompt.objects.filter(participant=silent, position=1).exists()
    assert set(SmsPrompt.objects.filter(participant=silent).values_list("status", flat=True)) == {
        SmsPrompt.EXPIRED
    }
    rows = tracking.weekly_rows(keen.trial.participants.all())
    assert tracking.missed_in_a_row(rows) == [silent.study_id]
    # every SMS went out at 18:00 local (the reminders a day later, same time)
    sent = SmsMessage.objects.filter(kind=SmsMessage.QUESTION, prompt__position=0)
    assert sent.count() == 52 * 3
    assert {m.sent_at.astimezone(CPH).time() for m in sent} == {time(18, 0)}


def test_questions_are_in_the_participants_language(safe, sms):
    da, en = person(safe, 1), person(safe, 2, preferred_language="en")
    run(week_at(1))
    assert to(da, sms)[0].body.startswith("Hvor ondt har du haft i ryggen")
    assert to(en, sms)[0].body.startswith("How bad has your back pain been")


def test_a_late_reply_counts_until_the_next_weeks_question_is_sent(safe, sms):
    p = person(safe)
    run(week_at(1))
    late = week_at(2) - timedelta(minutes=1)
    assert reply(p, "6", late).outcome == InboundSms.ANSWER
    assert SmsPrompt.objects.get(participant=p, week=1, position=0).value == 6

    q = person(safe, 2)
    run(week_at(1))
    run(week_at(2))  # week 2's question goes out: week 1 closes unanswered
    assert SmsPrompt.objects.get(participant=q, week=1).status == SmsPrompt.EXPIRED
    r = reply(q, "4", week_at(2) + timedelta(minutes=1))
    assert r.prompt.week == 2 and r.prompt.value == 4


def test_a_second_answer_replaces_the_first_only_before_the_next_question(safe, sms):
    p = person(safe)
    at = week_at(1)
    run(at)
    reply(p, "7", at + timedelta(minutes=1))
    second = reply(p, "5", at + timedelta(minutes=2))  # Q2 not sent yet
    assert second.outcome == InboundSms.REPLACED
    prompt = SmsPrompt.objects.get(participant=p, week=1, question="pain")
    assert prompt.value == 5
    reasons = list(prompt.history.values_list("history_change_reason", flat=True))
    assert "second reply replaced 7 by 5" in reasons
    response = Response.objects.get(participant=p, week=1)
    assert response.answers == {"pain": 5}
    assert response.history.filter(history_change_reason__contains="replaced pain 7 by 5")

    run(at + timedelta(minutes=3))  # Q2 goes out: now a reply answers Q2, not Q1
    third = reply(p, "1", at + timedelta(minutes=4))
    assert third.outcome == InboundSms.ANSWER and third.prompt.question == "sick_leave_days"
    assert SmsPrompt.objects.get(participant=p, week=1, question="pain").value == 5
    assert Response.objects.get(participant=p, week=1).answers == {"pain": 5, "sick_leave_days": 1}


def test_unclear_replies_get_one_clarification_per_question_and_week(safe, sms):
    p = person(safe)
    at = week_at(1)
    run(at)
    for n, text in enumerate(["12", "5 eller 6", "🙂"]):
        r = reply(p, text, at + timedelta(minutes=n + 1))
        assert r.outcome == InboundSms.UNCLEAR and r.body == text  # the raw text is kept
    run(at + timedelta(minutes=10))
    clarifications = SmsMessage.objects.filter(participant=p, kind=SmsMessage.CLARIFICATION)
    assert clarifications.count() == 1
    assert "fra 0 til 10" in clarifications.get().body
    assert reply(p, "8", at + timedelta(minutes=11)).outcome == InboundSms.ANSWER
    # the next question of the same week may be clarified once too
    run(at + timedelta(minutes=12))
    reply(p, "ti dage", at + timedelta(minutes=13))  # 10 is out of 0-7
    run(at + timedelta(minutes=14))
    assert clarifications.count() == 2
    assert "fra 0 til 7" in clarifications.order_by("-id").first().body


def test_stop_ends_all_sms_tells_the_coordinator_and_confirms_once(safe, sms, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    p = person(safe)
    coordinator = safe.roles.get(role="coordinator").user
    coordinator.email = "coordinator@safe.example"
    coordinator.save()
    at = week_at(1)
    run(at)
    assert reply(p, "Stop", at + timedelta(minutes=1)).outcome == InboundSms.STOP
    assert reply(p, "STOP", at + timedelta(minutes=2)).outcome == InboundSms.STOP
    run(at + timedelta(minutes=3))
    assert SmsOptOut.objects.filter(participant=p).count() == 1
    assert not SmsPrompt.objects.filter(participant=p, status__in=SmsPrompt.OPEN).exists()
    confirmations = [m for m in to(p, sms) if "ikke flere" in m.body]
    assert len(confirmations) == 1
    [note] = mail.outbox
    assert note.to == ["coordinator@safe.example"]
    assert p.study_id in note.body and p.personal_details.mobile not in note.body
    sent_before = len(sms)
    for week in (2, 3):
        run(week_at(week) + timedelta(days=1, minutes=1))
    assert len(sms) == sent_before  # nothing more, not even reminders
    run(at + timedelta(minutes=30))
    assert len(mail.outbox) == 1  # told once


@pytest.mark.parametrize("word", ["stopp", "afmeld", "avsluta"])
def test_swedish_and_danish_stop_words(safe, sms, word):
    p = person(safe)
    run(week_at(1))
    assert reply(p, word, week_at(1) + timedelta(minutes=1)).outcome == InboundSms.STOP


def test_an_unknown_number_gets_no_answer_and_leaves_nothing_personal(safe, sms):
    person(safe)
    run(week_at(1))
    before = len(sms)
    inbound, _ = tracking.store("SMunknown", "+4520999999", "5 (my back)", now=week_at(1))
    r = tracking.receive(inbound.pk, week_at(1))
    assert r.outcome == InboundSms.UNKNOWN_SENDER
    assert (r.sender, r.body, r.participant) == ("", "", None)
    run(week_at(1) + timedelta(minutes=5))
    assert len(sms) == before


def test_a_withdrawn_participant_is_asked_nothing_more(safe, sms):
    p = person(safe)
    run(week_at(1))
    withdraw_participant(p, date(2022, 1, 12), "moved abroad")
    assert not SmsPrompt.objects.filter(participant=p, status__in=SmsPrompt.OPEN).exists()
    before = len(sms)
    run(week_at(2))
    assert len(sms) == before


def test_a_question_that_cannot_be_delivered_is_not_waiting_for_a_reply(safe, sms):
    p = person(safe, mobile="")
    run(week_at(1))
    prompt = SmsPrompt.objects.get(participant=p, week=1)
    assert prompt.status == SmsPrompt.FAILED
    message = SmsMessage.objects.get(prompt=prompt)
    assert message.status == "failed" and "E.164" in message.error


def test_retry_of_interpretation_after_a_crash(safe, sms):
    p = person(safe)
    run(week_at(1))
    inbound, _ = tracking.store("SMcrash", p.personal_details.mobile, "3", now=week_at(1))
    # stored but never interpreted (the process died): the dispatcher interprets it
    stats = run(week_at(1) + timedelta(minutes=1))
    assert stats.replies == 1
    inbound.refresh_from_db()
    assert inbound.outcome == InboundSms.ANSWER and inbound.value == 3


def test_queries_per_batch_do_not_grow_with_the_batch(safe, sms):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    counts = []
    for n in (5, 25):
        SmsMessage.objects.all().delete()
        SmsPrompt.objects.all().delete()
        people = [person(safe, 1000 * n + k) for k in range(n)]
        at = SmsPrompt.objects.filter(participant=people[0], week=1).get().due_at
        with CaptureQueriesContext(connection) as ctx:
            stats = tracking.dispatch_due(at, batch_size=100)
        assert stats.sent == n
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1]


def test_the_weeks_second_answer_writes_its_response_once_with_the_window_flag(safe, sms):
    """Q2's answer goes into the week's response Q1 made: the participant and timepoint
    the reply has in hand give its window flag in the same write (an UPDATE after it
    and two reads cost a reply a fifth of its queries)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from questionnaires.flags import refresh_windows

    p = person(safe)
    at = week_at(1)
    run(at)
    reply(p, "4", at + timedelta(minutes=1))
    run(at + timedelta(minutes=2))
    with CaptureQueriesContext(connection) as ctx:
        reply(p, "2", at + timedelta(minutes=3))
    writes = [
        q["sql"] for q in ctx.captured_queries
        if q["sql"].startswith('UPDATE "questionnaires_response"')
    ]  # fmt: skip
    assert len(writes) == 1
    response = Response.objects.get(participant=p, week=1)
    assert response.answers == {"pain": 4, "sick_leave_days": 2}
    flag = response.outside_window
    refresh_windows(Response.objects.filter(pk=response.pk))
    response.refresh_from_db()
    assert response.outside_window == flag


def test_the_participant_page_shows_the_weekly_answers_and_a_stop(safe, sms, client):
    from django.contrib.auth import get_user_model
    from django.urls import reverse

    p = person(safe)
    at = week_at(1)
    run(at)
    reply(p, "7", at + timedelta(minutes=1))
    run(at + timedelta(minutes=2))
    reply(p, "stop", at + timedelta(minutes=3))
    client.force_login(get_user_model().objects.get(username="safe-coord"))
    page = client.get(reverse("participant_detail", args=[p.study_id])).content.decode()
    section = page[page.index('id="sms"') :]
    assert "1 of 1 weeks answered so far (52 weeks planned)" in section
    assert "Back pain (0-10): <strong>7</strong>" in section  # the protocol's label
    assert "Stopped SMS on" in section


def test_a_dispatcher_killed_after_the_gateway_accepted_does_not_text_twice(
    safe, sms, settings, monkeypatch
):
    """The same sent marks as the emails (followup.dispatch): accepted SMS of a batch
    whose outcome never reached the database are recorded, not sent again."""

    class Crash(BaseException):  # like a SIGKILL: no except clause catches it
        pass

    people = [person(safe, n) for n in range(1, 6)]
    at = week_at(1)
    real_send, real_bulk_set = InMemoryBackend.send, send_loop.bulk_set
    calls = {"n": 0}

    def dies_on_the_third(self, to, body, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise Crash
        return real_send(self, to, body, **kwargs)

    def killed_before_recording(model, objs, fields):
        if model is SmsMessage:
            raise Crash
        return real_bulk_set(model, objs, fields)

    monkeypatch.setattr(InMemoryBackend, "send", dies_on_the_third)
    monkeypatch.setattr(send_loop, "bulk_set", killed_before_recording)
    with pytest.raises(Crash):
        tracking.dispatch_due(at, 50)
    assert len(sms) == 2 and SmsMessage.objects.filter(status="sending").count() == 5
    monkeypatch.undo()
    settings.SMS_BACKEND = "followup.sms.backends.InMemoryBackend"

    lease = timedelta(seconds=settings.FOLLOWUP_SENDING_LEASE_SECONDS, minutes=1)
    stats = tracking.dispatch_due(at + lease, 50)
    assert (stats.recovered, stats.sent) == (2, 3)
    assert sorted(len(to(p, sms)) for p in people) == [1] * 5
    assert SmsMessage.objects.filter(status="sent").count() == 5


def test_a_dispatcher_killed_during_the_gateway_call_does_not_text_twice(
    safe, sms, settings, monkeypatch
):
    """Killed while the gateway had the third SMS but had not answered: no sent mark, only
    the in-flight mark. The dispatcher that takes the claims over finds it in the
    gateway's own record and records it; the two never tried go out once."""

    class Crash(BaseException):  # like a SIGKILL: no except clause catches it
        pass

    people = [person(safe, n) for n in range(1, 6)]
    at = week_at(1)
    real_send, real_bulk_set = InMemoryBackend.send, send_loop.bulk_set
    calls = {"n": 0}

    def accepted_then_killed(self, to, body, **kwargs):
        calls["n"] += 1
        result = real_send(self, to, body, **kwargs)
        if calls["n"] == 3:
            raise Crash  # the gateway has it; the answer never arrives
        return result

    def killed_before_recording(model, objs, fields):
        if model is SmsMessage:
            raise Crash
        return real_bulk_set(model, objs, fields)

    monkeypatch.setattr(InMemoryBackend, "send", accepted_then_killed)
    monkeypatch.setattr(send_loop, "bulk_set", killed_before_recording)
    with pytest.raises(Crash):
        tracking.dispatch_due(at, 50)
    assert len(sms) == 3 and SmsMessage.objects.filter(status="sending").count() == 5
    monkeypatch.undo()
    settings.SMS_BACKEND = "followup.sms.backends.InMemoryBackend"

    lease = timedelta(seconds=settings.FOLLOWUP_SENDING_LEASE_SECONDS, minutes=1)
    stats = tracking.dispatch_due(at + lease, 50)
    assert (stats.recovered, stats.sent, stats.uncertain) == (3, 2, 0)
    assert sorted(len(to(p, sms)) for p in people) == [1] * 5
    assert SmsMessage.objects.filter(status="sent", in_flight_at=None).count() == 5
    assert {m.provider_id for m in SmsMessage.objects.all()} == {s.provider_id for s in sms}


def test_a_backend_that_keeps_no_record_sends_an_uncertain_sms_again(
    safe, sms, settings, monkeypatch
):
    """The rule where the gateway cannot be asked: a question twice is cheaper than a
    week without an answer."""
    person(safe, 1)
    at = week_at(1)
    tracking.dispatch_due(at, 50)
    message = SmsMessage.objects.get()
    # As a worker killed during the call leaves it: claimed, in flight, no outcome.
    SmsMessage.objects.filter(pk=message.pk).update(
        status="sending", claimed_at=at, in_flight_at=at, provider_id=""
    )
    # A gateway that keeps no record of what it sent (BaseSmsBackend.find_sent).
    monkeypatch.setattr(InMemoryBackend, "find_sent", BaseSmsBackend.find_sent)
    lease = timedelta(seconds=settings.FOLLOWUP_SENDING_LEASE_SECONDS, minutes=1)
    stats = tracking.dispatch_due(at + lease, 50)
    assert (stats.uncertain, stats.sent, stats.recovered) == (1, 1, 0)
    assert len(sms) == 2  # the first copy, and this one
    assert SmsMessage.objects.get().in_flight_at is None


def test_the_message_log_lists_the_sms_with_recipients_only_for_allowed_roles(safe, sms, client):
    from django.contrib.auth import get_user_model
    from django.urls import reverse

    from enrolment.models import TrialRole
    from tests.factories import TrialRoleFactory, UserFactory

    p = person(safe)
    run(week_at(1))
    url = reverse("followup_messages", args=["safe"]) + "?channel=sms"
    client.force_login(get_user_model().objects.get(username="safe-coord"))
    page = client.get(url).content.decode()
    assert 'id="sms-log"' in page and p.study_id in page
    assert p.personal_details.mobile in page  # a coordinator may see personal details
    statistician = TrialRoleFactory(
        user=UserFactory(username="safe-stat"), trial=safe, role=TrialRole.STATISTICIAN
    ).user
    client.force_login(statistician)
    page = client.get(url).content.decode()
    assert p.study_id in page and p.personal_details.mobile not in page


def test_a_participant_who_died_is_not_on_the_list_to_phone(safe, sms):
    from enrolment.actions.status import record_death

    p = person(safe)
    for n in (1, 2, 3, 4):
        run(week_at(n))
    rows = tracking.weekly_rows(safe.participants.all())
    assert tracking.missed_in_a_row(rows) == [p.study_id]
    record_death(p, week_at(4).date(), "informed by the family", today=week_at(4).date())
    rows = tracking.weekly_rows(safe.participants.all())
    assert tracking.missed_in_a_row(rows) == []
    assert len(rows) == 3  # the weeks still count in the response rates


def test_a_corrected_mobile_number_counts_for_sms_already_planned(safe, sms):
    p = person(safe, 1)
    at = week_at(1)
    tracking.plan_due(at, 50, tracking.SmsStats())  # written for the old number
    details = p.personal_details
    details.mobile = "+4520999888"
    details._change_reason = "the participant has a new phone"
    details.save()
    tracking.send_claimed(
        tracking.claim_waiting(
            at, 50, SmsMessage, ("prompt", "participant__trial", "participant__personal_details")
        ),
        at,
        tracking.SmsStats(),
    )
    assert [m.to for m in sms] == ["+4520999888"]
    assert SmsMessage.objects.get(participant=p).recipient == "+4520999888"


def test_a_number_stopped_at_the_gateway_is_recorded_as_an_opt_out(safe, sms, monkeypatch):
    from followup.sms.backends import SmsError

    def refused(self, to, body, **kwargs):
        raise SmsError("Twilio HTTP 400 error 21610", permanent=True, code=21610)

    p = person(safe)
    monkeypatch.setattr(InMemoryBackend, "send", refused)
    run(week_at(1))
    assert SmsOptOut.objects.get(participant=p).source == "provider"
    assert not SmsPrompt.objects.filter(participant=p, status__in=SmsPrompt.OPEN).exists()
    assert tracking.missed_in_a_row(tracking.weekly_rows(safe.participants.all())) == []


def test_a_slow_gateway_hands_back_what_it_could_not_try_within_half_the_lease(
    safe, sms, settings, monkeypatch
):
    import time

    settings.FOLLOWUP_SENDING_LEASE_SECONDS = 0.25  # seconds in production; fractions here
    real_send = InMemoryBackend.send

    def slow(self, to, body, **kwargs):
        time.sleep(0.075)
        return real_send(self, to, body, **kwargs)

    monkeypatch.setattr(InMemoryBackend, "send", slow)
    people = [person(safe, n) for n in range(1, 9)]
    at = week_at(1)
    first = tracking.dispatch_due(at, 50)
    assert 0 < first.sent < 8
    waiting = SmsMessage.objects.filter(status="pending")
    assert waiting.count() == 8 - first.sent and {m.attempts for m in waiting} == {0}
    # later runs take only what was handed back: nobody is texted twice
    sent = first.sent
    for n in range(1, 10):
        sent += tracking.dispatch_due(at + timedelta(seconds=5 * n), 50).sent
    assert sent == 8
    assert sorted(len(to(p, sms)) for p in people) == [1] * 8


def test_the_database_counts_agree_with_the_row_by_row_rules(safe, sms):
    """Over weeks replayed with random answering (the demo's replay), the SQL counts the
    pages use equal the pure functions applied to every row."""
    from collections import Counter

    from followup.sms.demo import replay_weeks

    for n in range(1, 9):
        person(safe, n)
    replay_weeks(safe, week_at(20))
    people = safe.participants.all()
    rows = tracking.weekly_rows(people)
    asked, answered = (
        Counter(r["week"] for r in rows),
        Counter(r["week"] for r in rows if r["answered"]),
    )
    assert [(w["week"], w["sent"], w["answered"]) for w in tracking.weekly_rates(people)] == [
        (w, asked[w], answered[w]) for w in sorted(asked)
    ]
    expected = tracking.missed_in_a_row(rows)
    assert expected  # the replay leaves one participant quiet
    assert tracking.missed_weeks_in_a_row(people) == expected


def test_the_next_days_reminder_keeps_the_local_time_over_a_clock_change():
    from datetime import UTC, datetime

    # Saturday 26 March 2022 18:00 in Copenhagen (CET); the clocks go forward that night
    sent = datetime(2022, 3, 26, 17, 0, tzinfo=UTC)
    at = tracking.reminder_at(sent, 24, "Europe/Copenhagen").astimezone(CPH)
    assert (at.date(), at.time()) == (date(2022, 3, 27), time(18, 0))
    assert at - sent == timedelta(hours=23)


def test_a_reply_reads_its_sender_once(safe, sms):
    """The participant, their trial and details are read with the lock on the sender
    (``_senders``), not again for the week's response: a trial of 2,000 participants
    answers twice a week."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    p = person(safe)
    at = week_at(1)
    run(at)
    with CaptureQueriesContext(connection) as ctx:
        reply(p, "6", at + timedelta(minutes=1))
    from followup.sms import inbound

    # On PostgreSQL the sender lookup runs as a prepared statement (trialsite.compiled).
    senders = f"EXECUTE {inbound._SENDERS._name} "
    reads = [
        q["sql"] for q in ctx.captured_queries
        if (q["sql"].startswith("SELECT") and 'FROM "enrolment_participant"' in q["sql"])
        or q["sql"].startswith(senders)
    ]  # fmt: skip
    assert len(reads) == 1, reads
    response = Response.objects.get(participant=p, week=1)
    assert (response.answers, response.language) == ({"pain": 6}, "da")


def test_the_audit_trail_tells_one_weeks_answers_from_the_next(safe, sms):
    p = person(safe)
    for week in (1, 2):
        at = week_at(week)
        run(at)
        reply(p, "4", at + timedelta(minutes=1))
    whats = {e.what for e in participant_history(p) if e.what.startswith("Response")}
    assert {"Response sms_tracking at sms week 1",
            "Response sms_tracking at sms week 2"} <= whats, whats
    with translation.override("da"):
        labels = {e.label for e in participant_history(p) if e.label}
    assert any(label.endswith(", uge 1") for label in labels), labels
    assert any(label.endswith(", uge 2") for label in labels), labels
