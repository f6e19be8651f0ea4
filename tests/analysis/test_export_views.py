"""Browser pages of the analysis app: roles, export jobs with progress and downloads,
blinding codes for coordinators only, the plan and the sample size calculator."""

import pytest
from django.test import override_settings
from django.urls import reverse

from analysis.models import AnalysisRun, ExportJob, ExportLog
from tests.analysis.exportdata import make_dogleg_data, make_trial_data
from tests.conftest import use_betterback_built_once

pytestmark = pytest.mark.django_db
betterback = use_betterback_built_once()  # loaded once for the module


@pytest.fixture
def data(betterback):
    return make_trial_data(betterback, per_clinic=2)


@pytest.fixture(autouse=True)
def var_dir(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    settings.CELERY_TASK_ALWAYS_EAGER = True


PAGES = ["analysis_home", "analysis_plan", "analysis_sample_size"]


@pytest.mark.parametrize("page", PAGES)
def test_analysis_roles_only(client, betterback, statistician, coordinator, data_manager,
                             physio_west, page):
    url = reverse(page, args=["betterback"])
    for user in (statistician, coordinator, data_manager):
        client.force_login(user)
        assert client.get(url).status_code == 200
    client.force_login(physio_west)
    assert client.get(url).status_code == 403
    from tests.factories import UserFactory

    client.force_login(UserFactory(username="nobody"))
    assert client.get(url).status_code == 404
    client.logout()
    assert client.get(url).status_code == 302


def test_export_job_from_the_browser(client, betterback, data, statistician, coordinator):
    client.force_login(statistician)
    response = client.post(reverse("analysis_export_start", args=["betterback"]),
                           {"format": "sav", "shape": "wide", "level": "score"})
    job = ExportJob.objects.get()
    assert response.url == reverse("analysis_export_status", args=["betterback", job.pk])
    assert (job.status, job.progress) == ("done", 100)
    progress = client.get(reverse("analysis_export_progress", args=["betterback", job.pk]))
    assert progress.json() == {"status": "done", "label": "Done", "progress": 100, "error": ""}
    # In the statistician's language: the job's words, not its codes (a walk found
    # "wide score csv" and "done" on Danish pages).
    page = client.get(reverse("analysis_export_status", args=["betterback", job.pk]),
                      HTTP_ACCEPT_LANGUAGE="sv").content.decode()
    assert "Brett · Poäng · SPSS .sav" in page and ">Klar<" in page
    home = client.get(reverse("analysis_home", args=["betterback"]),
                      HTTP_ACCEPT_LANGUAGE="sv").content.decode()
    assert "<td>Brett</td><td>Poäng</td>" in home and "Klar 100%" in home
    download = client.get(reverse("analysis_export_download", args=["betterback", job.pk, "data"]))
    assert download.status_code == 200 and b"".join(download.streaming_content)[:4] == b"$FL2"
    book = client.get(reverse("analysis_export_download",
                              args=["betterback", job.pk, "codebook.html"]))
    assert b"sbst_risk_group" in b"".join(book.streaming_content)
    log = ExportLog.objects.get()
    assert (log.user, log.format, log.shape, log.rows) == (statistician, "sav", "wide", len(data))
    # another user of the trial does not see this job
    client.force_login(coordinator)
    assert client.get(reverse("analysis_export_status",
                              args=["betterback", job.pk])).status_code == 404


def test_blinding_codes_only_for_coordinators(client, betterback, statistician, coordinator):
    url = reverse("analysis_blinding", args=["betterback"])
    client.force_login(statistician)
    assert client.get(url).status_code == 403
    client.force_login(coordinator)
    client.post(url)
    page = client.get(url).content.decode()
    assert "Current routine practice" in page and "BetterBack model of care" in page


@override_settings(CELERY_TASK_ALWAYS_EAGER=True)
def test_plan_runs_the_primary_model_and_serves_the_report(client, betterback, statistician,
                                                           physio_west):
    make_dogleg_data(betterback)
    client.force_login(statistician)
    client.post(reverse("analysis_plan", args=["betterback"]),
                {"analysis": "mixed", "outcome": "odi"})
    run = AnalysisRun.objects.get()
    assert run.status == "done", run.error
    response = client.get(reverse("analysis_run_report", args=["betterback", run.pk]))
    report = b"".join(response.streaming_content)
    # The run's page shows the report in a frame: this site may frame it, no other.
    assert response["X-Frame-Options"] == "SAMEORIGIN"
    assert "frame-ancestors 'self'" in response["Content-Security-Policy"]
    page = client.get(reverse("analysis_run", args=["betterback", run.pk]))
    assert "frame-ancestors 'none'" in page["Content-Security-Policy"]
    assert b"Primary model (condition x time, cluster, period x time" in report
    assert b"clinic x time" in report  # variance components by name
    assert b"Sensitivity analysis: previous model" in report
    client.force_login(physio_west)
    assert client.get(reverse("analysis_run_report",
                              args=["betterback", run.pk])).status_code == 403


@override_settings(CELERY_TASK_ALWAYS_EAGER=True)
def test_run_on_too_little_data_says_why_in_one_sentence(client, betterback, statistician):
    make_trial_data(betterback, per_clinic=2)  # one clinic per cluster, no crossover
    client.force_login(statistician)
    client.post(reverse("analysis_plan", args=["betterback"]),
                {"analysis": "mixed", "outcome": "odi"})
    run = AnalysisRun.objects.get()
    assert run.status == "failed"
    assert run.error.startswith("Condition cannot be separated from cluster")
    assert "Error" not in run.error and run.error.count(".") == 1
    page = client.get(reverse("analysis_run", args=["betterback", run.pk]))
    assert run.error in page.content.decode()


def test_sample_size_page_reproduces_the_protocol(client, betterback, statistician):
    client.force_login(statistician)
    page = client.get(reverse("analysis_sample_size", args=["betterback"]),
                      {"design": "individual", "d": 0.35, "alpha": 0.05, "sided": 1,
                       "power": 0.8, "loss": 0, "loss_method": "divide", "icc": 0.01,
                       "cac": 0.8, "m": 100})
    assert page.context["result"]["patients"] == 204


def test_export_page_lists_every_participant_column(client, betterback, statistician):
    """Issue 15 finding 13: the list missed ``died``."""
    from analysis.exports import participant_vars

    client.force_login(statistician)
    html = client.get(reverse("analysis_home", args=["betterback"])).content.decode()
    listed = html.split('id="participant-columns">')[1].split("</span>")[0]
    for var in participant_vars(betterback):
        assert f"<code>{var.name}</code>" in listed
    assert "<code>died</code>" in listed


def test_the_plans_analyses_are_named_in_the_users_language(client, betterback, statistician):
    """A walk found every analysis of the plan's list in English on Swedish and Danish
    pages."""
    client.force_login(statistician)
    url = reverse("analysis_plan", args=["betterback"])
    swedish = client.get(url, HTTP_ACCEPT_LANGUAGE="sv").content.decode()
    assert "Primär flernivåmodell" in swedish and "Primary multilevel model" not in swedish
    danish = client.get(url, HTTP_ACCEPT_LANGUAGE="da").content.decode()
    assert "Omkostningseffektivitet" in danish and "Cost-effectiveness" not in danish
    assert "Primary multilevel model" in client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()


def test_the_plan_offers_what_the_trials_data_can_feed(client, betterback, statistician):
    """A walk found SAFE offered BetterBack's ODI (SAFE asks no ODI) and the
    physiotherapist analyses (SAFE has no physiotherapist questionnaires)."""
    from analysis.forms import AnalysisForm
    from enrolment.protocol.writing import load_protocol
    from tests.conftest import PROTOCOLS

    form = AnalysisForm(trial=betterback)
    assert [o for o, _ in form.fields["outcome"].choices] == [
        "nrs_back", "odi", "eq5d_index", "bipq_total"
    ]
    assert {"paired", "pilot", "mixed"} <= set(dict(form.fields["analysis"].choices))
    safe, _report = load_protocol(PROTOCOLS / "safe.toml")
    form = AnalysisForm(trial=safe)
    outcomes = [o for o, _ in form.fields["outcome"].choices]
    assert "odi" not in outcomes and outcomes
    analyses = set(dict(form.fields["analysis"].choices))
    assert "mixed" in analyses and not {"paired", "pilot"} & analyses
    client.force_login(statistician)
    page = client.get(reverse("analysis_plan", args=["betterback"])).content.decode()
    assert 'value="odi"' in page
