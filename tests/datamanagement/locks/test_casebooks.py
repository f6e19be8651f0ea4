"""The participants' casebooks on the trial's data-management page: forms completed,
verified against source (a mark a later change cleared no longer counts) and the last
casebook signature, filtered to what is left to verify or to sign, in one query for a
page whatever the number of participants."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from datamanagement.casebooks import NOT_SIGNED, TO_VERIFY, casebooks
from datamanagement.sdv import services as sdv
from datamanagement.signatures import services as signatures
from enrolment.models import Participant, Timepoint
from questionnaires.services.saving import correct_response
from tests.conftest import use_betterback_built_once

from ...factories import enrol
from .conftest import PASSWORD, answer, nrs_3m

pytestmark = pytest.mark.django_db
betterback = use_betterback_built_once()  # loaded once for the module


def rows(trial, shown="all"):
    return {p.study_id: (p.completed, p.verified, p.to_verify, p.signed_at is not None)
            for p in casebooks(Participant.objects.filter(trial=trial), shown)}


def test_counts_follow_verification_changes_and_casebook_signatures(
    participant, clinic_west, monitor, investigator, coordinator
):
    other = enrol(clinic_west, preferred_language="en")
    trial = participant.trial
    assert rows(trial) == {participant.study_id: (4, 0, 4, False),
                           other.study_id: (0, 0, 0, False)}
    sdv.verify(nrs_3m(participant), monitor)
    assert rows(trial)[participant.study_id] == (4, 1, 3, False)
    response = nrs_3m(participant)
    correct_response(response, {**response.answers, "back": 0}, "typo", coordinator)
    assert rows(trial)[participant.study_id] == (4, 0, 4, False)  # the mark was cleared
    three = Timepoint.objects.get(trial=trial, code="3m")
    signatures.sign(participant, investigator, PASSWORD, timepoint=three, confirmed=True)
    assert rows(trial)[participant.study_id][3] is False  # one timepoint is not the casebook
    signatures.sign(participant, investigator, PASSWORD, confirmed=True)
    assert rows(trial)[participant.study_id][3] is True
    assert set(rows(trial, TO_VERIFY)) == {participant.study_id}
    assert set(rows(trial, NOT_SIGNED)) == {other.study_id}


def test_the_monitor_goes_from_the_list_to_a_participant_to_verify(participant, clinic_west,
                                                                   monitor, client):
    enrol(clinic_west, preferred_language="en")
    client.force_login(monitor)
    url = reverse("datamanagement:trial", args=["betterback"])
    html = client.get(url, {"show": "to_verify"}).content.decode()
    assert html.count('class="casebook-row"') == 1
    target = reverse("datamanagement:participant", args=[participant.study_id])
    assert f'href="{target}"' in html and "4 to verify" in html
    assert client.get(url).content.decode().count('class="casebook-row"') == 2
    assert client.get(url, {"show": "nonsense"}).status_code == 200  # read as all


def test_one_query_for_the_list_whatever_its_length(participant, clinic_west, monitor,
                                                    client):
    client.force_login(monitor)
    url = reverse("datamanagement:trial", args=["betterback"])

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    few = queries()
    for _ in range(5):
        answer(enrol(clinic_west, preferred_language="en"), "baseline", "nrs")
    assert queries() == few


def test_a_casebook_changed_since_its_signature_counts_as_not_signed(
    participant, clinic_west, investigator, coordinator, monitor, client
):
    """The list says so, as the participant's page does: a signature a later correction
    broke is no signature to rely on, and the investigator finds it under "not signed"."""
    other = enrol(clinic_west, preferred_language="en")
    trial = participant.trial
    for p in (participant, other):
        signatures.sign(p, investigator, PASSWORD, confirmed=True)
    # Written under the other's signature with the same values: it still holds.
    other.save()
    assert set(rows(trial, NOT_SIGNED)) == set()
    response = nrs_3m(participant)
    correct_response(response, {**response.answers, "back": 0}, "typo", coordinator)
    assert set(rows(trial, NOT_SIGNED)) == {participant.study_id}
    client.force_login(monitor)
    html = client.get(reverse("datamanagement:trial", args=["betterback"])).content.decode()
    assert html.count("signature-broken") == 1
    assert "broken: changed since signing" in html
