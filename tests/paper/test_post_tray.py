"""The post tray: who sees which packs, the merged PDF, marking packs posted (audited)."""

import pypdfium2 as pdfium
import pytest

from paper import posting, printing
from paper.models import Pack
from tests.conftest import use_betterback_built_once
from tests.factories import enrol

from .conftest import in_tray

betterback = use_betterback_built_once()  # loaded once for the module


@pytest.mark.django_db
def test_coordinator_prints_the_tray_and_marks_it_posted(
    client, coordinator, clinic_west, clinic_east
):
    west = in_tray(enrol(clinic_west, preferred_language="sv"))
    east = in_tray(enrol(clinic_east, preferred_language="en"), kind="reminder", sequence=1)
    client.force_login(coordinator)
    page = client.get("/paper/betterback/post/")
    assert page.status_code == 200
    for m in (west, east):
        assert m.contact.participant.study_id in page.content.decode()

    pdf = client.get("/paper/betterback/post/packs.pdf")
    assert pdf["Content-Type"] == "application/pdf"
    document = pdfium.PdfDocument(pdf.content)
    packs = Pack.objects.order_by("pk")
    assert {p.message for p in packs} == {west, east}
    assert len(document) == sum(p.page_count for p in packs)
    # printing again reuses the unposted packs
    client.get("/paper/betterback/post/packs.pdf")
    assert Pack.objects.count() == 2

    response = client.post("/paper/betterback/post/", {"message": [west.pk]}, follow=True)
    assert "1 pack(s) marked as posted" in response.content.decode()
    west.refresh_from_db()
    assert west.posted_at and west.posted_by == coordinator
    pack = Pack.objects.get(message=west)
    assert pack.posted_by == coordinator
    assert pack.history.first().history_change_reason.startswith("posted: message")
    assert list(posting.tray(coordinator, west.contact.participant.trial)) == [east]


@pytest.mark.django_db
def test_a_physiotherapist_sees_only_their_clinics_packs(
    client, physio_west, clinic_west, clinic_east
):
    west = in_tray(enrol(clinic_west))
    east = in_tray(enrol(clinic_east))
    trial = clinic_west.cluster.trial
    assert list(posting.tray(physio_west, trial)) == [west]
    client.force_login(physio_west)
    response = client.post("/paper/betterback/post/", {"message": [east.pk]}, follow=True)
    assert "not in your post tray" in response.content.decode()
    east.refresh_from_db()
    assert east.posted_at is None


@pytest.mark.django_db
def test_a_statistician_has_no_post_tray(client, statistician, clinic_west):
    in_tray(enrol(clinic_west))
    client.force_login(statistician)
    assert client.get("/paper/betterback/post/").status_code == 403
    assert not posting.tray(statistician, clinic_west.cluster.trial).exists()


@pytest.mark.django_db
def test_a_pack_for_any_timepoint_in_the_participants_language(client, coordinator, clinic_west):
    participant = enrol(clinic_west, preferred_language="sv", full_name="Karin Ödmark")
    client.force_login(coordinator)
    response = client.get(f"/paper/pack/{participant.study_id}/12m.pdf")
    assert response.status_code == 200
    document = pdfium.PdfDocument(response.content)
    cover = document[0].get_textpage().get_text_range()
    assert "Karin Ödmark" in cover and "Linköping" in cover  # the return address
    assert "Returadress" in cover
    form = document[1].get_textpage().get_text_range()
    assert participant.study_id in form and "12 månader" in form
    pack = Pack.objects.get()
    assert pack.language == "sv" and set(pack.versions) == set(pack.timepoint.instruments)
    boxes = [b for page in pack.layout["pages"] for b in page["boxes"]]
    assert {b["i"] for b in boxes} >= {
        "nrs",
        "odi",
        "eq5d3l",
        "bipq",
        "pei",
        "satisfaction",
        "pgic",
    }
    assert printing.parse_qr(printing.qr_payload(pack.pk, participant.study_id, "12m", 2, 7)) == {
        "pack": pack.pk,
        "study_id": participant.study_id,
        "timepoint": "12m",
        "page": 2,
        "pages": 7,
    }


@pytest.mark.django_db
def test_the_tray_names_the_timepoint_in_the_readers_language(client, coordinator, clinic_west):
    in_tray(enrol(clinic_west, preferred_language="sv"))
    client.force_login(coordinator)
    page = client.get("/paper/betterback/post/", HTTP_ACCEPT_LANGUAGE="sv").content.decode()
    assert "3 månader" in page and "3 months" not in page
