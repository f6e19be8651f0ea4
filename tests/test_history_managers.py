"""Every audited model's ``history`` keeps its manager class (trialsite.history) and
answers as simple-history's own does: the model's records, or one instance's."""

from __future__ import annotations

import pytest
from django.apps import apps

from enrolment.models import Participant
from tests.conftest import use_betterback_built_once
from trialsite.history import HistoryDescriptorBuiltOnce

from .factories import enrol

betterback = use_betterback_built_once()  # loaded once for the module


def test_every_audited_model_builds_its_history_manager_once():
    audited = [
        m for m in apps.get_models() if getattr(m._meta, "simple_history_manager_attribute", None)
    ]
    assert len(audited) > 10
    for model in audited:
        descriptor = model.__dict__[model._meta.simple_history_manager_attribute]
        assert isinstance(descriptor, HistoryDescriptorBuiltOnce), model
        assert type(model.history) is type(model.history)  # one class, not one per access


@pytest.mark.django_db
def test_history_of_the_model_and_of_one_instance(clinic_west):
    first, second = enrol(clinic_west), enrol(clinic_west)
    assert {r.id for r in Participant.history.all()} >= {first.pk, second.pk}
    assert {r.id for r in first.history.all()} == {first.pk}
    assert first.history.latest().study_id == first.study_id
    assert second.history.get().history_type == "+"
