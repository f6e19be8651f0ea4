"""A hot query compiled once (trialsite.compiled) gives what its queryset gives, with each
run's own values, and is built once a thread instead of once a run."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, transaction
from django.db.models import OuterRef
from django.db.transaction import TransactionManagementError

from enrolment.consent.reading import trial_holds
from enrolment.models import PersonalDetails
from followup.models import Contact
from followup.survey import find_contact
from followup.tokens import hash_token, token_for
from trialsite.compiled import CompiledQuery

from .factories import enrol
from .followup.conftest import three_months_ago


def _linked(clinic, language):
    participant = enrol(clinic, enrolled_on=three_months_ago(), preferred_language=language)
    contact = participant.contacts.get(timepoint__code="3m")
    token = token_for(contact)
    contact.token_hash = hash_token(token)
    contact.save(update_fields=["token_hash"])
    return contact, token


def _link_query(token_hash):
    return (
        Contact.objects.select_related("timepoint__trial", "participant__personal_details")
        .annotate(trial_holds=trial_holds(OuterRef("timepoint__trial_id")))
        .filter(token_hash=token_hash)
    )


@pytest.mark.django_db
def test_each_run_finds_its_own_row_with_its_joins_and_annotation(clinic_west):
    builds = []

    def build(token_hash):
        builds.append(token_hash)
        return _link_query(token_hash)

    query = CompiledQuery(build, token_hash=str)
    first, first_token = _linked(clinic_west, "sv")
    second, second_token = _linked(clinic_west, "en")
    for contact, token in ((first, first_token), (second, second_token), (first, first_token)):
        found = query.first(token_hash=hash_token(token))
        expected = _link_query(hash_token(token)).get()
        assert found.pk == contact.pk
        assert found.participant.personal_details.preferred_language == (
            expected.participant.personal_details.preferred_language
        )
        assert found.timepoint.trial.code == "betterback"
        assert found.trial_holds is expected.trial_holds is False
        assert {k: v for k, v in vars(found).items() if k != "_state"} == {
            k: v for k, v in vars(expected).items() if k != "_state"
        }
    assert query.first(token_hash=hash_token("no such link")) is None
    assert len(builds) == 2  # compiled once (with two sets of placeholders) for four runs


@pytest.mark.django_db
def test_a_run_reads_the_rows_as_they_are_now(clinic_west):
    contact, token = _linked(clinic_west, "sv")
    assert find_contact(token).status != Contact.CANCELLED
    Contact.objects.filter(pk=contact.pk).update(status=Contact.CANCELLED)
    assert find_contact(token).status == Contact.CANCELLED
    PersonalDetails.objects.filter(participant=contact.participant).update(preferred_language="da")
    assert find_contact(token).participant.personal_details.preferred_language == "da"


@pytest.mark.django_db(transaction=True)
def test_each_thread_compiles_for_its_own_connection(clinic_west):
    contact, token = _linked(clinic_west, "sv")
    assert find_contact(token).pk == contact.pk  # compiled in this thread
    found, errors = [], []

    def look_up():
        try:
            found.append(find_contact(token).pk)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    thread = threading.Thread(target=look_up)
    thread.start()
    thread.join()
    assert errors == [] and found == [contact.pk]
    connection.close()  # a closed connection opens again on the next run
    assert find_contact(token).pk == contact.pk


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_transaction_leaves_the_statement_usable(clinic_west):
    """On PostgreSQL the statement is prepared once a connection; a PREPARE inside a
    transaction that is rolled back must not leave the next run without it."""
    contact, token = _linked(clinic_west, "sv")
    connection.close()  # a new connection: the next run prepares the statement
    with pytest.raises(RuntimeError), transaction.atomic():
        assert find_contact(token).pk == contact.pk
        raise RuntimeError("the page failed after the lookup")
    assert find_contact(token).pk == contact.pk


def test_a_value_the_query_does_not_take_is_refused_when_compiled(db):
    query = CompiledQuery(lambda token_hash: Contact.objects.all(), token_hash=str)
    with pytest.raises(ValueError, match="does not take token_hash"):
        query.all(token_hash="x")
    # A slice's bounds are written into the SQL, not passed as parameters.
    query = CompiledQuery(lambda n: Contact.objects.order_by("pk")[:n], n=int)
    with pytest.raises(ValueError, match="depends on its values"):
        query.all(n=3)
    with pytest.raises(TypeError):
        CompiledQuery(lambda when: Contact.objects.filter(due_on=when), when=float)


@pytest.mark.django_db(transaction=True)
def test_a_lock_outside_a_transaction_is_refused_as_django_refuses_it(clinic_west):
    contact, _ = _linked(clinic_west, "sv")

    def locking(pk):
        return Contact.objects.select_for_update().filter(pk=pk)

    query = CompiledQuery(locking, pk=int)
    with transaction.atomic():
        assert query.first(pk=contact.pk).pk == contact.pk  # compiled inside one

    def refused(run) -> bool:
        try:
            run()
        except TransactionManagementError:
            return True
        return False

    django_refuses = refused(lambda: list(locking(contact.pk)))
    assert django_refuses == (connection.vendor == "postgresql")  # SQLite has no such lock
    assert refused(lambda: query.first(pk=contact.pk)) == django_refuses
