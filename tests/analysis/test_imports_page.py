"""The upload page of a trial's declared imports ([[imports]]): who may use it (the
registry upload's roles), what it shows of each declaration, a file with errors listed
line by line with nothing written, and a valid file imported through
analysis.imports.import_file with its row count."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from analysis.import_models import DataImport
from enrolment import randomisation_store
from enrolment.models import TrialRole
from enrolment.protocol.writing import load_protocol
from tests.conftest import use_betterback_built_once

from ..conftest import PROTOCOLS
from ..factories import (
    AuthenticatorFactory,
    PhysiotherapistFactory,
    TrialRoleFactory,
    UserFactory,
    enrol,
)

pytestmark = pytest.mark.django_db
betterback = use_betterback_built_once()  # loaded once for the module

HEADER = "study_id,sickness_benefit_weeks,gp_contacts,physiotherapy_contacts"


@pytest.fixture
def safe():
    trial, _ = load_protocol(PROTOCOLS / "safe.toml")
    randomisation_store.generate(trial, UserFactory(), seed=3)
    clinic = trial.clusters.get().clinics.get()
    people = [enrol(clinic, enrolled_on=date(2022, 3, 1)) for _ in range(2)]
    return trial, clinic, people


def _user(trial, role):
    user = TrialRoleFactory(trial=trial, role=role).user
    AuthenticatorFactory(user=user)
    return user


def _file(*lines, name="extract.csv"):
    return SimpleUploadedFile(name, ("\n".join(lines) + "\n").encode(), "text/csv")


def test_a_data_manager_uploads_and_sees_the_current_import(client, safe):
    trial, _clinic, (a, b) = safe
    client.force_login(_user(trial, TrialRole.DATA_MANAGER))
    url = reverse("analysis_imports", args=["safe"])
    page = client.get(url).content.decode()
    # The declaration: its columns with type and limits, not weekly, nothing yet.
    assert 'id="import-dk_registries"' in page and "<code>gp_contacts</code>" in page
    assert "<td>integer</td><td>0..366</td>" in page
    assert "One row per participant." in page and "Nothing imported yet." in page

    good = _file(HEADER, f"{a.study_id},1,2,3", f"{b.study_id},0,1,0")
    page = client.post(
        url, {"code": "dk_registries", "file": good, "note": "DREAM 2023"}, follow=True
    ).content.decode()
    assert "Imported 2 rows from extract.csv." in page
    current = DataImport.objects.get(trial=trial, active=True)
    assert current.rows == 2 and current.note == "DREAM 2023" and current.uploaded_by
    assert "Current import: extract.csv" in page and "DREAM 2023" in page


def test_errors_are_listed_with_their_lines_and_nothing_is_written(client, safe):
    trial, _clinic, (a, _b) = safe
    client.force_login(_user(trial, TrialRole.DATA_MANAGER))
    url = reverse("analysis_imports", args=["safe"])
    bad = _file(HEADER, f"{a.study_id},1,2,3", "SAFE-NOPE-9,1,1,1", f"{a.study_id},x,1,999")
    page = client.post(url, {"code": "dk_registries", "file": bad, "note": "first try"})
    html = page.content.decode()
    assert page.status_code == 200 and 'id="import-errors"' in html
    assert "line 3: SAFE-NOPE-9 is not a participant of safe" in html
    assert "line 4: sickness_benefit_weeks: &#x27;x&#x27; is not a whole number" in html
    assert "line 4: physiotherapy_contacts: &#x27;999&#x27; is outside 0..366" in html
    assert not DataImport.objects.exists()
    assert 'value="first try"' in html  # the form keeps what was entered
    assert '<option value="dk_registries" selected>' in html


def test_other_roles_get_the_refusal_page(client, safe):
    trial, clinic, _people = safe
    url = reverse("analysis_imports", args=["safe"])
    physio = PhysiotherapistFactory(clinic=clinic).user
    AuthenticatorFactory(user=physio)
    client.force_login(physio)
    refused = client.get(url)
    assert refused.status_code == 403 and 'id="error-403"' in refused.content.decode()
    # As the registry upload: statisticians export, data managers upload.
    client.force_login(_user(trial, TrialRole.STATISTICIAN))
    assert client.get(url).status_code == 403


def test_linked_only_for_trials_that_declare_imports(client, safe, betterback):
    trial, _clinic, _people = safe
    assert not betterback.imports
    manager = _user(trial, TrialRole.DATA_MANAGER)
    TrialRoleFactory(user=manager, trial=betterback, role=TrialRole.DATA_MANAGER)
    client.force_login(manager)
    page = client.get(reverse("analysis_home", args=["safe"])).content.decode()
    assert reverse("analysis_imports", args=["safe"]) in page
    page = client.get(reverse("analysis_home", args=["betterback"])).content.decode()
    assert 'id="nav-imports"' not in page
    assert client.get(reverse("analysis_imports", args=["betterback"])).status_code == 404


def test_a_weekly_declaration_in_swedish(client):
    trial, _ = load_protocol(PROTOCOLS / "selfback.toml")
    client.force_login(_user(trial, TrialRole.COORDINATOR))
    page = client.get(
        reverse("analysis_imports", args=["selfback"]), HTTP_ACCEPT_LANGUAGE="sv"
    ).content.decode()
    assert "Importerade data i selfback" in page
    assert "En rad per deltagare och vecka (vecka 1 till 52)." in page
    # step_goal_met: a boolean, optional.
    assert "<td><code>step_goal_met</code></td><td>boolean</td><td>0/1</td><td>nej</td>" in page


def test_a_file_over_the_limit_is_refused_with_its_size_and_nothing_is_written(
    client, safe, settings
):
    trial, _clinic, (a, _b) = safe
    settings.IMPORT_MAX_MB = 1
    client.force_login(_user(trial, TrialRole.DATA_MANAGER))
    url = reverse("analysis_imports", args=["safe"])
    big = _file(HEADER, *[f"{a.study_id},1,2,3"] * 80_000)
    size = f"{big.size / 1024 / 1024:.1f}"
    assert float(size) > 1
    page = client.post(url, {"code": "dk_registries", "file": big, "note": "n"})
    html = page.content.decode()
    assert page.status_code == 200
    assert f"The file is {size} MB; an import may be at most 1 MB." in html
    assert not DataImport.objects.exists() and 'value="n"' in html


def test_a_swedish_data_manager_reads_the_reasons_in_swedish(client, safe):
    trial, _clinic, (a, _b) = safe
    client.force_login(_user(trial, TrialRole.DATA_MANAGER))
    url = reverse("analysis_imports", args=["safe"])
    bad = _file(HEADER, "SAFE-NOPE-9,1,1,1", f"{a.study_id},x,1,999", f"{a.study_id},1,1,1")
    html = client.post(
        url, {"code": "dk_registries", "file": bad}, HTTP_ACCEPT_LANGUAGE="sv"
    ).content.decode()
    assert "SAFE-NOPE-9 är inte deltagare i safe" in html
    assert "&#x27;x&#x27; är inte ett heltal" in html
    assert "&#x27;999&#x27; ligger utanför 0..366" in html
    assert f"{a.study_id} finns redan på rad 3" in html
