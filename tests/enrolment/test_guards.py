"""The write-path guard that data management registers: every audited save and delete
asks it, so a refusal holds whatever path writes."""

import pytest

from enrolment import guards
from tests.conftest import use_betterback_built_once
from tests.factories import enrol

pytestmark = pytest.mark.django_db
betterback = use_betterback_built_once()  # loaded once for the module


def _refuse(instance, action):
    raise guards.WriteRefused(f"{action} of {type(instance).__name__} refused")


@pytest.fixture
def refusing():
    guards.register(_refuse)
    yield
    guards.unregister(_refuse)


def _change(participant):
    participant._change_reason = "test"
    participant.late_enrolment_reason = "changed"
    participant.save()


def test_a_registered_guard_refuses_save_and_delete_of_an_audited_record(clinic_west):
    participant = enrol(clinic_west)
    guards.register(_refuse)
    try:
        with pytest.raises(guards.WriteRefused, match="save of Participant refused"):
            _change(participant)
        with pytest.raises(guards.WriteRefused, match="delete of Participant refused"):
            participant.delete()
    finally:
        guards.unregister(_refuse)
    participant.refresh_from_db()
    assert participant.late_enrolment_reason == ""


def test_without_guards_writes_go_through(clinic_west):
    participant = enrol(clinic_west)
    _change(participant)
    participant.refresh_from_db()
    assert participant.late_enrolment_reason == "changed"
