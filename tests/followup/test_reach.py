"""Reaching every participant (followup.reach): the channel each participant chose,
the trial's fallback order when a channel fails for good, SMS invitations through the
Twilio client against the local test gateway, post handed to the tray, participants no
channel can reach on the overdue list on the day of enrolment, and quiet hours."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from enrolment.actions.changes import update_personal_details
from followup import dispatch as dispatcher
from followup.models import Contact, Message, SmsPrompt
from followup.sms import tracking
from followup.sms.backends import is_gsm7, segments
from tests.conftest import use_betterback_built_once

from ..factories import enrol
from ..plans import query_plan
from .conftest import link_path, three_months_ago
from .test_email_links import answer_everything
from .test_sms_tracking import person
from .test_sms_twilio import SID, TOKEN, gateway  # noqa: F401 - the local Twilio gateway

pytestmark = pytest.mark.django_db
betterback = use_betterback_built_once()  # loaded once for the module

STOCKHOLM = ZoneInfo("Europe/Stockholm")
COPENHAGEN = ZoneInfo("Europe/Copenhagen")


@pytest.fixture
def twilio(settings, gateway):  # noqa: F811
    settings.SMS_BACKEND = "followup.sms.backends.TwilioBackend"
    settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN = SID, TOKEN
    settings.TWILIO_FROM_NUMBER = "+46700000000"
    settings.TWILIO_BASE_URL = gateway.url
    settings.FOLLOWUP_BASE_URL = "http://testserver"
    return gateway


def texts(gateway) -> list[tuple[str, str]]:  # noqa: F811
    return [(r.form["To"][0], r.form["Body"][0]) for r in gateway.requests if r.method == "POST"]


def test_an_sms_only_participant_gets_the_3_month_invitation_by_sms_and_answering_stops_reminders(
    client, clinic_west, twilio
):
    """BetterBack, a participant with only a mobile number: the invitation arrives by SMS
    at the gateway, in Swedish, GSM-7, within two segments; its link opens the
    questionnaires; answering stops the reminders. A silent one gets three by SMS."""
    answering = enrol(
        clinic_west,
        enrolled_on=three_months_ago(),
        email="",
        preferred_language="sv",
        contact_preference="sms",
    )
    silent = enrol(
        clinic_west,
        enrolled_on=three_months_ago(),
        email="",
        preferred_language="en",
        contact_preference="sms",
    )
    contact = answering.contacts.get(timepoint__code="3m")
    due = contact.due_at
    stats = dispatcher.dispatch_due(due, 50)
    assert (stats.sent, stats.failed) == (2, 0)
    sent = dict(texts(twilio))
    body = sent[answering.personal_details.mobile]
    assert body.startswith("BetterBack") and "enkät" in body
    assert is_gsm7(body) and segments(body) <= 2
    assert answering.condition not in body.lower()
    english = sent[silent.personal_details.mobile]
    assert "questionnaire is ready" in english and segments(english) <= 2
    log = Message.objects.get(contact=contact)
    assert (log.channel, log.status, log.provider_id) == ("sms", "sent", "SM" + "a" * 32)
    assert log.recipient == answering.personal_details.mobile

    path = link_path(body)
    first = client.get(client.get(path).url)
    assert first.status_code == 200 and 'lang="sv"' in first.content.decode()
    # Saved for later: the page says where the link is (the SMS, not an email).
    later = client.get(reverse("survey_done", args=[path.strip("/").split("/")[-1]]))
    assert "samma länk från ditt sms" in later.content.decode()
    answer_everything(client, path, contact.timepoint)
    contact.refresh_from_db()
    assert contact.status == Contact.COMPLETED

    twilio.requests.clear()
    for week in (1, 2, 3, 4):
        dispatcher.dispatch_due(due + timedelta(days=7 * week), 50)
    reminders = texts(twilio)
    assert [to for to, _ in reminders] == [silent.personal_details.mobile] * 3
    assert all(link_path(text) == link_path(english) for _, text in reminders)
    assert all(segments(text) <= 2 and text.startswith("Reminder") for _, text in reminders)


def test_a_bounced_email_hands_the_contact_to_sms_and_the_coordinator_sees_it(
    client, clinic_west, coordinator, smtp, sms
):
    smtp.refuse_recipients = True
    p = enrol(clinic_west, enrolled_on=date(2017, 5, 2))
    contact = p.contacts.get(timepoint__code="3m")
    stats = dispatcher.dispatch_due(contact.due_at, 50)
    assert stats.failed == 1
    email, by_sms = Message.objects.filter(contact=contact).order_by("sequence")
    assert (email.channel, email.status) == ("email", "failed")
    assert (by_sms.channel, by_sms.status, by_sms.kind) == ("sms", "pending", "invitation")
    contact.refresh_from_db()
    assert contact.channel == "sms" and "email failed: recipient refused" in contact.channel_note
    assert dispatcher.dispatch_due(contact.due_at + timedelta(minutes=1), 50).sent == 1
    assert [s.to for s in sms] == [p.personal_details.mobile]
    # The reminders stay on SMS.
    dispatcher.dispatch_due(contact.due_at + timedelta(days=7), 50)
    assert len(sms) == 2 and len(smtp.received) == 0

    client.force_login(coordinator)
    page = client.get(reverse("participant_detail", args=[p.study_id])).content.decode()
    assert "email failed: recipient refused" in page
    overdue = client.get(reverse("followup_overdue", args=["betterback"])).content.decode()
    assert p.study_id in overdue and "by SMS (email failed: recipient refused)" in overdue


def test_the_channel_note_keeps_no_address_and_is_read_in_the_readers_language(
    client, clinic_west, coordinator, smtp, sms
):
    """The SMTP server's refusal quotes the address: the contact's note (kept in its
    history, which an erasure does not scrub) keeps the reason only. The note is stored
    in English and shown in the coordinator's language."""
    smtp.refuse_recipients = True
    p = enrol(clinic_west, enrolled_on=date(2017, 5, 2))
    contact = p.contacts.get(timepoint__code="3m")
    dispatcher.dispatch_due(contact.due_at, 50)
    email = p.personal_details.email
    assert email in Message.objects.get(contact=contact, channel="email").error
    contact.refresh_from_db()
    assert contact.channel_note == "by sms (email failed: recipient refused)"
    assert not any(email in h.channel_note for h in contact.history.all())

    nobody = enrol(clinic_west, enrolled_on=date.today(), email="", mobile="")
    client.force_login(coordinator)
    detail = reverse("participant_detail", args=[p.study_id])
    page = client.get(detail, HTTP_ACCEPT_LANGUAGE="sv").content.decode()
    assert "via sms (e-post misslyckades: mottagaren vägrade)" in page
    assert "sedan e-post, sms, post" in page and "Enkäter via" in page
    overdue = reverse("followup_overdue", args=["betterback"])
    page = client.get(overdue, HTTP_ACCEPT_LANGUAGE="da").content.decode()
    assert nobody.study_id in page and "kan ikke nås: e-mail: ingen e-mailadresse" in page
    assert "unreachable" not in page and "no email address" not in page
    # The window's end, whether it is still ahead or already past.
    assert "Vinduets afslutning" in page and "Window closes" not in page


def test_a_participant_reachable_by_no_channel_is_overdue_on_the_day_of_enrolment(
    client, clinic_west, coordinator
):
    p = enrol(clinic_west, enrolled_on=date.today(), email="", mobile="")
    reachable = enrol(clinic_west, enrolled_on=date.today())
    client.force_login(coordinator)
    overdue = client.get(reverse("followup_overdue", args=["betterback"])).content.decode()
    assert p.study_id in overdue and reachable.study_id not in overdue
    assert "no email address on file" in overdue and "no postal address on file" in overdue
    # An address added (an audited change) takes the participant off the list.
    update_personal_details(
        p.personal_details, {"postal_address": "Storgatan 1\n591 30 Motala"}, "given by phone"
    )
    overdue = client.get(reverse("followup_overdue", args=["betterback"])).content.decode()
    assert p.study_id not in overdue


def test_by_post_the_invitation_and_reminders_go_to_the_post_tray(clinic_west, smtp, sms):
    p = enrol(
        clinic_west,
        enrolled_on=date(2017, 5, 2),
        contact_preference="post",
        postal_address="Storgatan 1\n591 30 Motala",
    )
    contact = p.contacts.get(timepoint__code="3m")
    for week in (0, 1, 2, 3, 4):
        dispatcher.dispatch_due(contact.due_at + timedelta(days=7 * week, hours=1), 50)
    posted = list(Message.objects.filter(contact=contact).order_by("sequence"))
    assert [(m.kind, m.channel, m.status) for m in posted] == [
        ("invitation", "post", "sent"),
        ("reminder", "post", "sent"),
        ("reminder", "post", "sent"),
        ("reminder", "post", "sent"),
    ]
    assert all(m.posted_at is None and m.recipient.startswith("Storgatan") for m in posted)
    assert not smtp.received and not sms


def test_both_sends_email_and_sms_and_a_failure_of_one_is_only_noted(clinic_west, smtp, sms):
    p = enrol(clinic_west, enrolled_on=date(2017, 5, 2), contact_preference="both")
    contact = p.contacts.get(timepoint__code="3m")
    assert dispatcher.dispatch_due(contact.due_at, 50).sent == 2
    assert len(smtp.received) == 1 and len(sms) == 1


# --- quiet hours ----------------------------------------------------------------------------


def test_no_invitation_at_night_it_goes_at_eight_and_is_counted(
    client, clinic_west, coordinator, smtp
):
    enrol(clinic_west, enrolled_on=date(2017, 5, 2))
    night = datetime(2017, 8, 3, 1, 20, tzinfo=STOCKHOLM)  # the worker started late
    with time_machine.travel(night, tick=False):
        stats = dispatcher.run()
    assert (stats.sent, stats.quiet) == (0, 1) and not smtp.received
    with time_machine.travel(datetime(2017, 8, 3, 7, 59, tzinfo=STOCKHOLM), tick=False):
        assert dispatcher.run().sent == 0
    with time_machine.travel(datetime(2017, 8, 3, 8, 0, tzinfo=STOCKHOLM), tick=False):
        stats = dispatcher.run()
    assert stats.sent == 1 and len(smtp.received) == 1
    message = Message.objects.get()
    assert message.sent_at.astimezone(STOCKHOLM).hour == 8
    assert message.held_at == night  # held back at 01:20, counted
    client.force_login(coordinator)
    page = client.get(reverse("followup_messages", args=["betterback"]), HTTP_ACCEPT_LANGUAGE="sv")
    page = page.content.decode()
    assert '<strong id="quiet-hours-sent">1</strong>' in page
    assert '<strong id="quiet-hours-waiting">0</strong>' in page
    assert "Tysta timmar" in page


def test_a_letter_is_planned_at_night_too_the_tray_is_emptied_by_day(clinic_west, smtp, sms):
    """Quiet hours keep texts and emails from waking a participant; a letter waits in the
    tray for staff anyway. Holding it back held the demo's tray empty when built at night."""
    by_post = enrol(
        clinic_west,
        enrolled_on=date(2017, 5, 2),
        contact_preference="post",
        postal_address="Storgatan 1\n591 30 Motala",
    )
    by_email = enrol(clinic_west, enrolled_on=date(2017, 5, 2))
    night = datetime(2017, 8, 3, 1, 20, tzinfo=STOCKHOLM)
    with time_machine.travel(night, tick=False):
        stats = dispatcher.run()
    assert (stats.quiet, stats.invitations) == (1, 1)
    letter = Message.objects.get()
    assert (letter.contact.participant, letter.channel, letter.status) == (by_post, "post", "sent")
    assert letter.posted_at is None and not smtp.received and not sms
    assert by_email.contacts.get(timepoint__code="3m").status == Contact.SCHEDULED


def test_a_message_planned_by_day_waits_in_the_queue_for_the_morning(clinic_west, smtp):
    enrol(clinic_west, enrolled_on=date(2017, 5, 2))
    evening = datetime(2017, 8, 2, 20, 59, tzinfo=STOCKHOLM)
    dispatcher.plan_due(evening.astimezone(UTC), 50, dispatcher.Stats())  # planned at 20:59
    stats = dispatcher.Stats()
    late = datetime(2017, 8, 2, 21, 5, tzinfo=STOCKHOLM).astimezone(UTC)
    dispatcher.send_claimed(dispatcher.claim_waiting(late, 50), late, stats)
    assert (stats.held, stats.sent) == (1, 0) and not smtp.received
    message = Message.objects.get()
    assert message.next_attempt_at == datetime(2017, 8, 3, 8, 0, tzinfo=STOCKHOLM)
    assert message.attempts == 0 and message.status == "pending"
    assert message.held_at == late  # counted on the message log as waiting


def sunday_question(safe, n=1):
    p = person(safe, n)
    return p, SmsPrompt.objects.filter(participant=p).order_by("week").first()


def test_the_sunday_question_at_0120_is_skipped_by_safes_rule_and_counted(safe, sms, client):
    p, prompt = sunday_question(safe)
    planned = prompt.due_at.astimezone(COPENHAGEN)
    assert (planned.weekday(), planned.hour) == (6, 18)
    night = datetime.combine(planned.date() + timedelta(days=1), datetime.min.time())
    night = night.replace(hour=1, minute=20, tzinfo=COPENHAGEN)
    with time_machine.travel(night, tick=False):
        stats = tracking.run()
    assert (stats.sent, stats.skipped_late) == (0, 1) and not sms
    prompt.refresh_from_db()
    assert prompt.status == SmsPrompt.SKIPPED and prompt.held_at is not None
    with time_machine.travel(night.replace(hour=8, minute=0), tick=False):
        assert tracking.run().sent == 0
    assert not sms
    client.force_login(get_user_model().objects.get(username="safe-coord"))
    page = client.get(reverse("followup_sms", args=["safe"])).content.decode()
    assert '<td id="quiet-hours-skipped">1</td>' in page


def test_where_the_rule_is_wait_the_question_goes_at_eight_and_is_counted(safe, sms):
    safe.contact = {**safe.contact, "late_rule": "wait"}
    safe.save()
    p, prompt = sunday_question(safe)
    planned = prompt.due_at.astimezone(COPENHAGEN)
    night = datetime.combine(planned.date() + timedelta(days=1), datetime.min.time())
    night = night.replace(hour=1, minute=20, tzinfo=COPENHAGEN)
    with time_machine.travel(night, tick=False):
        assert tracking.run().sent == 0
    assert not sms
    with time_machine.travel(night.replace(hour=8, minute=0), tick=False):
        stats = tracking.run()
    assert (stats.sent, stats.late) == (1, 1) and len(sms) == 1
    prompt.refresh_from_db()
    assert prompt.status == SmsPrompt.SENT and prompt.held_at is not None
    assert prompt.sent_at.astimezone(COPENHAGEN).hour == 8


# --- the preference: set at enrolment, changed with a reason -------------------------------


def test_the_enrol_form_sets_the_preference_and_a_change_is_audited(
    client, physio_west, clinic_west, coordinator
):
    from enrolment.actions.changes import update_personal_details
    from enrolment.models import Participant

    from ..enrolment.test_enrol_checks import _enrol

    client.force_login(physio_west)
    response = _enrol(
        client, clinic_west, email="", mobile="070-123 45 67", contact_preference="sms"
    )
    assert response.status_code == 302
    p = Participant.objects.get()
    details = p.personal_details
    assert (details.contact_preference, details.mobile) == ("sms", "+46701234567")
    assert p.contacts.filter(channel_note="").count() == p.contacts.count()  # reachable

    update_personal_details(
        details, {"contact_preference": "post"}, "patient prefers paper questionnaires"
    )
    last = details.history.first()
    assert last.contact_preference == "post"
    assert last.history_change_reason == "patient prefers paper questionnaires"
    # Post, but no address: the trial's fallback order decides, and the page says so.
    contact = p.contacts.get(timepoint__code="3m")
    # (the form left email empty: SMS, the next channel of BetterBack's order after email)
    channels, note = reach_channels(p, contact)
    assert channels == ["sms"] and note.startswith("by sms (post: no postal address on file")
    client.force_login(coordinator)
    page = client.get(reverse("participant_detail", args=[p.study_id])).content.decode()
    assert 'id="contact-preference">Post<' in page


def test_neither_email_nor_mobile_nor_address_is_refused_by_the_enrol_form(
    client, physio_west, clinic_west
):
    client.force_login(physio_west)
    response = _enrol_form(client, clinic_west, email="", mobile="", postal_address="")
    assert response.status_code == 200
    assert "a postal address for follow-up" in response.content.decode()
    response = _enrol_form(
        client,
        clinic_west,
        email="",
        mobile="",
        postal_address="Storgatan 1\n591 30 Motala",
        contact_preference="post",
    )
    assert response.status_code == 302


def _enrol_form(client, clinic, **changes):
    from ..enrolment.test_enrol_checks import _enrol

    return _enrol(client, clinic, **changes)


def reach_channels(participant, contact):
    from followup.reach import channels_for

    participant.refresh_from_db()
    return channels_for(participant, contact)


def test_an_undelivered_sms_invitation_hands_the_contact_to_the_next_channel(clinic_west, sms):
    """The gateway accepted the SMS, then reported it undelivered (an unreachable
    number): the invitation fails for good and goes by post, the next channel."""
    from followup.models import SmsStatusCallback

    p = enrol(
        clinic_west,
        enrolled_on=date(2017, 5, 2),
        email="",
        contact_preference="sms",
        postal_address="Storgatan 1\n591 30 Motala",
    )
    contact = p.contacts.get(timepoint__code="3m")
    dispatcher.dispatch_due(contact.due_at, 50)
    by_sms = Message.objects.get(contact=contact)
    assert by_sms.status == "sent" and len(sms) == 1
    report = SmsStatusCallback.objects.create(
        provider_id=by_sms.provider_id,
        status="undelivered",
        error_code=30003,
        received_at=contact.due_at + timedelta(minutes=1),
    )
    later = contact.due_at + timedelta(minutes=2)
    tracking.apply_pending_reports(later, tracking.SmsStats())
    report.refresh_from_db()
    by_sms.refresh_from_db()
    assert report.applied_at is not None and by_sms.status == "failed" and "30003" in by_sms.error
    contact.refresh_from_db()
    assert contact.channel == "post" and "sms failed: gateway: undelivered" in contact.channel_note
    dispatcher.dispatch_due(later, 50)
    by_post = Message.objects.get(contact=contact, channel="post")
    assert (by_post.kind, by_post.status, by_post.posted_at) == ("invitation", "sent", None)


def test_delivery_reports_find_their_sms_invitation_through_an_index(clinic_west, sms):
    """Every SMS invitation brings the gateway's delivery reports: each batch of them
    looks its messages up by the gateway's id, which must not scan every message the
    trial has sent (a million at 100,000 participants)."""
    from followup.models import SmsStatusCallback

    p = enrol(clinic_west, enrolled_on=date(2017, 5, 2), email="", contact_preference="sms")
    contact = p.contacts.get(timepoint__code="3m")
    dispatcher.dispatch_due(contact.due_at, 50)
    by_sms = Message.objects.get(contact=contact)
    SmsStatusCallback.objects.create(
        provider_id=by_sms.provider_id,
        status="delivered",
        received_at=contact.due_at + timedelta(minutes=1),
    )
    with CaptureQueriesContext(connection) as captured:
        tracking.apply_pending_reports(contact.due_at + timedelta(minutes=2), tracking.SmsStats())
    assert SmsStatusCallback.objects.get().applied_at is not None
    (lookup,) = [q["sql"] for q in captured if 'FROM "followup_message"' in q["sql"]]
    assert "message_sms_provider_idx" in query_plan(lookup)


def test_a_new_link_goes_by_sms_to_a_participant_without_email(clinic_west, sms):
    from followup.links import send_new_link

    p = enrol(clinic_west, enrolled_on=three_months_ago(), email="", contact_preference="sms")
    contact = p.contacts.get(timepoint__code="3m")
    dispatcher.dispatch_due(contact.due_at, 50)
    first = link_path(sms[0].body.replace("http://localhost:8000", "http://testserver"))
    message = send_new_link(contact, "the phone was lost", now=contact.due_at + timedelta(days=1))
    assert (message.channel, message.kind) == ("sms", "new_link")
    dispatcher.dispatch_due(contact.due_at + timedelta(days=1), 50)
    assert len(sms) == 2 and "din nya länk" in sms[1].body  # Swedish, her language
    assert first not in sms[1].body


def test_an_sms_invitation_refused_as_opted_out_records_the_opt_out_and_falls_back(
    clinic_west, sms, smtp, monkeypatch
):
    from followup.models import SmsOptOut
    from followup.sms.backends import InMemoryBackend, SmsError

    def refused(self, to, body, **kwargs):
        raise SmsError("Twilio HTTP 400 error 21610", permanent=True, code=21610)

    p = enrol(clinic_west, enrolled_on=date(2017, 5, 2), contact_preference="sms")
    contact = p.contacts.get(timepoint__code="3m")
    monkeypatch.setattr(InMemoryBackend, "send", refused)
    stats = dispatcher.dispatch_due(contact.due_at, 50)
    assert stats.failed == 1
    assert SmsOptOut.objects.get(participant=p).source == "provider"
    contact.refresh_from_db()
    assert contact.channel == "email" and "sms failed" in contact.channel_note
    dispatcher.dispatch_due(contact.due_at + timedelta(minutes=1), 50)
    assert [m.to[0] for m in smtp.received] == [p.personal_details.email]


@pytest.mark.parametrize(
    ("language", "word"), [("en", "questionnaire"), ("sv", "enkät"), ("da", "spørgeskema"),
                           ("nb", "spørreskjema")]
)  # fmt: skip
def test_every_sms_text_is_gsm7_within_two_segments_in_the_participants_language(
    clinic_west, settings, language, word
):
    """Every kind, every timepoint of BetterBack, a long site address: the text stays
    GSM-7 (no UCS-2, which would halve a segment), two segments at most, the link whole."""
    from followup.sending.messages import sms_text
    from followup.tokens import link_for

    settings.FOLLOWUP_BASE_URL = "https://uppfoljning.region-ostergotland-betterback.example.se"
    p = enrol(clinic_west, email="", contact_preference="sms", preferred_language=language)
    for contact in p.contacts.select_related("timepoint__trial"):
        for kind in (Message.INVITATION, Message.REMINDER, Message.NEW_LINK):
            text = sms_text(Message(contact=contact, kind=kind, language=language))
            assert is_gsm7(text) and segments(text) <= 2, (kind, text)
            assert link_for(contact) in text and word in text.lower(), text


def test_no_new_link_by_post_the_coordinator_is_told_why_in_their_language(
    client, clinic_west, coordinator, smtp, sms
):
    p = enrol(
        clinic_west,
        enrolled_on=date(2017, 5, 2),
        email="",
        mobile="",
        contact_preference="post",
        postal_address="Storgatan 1\n591 30 Motala",
    )
    contact = p.contacts.get(timepoint__code="3m")
    dispatcher.dispatch_due(contact.due_at, 50)
    client.force_login(coordinator)
    url = reverse("contact_new_link", args=[contact.pk])
    page = client.post(url, {"reason": "lost the letter"}, HTTP_ACCEPT_LANGUAGE="da")
    assert page.status_code == 200
    assert "Der er ingen e-mailadresse eller mobilnummer" in page.content.decode()
    assert not Message.objects.filter(kind=Message.NEW_LINK).exists()
