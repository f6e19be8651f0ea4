"""The schedule written at enrolment (from real enrolments through the action and its
signal), its cancellation, and rescheduling by a coordinator.

Expected dates are counted by hand on the calendar from the protocol files; local send
time 09:00 (FOLLOWUP_SEND_TIME); Stockholm and Copenhagen are UTC+2 in summer (CEST)
and UTC+1 in winter (CET), EU rule (Directive 2000/84/EC)."""

from datetime import UTC, date, datetime

import pytest
from django.urls import reverse

from enrolment.actions.status import complete_participant, withdraw_participant
from followup.dispatch import dispatch_due
from followup.models import Contact, Message
from tests.conftest import use_betterback_built_once

from ..factories import enrol
from .conftest import clinic_of

pytestmark = pytest.mark.django_db
betterback = use_betterback_built_once()  # loaded once for the module


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def schedule(participant) -> list[tuple]:
    return [
        (c.timepoint.code, c.due_on, c.window_opens, c.window_closes, c.due_at, c.closes_at)
        for c in Contact.objects.filter(participant=participant).order_by("due_at")
    ]


def test_betterback_3_6_12_months_in_stockholm_time(clinic_west):
    p = enrol(clinic_west, enrolled_on=date(2017, 5, 2))
    assert schedule(p) == [
        # 3 m: window -7 / +30 days; closes at the local midnight after its last day.
        ("3m", date(2017, 8, 2), date(2017, 7, 26), date(2017, 9, 1),
         utc(2017, 8, 2, 7), utc(2017, 9, 1, 22)),
        # 6 m falls in winter time: 09:00 CET is 08:00 UTC.
        ("6m", date(2017, 11, 2), date(2017, 10, 19), date(2017, 12, 2),
         utc(2017, 11, 2, 8), utc(2017, 12, 2, 23)),
        ("12m", date(2018, 5, 2), date(2018, 4, 18), date(2018, 6, 16),
         utc(2018, 5, 2, 7), utc(2018, 6, 16, 22)),
    ]  # fmt: skip
    # Baseline (offset 0) is answered at enrolment; workshop timepoints are not a patient's.
    assert all(c.status == Contact.SCHEDULED for c in p.contacts.all())
    assert all(c.next_action_at == c.due_at for c in p.contacts.all())


def test_safe_3_to_24_months_from_a_month_end_in_copenhagen(safe):
    p = enrol(clinic_of(safe), enrolled_on=date(2022, 1, 31), preferred_language="da")
    rows = schedule(p)
    # 31 January + months: clamped to the month's last day, always counted from baseline.
    assert [(r[0], r[1]) for r in rows] == [
        ("3m", date(2022, 4, 30)),
        ("6m", date(2022, 7, 31)),
        ("12m", date(2023, 1, 31)),
        ("18m", date(2023, 7, 31)),
        ("24m", date(2024, 1, 31)),
    ]
    assert [r[4] for r in rows] == [
        utc(2022, 4, 30, 7),  # CEST
        utc(2022, 7, 31, 7),
        utc(2023, 1, 31, 8),  # CET
        utc(2023, 7, 31, 7),
        utc(2024, 1, 31, 8),
    ]
    # 24 m: window -14 / +45 days; 2024 is a leap year: 31 Jan + 45 days = 16 March.
    assert rows[-1][2:4] == (date(2024, 1, 17), date(2024, 3, 16))
    assert rows[-1][5] == utc(2024, 3, 16, 23)


def test_selfback_6_weeks_across_the_spring_clock_change(selfback):
    p = enrol(clinic_of(selfback), enrolled_on=date(2019, 3, 20), preferred_language="da")
    rows = schedule(p)
    assert [r[0] for r in rows] == ["6w", "3m", "6m", "9m"]
    # 20 March (CET) + 6 weeks = 1 May (CEST): 09:00 local is 07:00 UTC.
    assert rows[0][1:5] == (date(2019, 5, 1), date(2019, 4, 28), date(2019, 5, 15),
                            utc(2019, 5, 1, 7))  # fmt: skip


def test_withdrawal_cancels_what_is_left_with_an_audited_reason(clinic_west):
    p = enrol(clinic_west, enrolled_on=date(2017, 5, 2))
    dispatch_due(utc(2017, 8, 2, 7), 10)  # the 3 m invitation goes out
    withdraw_participant(p, date(2017, 9, 10), "moved abroad")
    statuses = dict(p.contacts.values_list("timepoint__code", "status"))
    # The 3 m contact was still open (invited, window until 1 Sep... closed by now in
    # real life, but nobody marked it): everything open is cancelled.
    assert statuses == {"3m": "cancelled", "6m": "cancelled", "12m": "cancelled"}
    last = Contact.objects.get(participant=p, timepoint__code="6m").history.first()
    assert last.status == "cancelled" and "moved abroad" in last.history_change_reason
    assert Contact.objects.filter(participant=p, next_action_at__isnull=False).count() == 0
    # Nothing more goes out.
    before = Message.objects.count()
    dispatch_due(utc(2018, 6, 1), 10)
    assert Message.objects.count() == before


def test_completing_the_trial_cancels_the_rest(clinic_west):
    p = enrol(clinic_west, enrolled_on=date(2017, 5, 2))
    complete_participant(p, "completed the trial")
    assert set(p.contacts.values_list("status", flat=True)) == {Contact.CANCELLED}


def test_a_coordinator_reschedules_one_contact_with_a_reason(client, clinic_west, coordinator):
    p = enrol(clinic_west, enrolled_on=date(2017, 5, 2))
    contact = p.contacts.get(timepoint__code="6m")
    client.force_login(coordinator)
    url = reverse("contact_reschedule", args=[contact.pk])
    assert client.get(url).status_code == 200
    r = client.post(url, {"due_on": "2017-11-20", "reason": ""})
    assert r.status_code == 200  # a reason is required
    r = client.post(url, {"due_on": "2017-11-20", "reason": "in hospital until mid November"})
    assert r.status_code == 302
    contact.refresh_from_db()
    assert (contact.due_on, contact.window_opens, contact.window_closes) == (
        date(2017, 11, 20), date(2017, 11, 6), date(2017, 12, 20))  # fmt: skip
    assert contact.due_at == contact.next_action_at == utc(2017, 11, 20, 8)
    h = contact.history.first()
    assert h.history_change_reason == "in hospital until mid November"
    assert h.history_user == coordinator
    # The contact's history on the page: the site's reasons in the reader's language,
    # the coordinator's as typed (it read "planned at enrolment" on a Swedish page).
    client.cookies["django_language"] = "sv"
    html = client.get(url).content.decode()
    assert "planerad vid inklusion" in html and "in hospital until mid November" in html
    assert "planned at enrolment" not in html


def test_only_coordinators_reschedule(client, clinic_west, physio_west, statistician):
    p = enrol(clinic_west, enrolled_on=date(2017, 5, 2))
    url = reverse("contact_reschedule", args=[p.contacts.first().pk])
    for user in (physio_west, statistician):
        client.force_login(user)
        assert client.post(url, {"due_on": "2017-11-20", "reason": "x"}).status_code == 403


def test_physiotherapist_contacts_from_the_workshop_date(clinic_west, physio_west, client):
    from django.core import mail

    from enrolment.models import Physiotherapist
    from followup.planning import plan_physiotherapist

    physio_west.email = "physio.west@example.org"
    physio_west.save()
    physio = Physiotherapist.objects.get(user=physio_west)
    physio.workshop_date = date(2017, 3, 15)
    physio.save()  # setting the date plans the contacts
    due = dict(physio.contacts.values_list("timepoint__code", "due_on"))
    # No workshop recorded: the date is day 1 and day 2 follows it.
    assert due == {
        "pt-before": date(2017, 3, 15),  # day 1, 08:30
        "pt-after": date(2017, 3, 16),  # day 2, 15:30
        "pt-3m": date(2017, 6, 16),
        "pt-12m": date(2018, 3, 16),
    }
    assert plan_physiotherapist(physio) == []  # planned once
    # 15 March 2017, 08:30 CET = 07:30 UTC: the invitation goes to the physiotherapist.
    assert dispatch_due(utc(2017, 3, 15, 7, 29), 10).sent == 0
    assert dispatch_due(utc(2017, 3, 15, 7, 30), 10).sent == 1
    assert mail.outbox[-1].to == ["physio.west@example.org"]


def test_a_corrected_enrolment_date_moves_the_contacts_not_yet_sent(clinic_west):
    from enrolment.actions.changes import update_participant

    p = enrol(clinic_west, enrolled_on=date(2017, 5, 2))
    dispatch_due(utc(2017, 8, 2, 7), 10)  # 3 m already invited: it stays as sent
    update_participant(p, {"enrolled_on": date(2017, 5, 9)}, "typo in the enrolment date")
    due = dict(p.contacts.values_list("timepoint__code", "due_on"))
    assert due == {"3m": date(2017, 8, 2), "6m": date(2017, 11, 9), "12m": date(2018, 5, 9)}
    six = p.contacts.get(timepoint__code="6m")
    assert six.next_action_at == six.due_at == utc(2017, 11, 9, 8)
    assert six.history.first().history_change_reason == "enrolment date corrected"
