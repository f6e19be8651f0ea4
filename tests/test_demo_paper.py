"""The demo's scanned return (trialsite/demo/paper.py): a pack printed, posted and scanned
back without emptying the "post today" list the newcomer is shown next."""

import pytest
from django.utils import timezone

from followup.models import Contact, Message
from paper.models import Pack, ScanBatch
from tests.conftest import use_betterback_built_once
from tests.factories import enrol
from tests.paper.conftest import in_tray
from trialsite.demo.paper import build_paper_demo

pytestmark = pytest.mark.django_db
betterback = use_betterback_built_once()  # loaded once for the module

ADDRESS = "Storgatan 1\n591 30 Motala"


def _invited(participant):
    contact = participant.contacts.get(timepoint__code="3m")
    Contact.objects.filter(pk=contact.pk).update(status=Contact.INVITED, reminders_sent=3)
    return contact


def _tray():
    return Message.objects.filter(channel=Message.POST, status=Message.SENT, posted_at=None)


def test_with_one_pack_in_the_tray_the_return_is_printed_by_hand(
    betterback, clinic_west, data_manager
):
    """Built on a day when one questionnaire waits by post: the pack scanned back is one
    printed by hand for another open questionnaire; the tray keeps its pack."""
    waiting = in_tray(enrol(clinic_west, postal_address=ADDRESS, contact_preference="post"))
    _invited(waiting.contact.participant)
    by_phone = _invited(enrol(clinic_west, postal_address=ADDRESS))
    built = build_paper_demo(betterback, timezone.now())
    assert list(_tray()) == [waiting]
    assert built["packs in the post tray"] == 1
    returned = Pack.objects.get()
    assert (returned.participant, returned.message, returned.posted_by) == (
        by_phone.participant, None, data_manager)  # fmt: skip
    assert built["scanned pages waiting"] == ScanBatch.objects.get().pages > 0


def test_with_more_packs_in_the_tray_one_of_them_comes_back(betterback, clinic_west, data_manager):
    first, second = (
        in_tray(enrol(clinic_west, postal_address=ADDRESS, contact_preference="post"))
        for _ in range(2)
    )
    for message in (first, second):
        _invited(message.contact.participant)
    built = build_paper_demo(betterback, timezone.now())
    returned = Pack.objects.get()
    assert returned.message in (first, second) and returned.message.posted_at is not None
    assert _tray().count() == built["packs in the post tray"] == 1


def test_with_nothing_else_open_a_late_return_comes_back(betterback, clinic_west, data_manager):
    """The only other open questionnaire has a new link waiting in the outbox for the
    morning (built at night): answering it on paper would cancel the SMS the demo shows.
    The pack comes back after its window closed instead."""
    waiting = in_tray(enrol(clinic_west, postal_address=ADDRESS, contact_preference="post"))
    _invited(waiting.contact.participant)
    texted = _invited(enrol(clinic_west, postal_address=ADDRESS, contact_preference="sms"))
    Message.objects.create(
        contact=texted, kind=Message.NEW_LINK, sequence=4, channel=Message.SMS,
        idempotency_key="demo-paper-sms", language="sv", status=Message.PENDING,
        created=timezone.now(), template="followup/sms/new_link",
    )  # fmt: skip
    late = enrol(clinic_west, postal_address=ADDRESS).contacts.get(timepoint__code="3m")
    Contact.objects.filter(pk=late.pk).update(status=Contact.MISSED, closed_at=timezone.now())
    build_paper_demo(betterback, timezone.now())
    assert list(_tray()) == [waiting]
    assert Pack.objects.get().participant == late.participant
    texted.refresh_from_db()
    assert texted.status == Contact.INVITED
