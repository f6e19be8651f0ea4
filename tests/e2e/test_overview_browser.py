"""A coordinator logs in through the real login page in headless Chromium and sees the
trial overview; on a phone-sized screen neither it nor the coordinator's lists scroll
sideways (a wide table scrolls in its own box)."""

import pytest

from ..factories import enrol
from .conftest import log_in_at

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _coordinator_at(browser, live_server, width=390):
    """Logged in through the real login page, on a 390-px phone (or ``width``)."""
    return log_in_at(browser, live_server, "coordinator", "/", width, 844)


def test_coordinator_logs_in_and_sees_the_overview(
    browser, live_server, coordinator, clinic_central, tmp_path
):
    from datetime import date

    enrol(clinic_central, enrolled_on=date(2017, 10, 2))
    page = _coordinator_at(browser, live_server)
    page.wait_for_selector("#participants-per-cluster")
    assert page.inner_text("#total-participants") == "1"
    assert "2017-09-18" in page.inner_text("#participants-per-cluster")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(tmp_path / "overview.png"), full_page=True)
    page.close()


# Lists with six to twelve columns: each was 400 to 1,335 px wide on a 390-px phone.
LISTS = [
    "/trials/betterback/participants/",
    "/followup/betterback/overdue/",
    "/followup/betterback/messages/",
    "/accounts/staff/betterback/",
    "/analysis/betterback/",
]


# A phone upright, and on its side (the overdue list was 759 px wide at 600 px).
@pytest.mark.parametrize("width", [390, 600])
def test_the_coordinator_s_lists_fit_a_phone(
    browser, live_server, coordinator, clinic_central, width
):
    from datetime import date

    enrol(clinic_central, enrolled_on=date(2017, 10, 2))
    page = _coordinator_at(browser, live_server, width)
    for path in LISTS:
        response = page.goto(f"{live_server.url}{path}")
        assert response.status == 200, path
        assert page.locator("main table").count(), path
        assert page.evaluate("document.documentElement.scrollWidth") <= width, path
    page.close()


def test_the_message_log_fits_a_laptop(browser, live_server, coordinator, clinic_central):
    """Thirteen columns, an email address and a provider id among them: the table was
    1,409 px wide on a 1,280-px screen in the demo. It scrolls in its own box."""
    from datetime import date

    from followup.dispatch import dispatch_due
    from followup.schedule import add_months

    participant = enrol(
        clinic_central,
        enrolled_on=add_months(date.today(), -3),
        email="a.very.long.address.for.the.message.log.column@clinic.example.com",
    )
    contact = participant.contacts.get(timepoint__code="3m")
    dispatch_due(contact.due_at, 10)
    page = _coordinator_at(browser, live_server, width=1024)
    assert page.goto(f"{live_server.url}/followup/betterback/messages/").status == 200
    assert "a.very.long.address" in page.inner_text("main table")
    assert page.evaluate("document.documentElement.scrollWidth") <= 1024
    page.close()
