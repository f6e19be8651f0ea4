"""BetterBack loaded once for a module (``use_betterback_built_once``): the tests share
its rows but not each other's changes. The two tests run in file order; the second fails
if the first's changes, in the database or on the object, reached it."""

import pytest

from enrolment.models import Trial

from .conftest import use_betterback_built_once

pytestmark = pytest.mark.django_db
betterback = use_betterback_built_once()


def test_a_test_changes_the_trial(betterback):
    betterback.name = "Changed by the first test"
    betterback.save()
    betterback.clusters.update(name="Renamed by the first test")
    assert Trial.objects.get(code="betterback").name == "Changed by the first test"


def test_the_next_test_gets_the_trial_as_loaded(betterback):
    assert betterback.name != "Changed by the first test"
    assert Trial.objects.get(code="betterback").name == betterback.name
    assert not betterback.clusters.filter(name="Renamed by the first test").exists()
    assert Trial.objects.filter(code="betterback").count() == 1
