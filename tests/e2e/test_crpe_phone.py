"""A physiotherapist fills in the CRPE-tool on a 360 px wide phone in headless Chromium:
logs in, grades items (one with the keyboard alone), submits, and the page never scrolls
sideways. The browser comes from tests/e2e/conftest.py (skipped without /usr/bin/chromium)."""

import pytest

from questionnaires.models import Response

from ..factories import enrol
from .conftest import submit_login

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

WIDTH = 360


def no_sideways_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= WIDTH


def test_physiotherapist_fills_the_crpe_tool_on_a_phone(
    browser, live_server, physio_west, clinic_west, tmp_path
):
    participant = enrol(clinic_west)
    page = browser.new_page(viewport={"width": WIDTH, "height": 740})
    page.goto(f"{live_server.url}/questionnaires/crpe/{participant.study_id}/crpe-first/")
    page.fill("#id_username", "physio_west")
    page.fill("#id_password", "correct horse battery staple")
    submit_login(page, "physio_west")
    page.wait_for_selector("#crpe-form")
    assert no_sideways_scroll(page)

    page.check('input[name="fi1"][value="2"]')
    page.check('input[name="al1"][value="3"]')
    # Keyboard alone: focus the first category radio, move with the arrow key (selects).
    page.focus('input[name="category"][value="1"]')
    page.keyboard.press("Space")
    page.keyboard.press("ArrowDown")
    assert page.is_checked('input[name="category"][value="2"]')
    page.keyboard.press("ArrowUp")
    assert page.is_checked('input[name="category"][value="1"]')
    page.check('input[name="icd10"][value="1"]')
    assert no_sideways_scroll(page)
    page.screenshot(path=str(tmp_path / "crpe_phone.png"), full_page=True)

    page.click('#crpe-form button[value="save"]')
    page.wait_for_selector("#questionnaires")
    assert (tmp_path / "crpe_phone.png").stat().st_size > 0

    response = Response.objects.get(participant=participant, timepoint__code="crpe-first")
    assert response.answers == {"fi1": 2, "al1": 3, "category": 1, "icd10": [1]}
    assert response.scores["impairment_score"] == 2.0
    assert response.entered_by == physio_west
    page.close()


def test_a_patient_scale_stays_on_one_row_on_a_phone_and_is_answered_with_the_keyboard(
    browser, live_server, coordinator, clinic_west
):
    participant = enrol(clinic_west, preferred_language="en")
    page = browser.new_page(viewport={"width": WIDTH, "height": 740})
    page.goto(f"{live_server.url}/questionnaires/visit/{participant.study_id}/baseline/1/")
    page.fill("#id_username", "coordinator")
    page.fill("#id_password", "correct horse battery staple")
    submit_login(page, "coordinator")
    page.wait_for_selector(".scale-options")
    assert no_sideways_scroll(page)
    # One row of buttons, neither wrapped (10 under 6, issue 15) nor scrolled sideways.
    tops = page.eval_on_selector_all(
        "#id_back .scale-btn", "els => new Set(els.map(e => e.getBoundingClientRect().top)).size"
    )
    assert tops == 1
    page.focus("#id_back_0")
    page.keyboard.press("Space")
    for _ in range(3):
        page.keyboard.press("ArrowRight")
    page.keyboard.press("Tab")  # into the next item's group
    page.keyboard.press("Space")
    page.click('button[value="next"]')
    page.wait_for_url("**/baseline/2/")
    nrs = Response.objects.get(participant=participant, instrument="nrs")
    assert nrs.answers == {"back": 3, "leg": 0} and nrs.is_complete
    page.close()
