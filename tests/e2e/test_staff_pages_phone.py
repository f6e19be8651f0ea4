"""A coordinator on a 390-px phone: the participant page, the overdue list and the SMS
page fit the screen; a wide table scrolls in its own box, nothing else reaches past the
right edge (the participant page's cards did by 3 px, the overdue and SMS tables were cut
off where nobody could scroll to them)."""

from datetime import UTC, date, datetime, timedelta

import pytest

from enrolment.models import TrialRole
from followup import dispatch as dispatcher
from followup.models import SmsPrompt
from followup.sms import tracking

from ..factories import AuthenticatorFactory, enrol
from ..followup.conftest import _load_safe
from .conftest import log_in_at

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

WIDTH = 390
# Elements whose right edge passes the screen's, outside a box that scrolls them.
PAST_THE_EDGE = f"""() => [...document.querySelectorAll('main *')]
    .filter(e => e.getBoundingClientRect().right > {WIDTH} + 0.5
                 && !e.closest('.table-responsive'))
    .map(e => e.tagName + ' ' + (e.textContent || '').trim().slice(0, 30))"""


def _fits(page) -> list[str]:
    assert page.evaluate("document.documentElement.scrollWidth") <= WIDTH
    return page.evaluate(PAST_THE_EDGE)


def test_the_coordinators_pages_fit_a_phone(browser, live_server, coordinator, clinic_west):
    p = enrol(clinic_west, enrolled_on=date(2017, 5, 2))
    dispatcher.dispatch_due(datetime(2017, 8, 2, 7, tzinfo=UTC), 10)
    dispatcher.dispatch_due(datetime(2017, 9, 1, 22, tzinfo=UTC), 10)  # the 3 m window closed
    page = log_in_at(browser, live_server, "coordinator", f"/participants/{p.study_id}/", WIDTH)
    assert page.locator("#personal-details").is_visible()
    assert _fits(page) == []
    page.goto(f"{live_server.url}/followup/betterback/overdue/")
    assert p.study_id in page.inner_text("main")
    assert _fits(page) == []
    page.close()


def test_the_sms_page_fits_a_phone(browser, live_server, settings):
    settings.SMS_BACKEND = "followup.sms.backends.InMemoryBackend"
    safe = _load_safe()
    AuthenticatorFactory(user=safe.roles.get().user)  # staff have a second factor
    p = enrol(
        safe.clusters.first().clinics.first(),
        enrolled_on=date(2022, 1, 5),
        mobile="+4520100001",
        preferred_language="da",
    )
    prompt = SmsPrompt.objects.filter(participant=p).order_by("week").first()
    tracking.run(now=prompt.due_at)
    inbound, _ = tracking.store("SMphone", "+4520100001", "4 (hård uge)", now=prompt.due_at)
    tracking.receive(inbound.pk, prompt.due_at + timedelta(minutes=1))
    page = log_in_at(browser, live_server, "safe-coord", "/followup/safe/sms/", WIDTH)
    assert "Back pain (0-10)" in page.inner_text("main")
    assert _fits(page) == []
    page.close()


def test_the_login_and_account_pages_fit_a_phone(browser, live_server, coordinator):
    """A walk found the login page, the two-factor set-up and a staff member's page 4 px
    too wide: the phone's narrower page margins against Bootstrap's row gutters."""
    page = browser.new_page(viewport={"width": WIDTH, "height": 844})
    page.goto(f"{live_server.url}/accounts/login/")
    assert _fits(page) == []
    page.close()
    trial = TrialRole.objects.filter(user=coordinator).first().trial
    page = log_in_at(browser, live_server, "coordinator",
                     f"/accounts/staff/{trial.code}/{coordinator.pk}/", WIDTH)
    assert page.locator("main").is_visible()
    assert _fits(page) == []
    page.goto(f"{live_server.url}/accounts/two-factor/set-up/")
    assert _fits(page) == []
    page.close()


def test_a_query_fits_a_phone(browser, live_server, data_manager, clinic_west):
    """A walk found a query's page 394 px wide: its details are a row with a background
    (bg-white), which the phone's narrower gutters missed."""
    from datamanagement.queries import actions

    p = enrol(clinic_west, enrolled_on=date(2017, 5, 2))
    query = actions.raise_query(p, "enrolment.enrolled_on", "Is the enrolment date right?",
                                data_manager)
    page = log_in_at(browser, live_server, "datamanager",
                     f"/data-management/queries/{query.pk}/", WIDTH)
    assert "Is the enrolment date right?" in page.inner_text("main")
    assert _fits(page) == []
    page.close()


def test_the_monitors_pages_fit_a_phone(browser, live_server, betterback, clinic_west):
    """A monitor verifying against source on a phone: the casebooks list and a form's
    values (long wording, long answers) stay inside the screen or scroll in their box."""
    from tests.conftest import _role
    from tests.datamanagement.locks.conftest import answer

    _role(betterback, TrialRole.MONITOR, "monitor")
    p = enrol(clinic_west, preferred_language="en")
    for code in ("odi", "bb_costs"):
        answer(p, "3m", code)
    page = log_in_at(browser, live_server, "monitor", "/data-management/betterback/", WIDTH)
    assert page.locator(".casebook-row").count() == 1
    assert _fits(page) == []
    page.goto(f"{live_server.url}/data-management/participant/{p.study_id}/")
    for summary in page.locator("details.form-values > summary").all():
        summary.click()
    assert page.locator("td.form-value").first.is_visible()
    assert _fits(page) == []
    # Each value is read whole on the screen, not in a box to scroll sideways (a walk
    # found long answers cut at the screen's edge).
    right = page.evaluate("""() => Math.max(...[...document.querySelectorAll('td.form-value')]
        .map(e => e.getBoundingClientRect().right))""")
    assert right <= WIDTH
    page.close()
