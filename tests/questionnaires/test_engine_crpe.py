"""The CRPE-tool filled in by the physiotherapist at the first and the final visit."""

import pytest
from django.urls import reverse

from questionnaires.models import Response
from tests.conftest import use_betterback_built_once

from ..factories import enrol
from .engine_helpers import checked

pytestmark = pytest.mark.django_db
betterback = use_betterback_built_once()  # loaded once for the module


@pytest.fixture
def participant(clinic_west):
    return enrol(clinic_west)


def url(p, tp):
    return reverse("crpe_form", args=[p.study_id, tp])


def test_first_visit_saves_scores_and_hides_final_visit_items(client, participant, physio_west):
    client.force_login(physio_west)
    html = client.get(url(participant, "crpe-first")).content.decode()
    assert 'name="fi1"' in html and 'name="effect"' not in html and 'name="visits"' not in html
    assert "<legend" in html and "Functional impairment" in html  # section headings
    r = client.post(
        url(participant, "crpe-first"),
        {"fi1": "2", "fi2": "4", "al1": "3", "category": "1", "icd10": ["1"]},
    )
    assert r.status_code == 302
    resp = Response.objects.get(participant=participant, timepoint__code="crpe-first")
    assert resp.answers == {"fi1": 2, "fi2": 4, "al1": 3, "category": 1, "icd10": [1]}
    # Abbott et al. 2018: sum of grades / number of items graded, per section.
    assert resp.scores["impairment_score"] == 3.0 and resp.scores["activity_score"] == 3.0
    assert resp.entered_by == physio_west and resp.mode == Response.STAFF_CLINIC
    assert resp.is_complete


def test_final_visit_shows_the_first_visit_grade_beside_each_graded_item(
    client, participant, physio_west
):
    client.force_login(physio_west)
    client.post(url(participant, "crpe-first"), {"fi1": "2", "al3": "0", "category": "1"})
    html = client.get(url(participant, "crpe-final")).content.decode()
    fi1 = html.split('id="div_id_fi1"')[1].split('id="div_id_')[0]
    assert "First visit: 2 Moderate" in fi1
    al3 = html.split('id="div_id_al3"')[1].split('id="div_id_')[0]
    assert "First visit: 0 None" in al3
    fi2 = html.split('id="div_id_fi2"')[1].split('id="div_id_')[0]
    assert "First visit" not in fi2  # not graded at the first visit
    assert 'name="effect"' in html and 'name="visits"' in html
    assert checked(html, "fi1") == []  # the final visit is graded afresh


def test_icd10_codes_outside_the_category_row_are_shown_next_to_the_item(
    client, participant, physio_west
):
    client.force_login(physio_west)
    # Category 1 (muscular) has only M54.5; choice 2 is M99.0.
    r = client.post(url(participant, "crpe-first"), {"fi1": "1", "category": "1", "icd10": ["2"]})
    assert r.status_code == 200
    html = r.content.decode()
    block = html.split('id="div_id_icd10"')[1].split('id="div_id_')[0]
    assert "M99.0 is not a code of the category" in block
    assert checked(html, "fi1") == ["1"]  # what was entered is kept
    assert not Response.objects.filter(participant=participant).exists()


def test_category_is_required(client, participant, physio_west):
    client.force_login(physio_west)
    r = client.post(url(participant, "crpe-first"), {"fi1": "1"})
    assert r.status_code == 200
    assert "This field is required." in r.content.decode().split('id="div_id_category"')[1]


def test_another_clinics_physiotherapist_gets_404(client, participant, physio_east):
    client.force_login(physio_east)
    assert client.get(url(participant, "crpe-first")).status_code == 404
    assert client.post(url(participant, "crpe-first"), {"category": "1"}).status_code == 404


def test_changing_a_saved_crpe_needs_a_reason(client, participant, physio_west):
    client.force_login(physio_west)
    client.post(url(participant, "crpe-first"), {"fi1": "1", "category": "1"})
    r = client.post(url(participant, "crpe-first"), {"fi1": "3", "category": "1"})
    assert r.status_code == 200 and "reason" in r.content.decode().lower()
    resp = Response.objects.get(participant=participant)
    assert resp.answers["fi1"] == 1
    r = client.post(
        url(participant, "crpe-first"), {"fi1": "3", "category": "1", "reason": "mis-click"}
    )
    assert r.status_code == 302
    resp.refresh_from_db()
    assert resp.answers["fi1"] == 3
    assert resp.history.first().history_change_reason == "mis-click"
