"""Individually randomised designs (SAFE, selfBACK): concealed permuted blocks, revealed
once at enrolment; two enrolments at once never share a slot."""

import csv
import io
import re
import threading
from collections import Counter
from datetime import date

import pytest
from django.db import connection
from django.urls import reverse

from enrolment import randomisation_store
from enrolment.actions.errors import EnrolmentError
from enrolment.models import Clinic, Participant, RandomisationSlot, TrialRole
from enrolment.protocol.writing import load_protocol

from ..conftest import PROTOCOLS
from ..factories import TrialRoleFactory, UserFactory, enrol


@pytest.fixture
def safe(db):
    trial, _ = load_protocol(PROTOCOLS / "safe.toml")
    return trial


@pytest.fixture
def safe_coordinator(safe):
    return TrialRoleFactory(
        user=UserFactory(username="safe-coord"), trial=safe, role=TrialRole.COORDINATOR
    ).user


@pytest.mark.django_db
def test_enrolment_is_impossible_without_a_list(safe):
    with pytest.raises(EnrolmentError, match="no randomisation list"):
        enrol(Clinic.objects.get(cluster__trial=safe))


@pytest.mark.django_db
def test_conditions_follow_the_list_and_stay_balanced(safe, safe_coordinator):
    rlist = randomisation_store.generate(safe, safe_coordinator, seed=20211101)
    clinic = Clinic.objects.get(cluster__trial=safe)
    sequence = list(
        RandomisationSlot.objects.filter(rlist=rlist)
        .order_by("sequence")
        .values_list("arm", flat=True)
    )
    people = [enrol(clinic, enrolled_on=date(2022, 1, 3), user=safe_coordinator) for _ in range(60)]
    assert [p.condition for p in people] == sequence[:60]
    # Balanced at the end of every complete block, never more than half a block apart.
    counts = Counter()
    slots = RandomisationSlot.objects.filter(rlist=rlist).order_by("sequence")[:60]
    for slot, person in zip(slots, people, strict=True):
        counts[person.condition] += 1
        assert slot.participant_id == person.pk and slot.revealed_by is not None
        assert abs(counts["control"] - counts["intervention"]) <= 3
    assert Participant.history.filter(id=people[0].pk).first().condition == people[0].condition


@pytest.mark.django_db
def test_the_next_allocation_is_not_readable_in_any_page(client, safe, safe_coordinator):
    randomisation_store.generate(safe, safe_coordinator, seed=1)
    client.force_login(safe_coordinator)
    html = client.get(reverse("randomisation_list", args=["safe"])).content.decode()
    page = re.sub(r"<[^>]+>", " ", html)  # what a person reads, not class names
    assert "site=SCS" in page and "Slots" in page
    for arm_word in ("control", "intervention", "usual care"):
        assert not re.search(rf"\b{arm_word}\b", page.lower()), arm_word
    from django.contrib import admin

    assert RandomisationSlot not in admin.site._registry
    assert "control" not in str(RandomisationSlot.objects.first())


@pytest.mark.django_db
def test_uploaded_list_with_errors_is_refused_whole(client, safe, safe_coordinator):
    client.force_login(safe_coordinator)
    text = "site,sequence,arm\nSCS,1,control\nSCS,2,placebo\nSCS,x,intervention\n"
    response = client.post(
        reverse("randomisation_list", args=["safe"]),
        {"file": io.BytesIO(text.encode())},
        format="multipart",
    )
    page = response.content.decode()
    assert "line 3" in page and "line 4" in page
    assert not RandomisationSlot.objects.exists()


@pytest.mark.django_db
def test_uploaded_list_is_used(safe, safe_coordinator):
    rows = csv.DictReader(io.StringIO("site,sequence,arm\nSCS,1,intervention\nSCS,2,control\n"))
    randomisation_store.upload(safe, safe_coordinator, rows)
    clinic = Clinic.objects.get(cluster__trial=safe)
    assert [enrol(clinic).condition for _ in range(2)] == ["intervention", "control"]
    with pytest.raises(EnrolmentError, match="no slot left"):
        enrol(clinic)


@pytest.mark.django_db(transaction=True)
def test_two_enrolments_at_the_same_instant_get_different_slots(safe, safe_coordinator):
    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL; CI runs this against PostgreSQL")
    randomisation_store.generate(safe, safe_coordinator, seed=5)
    clinic = Clinic.objects.get(cluster__trial=safe)
    barrier, errors = threading.Barrier(6), []

    def enrol_one():
        try:
            barrier.wait()
            enrol(clinic, user=safe_coordinator)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=enrol_one) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    taken = RandomisationSlot.objects.exclude(participant=None)
    assert taken.count() == 6
    assert sorted(taken.values_list("sequence", flat=True)) == [1, 2, 3, 4, 5, 6]
    assert Participant.objects.values("study_id").distinct().count() == 6


@pytest.mark.django_db
def test_an_upload_with_every_slot_in_one_arm_is_held_back_until_checked(
    client, safe, safe_coordinator
):
    client.force_login(safe_coordinator)
    url = reverse("randomisation_list", args=["safe"])
    text = "site,sequence,arm\n" + "".join(f"SCS,{n},control\n" for n in range(1, 21))

    def send(**extra):
        return client.post(url, {"file": io.BytesIO(text.encode()), **extra}, follow=True)

    page = send().content.decode()
    assert "not stored" in page and "after slot 7 the arms have control 7" in page
    assert not RandomisationSlot.objects.exists()
    page = send(accept_imbalance="on").content.decode()
    assert "The uploaded list is stored and active." in page
    assert RandomisationSlot.objects.filter(arm="control").count() == 20
