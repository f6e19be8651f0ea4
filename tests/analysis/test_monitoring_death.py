"""A participant who died leaves the CONSORT flow where a withdrawal would, counted as
died (CONSORT 2010 item 13b: losses after randomisation, with reasons)."""

from datetime import date

import pytest

from analysis import monitoring as mon
from enrolment.actions.status import record_death, withdraw_participant
from enrolment.models import Participant, ScreeningRecord
from tests.conftest import use_betterback_built_once
from tests.factories import enrol

pytestmark = pytest.mark.django_db
betterback = use_betterback_built_once()  # loaded once for the module


def test_death_is_a_loss_with_its_reason_at_the_first_timepoint_after_it(clinic_west):
    trial = clinic_west.cluster.trial
    died = enrol(clinic_west, enrolled_on=date(2017, 5, 2))
    withdrew_then_died = enrol(clinic_west, enrolled_on=date(2017, 5, 2))
    alive = enrol(clinic_west, enrolled_on=date(2017, 5, 2))
    record_death(died, date(2017, 9, 1), "informed by the family", today=date(2018, 9, 1))
    withdraw_participant(withdrew_then_died, date(2017, 6, 1), "moved away")
    withdrew_then_died.refresh_from_db()
    record_death(withdrew_then_died, date(2017, 12, 1), "registry", today=date(2018, 9, 1))

    participants = Participant.objects.filter(trial=trial)
    flow = mon.consort_for(trial, participants, ScreeningRecord.objects.none(), date(2018, 9, 1))
    [arm] = [a for a in flow.arms if a.allocated]
    assert arm.allocated == 3 and flow.adds_up
    # died 1 Sep 2017: after the 3-month (due 2 Aug), before the 6-month timepoint;
    # withdrew 1 Jun, before the 3-month: a withdrawal, though death came later
    assert arm.withdrawn_before == {"3m": 1, "6m": 1}
    assert arm.died_before == {"6m": 1}
    # the one who withdrew first counts as withdrawn, not as died
    listed = mon.consort_participants(
        trial, participants, date(2018, 9, 1), mon.WITHDRAWN, "3m", arm.condition
    )
    assert listed == [withdrew_then_died.study_id]
    assert alive.study_id not in listed
