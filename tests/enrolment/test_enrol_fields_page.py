"""Sex and the first-contact clinician (the protocol's [enrolment] section) on the
participant page and in "Correct enrolment data": shown where the trial asks them (the
clinician only to roles that see the condition) and corrected through the audited path."""

from datetime import date

import pytest
from django.urls import reverse

from enrolment import randomisation_store
from enrolment.actions.changes import update_participant
from enrolment.actions.errors import EnrolmentError
from enrolment.models import Participant, TrialRole
from enrolment.protocol.writing import load_protocol
from tests.conftest import use_betterback_built_once

from ..conftest import PROTOCOLS
from ..factories import TrialRoleFactory, UserFactory, enrol

pytestmark = pytest.mark.django_db
betterback = use_betterback_built_once()  # loaded once for the module
DAY = date(2022, 3, 1)
CLINICIAN = "First-contact clinician chosen by the patient"


def _staff(trial, role, name):
    return TrialRoleFactory(user=UserFactory(username=name), trial=trial, role=role).user


def _safe():
    trial, _ = load_protocol(PROTOCOLS / "safe.toml")
    coordinator = _staff(trial, TrialRole.COORDINATOR, "safe-coord")
    randomisation_store.generate(trial, coordinator, seed=7)
    clinic = trial.clusters.get().clinics.get()
    return enrol(clinic, enrolled_on=DAY, user=coordinator, sex="male"), coordinator


def _impact():
    trial, _ = load_protocol(PROTOCOLS / "impact-lbp.toml")
    coordinator = _staff(trial, TrialRole.COORDINATOR, "impact-coord")
    psp = trial.clusters.get(code="A").clinics.first()  # intervention on DAY
    usual = trial.clusters.get(code="B").clinics.first()
    chosen = enrol(psp, enrolled_on=DAY, user=coordinator, first_contact_clinician="chiropractor")
    control = enrol(usual, enrolled_on=DAY, user=coordinator)
    return chosen, control, coordinator


def _page(client, user, p):
    client.force_login(user)
    return client.get(reverse("participant_detail", args=[p.study_id])).content.decode()


def test_safe_page_shows_sex_and_a_correction_is_audited_with_its_reason(client):
    p, coordinator = _safe()
    page = _page(client, coordinator, p)
    assert 'id="sex">Male<' in page and CLINICIAN not in page
    url = reverse("participant_edit", args=[p.study_id])
    form = {"clinic": p.clinic_id, "enrolled_on": "2022-03-01", "sex": "female"}
    assert "Say why" in client.post(url, form).content.decode()
    assert client.post(url, {**form, "reason": "ticked the wrong box"}).status_code == 302
    p.refresh_from_db()
    assert p.sex == "female"
    last = Participant.history.filter(id=p.pk).first()
    assert (last.sex, last.history_change_reason) == ("female", "ticked the wrong box")
    assert last.prev_record.sex == "male"
    # Sex choices as at enrolment.
    response = client.post(url, {**form, "sex": "other", "reason": "x"})
    assert response.status_code == 200 and Participant.objects.get(pk=p.pk).sex == "female"


def test_impact_page_shows_the_clinician_to_staff_who_see_the_condition_only(client):
    chosen, control, coordinator = _impact()
    page = _page(client, coordinator, chosen)
    assert CLINICIAN in page and "Chiropractor" in page and 'id="sex"' not in page
    assert CLINICIAN not in _page(client, coordinator, control)
    trial = chosen.trial
    trial.blinded = True
    trial.save()
    statistician = _staff(trial, TrialRole.STATISTICIAN, "impact-stat")
    page = _page(client, statistician, chosen)
    assert CLINICIAN not in page and "Chiropractor" not in page


def test_impact_clinician_corrected_at_intervention_refused_at_control(client):
    chosen, control, coordinator = _impact()
    client.force_login(coordinator)
    url = reverse("participant_edit", args=[chosen.study_id])
    form = {"clinic": chosen.clinic_id, "enrolled_on": "2022-03-01", "reason": "misheard"}
    # Required at an intervention clinic, as at enrolment.
    assert client.post(url, form).status_code == 200
    response = client.post(url, {**form, "first_contact_clinician": "physiotherapist"})
    assert response.status_code == 302
    chosen.refresh_from_db()
    assert chosen.first_contact_clinician == "physiotherapist"
    assert Participant.history.filter(id=chosen.pk).first().history_change_reason == "misheard"
    # A control clinic's participant gets no such field, and the action refuses it.
    edit = client.get(reverse("participant_edit", args=[control.study_id])).content.decode()
    assert 'name="first_contact_clinician"' not in edit
    with pytest.raises(EnrolmentError, match="only at intervention clinics"):
        update_participant(control, {"first_contact_clinician": "chiropractor"}, "why")
    control.refresh_from_db()
    assert control.first_contact_clinician == ""


def test_betterback_page_and_form_ask_neither(client, coordinator, clinic_west):
    p = enrol(clinic_west)
    page = _page(client, coordinator, p)
    assert 'id="sex"' not in page and CLINICIAN not in page
    edit = client.get(reverse("participant_edit", args=[p.study_id])).content.decode()
    assert 'name="sex"' not in edit and 'name="first_contact_clinician"' not in edit
