"""Recording a death: audited with a reason, every open contact cancelled ("died") in
the same transaction, the participant never contacted again and shown as deceased."""

from datetime import UTC, date, datetime, timedelta

import pytest
from django.core import mail
from django.urls import reverse

from enrolment.actions.errors import EnrolmentError
from enrolment.actions.status import record_death, withdraw_participant
from enrolment.models import Participant
from followup import dispatch as dispatcher
from followup.models import Contact, Message
from followup.planning import RescheduleError, reschedule_contact
from tests.conftest import use_betterback_built_once

from ..factories import enrol

pytestmark = pytest.mark.django_db
betterback = use_betterback_built_once()  # loaded once for the module

DUE_3M = datetime(2017, 8, 2, 7, tzinfo=UTC)  # 3 m of an enrolment on 2 May 2017, 09:00 CEST


def recipients() -> list[str]:
    return [to for m in mail.outbox for to in m.to]


def test_a_coordinator_records_a_death_on_the_participant_page(client, coordinator, clinic_west):
    p = enrol(clinic_west, enrolled_on=date(2017, 5, 2))
    client.force_login(coordinator)
    url = reverse("participant_detail", args=[p.study_id])
    page = client.get(url).content.decode()
    assert "Record the participant&#x27;s death" in page or "Record the participant's death" in page
    r = client.post(url, {"death-died_on": "2017-06-14", "death-reason": "daughter phoned"})
    assert r.status_code == 302
    p.refresh_from_db()
    assert (p.status, p.died_on) == (Participant.DIED, date(2017, 6, 14))
    last = p.history.first()
    assert last.history_change_reason == "death recorded: daughter phoned"
    assert last.history_user == coordinator
    # The same transaction cancelled every open contact, audited with the reason "died".
    contacts = list(p.contacts.all())
    assert {c.status for c in contacts} == {Contact.CANCELLED}
    assert {c.close_reason for c in contacts} == {"died"}
    assert all(c.next_action_at is None for c in contacts)
    assert contacts[0].history.first().history_user == coordinator
    page = client.get(url).content.decode()
    assert 'id="deceased"' in page and "2017-06-14" in page
    assert 'id="record-death"' not in page  # recorded once
    assert reverse("participant_withdraw", args=[p.study_id]) not in page


def test_a_deceased_participant_gets_no_reminder_nor_any_later_invitation(clinic_west):
    living = enrol(clinic_west, enrolled_on=date(2017, 5, 2))
    deceased = enrol(clinic_west, enrolled_on=date(2017, 5, 2))
    assert dispatcher.dispatch_due(DUE_3M, 50).sent == 2
    record_death(deceased, date(2017, 8, 5), "registry", today=date(2017, 8, 6))
    mail.outbox.clear()
    # A year of dispatcher runs: reminders, the 6 and 12 month invitations.
    now = DUE_3M
    while now < datetime(2018, 7, 1, tzinfo=UTC):
        now += timedelta(days=1)
        dispatcher.dispatch_due(now, 50)
    assert set(recipients()) == {living.personal_details.email}
    # 3 m: 3 reminders; 6 and 12 m: the invitation and 3 reminders each.
    assert len(recipients()) == 3 + 4 + 4
    assert not Message.objects.filter(contact__participant=deceased).exclude(
        kind=Message.INVITATION, sequence=0
    )


def test_a_message_planned_but_not_yet_sent_when_the_death_is_recorded_is_not_sent(clinic_west):
    p = enrol(clinic_west, enrolled_on=date(2017, 5, 2))
    dispatcher.plan_due(DUE_3M, 10, dispatcher.Stats())  # written, not handed over yet
    record_death(p, date(2017, 8, 1), "registry", today=date(2017, 8, 2))
    stats = dispatcher.dispatch_due(DUE_3M, 10)
    assert stats.sent == 0 and mail.outbox == []
    assert Message.objects.get().status == Message.SKIPPED


def test_a_death_after_withdrawal_keeps_the_withdrawal(clinic_west):
    p = enrol(clinic_west, enrolled_on=date(2017, 5, 2))
    withdraw_participant(p, date(2017, 6, 1), "too busy", scope=Participant.FOLLOW_UP_ONLY)
    record_death(p, date(2017, 9, 1), "registry", today=date(2017, 9, 2))
    p.refresh_from_db()
    assert (p.status, p.withdrawn_on, p.withdrawal_reason) == (
        Participant.DIED,
        date(2017, 6, 1),
        "too busy",
    )


def test_a_missed_contact_of_a_deceased_participant_cannot_be_rescheduled(clinic_west):
    p = enrol(clinic_west, enrolled_on=date(2017, 5, 2))
    dispatcher.dispatch_due(DUE_3M, 10)
    dispatcher.dispatch_due(datetime(2017, 9, 10, tzinfo=UTC), 10)  # window closed: missed
    missed = p.contacts.get(timepoint__code="3m")
    assert missed.status == Contact.MISSED
    record_death(p, date(2017, 9, 12), "registry", today=date(2017, 9, 12))
    with pytest.raises(RescheduleError, match="died"):
        reschedule_contact(missed, date(2017, 10, 1), "asked for a new date")
    missed.refresh_from_db()
    assert missed.status == Contact.MISSED


@pytest.mark.parametrize(
    "died_on, reason, message",
    [
        ("2017-06-01", "", "This field is required"),
        ("2017-04-01", "registry", "precedes enrolment"),
        ("2999-01-01", "registry", "cannot be in the future"),
    ],
)
def test_a_death_needs_a_reason_and_a_possible_date(
    client, coordinator, clinic_west, died_on, reason, message
):
    p = enrol(clinic_west, enrolled_on=date(2017, 5, 2))
    client.force_login(coordinator)
    r = client.post(
        reverse("participant_detail", args=[p.study_id]),
        {"death-died_on": died_on, "death-reason": reason},
    )
    assert r.status_code == 400 and message in r.content.decode()
    p.refresh_from_db()
    assert p.status == Participant.ACTIVE
    assert set(p.contacts.values_list("status", flat=True)) == {Contact.SCHEDULED}


def test_a_death_is_recorded_once(clinic_west):
    p = enrol(clinic_west, enrolled_on=date(2017, 5, 2))
    record_death(p, date(2017, 6, 1), "registry")
    with pytest.raises(EnrolmentError, match="already recorded"):
        record_death(p, date(2017, 6, 2), "a relative")


def test_only_coordinators_and_administrators_record_a_death(
    client, clinic_west, physio_west, data_manager
):
    p = enrol(clinic_west, enrolled_on=date(2017, 5, 2))
    url = reverse("participant_detail", args=[p.study_id])
    for user in (physio_west, data_manager):
        client.force_login(user)
        assert 'id="record-death"' not in client.get(url).content.decode()
        r = client.post(url, {"death-died_on": "2017-06-01", "death-reason": "registry"})
        assert r.status_code == 403
    p.refresh_from_db()
    assert p.status == Participant.ACTIVE


def test_a_long_reason_fits_the_audit_trail(clinic_west):
    """The history keeps 100 characters of a reason (PostgreSQL refuses more)."""
    long = "told by the GP practice, who had it from the population registry; " * 4
    withdrawn = enrol(clinic_west, enrolled_on=date(2017, 5, 2))
    withdraw_participant(withdrawn, date(2017, 6, 1), long)
    deceased = enrol(clinic_west, enrolled_on=date(2017, 5, 2))
    record_death(deceased, date(2017, 6, 1), long)
    for p in (withdrawn, deceased):
        assert long[:40] in p.history.first().history_change_reason
    withdrawn.refresh_from_db()
    assert withdrawn.withdrawal_reason == long.strip()
