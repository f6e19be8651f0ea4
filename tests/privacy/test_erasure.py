"""Erasure of a participant's personal data on request (GDPR art. 17) and at the end of
the trial's retention: identifiers gone from every table and every history row, research
data kept under the study ID, every contact stopped, audited."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from io import StringIO

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import models
from django.urls import reverse

from enrolment.actions.changes import update_personal_details
from enrolment.actions.erasure import ERASED, birth_date_kept_for_age, erase_personal_data
from enrolment.actions.errors import EnrolmentError
from enrolment.models import Erasure, Participant, PersonalDetails
from enrolment.protocol.reading import read_protocol
from enrolment.protocol.sections import ProtocolError
from followup.models import Contact, InboundSms, Message, OutboxMessage, SmsMessage, SmsPrompt
from followup.sms import tracking
from questionnaires.models import Response

from ..conftest import PROTOCOLS
from .conftest import IDENTIFIERS

pytestmark = pytest.mark.django_db


def stored_identifiers() -> list[str]:
    """Every (model, field, identifier) where an identifier of Karen is still stored, in
    any text or JSON column of any table, history tables included."""
    found = []
    for model in apps.get_models():
        fields = [
            f.attname
            for f in model._meta.concrete_fields
            if isinstance(f, models.CharField | models.TextField | models.JSONField)
        ]
        for row in model._default_manager.values_list(*fields) if fields else []:
            for name, value in zip(fields, row, strict=True):
                text = str(value)
                found += [f"{model.__name__}.{name}: {i}" for i in IDENTIFIERS if i in text]
    return found


def test_an_erasure_leaves_no_identifier_in_any_table_or_history_row(karen, safe_staff):
    assert len(stored_identifiers()) > 10  # the fixture really stored them, in many places
    age = karen.personal_details.age_on(karen.enrolled_on)
    record = erase_personal_data(karen, "request by letter 2022-02-01", safe_staff["coordinator"])
    assert stored_identifiers() == []
    details = PersonalDetails.objects.get(participant=karen)
    assert details.full_name == ERASED and details.is_erased
    assert (details.national_id, details.email, details.mobile) == ("", "", "")
    # Only the age at enrolment, the analysis covariate, is left of the birth date, also in
    # the history rows.
    assert details.age_on(karen.enrolled_on) == age
    assert {h.date_of_birth for h in details.history.all()} == {details.date_of_birth}
    assert details.date_of_birth != date(1980, 3, 5)
    # Audited: who, when, why, what was scrubbed.
    assert record.erased_by == safe_staff["coordinator"] and record.source == Erasure.REQUEST
    assert record.scrubbed["personal_details_history"] == 2
    assert record.scrubbed["sms_sent"] >= 1 and record.scrubbed["sms_replies"] == 1
    assert record.scrubbed["email_messages"] == 1 and record.scrubbed["outbox"] >= 2
    last = details.history.first()
    assert last.history_change_reason == "personal data erased: request by letter 2022-02-01"
    assert last.history_user == safe_staff["coordinator"]


def test_research_data_stays_under_the_study_id(karen):
    week1 = Response.objects.get(participant=karen, instrument="sms_tracking", week=1)
    erase_personal_data(karen, "request")
    week1.refresh_from_db()
    assert week1.scores["pain"] == 5
    assert SmsPrompt.objects.get(participant=karen, week=1, position=0).value == 5
    reply = InboundSms.objects.get(participant=karen)
    assert (reply.sender, reply.body, reply.value) == ("", "[erased]", 5)
    sent = SmsMessage.objects.filter(participant=karen)
    assert {m.recipient for m in sent} == {""} and {m.body for m in sent} == {"[erased]"}
    assert {m.status for m in sent} >= {SmsMessage.SENT}  # when and what kind stays
    email = Message.objects.get(contact__participant=karen)
    assert (email.recipient, email.status) == ("", Message.SENT)


def test_an_active_participant_is_withdrawn_and_never_contacted_again(karen):
    erase_personal_data(karen, "request", today=date(2022, 4, 10))
    karen.refresh_from_db()
    assert karen.status == Participant.WITHDRAWN
    assert karen.withdrawal_scope == Participant.ALL_CONTACT
    assert karen.withdrawal_reason == "personal data erased: request"
    assert not Contact.objects.filter(participant=karen, status__in=Contact.OPEN).exists()
    assert not SmsPrompt.objects.filter(participant=karen, status__in=SmsPrompt.OPEN).exists()
    sent = OutboxMessage.objects.count()
    # A year of dispatcher runs: nothing more goes out, to any address.
    for week in range(2, 53, 5):
        tracking.run(now=datetime(2022, 1, 9, 17, tzinfo=UTC) + timedelta(weeks=week - 1))
    assert OutboxMessage.objects.count() == sent


def test_not_even_the_stop_confirmation_goes_out_after_erasure(karen):
    at = SmsPrompt.objects.get(participant=karen, week=2, position=0).due_at
    inbound, _ = tracking.store("SM" + "2" * 32, "+4520222222", "STOP", now=at)
    tracking.receive(inbound.pk, at)
    confirmation = SmsMessage.objects.get(participant=karen, kind=SmsMessage.STOP_CONFIRMATION)
    assert confirmation.status == SmsMessage.PENDING
    sent = OutboxMessage.objects.count()
    erase_personal_data(karen, "request")
    tracking.run(now=at + timedelta(minutes=1))
    confirmation.refresh_from_db()
    assert confirmation.status == SmsMessage.SKIPPED
    assert OutboxMessage.objects.count() == sent


def test_erasure_needs_a_reason_happens_once_and_freezes_the_details(karen):
    with pytest.raises(EnrolmentError, match="Say why"):
        erase_personal_data(karen, "  ")
    assert not PersonalDetails.objects.get(participant=karen).is_erased
    erase_personal_data(karen, "request")
    with pytest.raises(EnrolmentError, match="already erased"):
        erase_personal_data(karen, "again")
    with pytest.raises(EnrolmentError, match="erased"):
        update_personal_details(
            PersonalDetails.objects.get(participant=karen), {"full_name": "Karen"}, "typo"
        )
    assert Erasure.objects.count() == 1


@pytest.mark.parametrize(
    "born, enrolled, expected",
    [
        (date(1980, 3, 5), date(2022, 1, 5), date(1981, 1, 5)),  # 40 at enrolment
        (date(1980, 1, 5), date(2022, 1, 5), date(1980, 1, 5)),  # birthday that day: 42
        (date(1980, 2, 29), date(2024, 2, 29), date(1980, 2, 29)),  # leap day, leap year
        (date(1981, 3, 1), date(2024, 2, 29), date(1982, 2, 28)),  # 42; 1982 has no 29th
    ],
)
def test_the_birth_date_kept_gives_the_same_age_at_enrolment(born, enrolled, expected):
    kept = birth_date_kept_for_age(born, enrolled)
    assert kept == expected
    details = PersonalDetails(date_of_birth=born)
    assert PersonalDetails(date_of_birth=kept).age_on(enrolled) == details.age_on(enrolled)


# --- in the browser ---------------------------------------------------------------------


def test_a_coordinator_erases_after_confirming_with_a_reason(client, karen, safe_staff):
    client.force_login(safe_staff["coordinator"])
    page = client.get(reverse("participant_detail", args=[karen.study_id])).content.decode()
    url = reverse("participant_erase", args=[karen.study_id])
    assert url in page
    assert "cannot be undone" in client.get(url).content.decode()
    # The wrong study ID: nothing is erased, the reason typed is kept in the form.
    r = client.post(url, {"reason": "letter of 2022-02-01", "confirm": "SF-X-9999"})
    assert r.status_code == 400 and "letter of 2022-02-01" in r.content.decode()
    assert not PersonalDetails.objects.get(participant=karen).is_erased
    r = client.post(url, {"reason": "letter of 2022-02-01", "confirm": karen.study_id})
    assert r.status_code == 302
    assert Erasure.objects.get(participant=karen).reason == "letter of 2022-02-01"
    page = client.get(reverse("participant_detail", args=[karen.study_id])).content.decode()
    assert 'id="personal-details-erased"' in page and "Karen" not in page
    assert url not in page  # once


# --- retention ---------------------------------------------------------------------------


def test_the_retention_date_comes_from_the_protocol_file(tmp_path):
    text = (PROTOCOLS / "safe.toml").read_text()
    good = tmp_path / "good.toml"
    good.write_text(text.replace("[trial]\n", "[trial]\nretention_until = 2038-12-31\n", 1))
    assert read_protocol(good).trial.retention_until == date(2038, 12, 31)
    bad = tmp_path / "bad.toml"
    bad.write_text(text.replace("[trial]\n", "[trial]\nretention_until = 2020-01-01\n", 1))
    with pytest.raises(ProtocolError, match="retention_until is before recruitment_end"):
        read_protocol(bad)


def test_the_retention_command_lists_then_erases_what_is_past_its_date(karen, safe):
    safe.retention_until = date(2032, 12, 31)
    safe.save()

    def retention(*args) -> str:
        out = StringIO()
        call_command("retention", *args, stdout=out)
        return out.getvalue()

    assert karen.study_id not in retention("--today", "2032-12-31")  # the date itself is kept
    listed = retention("--today", "2033-01-01")
    assert f"  {karen.study_id}\n" in listed and "run again with --erase" in listed
    assert not PersonalDetails.objects.get(participant=karen).is_erased  # only listed
    assert f"{karen.study_id} erased" in retention("--today", "2033-01-01", "--erase")
    record = Erasure.objects.get(participant=karen)
    assert record.source == Erasure.RETENTION and record.erased_by is None
    assert record.reason == "retention date 2032-12-31 passed"
    assert "0 participant(s)" in retention("--today", "2033-01-01")


def test_an_address_recorded_by_a_dispatcher_mid_batch_is_scrubbed_by_the_next_run(karen):
    """A dispatcher that read the number before the erasure committed records it with the
    outcome afterwards (and the embedded outbox keeps its copy): retention scrubs it."""
    erase_personal_data(karen, "request")
    message = SmsMessage.objects.filter(participant=karen).first()
    SmsMessage.objects.filter(pk=message.pk).update(recipient="+4520222222")
    OutboxMessage.objects.create(channel="sms", recipient="+4520222222", body="Hvor ondt ...")
    out = StringIO()
    call_command("retention", stdout=out)
    assert "sms_sent 1" in out.getvalue() and "outbox 1" in out.getvalue()
    assert stored_identifiers() == []
