"""Allocation in cluster designs: the condition of the clinic's cluster on the enrolment
date (BetterBack protocol, "Allocation and blinding" and Table 2)."""

from datetime import date

import pytest
from django.core.exceptions import ValidationError

from enrolment import allocation
from enrolment.actions.changes import update_participant
from enrolment.models import Cluster
from tests.conftest import use_betterback_built_once

from ..factories import enrol

betterback = use_betterback_built_once()  # loaded once for the module

CROSSOVER = date(2017, 9, 18)


def test_day_before_crossover_is_control():
    assert allocation.cluster_condition(CROSSOVER, date(2017, 9, 17)) == allocation.CONTROL


def test_day_of_crossover_is_intervention():
    assert allocation.cluster_condition(CROSSOVER, CROSSOVER) == allocation.INTERVENTION


def test_cluster_that_never_crosses_stays_control():
    assert allocation.cluster_condition(None, date(2030, 1, 1)) == allocation.CONTROL


def test_washout_is_the_two_weeks_centred_on_the_crossover():
    assert not allocation.in_crossover_washout(CROSSOVER, date(2017, 9, 10), 14)
    assert allocation.in_crossover_washout(CROSSOVER, date(2017, 9, 11), 14)
    assert allocation.in_crossover_washout(CROSSOVER, date(2017, 9, 24), 14)
    assert not allocation.in_crossover_washout(CROSSOVER, date(2017, 9, 25), 14)
    assert not allocation.in_crossover_washout(None, CROSSOVER, 14)


def test_study_id_is_readable():
    assert allocation.study_id("BB", "W", 1) == "BB-W-0001"


@pytest.mark.django_db
def test_enrolment_at_the_central_crossover_boundary(clinic_central):
    before = enrol(clinic_central, enrolled_on=date(2017, 9, 17))
    on = enrol(clinic_central, enrolled_on=date(2017, 9, 18))
    assert (before.condition, on.condition) == ("control", "intervention")
    assert before.crossover_washout and on.crossover_washout
    assert (before.study_id, on.study_id) == ("BB-C-0001", "BB-C-0002")


@pytest.mark.django_db
def test_west_starts_in_intervention_and_east_stays_in_control(clinic_west, clinic_east):
    assert enrol(clinic_west, enrolled_on=date(2017, 4, 3)).condition == "intervention"
    assert enrol(clinic_east, enrolled_on=date(2018, 1, 30)).condition == "control"


@pytest.mark.django_db
def test_moving_the_crossover_later_does_not_move_anyone_enrolled(clinic_central):
    p = enrol(clinic_central, enrolled_on=date(2017, 10, 2))
    cluster = Cluster.objects.get(pk=clinic_central.cluster_id)
    cluster.crossover = date(2017, 11, 1)
    cluster._change_reason = "recruitment slower than planned"
    cluster.save()
    p.refresh_from_db()
    assert p.condition == "intervention"
    # ...while a patient enrolled now, before the new date, is in routine care.
    assert enrol(clinic_central, enrolled_on=date(2017, 10, 3)).condition == "control"


@pytest.mark.django_db
def test_condition_cannot_be_changed_even_with_a_reason(clinic_east):
    p = enrol(clinic_east)
    p.condition = "intervention"
    p._change_reason = "trying"
    with pytest.raises(ValidationError):
        p.save()


@pytest.mark.django_db
def test_moving_a_participant_to_another_cluster_keeps_condition(clinic_east, clinic_west):
    p = enrol(clinic_east, enrolled_on=date(2017, 6, 1))
    update_participant(p, {"clinic": clinic_west}, reason="registered at the wrong clinic")
    p.refresh_from_db()
    assert p.clinic == clinic_west and p.condition == "control"
    assert p.study_id.startswith("BB-E-")  # study IDs are never reissued
