"""A statistician runs the analysis plan from the browser in headless Chromium: the
multilevel model and the cost-effectiveness analysis (with its figures) on the trial's
current data, reads the reports, and uses the sample size calculator."""

import pytest
from playwright.sync_api import expect

from analysis import registry
from tests.analysis.exportdata import make_dogleg_data

from .conftest import submit_login

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _run(page, base, analysis, outcome=None):
    page.goto(f"{base}/analysis/betterback/plan/")
    page.select_option("#id_analysis", analysis)
    if outcome:
        page.select_option("#id_outcome", outcome)
    page.click("#plan-form button[type=submit]")
    page.wait_for_selector("#report-link", timeout=60000)
    # The report is one large document (the plane's scatter alone is a long SVG) that the
    # browser parses as it streams: h1 is there long before the last figure, so wait for
    # the new page's load event, not for an element.
    with page.expect_navigation(wait_until="load", timeout=60000):
        page.click("#report-link")
    return page.content()


def test_statistician_runs_the_plan_and_reads_the_report(
    browser, live_server, statistician, betterback, settings, tmp_path
):
    settings.VAR_DIR = tmp_path / "var"
    settings.CELERY_TASK_ALWAYS_EAGER = True
    people = make_dogleg_data(betterback, per_clinic=5)
    rows = "\n".join(f"{p.study_id},{i % 4},{i % 7 == 0:d},0,{i % 5 == 0:d},0,{i % 30}"
                     for i, p in enumerate(people))
    registry.import_file(
        betterback, "registry.csv", ("study_id," + ",".join(registry.ITEMS) + "\n" + rows).encode()
    )
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", "statistician")
    page.fill("#id_password", "correct horse battery staple")
    submit_login(page, "statistician")

    report = _run(page, live_server.url, "mixed", "odi")
    assert "Primary model (condition x time, cluster, period x time" in report
    assert "Variance components of the primary model, odi" in report
    assert "Sensitivity analysis: previous model" in report
    page.screenshot(path=str(tmp_path / "mixed_report.png"), full_page=True)

    report = _run(page, live_server.url, "cea")
    assert "Cost-effectiveness (ICER)" in report
    expect(page.locator("figure svg")).to_have_count(2)  # the plane and the acceptability curve
    assert "Cost-effectiveness plane" in page.inner_text("body")
    page.screenshot(path=str(tmp_path / "cea_report.png"), full_page=True)

    page.goto(f"{live_server.url}/analysis/betterback/sample-size/")
    page.select_option("#id_design", "dogleg")
    page.fill("#id_d", "0.35")
    page.select_option("#id_sided", "1")
    page.fill("#id_icc", "0.01")
    page.fill("#id_cac", "0.8")
    page.fill("#id_m", "100")
    page.click("#sample-size-form button[type=submit]")
    page.wait_for_selector("#sample-size-result")
    result = page.inner_text("#sample-size-result")
    assert "clusters" in result and "patients" in result
    page.screenshot(path=str(tmp_path / "sample_size.png"), full_page=True)
    print("screenshots in", tmp_path)
    page.close()
