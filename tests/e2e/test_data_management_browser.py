"""Issue 12's whole loop in one story (headless Chromium): a data manager raises a query
on an ODI item; the physiotherapist of that clinic sees it, corrects the value with the
query as reason; the data manager closes it; a monitor marks the visit verified; the data
manager freezes the 3-month timepoint and the correction page refuses; an investigator
signs the casebook with their password and the meaning statement."""

from __future__ import annotations

from datetime import date

import pytest

from datamanagement.locks.models import Lock
from datamanagement.queries.models import Query
from datamanagement.sdv.models import SourceVerification
from datamanagement.signatures.models import Signature
from enrolment.models import TrialRole
from questionnaires.models import Response

from ..conftest import _role
from ..datamanagement.conftest import answer
from ..factories import enrol
from .conftest import submit_login

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse battery staple"  # tests.factories.UserFactory


def log_in(browser, live_server, username: str, path: str, width: int = 1000):
    page = browser.new_context(viewport={"width": width, "height": 1100}).new_page()
    page.goto(f"{live_server.url}{path}")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    submit_login(page, username)
    page.goto(f"{live_server.url}{path}")  # the second factor may land elsewhere
    return page


def test_query_correct_close_verify_freeze_refuse_and_sign(
    browser, live_server, betterback, clinic_west, data_manager, physio_west
):
    monitor = _role(betterback, TrialRole.MONITOR, "monitor")
    investigator = _role(betterback, TrialRole.INVESTIGATOR, "investigator")
    participant = enrol(clinic_west, enrolled_on=date(2017, 5, 2), preferred_language="en")
    odi = answer(participant, "baseline", "odi", {"q4": 5}, on=date(2017, 5, 3))
    answer(participant, "baseline", "nrs", on=date(2017, 5, 3))
    for code in ("nrs", "odi"):
        answer(participant, "3m", code, on=date(2017, 8, 3))
    study_id = participant.study_id
    participant_page = f"/participants/{study_id}/"
    dm_page = f"/data-management/participant/{study_id}/"

    # 1. The data manager raises a query on an ODI item.
    manager = log_in(browser, live_server, data_manager.username, participant_page)
    manager.click("#raise-query")
    manager.select_option("#id_value", "baseline.odi.q4")
    manager.fill("#id_text", "Walking: the scan shows 2, the entry says 5.")
    manager.click("#raise-form button[type=submit]")
    manager.wait_for_selector("#query-state[data-state=open]")
    query = Query.objects.get(check_code="", field="q4")

    # 2. The physiotherapist of that clinic sees it and corrects the value from it.
    physio = log_in(browser, live_server, physio_west.username, participant_page)
    physio.click('#queries .open-query[data-value="baseline.odi.q4"] a')
    physio.wait_for_selector("#query-target >> text=baseline.odi.q4")
    assert physio.inner_text("#current-value") == "5"
    physio.fill("#id_new_value", "2")
    physio.fill("#id_text", "Checked the paper form: 2.")
    physio.click("#correct-value")
    physio.wait_for_selector("#query-state[data-state=answered]")
    assert physio.inner_text("#current-value") == "2"
    assert physio.locator("#close-query").count() == 0  # the clinic answers, never closes
    physio.context.close()
    odi.refresh_from_db()
    assert odi.answers["q4"] == 2
    audit = odi.history.first()
    assert audit.history_user == physio_west
    assert audit.history_change_reason == (
        f"query {query.pk} (baseline.odi.q4): Checked the paper form: 2."
    )

    # 3. The data manager closes it (after a correction no further reason is needed).
    manager.reload()
    manager.wait_for_selector("#thread [data-kind=corrected]")
    manager.click("#close-query")
    manager.wait_for_selector("#query-state[data-state=closed]")
    assert Query.objects.get(pk=query.pk).state == Query.CLOSED

    # 4. The monitor marks the baseline visit (the corrected ODI among it) verified.
    page = log_in(browser, live_server, monitor.username, dm_page)
    page.wait_for_selector("#source-verification")
    page.click('.sdv-timepoint[data-timepoint="baseline"] button.verify-timepoint')
    page.wait_for_selector('.sdv-timepoint[data-timepoint="baseline"] .sdv-verified')
    verified = SourceVerification.objects.filter(cleared_at=None)
    assert set(verified.values_list("response__instrument", flat=True)) == {"nrs", "odi"}
    page.context.close()

    # 5. The data manager freezes the 3-month data; the correction page refuses.
    manager.goto(f"{live_server.url}/data-management/betterback/")
    manager.select_option("#id_freeze_timepoint", "3m")
    manager.fill('#freeze-form input[name="reason"]', "interim analysis")
    manager.click("#freeze-button")
    manager.wait_for_selector(".freeze-row")
    assert Lock.objects.active().get().level == Lock.TIMEPOINT
    nrs = Response.objects.get(participant=participant, timepoint__code="3m", instrument="nrs")
    before = dict(nrs.answers)
    manager.goto(f"{live_server.url}/questionnaires/responses/{nrs.pk}/correct/")
    assert "Locked: " in manager.content()
    manager.click('label[for="id_back_0"]')
    manager.fill("#id_reason", "typo on the paper form")
    manager.click("form.questionnaire button[value=save]")
    manager.wait_for_load_state()
    assert "A data manager must unlock it" in manager.content()
    nrs.refresh_from_db()
    assert nrs.answers == before
    manager.context.close()

    # 6. The investigator signs the casebook: password and meaning statement.
    page = log_in(browser, live_server, investigator.username, dm_page)
    page.click("#sign-casebook")
    page.wait_for_selector("#meaning")
    page.check("#id_confirm")
    page.fill("#id_password", PASSWORD)
    page.click("#sign-form button[type=submit]")
    page.wait_for_selector(".signature-valid")
    signature = Signature.objects.get()
    assert signature.signed_by == investigator and signature.timepoint is None
    page.context.close()


def test_the_trial_page_fits_a_phone(browser, live_server, betterback, data_manager):
    """The lock form's button ("Lock the database and build the locked dataset", kept on
    one line beside the reason) made the page 402 px wide on a 390-px phone in the demo:
    on a phone the button goes under the reason."""
    page = log_in(browser, live_server, data_manager.username, "/data-management/betterback/", 390)
    assert page.locator("#database-lock-form button").is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.context.close()
