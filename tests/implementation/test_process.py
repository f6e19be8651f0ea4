"""SWOT analyses (documents kept safely, only for the trial's staff) and the patients
selected for an interview (who was asked, answered, interviewed, when)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from implementation import process
from implementation.models import Interview, SwotAnalysis
from tests.conftest import use_betterback_built_once

from ..enrolment.test_consent import amend, reconsent
from ..factories import enrol

pytestmark = pytest.mark.django_db
betterback = use_betterback_built_once()  # loaded once for the module
PDF = b"%PDF-1.4\n% a SWOT analysis\n"


@pytest.fixture(autouse=True)
def var_dir(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    return tmp_path


def test_a_swot_document_is_stored_outside_the_web_root_and_served_to_staff_only(
    client, clinic_west, coordinator, physio_west, statistician, var_dir
):
    url = reverse("swot_analyses", args=["betterback"])
    client.force_login(coordinator)
    upload = SimpleUploadedFile("../../etc/swot.pdf", PDF, content_type="application/pdf")
    response = client.post(
        url, {"clinic": clinic_west.pk, "held_on": "2017-08-01", "document": upload}
    )
    assert response.status_code == 302
    swot = SwotAnalysis.objects.get()
    stored = list((var_dir / "implementation" / "swot").iterdir())
    assert [p.name for p in stored] == [swot.stored_as] and swot.file_name == "swot.pdf"
    assert stored[0].read_bytes() == PDF and oct(stored[0].stat().st_mode)[-3:] == "600"
    assert swot.history.get().history_user == coordinator
    download = reverse("swot_download", args=["betterback", swot.pk])
    got = client.get(download)
    assert b"".join(got.streaming_content) == PDF
    assert (
        got["Content-Disposition"].startswith("attachment")
        and got["X-Content-Type-Options"] == "nosniff"
    )
    for outsider in (physio_west, statistician):
        client.force_login(outsider)
        assert client.get(download).status_code == 403


@pytest.mark.parametrize(
    "name,content,message",
    [
        ("swot.exe", b"MZ", "only PDF, Word"),
        ("swot.pdf", b"<html>", "does not match its name"),
        ("swot.docx", b"%PDF-", "does not match its name"),
        ("swot.pdf", b"", "is empty"),
    ],
)
def test_a_wrong_document_is_refused_with_a_clear_error(
    client, clinic_west, coordinator, name, content, message
):
    client.force_login(coordinator)
    response = client.post(
        reverse("swot_analyses", args=["betterback"]),
        {
            "clinic": clinic_west.pk,
            "held_on": "2017-08-01",
            "document": SimpleUploadedFile(name, content),
        },
    )
    assert response.status_code == 400 and message in response.content.decode()
    assert not SwotAnalysis.objects.exists()


def test_a_document_over_the_limit_is_refused(clinic_west, coordinator, monkeypatch):
    monkeypatch.setattr(process, "MAX_DOCUMENT_BYTES", 10)
    with pytest.raises(ValidationError, match="the limit is"):
        process.record_swot(
            clinic_west,
            held_on=date(2017, 8, 1),
            user=coordinator,
            upload=SimpleUploadedFile("s.pdf", PDF),
        )


def test_interview_selection_needs_consent_and_follows_its_steps(
    client, clinic_west, coordinator, tmp_path, statistician
):
    yes, no = enrol(clinic_west), enrol(clinic_west)
    amend(tmp_path)
    reconsent(yes, interview=True)
    reconsent(no, interview=False)
    with pytest.raises(ValidationError, match="not consented"):
        process.select_for_interview(no, selected_on=date(2017, 7, 2), user=coordinator)
    with pytest.raises(PermissionDenied):
        process.select_for_interview(yes, selected_on=date(2017, 7, 2), user=statistician)
    client.force_login(coordinator)
    url = reverse("interviews", args=["betterback"])
    assert yes.study_id in client.get(url).content.decode()
    client.post(url, {"select": yes.study_id})
    interview = Interview.objects.get(participant=yes)
    with pytest.raises(ValidationError, match="Only a participant who consented"):
        process.update_interview(interview, user=coordinator, interviewed_on=date(2017, 9, 1))
    p = str(interview.pk)
    # What happened is recorded after it happened.
    response = client.post(
        url,
        {
            "interview": interview.pk,
            f"{p}-asked_on": "2030-01-01",
            f"{p}-answer": "yes",
            f"{p}-answered_on": "2030-01-02",
            f"{p}-interviewed_on": "2030-01-09",
        },
    )
    assert response.status_code == 400 and "in the future" in response.content.decode()
    # The same dates, once they have passed.
    with time_machine.travel(datetime(2030, 2, 1, 12, tzinfo=UTC)):
        client.force_login(coordinator)  # the session of 2026 has expired by 2030
        response = client.post(
            url,
            {
                "interview": interview.pk,
                f"{p}-asked_on": "2030-01-01",
                f"{p}-answer": "yes",
                f"{p}-answered_on": "2030-01-03",
                f"{p}-interviewed_on": "2030-01-02",
            },
        )
        assert response.status_code == 400 and "follow each other" in response.content.decode()
        response = client.post(
            url,
            {
                "interview": interview.pk,
                f"{p}-asked_on": "2030-01-01",
                f"{p}-answer": "yes",
                f"{p}-answered_on": "2030-01-02",
                f"{p}-interviewed_on": "2030-01-09",
            },
        )
        assert response.status_code == 302
        interview.refresh_from_db()
        with pytest.raises(ValidationError, match="reason"):
            process.update_interview(interview, user=coordinator, interviewed_on=date(2030, 1, 10))
        process.update_interview(
            interview, user=coordinator, interviewed_on=date(2030, 1, 10), reason="rescheduled"
        )
    reasons = [h.history_change_reason for h in interview.history.order_by("history_date")]
    assert reasons == ["selected for an interview", "interview progress recorded", "rescheduled"]
    # ... and in the participant's History.
    from enrolment.audit import participant_history

    mine = [e for e in participant_history(yes) if e.what == "Interview selection"]
    assert [e.reason for e in mine][0] == "rescheduled" and len(mine) == 3
