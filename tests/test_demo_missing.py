"""The demo's missing-data reasons (trialsite/demo/missing.py): paper items lost, an item
refused online and a questionnaire not done, each through the real write path."""

import pytest

from followup.models import Contact
from questionnaires import missing
from questionnaires.instruments import get
from questionnaires.models import Response
from questionnaires.services.saving import save_answers
from tests.conftest import use_betterback_built_once
from tests.factories import enrol
from tests.questionnaires.engine_helpers import valid_answers
from trialsite.demo.missing import add_missing_reasons

pytestmark = pytest.mark.django_db
betterback = use_betterback_built_once()  # loaded once for the module


def test_the_demo_adds_reasons_of_every_kind(betterback, clinic_west, coordinator, data_manager):
    data_manager.username = "datamanager"  # the demo's login
    data_manager.save()
    odi = get("odi")
    paper, online, absent = (enrol(clinic_west) for _ in range(3))
    tp = betterback.timepoints.get(code="baseline")
    for who, mode, user in (
        (paper, Response.STAFF_PAPER, coordinator),
        (online, Response.PATIENT_ONLINE, None),
    ):
        save_answers(
            instrument=odi,
            timepoint=tp,
            answers=valid_answers(odi),
            complete=True,
            mode=mode,
            user=user,
            participant=who,
        )
    contact = absent.contacts.get(timepoint__code="3m")
    Contact.objects.filter(pk=contact.pk).update(status=Contact.MISSED)

    counts = add_missing_reasons(betterback)

    assert counts == {
        "paper items lost": 1,
        "items refused online": 1,
        "questionnaires not done": 1,
    }
    lost = Response.objects.get(participant=paper, instrument="odi")
    assert (
        lost.missing == {"q5": missing.LOST} and lost.history.first().history_user == data_manager
    )
    refused = Response.objects.get(participant=online, instrument="odi")
    assert refused.missing == {"q8": missing.REFUSED} and refused.scores["sections_answered"] == 9
    not_done = Response.objects.get(participant=absent, timepoint=contact.timepoint)
    assert not_done.not_done and not_done.instrument == contact.timepoint.instruments[0]
