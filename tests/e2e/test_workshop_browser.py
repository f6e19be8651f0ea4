"""The coordinator creates BetterBack's workshop for a cluster in Swedish, invites a
physiotherapist, records both days and the diploma, and is told why a diploma for
someone absent on day 2 is refused; the physiotherapist's questionnaires are planned
on day 1 at 08:30 and day 2 at 15:30."""

from __future__ import annotations

from datetime import date, time
from zoneinfo import ZoneInfo

import pytest

from enrolment.models import Physiotherapist
from implementation.models import Attendance

from .conftest import submit_login

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_create_a_workshop_and_record_attendance(
    browser, live_server, coordinator, clinic_west, physio_west
):
    physio = Physiotherapist.objects.get(user=physio_west)
    page = browser.new_page(viewport={"width": 1200, "height": 1000}, locale="sv-SE")
    page.goto(f"{live_server.url}/trials/betterback/workshops/")
    page.fill("#id_username", "coordinator")
    page.fill("#id_password", "correct horse battery staple")
    submit_login(page, "coordinator")
    assert "Workshoppar" in page.inner_text("h1")
    page.select_option("#id_cluster", value=str(clinic_west.cluster.pk))
    page.fill("#id_day1", "2017-03-14")
    page.fill("#id_day2", "2017-03-15")
    page.fill("#id_facilitators", "Två forskare och en klinisk ambassadör")
    page.check(f"input[name=physiotherapists][value='{physio.pk}']")
    page.click("#workshop-form button[type=submit]")
    page.wait_for_load_state()
    row = page.locator(f"tr.attendance[data-physio='{physio.study_code}']")
    assert row.is_visible()

    row.locator("select[name$='-day1']").select_option("yes")
    row.locator("select[name$='-day2']").select_option("no")
    row.locator("input[name$='-diploma_on']").fill("2017-03-15")
    row.locator("button[type=submit]").click()
    page.wait_for_load_state()
    row = page.locator(f"tr.attendance[data-physio='{physio.study_code}']")
    assert "båda dagarna" in row.locator(".errors").inner_text()

    row.locator("select[name$='-day2']").select_option("yes")
    row.locator("button[type=submit]").click()
    page.wait_for_load_state()
    attendance = Attendance.objects.get(physiotherapist=physio)
    assert (attendance.day1, attendance.day2, attendance.diploma_on) == (
        True,
        True,
        date(2017, 3, 15),
    )
    local = {
        c.timepoint.code: c.due_at.astimezone(ZoneInfo("Europe/Stockholm"))
        for c in physio.contacts.select_related("timepoint")
    }
    assert (local["pt-before"].date(), local["pt-before"].time()) == (
        date(2017, 3, 14),
        time(8, 30),
    )
    assert (local["pt-after"].date(), local["pt-after"].time()) == (date(2017, 3, 15), time(15, 30))
