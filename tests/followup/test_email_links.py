"""End to end through a real SMTP server (aiosmtpd on 127.0.0.1): the invitation
arrives in the participant's language, its link opens the questionnaires without a
login, answering closes the contact; reminders, missed contacts, failures, and links
that no longer work. ``now`` is passed to the dispatcher; the clock is never mocked."""

from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import connection

from followup import dispatch as dispatcher
from followup.models import Contact, Message
from followup.tokens import hash_token, make_token
from questionnaires.instruments import get
from tests.conftest import use_betterback_built_once

from ..factories import enrol
from ..questionnaires.engine_helpers import as_post, valid_answers
from .conftest import link_path, three_months_ago

pytestmark = pytest.mark.django_db
betterback = use_betterback_built_once()  # loaded once for the module


def answer_everything(client, path: str, timepoint) -> None:
    r = client.get(path)
    assert r.status_code == 302, r.content[:500]
    for code in timepoint.instruments:
        page = r.url
        r = client.post(page, as_post(valid_answers(get(code)), action="next"))
        assert r.status_code == 302, (code, r.content.decode()[:1500])
    assert r.url.endswith("/done/")
    done = client.get(r.url)
    assert done.status_code == 200


def test_invitation_in_swedish_link_without_login_completion_stops_reminders(
    client, smtp, clinic_west
):
    answering = enrol(clinic_west, enrolled_on=three_months_ago(), preferred_language="sv")
    silent = enrol(clinic_west, enrolled_on=three_months_ago(), preferred_language="en")
    contact = answering.contacts.get(timepoint__code="3m")
    due = contact.due_at
    stats = dispatcher.dispatch_due(due, 50)
    assert stats.sent == 2 and len(smtp.received) == 2
    mails = {m.to[0]: m for m in smtp.received}
    sv = mails[answering.personal_details.email]
    assert "uppföljningsenkät" in sv.subject.lower()  # Swedish subject
    assert "Hej," in sv.text and "Öppna din personliga länk" in sv.text
    en = mails[silent.personal_details.email]
    assert en.subject == "Your follow-up questionnaire for the back pain study"
    # The Message-ID is the idempotency key; the provider id recorded is the same.
    log = Message.objects.get(contact=contact)
    assert sv.message_id == log.provider_id and log.status == Message.SENT
    # Nothing in the email says which condition the participant is in.
    for text in (sv.text, sv.html, sv.subject):
        assert answering.condition not in text.lower()

    # The link from the received email opens the questionnaires, no login.
    path = link_path(sv.text)
    assert path in sv.html and link_path(en.text) != path  # a link of one's own
    assert "link.invalid" not in sv.text + sv.html  # the shared rendering's placeholder
    first = client.get(client.get(path).url)
    assert first.status_code == 200 and 'lang="sv"' in first.content.decode()
    assert "Enkät 1 av" in first.content.decode()
    answer_everything(client, path, contact.timepoint)
    contact.refresh_from_db()
    assert contact.status == Contact.COMPLETED and contact.next_action_at is None
    # The used link says so, kindly, in Swedish.
    used = client.get(path)
    assert used.status_code == 410 and "Du har redan svarat" in used.content.decode()

    # A week on: the reminder goes to the one who did not answer, not to the other.
    smtp.received.clear()
    for week in (1, 2, 3):
        stats = dispatcher.dispatch_due(due + timedelta(days=7 * week), 50)
        assert stats.reminders == 1
    assert [m.to[0] for m in smtp.received] == [silent.personal_details.email] * 3
    assert smtp.received[0].subject.startswith("Reminder:")
    # The reminders carry the same link as the invitation.
    assert link_path(smtp.received[0].text) == link_path(en.text)
    # No fourth reminder; when the window closes the contact is missed.
    silent_3m = silent.contacts.get(timepoint__code="3m")
    assert dispatcher.dispatch_due(silent_3m.closes_at - timedelta(minutes=1), 50).reminders == 0
    stats = dispatcher.dispatch_due(silent_3m.closes_at, 50)
    assert stats.missed == 1 and len(smtp.received) == 3
    silent_3m.refresh_from_db()
    assert silent_3m.status == Contact.MISSED and silent_3m.reminders_sent == 3
    kinds = list(
        Message.objects.filter(contact=silent_3m)
        .order_by("sequence")
        .values_list("kind", "sequence")
    )
    assert kinds == [("invitation", 0), ("reminder", 1), ("reminder", 2), ("reminder", 3)]


def test_a_failing_smtp_server_means_retries_then_a_visible_failure(
    client, smtp, settings, clinic_west, coordinator
):
    settings.FOLLOWUP_MAX_ATTEMPTS = 3
    p = enrol(clinic_west, enrolled_on=date(2017, 5, 2))
    smtp.fail_with = "451 4.3.0 Try again later"
    now = datetime(2017, 8, 2, 7, tzinfo=UTC)
    assert dispatcher.dispatch_due(now, 10).retried == 1
    m = Message.objects.get()
    assert (m.status, m.attempts) == (Message.RETRY, 1) and "451" in m.error
    # Back-off: 5 minutes, then 10.
    assert m.next_attempt_at == now + timedelta(seconds=settings.FOLLOWUP_RETRY_SECONDS)
    assert dispatcher.dispatch_due(m.next_attempt_at - timedelta(seconds=1), 10).messages == 0
    now = m.next_attempt_at
    assert dispatcher.dispatch_due(now, 10).retried == 1
    m.refresh_from_db()
    assert m.next_attempt_at == now + timedelta(seconds=2 * settings.FOLLOWUP_RETRY_SECONDS)
    assert dispatcher.dispatch_due(m.next_attempt_at, 10).failed == 1
    m.refresh_from_db()
    assert (m.status, m.attempts, m.next_attempt_at) == (Message.FAILED, 3, None)
    assert smtp.received == []
    # Visible: on the overdue list and in red in the message log.
    client.force_login(coordinator)
    overdue = client.get("/followup/betterback/overdue/").content.decode()
    assert p.study_id in overdue and "Delivery failed" in overdue
    log = client.get("/followup/betterback/messages/?status=failed").content.decode()
    assert "table-danger" in log and "451" in log


def test_a_refused_address_fails_at_once(smtp, clinic_west):
    smtp.refuse_recipients = True
    enrol(clinic_west, enrolled_on=date(2017, 5, 2))
    stats = dispatcher.dispatch_due(datetime(2017, 8, 2, 7, tzinfo=UTC), 10)
    assert stats.failed == 1
    m = Message.objects.get(channel=Message.EMAIL)
    assert m.status == Message.FAILED and m.attempts == 1 and "refused" in m.error
    # The trial's next channel takes over (tests/followup/test_reach.py).
    assert Message.objects.get(channel=Message.SMS).status == Message.PENDING


def test_the_database_holds_no_usable_token(smtp, clinic_west, settings):
    p = enrol(clinic_west, enrolled_on=three_months_ago())
    contact = p.contacts.get(timepoint__code="3m")
    dispatcher.dispatch_due(contact.due_at, 10)
    token = link_path(smtp.received[0].text).split("/")[2]
    contact.refresh_from_db()
    assert contact.token_hash == hash_token(token) != token
    assert token == make_token(contact.pk, contact.token_nonce)  # needs SECRET_KEY too
    with connection.cursor() as cursor:
        for table in ("followup_contact", "followup_message", "followup_historicalcontact"):
            cursor.execute(f"SELECT * FROM {table}")  # noqa: S608 - fixed table names
            assert token not in repr(cursor.fetchall())
    # The same nonce with another key gives another token: the key is part of it.
    settings.SECRET_KEY = "another-key"
    assert make_token(contact.pk, contact.token_nonce) != token


def test_expired_unknown_and_cancelled_links_say_so_and_name_the_study_team(
    client, smtp, settings, clinic_west
):
    settings.FOLLOWUP_TRIAL_OFFICE_EMAIL = "backstudy@example.org"
    old = enrol(clinic_west, enrolled_on=date(2017, 5, 2), preferred_language="en")
    dispatcher.dispatch_due(datetime(2017, 8, 2, 7, tzinfo=UTC), 10)
    expired = client.get(link_path(smtp.received[0].text))
    body = expired.content.decode()
    assert expired.status_code == 410 and "This link has expired" in body
    assert "backstudy@example.org" in body and old.condition not in body
    unknown = client.get("/s/not-a-real-token/")
    assert unknown.status_code == 404 and "backstudy@example.org" in unknown.content.decode()
    # Pages behind an expired link are refused too, not only the start page.
    assert client.get(link_path(smtp.received[0].text) + "1/").status_code == 410

    from enrolment.actions.status import withdraw_participant

    current = enrol(clinic_west, enrolled_on=three_months_ago(), preferred_language="da")
    contact = current.contacts.get(timepoint__code="3m")
    smtp.received.clear()
    dispatcher.dispatch_due(contact.due_at, 10)
    path = link_path(smtp.received[0].text)
    assert "Opfølgningsspørgeskema" in smtp.received[0].subject or "opfølgning" in (
        smtp.received[0].subject.lower()
    )
    withdraw_participant(current, date.today(), "no longer wishes to take part")
    closed = client.get(path)
    assert closed.status_code == 410 and 'lang="da"' in closed.content.decode()
