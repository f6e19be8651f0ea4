"""In the browser (headless Chromium): a monitor marks a visit verified against source; the
data manager freezes the 3-month timepoint and the correction page refuses a change; an
investigator signs the casebook with their password and the meaning statement."""

from __future__ import annotations

import pytest

from datamanagement.locks.models import Lock
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


def login(browser, live_server, username: str, path: str):
    page = browser.new_context().new_page()
    page.goto(f"{live_server.url}{path}")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    submit_login(page, username)
    return page


def test_verify_freeze_refuse_and_sign(browser, live_server, betterback, clinic_west,
                                       data_manager, coordinator):
    monitor = _role(betterback, TrialRole.MONITOR, "monitor")
    investigator = _role(betterback, TrialRole.INVESTIGATOR, "investigator")
    participant = enrol(clinic_west, user=coordinator, preferred_language="en")
    for code in ("nrs", "odi"):
        answer(participant, "baseline", code)
        answer(participant, "3m", code)
    dm_page = f"/data-management/participant/{participant.study_id}/"

    # The monitor marks the 3-month visit verified.
    page = login(browser, live_server, monitor.username, dm_page)
    page.wait_for_selector("#source-verification")
    page.click('.sdv-timepoint[data-timepoint="3m"] button.verify-timepoint')
    page.wait_for_selector('.sdv-timepoint[data-timepoint="3m"] .sdv-verified')
    assert SourceVerification.objects.filter(cleared_at=None).count() == 2
    page.context.close()

    # The data manager freezes the 3-month data; the correction page refuses.
    page = login(browser, live_server, data_manager.username, "/data-management/betterback/")
    page.select_option("#id_freeze_timepoint", "3m")
    page.fill('#freeze-form input[name="reason"]', "interim analysis")
    page.click("#freeze-button")
    page.wait_for_selector(".freeze-row")
    assert Lock.objects.active().get().level == Lock.TIMEPOINT
    nrs = Response.objects.get(participant=participant, timepoint__code="3m", instrument="nrs")
    before = dict(nrs.answers)
    page.goto(f"{live_server.url}/questionnaires/responses/{nrs.pk}/correct/")
    assert "Locked: " in page.content()
    page.click('label[for="id_back_0"]')
    page.fill("#id_reason", "typo on the paper form")
    page.click("form.questionnaire button[value=save]")
    page.wait_for_load_state()
    assert "A data manager must unlock it" in page.content()
    nrs.refresh_from_db()
    assert nrs.answers == before
    page.context.close()

    # The investigator signs the casebook.
    page = login(browser, live_server, investigator.username, dm_page)
    page.click("#sign-casebook")
    page.wait_for_selector("#meaning")
    page.check("#id_confirm")
    page.fill("#id_password", PASSWORD)
    page.click("#sign-form button[type=submit]")
    page.wait_for_selector(".signature-valid")
    signature = Signature.objects.get()
    assert signature.signed_by == investigator and signature.timepoint is None
    page.context.close()
