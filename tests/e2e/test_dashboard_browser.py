"""The monitoring dashboard and the CONSORT figure in headless Chromium, on a laptop, a
tablet and a phone: figures drawn, numbers beside them, no sideways scrolling of the page
(a wide table scrolls in its own box)."""

from datetime import date

import pytest

from ..factories import enrol
from .conftest import log_in_at

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True),
]

DASHBOARD = "/monitoring/trials/betterback/"


# A laptop, a tablet, and a 390-px phone (a physiotherapist sees their clinic here).
@pytest.mark.parametrize("width,height", [(1366, 768), (820, 1180), (390, 844)])
def test_dashboard_and_consort_in_the_browser(
    browser, live_server, coordinator, clinic_central, clinic_west, tmp_path, width, height
):
    enrol(clinic_central, enrolled_on=date(2017, 10, 2))
    enrol(clinic_west, enrolled_on=date(2017, 5, 3))
    page = log_in_at(browser, live_server, "coordinator", DASHBOARD, width, height)
    page.wait_for_selector("#recruitment-figure svg")
    assert page.inner_text("#total-enrolled") == "2"
    assert "Assessed for eligibility (n=2)" in page.inner_text("#consort-figure")
    assert page.locator("#recruitment-table").is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    box = page.locator("#recruitment-figure svg").bounding_box()
    assert box["width"] > 200
    page.screenshot(path=str(tmp_path / f"dashboard-{width}.png"), full_page=True)
    page.locator("#consort-figure").screenshot(path=str(tmp_path / f"consort-{width}.png"))
    page.close()


def test_recruitment_table_fits_a_1280_px_screen(
    browser, live_server, coordinator, clinic_central, clinic_west, clinic_east
):
    for clinic in (clinic_west, clinic_central, clinic_east):
        enrol(clinic, enrolled_on=date(2017, 5, 3))
    page = log_in_at(browser, live_server, "coordinator", DASHBOARD, 1280, 800)
    page.wait_for_selector("#recruitment-table")
    # The table's scroll box shows all of it: "Planned", the last column, is not cut off.
    overflow = page.evaluate(
        "() => { const box = document.querySelector('#recruitment-table').parentElement;"
        " return box.scrollWidth - box.clientWidth; }"
    )
    assert overflow <= 0
    planned = page.locator("#recruitment-table th", has_text="Planned").bounding_box()
    box = page.locator("#recruitment-table").evaluate(
        "t => t.parentElement.getBoundingClientRect().right"
    )
    assert planned["x"] + planned["width"] <= box
    page.close()


def test_consort_numbers_fit_a_1280_px_screen(browser, live_server, coordinator, clinic_central):
    """Beside the figure, each arm's table showed four of its five columns ("Withdrawn"
    cut off in its scroll box) at 1,280 px: below 1,400 px the numbers go under the
    figure."""
    enrol(clinic_central, enrolled_on=date(2017, 10, 2))
    page = log_in_at(browser, live_server, "coordinator", DASHBOARD, 1280, 800)
    page.wait_for_selector("table.consort-arm")
    overflows = page.evaluate(
        "() => [...document.querySelectorAll('table.consort-arm')].map("
        "t => t.parentElement.scrollWidth - t.parentElement.clientWidth)"
    )
    assert overflows and max(overflows) <= 0
    withdrawn = page.locator("table.consort-arm thead th", has_text="Withdrawn").first
    right = withdrawn.evaluate(
        "th => th.closest('.table-responsive').getBoundingClientRect().right"
    )
    assert withdrawn.bounding_box()["x"] + withdrawn.bounding_box()["width"] <= right
    page.close()
