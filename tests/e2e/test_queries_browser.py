"""A data manager raises a query on an ODI item, the physiotherapist of that clinic sees
it, corrects the value with the query as reason, and the data manager closes it
(headless Chromium)."""

from datetime import date

import pytest

from datamanagement.queries.models import Query
from questionnaires.models import Response
from tests.datamanagement.conftest import answer
from tests.factories import enrol

from .conftest import submit_login

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def log_in(browser, live_server, username, path):
    page = browser.new_page(viewport={"width": 1000, "height": 1100})
    page.goto(f"{live_server.url}{path}")
    page.fill("#id_username", username)
    page.fill("#id_password", "correct horse battery staple")
    submit_login(page, username)
    page.goto(f"{live_server.url}{path}")  # the second factor may land elsewhere
    return page


def test_query_raised_corrected_and_closed(
    browser, live_server, data_manager, physio_west, clinic_west
):
    participant = enrol(clinic_west, enrolled_on=date(2017, 5, 2))
    odi = answer(participant, "baseline", "odi", {"q4": 5}, on=date(2017, 5, 3))
    study_id = participant.study_id

    manager = log_in(browser, live_server, "datamanager", f"/participants/{study_id}/")
    manager.click("#raise-query")
    manager.select_option("#id_value", "baseline.odi.q4")
    manager.fill("#id_text", "Walking: the scan shows 2, the entry says 5.")
    manager.click("#raise-form button[type=submit]")
    manager.wait_for_selector("#query-state[data-state=open]")
    query = Query.objects.get(check_code="", field="q4")

    physio = log_in(browser, live_server, "physio_west", f"/participants/{study_id}/")
    mark = physio.locator('#queries .open-query[data-value="baseline.odi.q4"] a')
    mark.click()
    physio.wait_for_selector("#query-target >> text=baseline.odi.q4")
    assert physio.inner_text("#current-value") == "5"
    physio.fill("#id_new_value", "2")
    physio.fill("#id_text", "Checked the paper form: 2.")
    physio.click("#correct-value")
    physio.wait_for_selector("#query-state[data-state=answered]")
    assert physio.inner_text("#current-value") == "2"
    assert physio.locator("#close-query").count() == 0  # the clinic answers, never closes
    physio.close()

    odi = Response.objects.get(pk=odi.pk)
    assert odi.answers["q4"] == 2
    audit = odi.history.first()
    assert audit.history_user == physio_west
    assert audit.history_change_reason == (
        f"query {query.pk} (baseline.odi.q4): Checked the paper form: 2."
    )

    # The data manager's session is still open (a second login in the same half-minute
    # would reuse a spent one-time code).
    manager.reload()
    manager.wait_for_selector("#thread [data-kind=corrected]")
    manager.click("#close-query")  # after a correction no further reason is needed
    manager.wait_for_selector("#query-state[data-state=closed]")
    manager.close()
    assert Query.objects.get(pk=query.pk).state == Query.CLOSED
