"""Subject access and erasure are for coordinators only: another role that sees the
participant gets 403, a physiotherapist of another clinic 404 (as on every participant
page), and nothing is produced, logged or erased for them."""

from __future__ import annotations

import pytest
from django.urls import reverse

from enrolment.models import PersonalDetails
from privacy.models import SubjectAccess

pytestmark = pytest.mark.django_db

PAGES = ("subject_access", "subject_access_json", "subject_access_pdf", "participant_erase")


def test_only_coordinators_reach_subject_access_and_erasure(client, karen, safe_staff):
    expected = {"statistician": 403, "data_manager": 403, "physio_here": 403, "physio_away": 404}
    for who, status in expected.items():
        client.force_login(safe_staff[who])
        detail = client.get(reverse("participant_detail", args=[karen.study_id]))
        for name in PAGES:
            url = reverse(name, args=[karen.study_id])
            assert client.get(url).status_code == status, (who, name)
            if detail.status_code == 200:
                assert url not in detail.content.decode(), (who, name)
        erase = reverse("participant_erase", args=[karen.study_id])
        assert client.post(erase, {"reason": "x", "confirm": karen.study_id}).status_code == status
    assert not SubjectAccess.objects.exists()
    assert not PersonalDetails.objects.get(participant=karen).is_erased
    client.force_login(safe_staff["coordinator"])
    for name in PAGES:
        r = client.get(reverse(name, args=[karen.study_id]))
        assert r.status_code == 200
        assert "no-store" in r["Cache-Control"]  # personal data is never cached
