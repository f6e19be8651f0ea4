"""A data manager uploads a scanned pack in the browser, sees the flagged marks beside the
scan image, decides the double tick from the scan, verifies, and the first paper entry
exists (headless Chromium)."""

import random

import pytest

from enrolment.models import Timepoint
from paper import printing, simulate
from paper.models import PaperEntry
from questionnaires.models import Response
from tests.factories import enrol

from .conftest import submit_login

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_upload_see_flags_beside_the_scan_verify(
    browser, live_server, data_manager, clinic_west, tmp_path
):
    trial = clinic_west.cluster.trial
    participant = enrol(clinic_west, preferred_language="sv")
    printed = printing.pack_for(participant, Timepoint.objects.get(trial=trial, code="3m"))
    rng = random.Random(11)
    answers = simulate.random_answers(printed.pack.layout, rng)
    answers[("nrs", "back")] = [2, 6]
    pages = simulate.printed_pages(printing.render([printed]), 150)
    simulate.fill(pages, printed.pack.layout, answers, 150, rng=rng)
    scan = tmp_path / "scan.pdf"
    scan.write_bytes(simulate.as_pdf([simulate.scanner(p, rng, dpi_in=150) for p in pages]))

    page = browser.new_page(viewport={"width": 1300, "height": 1000})
    page.goto(f"{live_server.url}/paper/betterback/scans/")
    page.fill("#id_username", "datamanager")
    page.fill("#id_password", "correct horse battery staple")
    submit_login(page, "datamanager")
    page.wait_for_selector("#scan")
    page.set_input_files("#scan", str(scan))
    page.click("#upload")
    page.wait_for_selector("#batch-pages", timeout=120_000)
    assert page.locator("#batch-pages tbody tr").count() == len(pages)
    page.click("text=Numeric rating scale")
    page.wait_for_selector("#flagged-marks")
    assert "back" in page.inner_text("#flagged-marks")
    # The scan image is served by a second request: wait for it rather than racing it.
    page.wait_for_function(
        "() => { const img = document.querySelector('#scan-images img');"
        " return img && img.complete && img.naturalWidth > 0; }",
        timeout=30_000,
    )
    page.click('label[for="id_back_2"]')
    page.click("#verify")
    page.wait_for_selector("#pending-entries")
    first = Response.objects.get(
        participant=participant, instrument="nrs", entry=Response.FIRST_ENTRY
    )
    assert first.answers["back"] == 2 and first.answers["leg"] == answers[("nrs", "leg")]
    assert PaperEntry.objects.get(instrument="nrs").status == PaperEntry.VERIFIED
    page.close()
