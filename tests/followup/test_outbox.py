"""The outbox and survey links as staff see them (issue 13, finding 1; issue 15, 9):
each trial's staff read their own trial's messages only, never a working link; a
coordinator helps a patient by sending a new link (audited); the outbox pages, filters
and searches."""

from datetime import UTC, datetime

import pytest

from followup import dispatch as dispatcher
from followup.models import Contact, Message, OutboxMessage
from followup.tokens import token_for
from tests.conftest import use_betterback_built_once

from ..factories import enrol
from .conftest import clinic_of, dispatch_now, link_path, three_months_ago

pytestmark = pytest.mark.django_db
betterback = use_betterback_built_once()  # loaded once for the module

INVITED_3M = datetime(2017, 8, 2, 7, tzinfo=UTC)  # 3-month invitations of a 2 May 2017 enrolment


@pytest.fixture
def embedded(settings):
    """The embedded installation: email and SMS go to the outbox."""
    settings.EMAIL_BACKEND = "followup.backends.OutboxEmailBackend"
    settings.SMS_BACKEND = "followup.sms.backends.OutboxBackend"
    settings.FOLLOWUP_BASE_URL = "http://testserver"


@pytest.fixture
def sent(embedded, betterback, safe, clinic_west, clinic_east):
    """3-month invitations to two BetterBack patients (two clinics) and one SAFE patient."""
    west = enrol(clinic_west, email="west@example.org")
    east = enrol(clinic_east, email="east@example.org")
    dane = enrol(clinic_of(safe), email="dane@example.dk", mobile="+4520111111")
    dispatcher.dispatch_due(INVITED_3M, 50)
    assert OutboxMessage.objects.filter(channel="email").count() == 3
    return west, east, dane


def tokens(*participants) -> list[str]:
    contacts = Contact.objects.filter(participant__in=participants, status=Contact.INVITED)
    found = [token_for(c) for c in contacts]
    assert found
    return found


def test_a_coordinator_reads_only_their_own_trials_messages(client, coordinator, sent):
    west, east, dane = sent
    client.force_login(coordinator)
    page = client.get("/outbox/").content.decode()
    assert "west@example.org" in page and "east@example.org" in page
    assert west.study_id in page
    assert "dane@example.dk" not in page and dane.study_id not in page
    # Not by the filter either: another trial's code finds nothing.
    page = client.get("/outbox/?trial=safe").content.decode()
    assert "dane@example.dk" not in page


def test_no_working_link_is_stored_or_shown_to_staff(client, coordinator, sent):
    west, east, dane = sent
    live = tokens(west, east, dane)
    stored = " ".join(f"{m.subject} {m.body} {m.html_body}" for m in OutboxMessage.objects.all())
    assert "/s/[hidden]/" in stored  # that a link was sent shows
    client.force_login(coordinator)
    pages = [
        client.get("/outbox/").content.decode(),
        client.get("/followup/betterback/messages/").content.decode(),
        client.get(f"/participants/{west.study_id}/").content.decode(),
    ]
    for token in live:
        assert token not in stored
        assert not any(token in page for page in pages)


def test_the_outbox_is_for_roles_allowed_personal_details_of_their_own(
    client, statistician, physio_west, sent
):
    west, east, _dane = sent
    client.force_login(statistician)
    assert client.get("/outbox/").status_code == 403
    assert 'href="/outbox/"' not in client.get("/", follow=True).content.decode()
    client.force_login(physio_west)
    assert 'href="/outbox/"' in client.get("/", follow=True).content.decode()
    page = client.get("/outbox/").content.decode()
    assert west.study_id in page and "west@example.org" in page
    assert east.study_id not in page and "east@example.org" not in page


def test_the_outbox_pages_filters_and_searches(client, coordinator, betterback, embedded, sent):
    west, _east, _dane = sent
    for n in range(30):
        OutboxMessage.objects.create(
            channel="sms", recipient=f"+4670{n:07d}", body=f"sms {n}", trial=betterback
        )
    client.force_login(coordinator)
    first = client.get("/outbox/").content.decode()
    assert first.count('class="card mb-2 outbox-message"') == 25 and "32 messages" in first
    second = client.get("/outbox/?page=2").content.decode()
    assert second.count('class="card mb-2 outbox-message"') == 7
    emails = client.get("/outbox/?channel=email").content.decode()
    assert "2 messages" in emails and "sms 1" not in emails
    found = client.get(f"/outbox/?q={west.study_id.lower()}").content.decode()
    assert "1 message" in found and "west@example.org" in found
    # Paging keeps the filter.
    sms = client.get("/outbox/?channel=sms").content.decode()
    assert "channel=sms&amp;page=2" in sms


def test_a_coordinator_sends_a_new_link_and_the_old_one_stops_working(
    client, smtp, coordinator, clinic_west
):
    patient = enrol(clinic_west, enrolled_on=three_months_ago(), preferred_language="sv")
    contact = patient.contacts.get(timepoint__code="3m")
    dispatcher.dispatch_due(contact.due_at, 10)
    old = link_path(smtp.received[-1].text)
    client.force_login(coordinator)
    detail = client.get(f"/participants/{patient.study_id}/").content.decode()
    assert f"/followup/contacts/{contact.pk}/new-link/" in detail
    url = f"/followup/contacts/{contact.pk}/new-link/"
    assert "new-link" in client.get(url).content.decode()
    refused = client.post(url, {"reason": ""})
    assert refused.status_code == 200 and Message.objects.filter(kind="new_link").count() == 0
    r = client.post(url, {"reason": "Patient phoned: the email was deleted"})
    assert r.status_code == 302
    # The new link is waiting from the moment it was asked for: after 09:00 Stockholm
    # time that is later than the invitation's due time.
    dispatch_now(contact)
    received = smtp.received[-1]
    assert received.to == [patient.personal_details.email]
    new = link_path(received.text)
    assert new != old
    assert client.get(old).status_code == 404  # the old link is dead
    client.logout()
    assert client.get(new).status_code == 302  # the new one opens the questionnaires
    latest = contact.history.order_by("-history_date").first()
    assert latest.history_user == coordinator
    assert latest.history_change_reason.startswith("new link sent: Patient phoned")


def test_staff_urls_taking_contact_ids_answer_404_for_others_and_missing(
    client, coordinator, physio_west, sent
):
    west, east, dane = sent
    other_trial = dane.contacts.first().pk
    other_clinic = east.contacts.first().pk
    missing = Contact.objects.order_by("-pk").first().pk + 1000
    client.force_login(coordinator)
    for pk in (other_trial, missing):
        assert client.get(f"/followup/contacts/{pk}/reschedule/").status_code == 404
        assert client.get(f"/followup/contacts/{pk}/new-link/").status_code == 404
    client.force_login(physio_west)
    for pk in (other_clinic, other_trial, missing):
        assert client.get(f"/followup/contacts/{pk}/reschedule/").status_code == 404
    # Their own clinic's contact: found, but not theirs to change.
    own = west.contacts.first().pk
    assert client.get(f"/followup/contacts/{own}/new-link/").status_code == 403


def test_the_message_log_pages_and_searches_by_study_id(client, coordinator, sent):
    west, east, _dane = sent
    contact = west.contacts.get(status=Contact.INVITED)
    Message.objects.bulk_create(
        Message(
            contact=contact,
            kind=Message.REMINDER,
            sequence=n,
            idempotency_key=f"test:{n}",
            template="followup/email/reminder",
            language="sv",
            status=Message.FAILED,
            created=INVITED_3M,
        )
        for n in range(1, 56)
    )
    client.force_login(coordinator)
    page = client.get("/followup/betterback/messages/").content.decode()
    assert "57 messages" in page and page.count("<tr") == 51  # header + 50
    found = client.get(f"/followup/betterback/messages/?q={east.study_id}").content.decode()
    assert "1 message" in found and east.study_id in found and west.study_id not in found
    failed = client.get(f"/followup/betterback/messages/?q={west.study_id}&status=failed")
    assert "channel=email&amp;status=failed&amp;q=" in failed.content.decode()


def test_the_operator_prints_a_link_on_the_command_line(client, clinic_west, settings):
    from io import StringIO

    from django.core.management import CommandError, call_command

    settings.FOLLOWUP_BASE_URL = "http://testserver"
    patient = enrol(clinic_west, enrolled_on=three_months_ago())
    with pytest.raises(CommandError, match="no follow-up questionnaire open"):
        call_command("survey_link", patient.study_id)
    with pytest.raises(CommandError, match="No participant"):
        call_command("survey_link")
    contact = patient.contacts.get(timepoint__code="3m")
    dispatcher.dispatch_due(contact.due_at, 10)
    # Without a study ID: whom to try (a newcomer to the demo does not know).
    listed = StringIO()
    call_command("survey_link", stdout=listed)
    assert listed.getvalue().split() == [patient.study_id, "3m"]
    out = StringIO()
    call_command("survey_link", patient.study_id, stdout=out)
    assert client.get(link_path(out.getvalue())).status_code == 302
    assert contact.history.filter(history_change_reason__contains="command line").exists()


def test_an_sms_body_with_a_link_is_shown_hidden_in_the_message_log(client, coordinator, sent):
    from followup.models import SmsMessage

    west = sent[0]
    token = tokens(west)[0]
    SmsMessage.objects.create(
        participant=west,
        kind=SmsMessage.QUESTION,
        body=f"Svara här: http://testserver/s/{token}/",
        idempotency_key="sms-with-link",
        language="sv",
        created=INVITED_3M,
    )
    client.force_login(coordinator)
    page = client.get("/followup/betterback/messages/?channel=sms").content.decode()
    assert "/s/[hidden]/" in page and token[:12] not in page


def test_rows_stored_before_the_upgrade_get_links_hidden_and_sms_their_trial(safe):
    from importlib import import_module

    from django.apps import apps

    from followup.models import SmsMessage

    migration = import_module("followup.migrations.0005_outbox_trial_and_hidden_links")
    dane = enrol(clinic_of(safe), mobile="+4520111112")
    token = "A" * 20 + "b-_" + "9" * 20
    email = OutboxMessage.objects.create(
        channel="email", recipient="x@example.dk", body=f"Svar her: http://h/s/{token}/"
    )
    sms = OutboxMessage.objects.create(channel="sms", recipient="+4520111112", body="Q1")
    SmsMessage.objects.create(
        participant=dane, kind="question", body="Q1", idempotency_key="old-sms",
        language="da", status="sent", provider_id=f"outbox-{sms.pk}", created=INVITED_3M,
    )  # fmt: skip
    migration.hide_stored_links(apps, None)
    migration.file_existing_sms(apps, None)
    email.refresh_from_db()
    sms.refresh_from_db()
    assert email.body == "Svar her: http://h/s/[hidden]/" and email.trial is None
    assert (sms.trial, sms.participant) == (safe, dane)
