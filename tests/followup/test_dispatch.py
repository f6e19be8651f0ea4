"""The dispatcher (followup.dispatch): once and only once, whatever Celery does.

The email backend is Django's locmem backend here (pytest-django's default), so that
what was handed to the provider is ``mail.outbox``; the SMTP tests use a real server."""

import socket
import threading
from datetime import UTC, date, datetime, timedelta

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext

from followup import dispatch as dispatcher
from followup.bulk import bulk_insert
from followup.models import Contact, Message
from followup.sending import loop as send_loop
from followup.tasks import dispatch as dispatch_task

from ..factories import enrol

DUE_3M = datetime(2017, 8, 2, 7, tzinfo=UTC)  # 3 m of an enrolment on 2 May 2017, 09:00 CEST


def enrol_many(clinic, n):
    return [enrol(clinic, enrolled_on=date(2017, 5, 2)) for _ in range(n)]


def invitations_by_recipient() -> dict[str, int]:
    counts = {}
    for m in mail.outbox:
        for to in m.to:
            counts[to] = counts.get(to, 0) + 1
    return counts


@pytest.mark.django_db
def test_due_contacts_are_sent_once_and_a_rerun_sends_nothing(clinic_west):
    people = enrol_many(clinic_west, 3)
    assert dispatcher.dispatch_due(DUE_3M - timedelta(minutes=1), 50).sent == 0
    stats = dispatcher.dispatch_due(DUE_3M, 50)
    assert (stats.invitations, stats.sent) == (3, 3)
    assert len(mail.outbox) == 3
    for _ in range(3):
        assert dispatcher.dispatch_due(DUE_3M + timedelta(minutes=5), 50).sent == 0
    assert len(mail.outbox) == 3
    log = Message.objects.get(contact__participant=people[0])
    assert log.status == Message.SENT and log.attempts == 1 and log.provider_id
    assert log.idempotency_key == f"{log.contact_id}:invitation:0"
    assert log.recipient == people[0].personal_details.email
    assert log.template == "followup/email/invitation" and log.language == "sv"
    assert log.sent_at >= DUE_3M and log.created == DUE_3M


@pytest.mark.django_db
def test_queries_per_batch_do_not_grow_with_the_batch(clinic_west):
    enrol_many(clinic_west, 25)
    with CaptureQueriesContext(connection) as small:
        assert dispatcher.dispatch_due(DUE_3M, 5).sent == 5
    with CaptureQueriesContext(connection) as large:
        assert dispatcher.dispatch_due(DUE_3M, 20).sent == 20
    assert len(large.captured_queries) == len(small.captured_queries)
    statements = [q["sql"] for q in large.captured_queries if "SAVEPOINT" not in q["sql"]]
    # 9, and two for the consent hold (enrolment.consent.reading.held_ids: the contacts planned,
    # and the messages sent, which may have been written before a hold): constant per batch.
    assert len(statements) <= 11, statements
    # Reminders and missed contacts: still constant.
    week = DUE_3M + timedelta(days=7)
    with CaptureQueriesContext(connection) as small:
        assert dispatcher.dispatch_due(week, 5).reminders == 5
    with CaptureQueriesContext(connection) as large:
        assert dispatcher.dispatch_due(week, 20).reminders == 20
    assert len(large.captured_queries) == len(small.captured_queries)
    closed = datetime(2017, 9, 2, tzinfo=UTC)
    with CaptureQueriesContext(connection) as small:
        assert dispatcher.dispatch_due(closed, 5).missed == 5
    with CaptureQueriesContext(connection) as large:
        assert dispatcher.dispatch_due(closed, 20).missed == 20
    assert len(large.captured_queries) == len(small.captured_queries)


@pytest.mark.django_db
def test_the_task_body_twice_or_a_flushed_queue_change_nothing(clinic_west, settings):
    """Celery only triggers: running the task twice (a retry, a duplicate delivery) sends
    each message once; a run that never happened (a flushed queue) is caught up by the
    next one, because the due work is in the database."""
    enrol_many(clinic_west, 4)
    # The queue was flushed for months: nothing ran. The next run finds everything due.
    before_due = dispatcher.run(batch_size=3, now=DUE_3M - timedelta(days=1))
    assert before_due.sent == 0
    dispatcher.run(batch_size=3, now=DUE_3M)
    dispatcher.run(batch_size=3, now=DUE_3M)
    assert len(mail.outbox) == 4
    # The Celery task itself (the real clock, years later) catches up on what 2017
    # left: every window (3, 6, 12 months of 4 people) has closed, so nothing is sent
    # late and all 12 contacts are marked missed, once.
    first = dispatch_task()
    second = dispatch_task()
    assert (first["missed"], first["sent"], second["missed"]) == (12, 0, 0)
    assert len(mail.outbox) == 4
    assert set(Contact.objects.values_list("status", flat=True)) == {Contact.MISSED}


def closed_port() -> int:
    """A port on this machine that nothing listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Crash(BaseException):
    """The process dies mid-batch (not an ordinary exception: nothing catches it)."""


@pytest.mark.django_db
def test_an_error_from_the_backend_mid_batch_loses_nothing_and_doubles_nothing(
    clinic_west, monkeypatch
):
    enrol_many(clinic_west, 5)
    from django.core.mail.backends.locmem import EmailBackend

    real = EmailBackend.send_messages
    calls = {"n": 0}

    def flaky(self, messages):
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("provider hiccup")
        return real(self, messages)

    monkeypatch.setattr(EmailBackend, "send_messages", flaky)
    stats = dispatcher.dispatch_due(DUE_3M, 50)
    assert (stats.sent, stats.retried) == (4, 1)
    retry = Message.objects.get(status=Message.RETRY)
    assert "provider hiccup" in retry.error and retry.next_attempt_at > DUE_3M
    assert dispatcher.dispatch_due(DUE_3M + timedelta(minutes=1), 50).sent == 0  # backing off
    assert dispatcher.dispatch_due(retry.next_attempt_at, 50).sent == 1
    assert sorted(invitations_by_recipient().values()) == [1] * 5


@pytest.mark.django_db
def test_a_crash_mid_batch_records_what_went_out_and_the_rest_is_taken_over(
    clinic_west, monkeypatch, settings
):
    enrol_many(clinic_west, 5)
    from django.core.mail.backends.locmem import EmailBackend

    real = EmailBackend.send_messages
    calls = {"n": 0}

    def dies(self, messages):
        calls["n"] += 1
        if calls["n"] == 3:
            raise Crash
        return real(self, messages)

    monkeypatch.setattr(EmailBackend, "send_messages", dies)
    with pytest.raises(Crash):
        dispatcher.dispatch_due(DUE_3M, 50)
    assert Message.objects.filter(status=Message.SENT).count() == 2
    assert Message.objects.filter(status=Message.SENDING).count() == 3
    monkeypatch.setattr(EmailBackend, "send_messages", real)
    # Within the lease the claims still belong to the dead dispatcher: nothing is doubled.
    assert dispatcher.dispatch_due(DUE_3M + timedelta(minutes=1), 50).sent == 0
    lease = timedelta(seconds=settings.FOLLOWUP_SENDING_LEASE_SECONDS)
    assert dispatcher.dispatch_due(DUE_3M + lease + timedelta(seconds=1), 50).sent == 3
    assert sorted(invitations_by_recipient().values()) == [1] * 5
    assert Message.objects.filter(status=Message.SENT).count() == 5


@pytest.mark.django_db
def test_killed_before_recording_the_batch_what_the_provider_accepted_is_not_sent_again(
    clinic_west, monkeypatch, settings
):
    """A hard kill (SIGKILL: no ``finally``) after the provider accepted two messages
    and before the batch's outcome update: the sent marks in the shared cache let the
    dispatcher that takes the claims over record those two as sent instead of sending
    them again. (tests/e2e/test_followup_worker.py kills a real worker process.)"""
    enrol_many(clinic_west, 5)
    from django.core.mail.backends.locmem import EmailBackend

    real_send, real_bulk_set = EmailBackend.send_messages, send_loop.bulk_set
    calls = {"n": 0}

    def dies_on_the_third(self, messages):
        calls["n"] += 1
        if calls["n"] == 3:
            raise Crash
        return real_send(self, messages)

    def killed_before_recording(model, objs, fields):
        if model is Message:
            raise Crash  # nothing of the batch reaches the database
        return real_bulk_set(model, objs, fields)

    monkeypatch.setattr(EmailBackend, "send_messages", dies_on_the_third)
    monkeypatch.setattr(send_loop, "bulk_set", killed_before_recording)
    with pytest.raises(Crash):
        dispatcher.dispatch_due(DUE_3M, 50)
    accepted = {m.extra_headers["Message-ID"]: m.to[0] for m in mail.outbox}
    assert len(accepted) == 2
    assert Message.objects.filter(status=Message.SENDING).count() == 5  # as a kill leaves it
    monkeypatch.setattr(EmailBackend, "send_messages", real_send)
    monkeypatch.setattr(send_loop, "bulk_set", real_bulk_set)

    lease = timedelta(seconds=settings.FOLLOWUP_SENDING_LEASE_SECONDS)
    stats = dispatcher.dispatch_due(DUE_3M + lease + timedelta(seconds=1), 50)
    assert (stats.recovered, stats.sent) == (2, 3)
    assert sorted(invitations_by_recipient().values()) == [1] * 5
    recovered = Message.objects.filter(provider_id__in=accepted)
    assert recovered.count() == 2
    for m in recovered:
        assert m.status == Message.SENT and m.sent_at < DUE_3M + lease  # the first send's time
    assert Message.objects.filter(status=Message.SENT).count() == 5
    # Recorded in the database, the marks are gone.
    marks = dispatcher.sent_marks()
    assert marks.get_many([dispatcher.mark_key(m) for m in Message.objects.all()]) == {}


@pytest.mark.django_db
def test_a_mark_left_by_another_database_with_the_same_ids_sends_all_the_same(clinic_west):
    """Ids and idempotency keys repeat when a database is recreated (a test database, a
    fresh installation on the same Redis); a mark written for that other message must
    not stop this one."""
    enrol_many(clinic_west, 1)
    dispatcher.plan_due(DUE_3M, 10, dispatcher.Stats())
    message = Message.objects.select_related("contact").get()
    Message.objects.filter(pk=message.pk).update(status=Message.RETRY, attempts=1)
    other = Message.objects.select_related("contact").get()
    other.contact.token_nonce = "another-database"
    assert dispatcher.mark_key(other) != dispatcher.mark_key(message)
    dispatcher.sent_marks().set(dispatcher.mark_key(other), ("<elsewhere@x>", DUE_3M), 60)
    try:
        stats = dispatcher.dispatch_due(DUE_3M, 10)
    finally:
        dispatcher.sent_marks().delete(dispatcher.mark_key(other))
    assert (stats.sent, stats.recovered, len(mail.outbox)) == (1, 0, 1)


@pytest.mark.django_db
def test_without_the_cache_messages_still_go_out(clinic_west, settings, caplog):
    """Redis down: the marks cannot be read or written; sending goes on, the database
    taking the in-flight marks and each outcome at once."""
    enrol_many(clinic_west, 2)
    settings.CACHES = {
        **settings.CACHES,
        "followup": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{closed_port()}/0",
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        },
    }
    stats = dispatcher.dispatch_due(DUE_3M, 10)
    assert stats.sent == 2 and len(mail.outbox) == 2
    assert "could not write the in-flight mark; marking in the database" in caplog.text
    assert Message.objects.filter(status=Message.SENT, in_flight_at=None).count() == 2


@pytest.mark.django_db
def test_cache_down_and_killed_mid_call_doubles_only_the_email_in_the_providers_hands(
    clinic_west, settings, monkeypatch
):
    """Redis down, then the process dies while the provider has the third email but has
    not answered (and before the batch's outcome update): the two accepted before were
    recorded in the database at acceptance; the third is uncertain and, an SMTP server
    being impossible to ask, sent again once (the documented rule); the rest once."""
    enrol_many(clinic_west, 5)
    settings.CACHES = {
        **settings.CACHES,
        "followup": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{closed_port()}/0",
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        },
    }
    from django.core.mail.backends.locmem import EmailBackend

    real_send, real_bulk_set = EmailBackend.send_messages, send_loop.bulk_set
    calls = {"n": 0}

    def accepted_then_killed(self, messages):
        calls["n"] += 1
        sent = real_send(self, messages)
        if calls["n"] == 3:
            raise Crash
        return sent

    def killed_before_recording(model, objs, fields):
        if model is Message:
            raise Crash
        return real_bulk_set(model, objs, fields)

    monkeypatch.setattr(EmailBackend, "send_messages", accepted_then_killed)
    monkeypatch.setattr(send_loop, "bulk_set", killed_before_recording)
    with pytest.raises(Crash):
        dispatcher.dispatch_due(DUE_3M, 50)
    assert len(mail.outbox) == 3
    assert Message.objects.filter(status=Message.SENT).count() == 2
    in_hands = Message.objects.get(status=Message.SENDING, in_flight_at__isnull=False)
    monkeypatch.setattr(EmailBackend, "send_messages", real_send)
    monkeypatch.setattr(send_loop, "bulk_set", real_bulk_set)

    lease = timedelta(seconds=settings.FOLLOWUP_SENDING_LEASE_SECONDS)
    stats = dispatcher.dispatch_due(DUE_3M + lease + timedelta(seconds=1), 50)
    # The cache still down, no mark can be read: each of the three is uncertain, but
    # only the one the provider had (its in_flight_at) reaches a participant twice.
    assert (stats.sent, stats.uncertain, stats.recovered) == (3, 3, 0)
    counts = invitations_by_recipient()
    assert sorted(counts.values()) == [1, 1, 1, 1, 2]
    assert counts[in_hands.recipient] == 2
    assert Message.objects.filter(status=Message.SENT, in_flight_at=None).count() == 5


@pytest.mark.django_db
def test_a_participant_without_email_is_reached_by_the_next_channel_visibly(clinic_west, sms):
    """Email is the participant's choice but no address is on file: the invitation goes
    by SMS, the trial's next channel, and the contact says why."""
    p = enrol(clinic_west, enrolled_on=date(2017, 5, 2), email="")
    stats = dispatcher.dispatch_due(DUE_3M, 10)
    assert (stats.sent, stats.failed) == (1, 0)
    m = Message.objects.get()
    assert m.channel == Message.SMS and m.status == Message.SENT
    assert [s.to for s in sms] == [p.personal_details.mobile]
    contact = p.contacts.get(timepoint__code="3m")
    assert "no email address" in contact.channel_note and contact.channel_note.startswith("by sms")


@pytest.mark.django_db
def test_a_participant_without_any_address_is_a_visible_failure(clinic_west):
    enrol(clinic_west, enrolled_on=date(2017, 5, 2), email="", mobile="")
    stats = dispatcher.dispatch_due(DUE_3M, 10)
    assert stats.sent == 0 and not Message.objects.exists()
    contact = Contact.objects.get(timepoint__code="3m")
    assert contact.channel_note.startswith("unreachable")
    assert "no email address" in contact.channel_note


@pytest.mark.django_db
def test_a_retried_plan_of_the_same_step_is_a_no_op(clinic_west):
    """Two planners that read the same contact (possible without row locks) write the
    same idempotency key: the second insert is ignored."""
    p = enrol(clinic_west, enrolled_on=date(2017, 5, 2))
    contact = p.contacts.get(timepoint__code="3m")
    stats = dispatcher.Stats()
    stale = Contact.objects.get(pk=contact.pk)  # read before the first planner wrote
    dispatcher.plan_due(DUE_3M, 10, stats)
    bulk_insert(Message, [dispatcher._new_message(stale, Message.INVITATION, DUE_3M)])
    assert Message.objects.filter(contact=contact).count() == 1


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs row locks (SELECT ... FOR UPDATE SKIP LOCKED): runs in CI on PostgreSQL",
)
@pytest.mark.django_db(transaction=True)
def test_two_dispatchers_at_once_send_each_message_once(clinic_west):
    enrol_many(clinic_west, 40)
    errors = []
    barrier = threading.Barrier(2)

    def worker():
        from django.db import connections

        try:
            barrier.wait()
            for _ in range(40):
                stats = dispatcher.dispatch_due(DUE_3M, 3)
                if stats.contacts == 0 and stats.messages == 0:
                    break
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert Message.objects.filter(status=Message.SENT).count() == 40
    assert sorted(invitations_by_recipient().values()) == [1] * 40


@pytest.mark.django_db
def test_a_slow_batch_hands_back_what_it_did_not_try_before_the_lease_runs_out(
    clinic_west, settings
):
    enrol_many(clinic_west, 3)
    settings.FOLLOWUP_SENDING_LEASE_SECONDS = 0  # every message is "too late" to start
    stats = dispatcher.dispatch_due(DUE_3M, 10)
    assert stats.sent == 0 and len(mail.outbox) == 0
    assert set(Message.objects.values_list("status", "attempts")) == {(Message.PENDING, 0)}
    settings.FOLLOWUP_SENDING_LEASE_SECONDS = 900
    assert dispatcher.dispatch_due(DUE_3M, 10).sent == 3
    assert set(Message.objects.values_list("status", "attempts")) == {(Message.SENT, 1)}
