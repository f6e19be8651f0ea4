"""followup.bulk: on PostgreSQL plain values go to the driver as they are, every other
value is prepared by its field as Django would; on SQLite every value is prepared by its
field. What is written is what Django's own bulk methods write."""

from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import connection
from django.utils.translation import gettext_lazy

from enrolment.models import Timepoint
from followup import dispatch as dispatcher
from followup.bulk import bulk_insert, bulk_set
from followup.models import Contact, Message
from tests.conftest import use_betterback_built_once

from ..factories import enrol

pytestmark = pytest.mark.django_db
betterback = use_betterback_built_once()  # loaded once for the module
postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="SQLite uses Django's bulk_create"
)

AT = datetime(2017, 8, 2, 7, tzinfo=UTC)


def test_values_a_field_prepares_are_prepared(clinic_west):
    participant = enrol(clinic_west, enrolled_on=date(2017, 5, 2))
    contact = participant.contacts.get(timepoint__code="3m")
    # A lazy translation (no driver can send it) and a JSON field (a dict).
    contact.channel_note = gettext_lazy("opted out of SMS")
    timepoint = contact.timepoint
    timepoint.labels = {"sv": "3 månader", "en": "3 months"}
    bulk_set(Contact, [contact], ["channel_note"])
    bulk_set(Timepoint, [timepoint], ["labels"])
    assert Contact.objects.get(pk=contact.pk).channel_note == "opted out of SMS"
    assert Timepoint.objects.get(pk=timepoint.pk).labels["sv"] == "3 månader"


def test_a_set_writes_what_bulk_update_writes(clinic_west):
    people = [enrol(clinic_west, enrolled_on=date(2017, 5, 2)) for _ in range(2)]
    ours, django = [p.contacts.get(timepoint__code="3m") for p in people]
    for contact in (ours, django):
        contact.invited_at = AT  # an aware datetime: text in SQLite, timestamptz in PG
        contact.closes_at = AT + timedelta(days=30, microseconds=7)
        contact.status = Contact.INVITED
        contact.messages_planned = 3
    bulk_set(Contact, [ours], ["invited_at", "closes_at", "status", "messages_planned"])
    Contact.objects.bulk_update([django], ["invited_at", "closes_at", "status", "messages_planned"])
    columns = ["invited_at", "closes_at", "status", "messages_planned"]
    mine, theirs = (Contact.objects.values(*columns).get(pk=c.pk) for c in (ours, django))
    assert (
        mine
        == theirs
        == {
            "invited_at": AT,
            "closes_at": AT + timedelta(days=30, microseconds=7),
            "status": Contact.INVITED,
            "messages_planned": 3,
        }
    )
    # Stored as Django stores it: a filter on the column finds both rows.
    assert set(Contact.objects.filter(invited_at=AT).values_list("pk", flat=True)) == {
        ours.pk,
        django.pk,
    }


@postgresql_only
def test_an_insert_writes_what_bulk_create_writes_and_skips_a_conflict(clinic_west):
    people = [enrol(clinic_west, enrolled_on=date(2017, 5, 2)) for _ in range(2)]
    contacts = [p.contacts.get(timepoint__code="3m") for p in people]
    ours = dispatcher._new_message(contacts[0], Message.INVITATION, AT)
    django = dispatcher._new_message(contacts[1], Message.INVITATION, AT)
    bulk_insert(Message, [ours])
    Message.objects.bulk_create([django], ignore_conflicts=True)
    columns = [f.attname for f in Message._meta.concrete_fields if not f.primary_key]
    written = {m["contact_id"]: m for m in Message.objects.values(*columns)}
    mine, theirs = written[contacts[0].pk], written[contacts[1].pk]
    for name in columns:
        if name not in ("contact_id", "idempotency_key", "recipient"):
            assert mine[name] == theirs[name], name
    # The same step planned again from a read before the first plan: not written twice.
    stale = Contact.objects.get(pk=contacts[0].pk)
    bulk_insert(Message, [dispatcher._new_message(stale, Message.INVITATION, AT)])
    assert Message.objects.filter(contact=contacts[0]).count() == 1
