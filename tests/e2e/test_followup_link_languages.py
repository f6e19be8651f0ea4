"""A patient opens the personal link from the invitation email in headless Chromium:
a BetterBack patient in Swedish and a SAFE patient in Danish, no login, with screenshots.
The enrolments are three months back so that the link's window is open on the real
clock; the dispatcher is given that due moment explicitly."""

import re
from datetime import date

import pytest
from django.core import mail

from enrolment import randomisation_store
from enrolment.models import Clinic, TrialRole
from enrolment.protocol.writing import load_protocol
from followup.dispatch import dispatch_due
from followup.schedule import add_months

from ..conftest import PROTOCOLS
from ..factories import TrialRoleFactory, UserFactory, enrol

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def link_in_last_email(base_url: str) -> str:
    match = re.search(re.escape(base_url) + r"/s/[A-Za-z0-9_-]+/", mail.outbox[-1].body)
    assert match, mail.outbox[-1].body
    return match.group(0)


def open_link(browser, url, shot):
    page = browser.new_page(viewport={"width": 390, "height": 844})
    page.goto(url)
    page.wait_for_selector("form .progress, form button[value=next]")
    page.screenshot(path=str(shot), full_page=True)
    return page


def test_the_link_opens_the_questionnaire_in_swedish_and_in_danish(
    browser, live_server, clinic_west, settings, tmp_path
):
    settings.FOLLOWUP_BASE_URL = live_server.url
    enrolled_on = add_months(date.today(), -3)

    swede = enrol(clinic_west, enrolled_on=enrolled_on, preferred_language="sv")
    dispatch_due(swede.contacts.get(timepoint__code="3m").due_at, 10)
    assert "uppföljningsenkät" in mail.outbox[-1].subject
    page = open_link(browser, link_in_last_email(live_server.url), tmp_path / "link_sv.png")
    assert page.get_attribute("html", "lang") == "sv"
    pages = len(swede.trial.timepoints.get(code="3m").instruments)
    assert f"Enkät 1 av {pages}" in page.content()
    assert page.is_visible("text=Spara och fortsätt senare")
    page.click("button[value=save_later]")
    page.wait_for_selector("text=Dina svar är sparade")
    page.screenshot(path=str(tmp_path / "link_sv_saved.png"), full_page=True)
    assert "hand the device" not in page.content()  # the link's own page, not the clinic's
    page.close()

    safe, _ = load_protocol(PROTOCOLS / "safe.toml")
    coordinator = TrialRoleFactory(
        user=UserFactory(username="safe-coord"), trial=safe, role=TrialRole.COORDINATOR
    ).user
    randomisation_store.generate(safe, coordinator, seed=20211101)
    dane = enrol(Clinic.objects.get(cluster__trial=safe), enrolled_on=enrolled_on,
                 preferred_language="da")  # fmt: skip
    dispatch_due(dane.contacts.get(timepoint__code="3m").due_at, 10)
    assert "opfølgningsspørgeskema" in mail.outbox[-1].subject
    page = open_link(browser, link_in_last_email(live_server.url), tmp_path / "link_da.png")
    assert page.get_attribute("html", "lang") == "da"
    html = page.content()
    pages = len(safe.timepoints.get(code="3m").instruments)
    assert f"Spørgeskema 1 af {pages}" in html and "Gem og fortsæt senere" in html
    for word in ("intervention", "control", dane.condition):
        assert word not in html.lower()
    page.close()
    assert all((tmp_path / f).stat().st_size > 0 for f in ("link_sv.png", "link_da.png"))
