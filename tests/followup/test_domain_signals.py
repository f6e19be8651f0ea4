"""Follow-up reacts to what enrolment's actions say happened (enrolment.signals), and to
nothing else: a plain save of a participant is no event (issue 19, item 11)."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from enrolment.actions.changes import update_participant, update_personal_details
from enrolment.actions.status import complete_participant, record_death, withdraw_participant
from enrolment.models import Participant
from followup.models import Contact, SmsPrompt

from .test_sms_tracking import BASELINE, person


def open_contacts(p) -> int:
    return Contact.objects.filter(participant=p, status__in=Contact.OPEN).count()


def unreachable(p) -> bool:
    return Contact.objects.filter(participant=p, channel_note__startswith="unreachable").exists()


def open_prompts(p) -> int:
    return SmsPrompt.objects.filter(participant=p, status__in=SmsPrompt.OPEN).count()


def test_a_plain_save_of_a_participant_is_not_reacted_to(safe):
    p = person(safe)
    contacts, prompts = open_contacts(p), open_prompts(p)
    assert contacts and prompts  # planned by the enrolment's signal
    p = Participant.objects.get(pk=p.pk)
    p.final_visit_on = date(2022, 3, 1)
    p._change_reason = "an unrelated field"
    with CaptureQueriesContext(connection) as captured:
        p.save()
    assert not [q["sql"] for q in captured if "followup_" in q["sql"]]
    # Not even a status written past the actions (a data fix): the actions are the events.
    p.status = Participant.COMPLETED
    p.enrolled_on = date(2022, 1, 12)
    p._change_reason = "a data fix"
    p.save()
    assert (open_contacts(p), open_prompts(p)) == (contacts, prompts)
    assert not Contact.objects.filter(participant=p).exclude(anchor_date=BASELINE).exists()


@pytest.mark.parametrize(
    "act",
    [
        lambda p: withdraw_participant(p, date(2022, 3, 1), "moved abroad"),
        lambda p: record_death(p, date(2022, 3, 1), "a relative called"),
        lambda p: complete_participant(p, "completed the trial"),
    ],
    ids=["withdrawn", "died", "completed"],
)
def test_each_ending_action_cancels_contacts_and_sms(safe, act):
    p = person(safe)
    assert open_contacts(p) and open_prompts(p)
    act(p)
    assert (open_contacts(p), open_prompts(p)) == (0, 0)


def test_a_corrected_enrolment_date_replans_through_the_action(safe):
    p = person(safe)
    update_participant(p, {"enrolled_on": date(2022, 1, 12)}, "typo")
    scheduled = Contact.objects.filter(participant=p, status=Contact.SCHEDULED)
    assert scheduled.exists()
    assert set(scheduled.values_list("anchor_date", flat=True)) == {date(2022, 1, 12)}


def test_changed_contact_details_refresh_reachability_through_the_action(safe):
    p = person(safe, email="", mobile="", postal_address="")
    notes = set(Contact.objects.filter(participant=p).values_list("channel_note", flat=True))
    assert all(n.startswith("unreachable") for n in notes)
    # A change to no contact field is no event.
    update_personal_details(p.personal_details, {"full_name": "A. N. Other"}, "typo")
    assert unreachable(p)
    update_personal_details(
        p.personal_details, {"email": "new@example.org", "mobile": "+4520999888"}, "by phone"
    )
    assert not unreachable(p)
