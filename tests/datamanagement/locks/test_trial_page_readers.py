"""The monitoring dashboard links every reader, statisticians included, to the trial's
data-management page, where the locked dataset is downloaded: a statistician reads it (no
403), but is not sent on to a participant's data-management page they may not open."""

from django.urls import reverse

from datamanagement.locks import services as locks
from datamanagement.locks.models import Lock
from tests.conftest import use_betterback_built_once

betterback = use_betterback_built_once()  # loaded once for the module


def test_statistician_reads_the_trial_page_without_links_to_participant_pages(
    client, participant, data_manager, statistician, physio_west
):
    locks.lock(Lock.PARTICIPANT, trial=participant.trial, user=data_manager,
               participant=participant, reason="query resolved")
    participant_page = reverse("datamanagement:participant", args=[participant.study_id])
    trial_page = reverse("datamanagement:trial", args=["betterback"])

    client.force_login(statistician)
    r = client.get(trial_page)
    assert r.status_code == 200
    assert participant.study_id in r.content.decode()
    assert participant_page not in r.content.decode()
    assert client.get(participant_page).status_code in (403, 404)

    client.force_login(data_manager)
    assert participant_page in client.get(trial_page).content.decode()

    client.force_login(physio_west)
    assert client.get(trial_page).status_code == 403


def test_the_menu_leads_to_data_management_and_it_to_the_queries(
    client, betterback, data_manager, statistician, physio_west
):
    """A walk found no way to data management but through the monitoring dashboard, and
    no way from it to the queries."""
    client.force_login(data_manager)
    home = client.get(reverse("home"), follow=True).content.decode()
    page_url = reverse("datamanagement:trial", args=["betterback"])
    assert f'href="{page_url}"' in home
    page = client.get(page_url).content.decode()
    assert f'href="{reverse("datamanagement:query_list", args=["betterback"])}"' in page
    for user in (statistician, physio_west):
        client.force_login(user)
        assert f'href="{page_url}"' not in client.get(reverse("home"), follow=True).content.decode()
