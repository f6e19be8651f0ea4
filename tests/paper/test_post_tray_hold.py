"""The post tray under a consent hold (issues 14/20): a pack handed to the tray before an
amendment required re-consent leaves the tray while the participant's data collection is
held (listed apart, with why; neither printed nor marked posted) and comes back once the
re-consent is recorded."""

from datetime import date

import pytest

from enrolment.consent.reading import is_held
from paper import posting
from paper.models import Pack
from tests.conftest import use_betterback_built_once
from tests.enrolment.test_consent import amend, reconsent
from tests.factories import enrol

from .conftest import in_tray

pytestmark = pytest.mark.django_db
betterback = use_betterback_built_once()  # loaded once for the module


def test_a_held_participants_pack_leaves_the_tray_until_reconsent(
    client, coordinator, clinic_west, tmp_path
):
    waiting, ready = enrol(clinic_west), enrol(clinic_west)
    held_message, ready_message = in_tray(waiting), in_tray(ready)
    trial = clinic_west.cluster.trial
    assert list(posting.tray(coordinator, trial)) == [held_message, ready_message]
    amend(tmp_path)  # consent 2.0 required, data collection held until re-consent
    reconsent(ready)
    assert is_held(waiting) and not is_held(ready)

    assert list(posting.tray(coordinator, trial)) == [ready_message]
    assert posting.held_in_tray(coordinator, trial) == [held_message]
    client.force_login(coordinator)
    page = client.get("/paper/betterback/post/", HTTP_ACCEPT_LANGUAGE="sv").content.decode()
    tray_part, held_part = page.split('id="post-tray-held"')
    assert f'value="{held_message.pk}"' not in page  # no checkbox to mark it posted
    assert waiting.study_id not in tray_part and waiting.study_id in held_part
    assert "Datainsamlingen väntar tills deltagaren har lämnat nytt samtycke." in held_part

    # Neither printed (the whole tray, the one pack, the pack by hand) ...
    client.get("/paper/betterback/post/packs.pdf")
    assert set(Pack.objects.values_list("message", flat=True)) == {ready_message.pk}
    response = client.get(f"/paper/betterback/post/packs.pdf?message={held_message.pk}")
    assert response.status_code == 302
    by_hand = client.get(f"/paper/pack/{waiting.study_id}/3m.pdf", follow=True)
    assert "is held until they re-consent" in by_hand.content.decode()
    assert Pack.objects.filter(participant=waiting).count() == 0
    # ... nor marked posted, with the reason.
    response = client.post("/paper/betterback/post/", {"message": [held_message.pk]}, follow=True)
    assert f"The data collection of {waiting.study_id} is held" in response.content.decode()
    held_message.refresh_from_db()
    assert held_message.posted_at is None

    reconsent(waiting, on=date(2017, 8, 8))
    assert list(posting.tray(coordinator, trial)) == [held_message, ready_message]
    assert posting.held_in_tray(coordinator, trial) == []
    page = client.get("/paper/betterback/post/").content.decode()
    assert f'value="{held_message.pk}"' in page and 'id="post-tray-held"' not in page
    assert (
        client.get(f"/paper/betterback/post/packs.pdf?message={held_message.pk}")["Content-Type"]
        == "application/pdf"
    )
