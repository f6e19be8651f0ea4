"""The scan pages: who may upload, bad files get a clear message, the verify page shows
the flags and the scan, and a verified form becomes the first paper entry."""

import random

import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from paper import printing, scanning, simulate
from paper.models import PaperEntry, ScanBatch
from questionnaires.models import Response
from tests.conftest import use_betterback_built_once

betterback = use_betterback_built_once()  # loaded once for the module


@pytest.mark.django_db
def test_a_file_that_is_no_scan_is_refused_with_a_message(client, data_manager):
    client.force_login(data_manager)
    bad = SimpleUploadedFile("Karin Ödmark.pdf", b"%PDF-1.4 broken", "application/pdf")
    response = client.post("/paper/betterback/scans/", {"scan": bad}, follow=True)
    assert "Not a readable PDF" in response.content.decode()
    text = SimpleUploadedFile("notes.txt", b"hello", "text/plain")
    response = client.post("/paper/betterback/scans/", {"scan": text}, follow=True)
    assert "Not a PDF or an image" in response.content.decode()
    assert not ScanBatch.objects.exists()
    # In the data manager's language, like the rest of the page.
    bad.seek(0)
    response = client.post(
        "/paper/betterback/scans/", {"scan": bad}, follow=True, HTTP_ACCEPT_LANGUAGE="da"
    )
    assert "Ikke en læsbar PDF" in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("kind", ["PDF", "TIFF"])
def test_a_scan_of_more_pages_than_a_request_can_read_is_refused_whole(client, data_manager, kind):
    """An upload is read within its request: past paper.images.MAX_PAGES the web server's
    timeout would kill it, so it is refused at once, with what to do."""
    from io import BytesIO

    from PIL import Image

    from paper.images import MAX_PAGES

    client.force_login(data_manager)
    pages = [Image.new("L", (20, 30), 255) for _ in range(MAX_PAGES + 1)]
    data = BytesIO()
    pages[0].save(data, kind, save_all=True, append_images=pages[1:])
    scan = SimpleUploadedFile(f"stack.{kind.lower()}", data.getvalue())
    response = client.post("/paper/betterback/scans/", {"scan": scan}, follow=True)
    assert f"More than {MAX_PAGES} pages: upload the scan in parts." in response.content.decode()
    assert not ScanBatch.objects.exists()


@pytest.mark.django_db
def test_a_page_without_a_code_is_listed_with_why_in_the_readers_language(client, data_manager):
    blank = simulate.as_pdf([np.full((1169, 827), 250, dtype=np.uint8)])
    client.force_login(data_manager)
    upload = SimpleUploadedFile("scan.pdf", blank, "application/pdf")
    client.post("/paper/betterback/scans/", {"scan": upload}, HTTP_ACCEPT_LANGUAGE="sv")
    page = client.get("/paper/betterback/scans/", HTTP_ACCEPT_LANGUAGE="sv").content.decode()
    assert "Ingen QR-kod hittades på sidan." in page


@pytest.mark.django_db
def test_only_data_managers_upload_and_read_scans(client, coordinator, physio_west, statistician):
    for user in (coordinator, physio_west, statistician):
        client.force_login(user)
        assert client.get("/paper/betterback/scans/").status_code == 403


@pytest.mark.django_db
def _scan_without_pgic_q1(enrolled, three_months) -> bytes:
    """The 3-month pack filled in at random, the PGIC's one item left blank, as scanned."""
    printed = printing.pack_for(enrolled, three_months)
    rng = random.Random(4)
    answers = simulate.random_answers(printed.pack.layout, rng)
    del answers[("pgic", "q1")]
    pages = simulate.printed_pages(printing.render([printed]), 150)
    simulate.fill(pages, printed.pack.layout, answers, 150, rng=rng)
    return simulate.as_pdf([simulate.scanner(p, rng, dpi_in=150) for p in pages])


def test_verify_page_shows_flags_beside_the_scan(client, data_manager, enrolled, three_months):
    scan = _scan_without_pgic_q1(enrolled, three_months)
    client.force_login(data_manager)
    upload = SimpleUploadedFile("scan.pdf", scan, "application/pdf")
    response = client.post("/paper/betterback/scans/", {"scan": upload}, follow=True)
    assert response.status_code == 200 and "batch-pages" in response.content.decode()
    # Forms by their names, not their codes.
    assert "Patient Global Impression of Change" in response.content.decode()

    entry = PaperEntry.objects.get(instrument="pgic")
    page = client.get(f"/paper/betterback/entries/{entry.pk}/").content.decode()
    assert "No box ticked" in page and 'data-item="q1"' in page
    # The timepoint in the reader's language on the verify, batch and scans pages.
    for url in (f"entries/{entry.pk}/", f"scans/{entry.batch_id}/", "scans/"):
        sv = client.get(f"/paper/betterback/{url}", HTTP_ACCEPT_LANGUAGE="sv").content.decode()
        assert "3 månader" in sv and "3 months" not in sv, url
    (scan_page,) = scanning.pages_of_entry(entry)
    image = client.get(f"/paper/betterback/pages/{scan_page.pk}.png?as=aligned")
    assert image["Content-Type"] == "image/png" and image.content.startswith(b"\x89PNG")

    # A flagged item left blank is refused: a walk saved one blank with no reason, and a
    # second entry left blank too would have agreed with it.
    refused = client.post(f"/paper/betterback/entries/{entry.pk}/", {"q1": ""}, follow=True)
    assert "Give each flagged item a value or the reason it is missing: q1" in (
        refused.content.decode()
    )
    assert not Response.objects.filter(participant=enrolled, instrument="pgic").exists()
    assert 'name="q1__reason"' in page  # the reasons are offered as in paper entry
    saved = client.post(f"/paper/betterback/entries/{entry.pk}/", {"q1": "2"}, follow=True)
    first = Response.objects.get(participant=enrolled, instrument="pgic")
    assert first.entry == Response.FIRST_ENTRY and first.answers == {"q1": 2}
    assert "entry 1 of the double data entry: another person" in saved.content.decode()


def test_a_flagged_item_verified_as_missing_keeps_its_reason(client, data_manager, enrolled,
                                                            three_months):
    from questionnaires import missing

    scan = _scan_without_pgic_q1(enrolled, three_months)
    client.force_login(data_manager)
    client.post("/paper/betterback/scans/",
                {"scan": SimpleUploadedFile("scan.pdf", scan, "application/pdf")})
    entry = PaperEntry.objects.get(instrument="pgic")
    client.post(f"/paper/betterback/entries/{entry.pk}/",
                {"q1": "", "q1__reason": str(missing.REFUSED)})
    first = Response.objects.get(participant=enrolled, instrument="pgic")
    assert first.answers.get("q1") is None and first.missing == {"q1": missing.REFUSED}
