"""What the monitor verifying forms against source and the investigator signing them read:
each form's values item by item, a choice with its label, a missing value with its
reason, and a value the instrument does not know shown all the same."""

from __future__ import annotations

import pytest
from django.urls import reverse

from datamanagement.sdv.values import item_values
from questionnaires import missing
from questionnaires.services.saving import correct_response
from tests.conftest import use_betterback_built_once

from .conftest import answer

pytestmark = pytest.mark.django_db
betterback = use_betterback_built_once()  # loaded once for the module


@pytest.fixture
def odi_3m(participant, coordinator):
    from questionnaires.models import Response

    odi = Response.objects.get(participant=participant, timepoint__code="3m", instrument="odi")
    answers = {k: v for k, v in odi.answers.items() if k != "q8"}
    correct_response(odi, {**answers, "q1": 4}, "patient refused q8 on paper", coordinator,
                     {"q8": missing.REFUSED})
    odi.refresh_from_db()
    return odi


def test_each_item_shows_its_value_its_choice_label_or_why_it_is_missing(odi_3m):
    odi_3m.answers = {**odi_3m.answers, "legacy": 7}  # a key of no item of this version
    rows = {row.item: row for row in item_values(odi_3m)}
    assert rows["q1"].value == "4 · Very severe pain at the moment"
    assert rows["q1"].text == "Pain intensity" and rows["q1"].reason == ""
    assert rows["q8"].value == "" and rows["q8"].reason == "Refused (prefer not to answer)"
    assert rows["legacy"].value == "7"
    assert list(rows)[:2] == ["q1", "q2"]  # the instrument's order


def test_a_scale_value_is_read_with_its_range(participant):
    nrs = answer(participant, "6m", "nrs", {"back": 7, "leg": 0, "back_average": 5,
                                            "back_worst": 8})
    rows = {row.item: row for row in item_values(nrs)}
    assert rows["back"].value == "7 (0 … 10)" and rows["leg"].value == "0 (0 … 10)"


def test_the_monitor_reads_the_values_beside_the_verify_button(participant, monitor, odi_3m,
                                                              client):
    client.force_login(monitor)
    page = client.get(reverse("datamanagement:participant", args=[participant.study_id]))
    html = page.content.decode()
    assert "4 · Very severe pain at the moment" in html
    assert "Refused (prefer not to answer)" in html
    assert html.count('class="form-values"') == 4  # baseline and 3 months, NRS and ODI


def test_the_investigator_reads_what_the_signature_covers(participant, investigator, odi_3m,
                                                          client):
    answer(participant, "baseline", "eq5d3l")
    client.force_login(investigator)
    url = reverse("datamanagement:sign", args=[participant.study_id])
    html = client.get(url, {"timepoint": "3m"}).content.decode()
    assert "4 · Very severe pain at the moment" in html
    assert html.count('class="form-values"') == 2  # the 3-month forms only
    assert "Oswestry Disability Index 2.1" in html and "EQ-5D-3L" not in html
    casebook = client.get(url).content.decode()
    assert casebook.count('class="form-values"') == 5
    # The casebook covers the enrolment record too: the signer reads it.
    assert 'id="signed-enrolment"' in casebook and participant.study_id in casebook


def test_after_verifying_a_form_the_monitor_is_back_at_it_with_its_values_open(
    participant, monitor, odi_3m, client
):
    client.force_login(monitor)
    url = reverse("datamanagement:verify", args=[participant.study_id])
    r = client.post(url, {"response": odi_3m.pk})
    assert r.url.endswith(f"?open={odi_3m.pk}#form-{odi_3m.pk}")
    html = client.get(r.url).content.decode()
    assert html.count('class="form-values" open') == 1
    assert f'id="form-{odi_3m.pk}"' in html
    assert client.post(url, {"timepoint": "3m"}).url.endswith("#timepoint-3m")
    assert client.post(url, {"response": "x"}).status_code == 404


def test_a_form_of_a_version_the_site_no_longer_knows_is_listed_as_stored(odi_3m):
    odi_3m.version = 99
    rows = item_values(odi_3m)
    assert {row.item for row in rows} >= {"q1", "q8"}
    assert {row.item: row.value for row in rows}["q1"] == "4"


def test_forms_are_in_the_protocols_order(participant, monitor, client):
    from enrolment.models import Timepoint

    answer(participant, "3m", "eq5d3l")
    listed = Timepoint.objects.get(trial=participant.trial, code="3m").instruments
    assert listed.index("odi") < listed.index("eq5d3l")  # not the alphabet's order
    client.force_login(monitor)
    html = client.get(reverse("datamanagement:participant", args=[participant.study_id])
                      ).content.decode()
    section = html[html.index('id="timepoint-3m"'):]
    assert section.index("Oswestry Disability Index") < section.index("EQ-5D-3L")
