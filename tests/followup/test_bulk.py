"""followup.bulk on PostgreSQL: plain values go to the driver as they are, every other
value is prepared by its field as Django would (SQLite uses Django's bulk methods)."""

from datetime import UTC, date, datetime

import pytest
from django.db import connection
from django.utils.translation import gettext_lazy

from enrolment.models import Timepoint
from followup import dispatch as dispatcher
from followup.bulk import bulk_insert, bulk_set
from followup.models import Contact, Message

from ..factories import enrol

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="SQLite uses Django's bulk methods"
    ),
]

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
