"""Query pages: raising, the thread's actions by role (another clinic's physiotherapist
gets 404), the list's filters and counts, marks on other pages, the CSV log."""

import csv
import io
from datetime import date

import pytest
from django.urls import reverse

from datamanagement.queries import actions
from datamanagement.queries.export import COLUMNS, query_log_rows
from datamanagement.queries.models import Query
from questionnaires.models import Response
from tests.conftest import use_betterback_built_once

pytestmark = pytest.mark.django_db
betterback = use_betterback_built_once()  # loaded once for the module


@pytest.fixture
def query(odi_baseline, data_manager):
    return actions.raise_query(
        odi_baseline.participant, "baseline.odi.q4", "Q4 is unreadable on the scan.", data_manager
    )


def detail(query):
    return reverse("datamanagement:query_detail", args=[query.pk])


def test_data_manager_raises_from_the_participant_page(client, data_manager, odi_baseline):
    client.force_login(data_manager)
    study_id = odi_baseline.participant.study_id
    page = client.get(reverse("participant_detail", args=[study_id])).content.decode()
    url = reverse("datamanagement:query_raise", args=[study_id])
    assert url in page
    assert 'value="baseline.odi.q4"' in client.get(url).content.decode()
    response = client.post(url, {"value": "baseline.odi.q4", "text": "Two boxes ticked."})
    query = Query.objects.get(check_code="", field="q4")
    assert response.url == detail(query)
    assert query.raised_by == data_manager
    page = client.get(reverse("participant_detail", args=[study_id])).content.decode()
    assert 'data-value="baseline.odi.q4"' in page


def test_raising_needs_a_text_and_keeps_the_choice(client, data_manager, odi_baseline):
    client.force_login(data_manager)
    url = reverse("datamanagement:query_raise", args=[odi_baseline.participant.study_id])
    page = client.post(url, {"value": "baseline.odi.q4", "text": ""}).content.decode()
    assert "This field is required" in page
    assert 'value="baseline.odi.q4" selected' in page
    assert not Query.objects.filter(check_code="").exists()


def test_physiotherapist_corrects_from_the_query_and_the_history_says_who(
    client, physio_west, query
):
    client.force_login(physio_west)
    page = client.get(detail(query)).content.decode()
    assert 'id="correct-value"' in page and 'id="close-query"' not in page
    client.post(
        detail(query), {"action": "correct", "new_value": "2", "text": "The paper form says 2."}
    )
    response = Response.objects.get(pk=query.response_id)
    assert response.answers["q4"] == 2
    last = response.history.first()
    assert last.history_user == physio_west
    assert f"query {query.pk}" in last.history_change_reason
    query.refresh_from_db()
    assert query.state == Query.ANSWERED


def test_a_bad_value_is_shown_and_changes_nothing(client, physio_west, query):
    client.force_login(physio_west)
    page = client.post(
        detail(query),
        {"action": "correct", "new_value": "two", "text": "The scan shows two boxes."},
        follow=True,
    ).content.decode()
    assert "is not a valid value" in page
    assert Query.objects.get(pk=query.pk).state == Query.OPEN
    # What was typed stays in the form (a walk found message and value cleared).
    assert ">The scan shows two boxes.</textarea>" in page and 'value="two"' in page


def test_physio_of_another_clinic_and_statistician_get_404(
    client, physio_east, statistician, query
):
    for user in (physio_east, statistician):
        client.force_login(user)
        assert client.get(detail(query)).status_code == 404
        assert client.post(detail(query), {"action": "answer", "text": "x"}).status_code == 404
    assert client.get(reverse("datamanagement:query_list", args=["betterback"])).status_code == 404


def test_physio_may_not_close_nor_raise(client, physio_west, query):
    client.force_login(physio_west)
    client.post(detail(query), {"action": "close", "text": "done"})
    assert Query.objects.get(pk=query.pk).state == Query.OPEN
    url = reverse("datamanagement:query_raise", args=[query.participant.study_id])
    assert client.get(url).status_code == 403


def test_close_without_reason_is_refused_with_a_message(client, data_manager, query):
    client.force_login(data_manager)
    page = client.post(detail(query), {"action": "close", "text": ""}, follow=True)
    assert "give a reason" in page.content.decode()
    client.post(detail(query), {"action": "close", "text": "Checked the scan: it is 5."})
    assert Query.objects.get(pk=query.pk).state == Query.CLOSED
    client.post(detail(query), {"action": "reopen", "text": "Monitor disagrees."})
    assert Query.objects.get(pk=query.pk).state == Query.REOPENED


def test_list_filters_and_counts(client, data_manager, physio_east, query, clinic_east):
    from tests.factories import enrol

    from .conftest import answer

    east = enrol(clinic_east)
    other = answer(east, "baseline", "nrs", on=date(2017, 5, 3))
    actions.raise_query(east, "baseline.nrs.back", "Check", data_manager)
    actions.close_query(query, "fine", data_manager)
    assert other
    client.force_login(data_manager)
    url = reverse("datamanagement:query_list", args=["betterback"])
    page = client.get(url + "?raised_by=datamanager").content.decode()
    assert page.count('class="query-row"') == 2
    assert 'data-state="open" href' in page
    page = client.get(url + "?raised_by=datamanager&state=closed").content.decode()
    assert page.count('class="query-row"') == 1
    page = client.get(url + "?clinic=NCE&instrument=nrs&age=week").content.decode()
    assert page.count('class="query-row"') == 1
    assert client.get(url + "?age=older").content.decode().count('class="query-row"') == 0
    # The east physiotherapist sees their clinic's query only.
    client.force_login(physio_east)
    page = client.get(url).content.decode()
    assert page.count('class="query-row"') == 1 and "baseline.nrs.back" in page
    assert (
        client.get(reverse("datamanagement:query_log_csv", args=["betterback"])).status_code == 403
    )


def test_marks_on_the_correction_and_comparison_pages(client, coordinator, query):
    client.force_login(coordinator)
    page = client.get(reverse("response_correct", args=[query.response_id])).content.decode()
    assert 'id="open-queries"' in page and 'data-value="baseline.odi.q4"' in page
    # The heading in words, not "BB-C-0001 baseline odi v1".
    response = Response.objects.get(pk=query.response_id)
    heading = page.split('<h1 class="h4">')[1].split(" <small")[0]
    assert heading == f"Correct {response.timepoint.staff_label} · {response.definition().name}"
    compare = reverse("paper_compare", args=[query.participant.study_id, "baseline", "odi"])
    assert 'data-value="baseline.odi.q4"' in client.get(compare).content.decode()
    crpe = reverse("crpe_form", args=[query.participant.study_id, "crpe-first"])
    assert 'id="open-queries"' not in client.get(crpe).content.decode()


def test_monitoring_shows_open_queries_per_clinic(client, coordinator, query):
    client.force_login(coordinator)
    page = client.get(reverse("monitoring_dashboard", args=["betterback"])).content.decode()
    assert 'id="queries-by-clinic"' in page
    assert '<tr data-clinic="MOT">' in page


def test_csv_log_with_study_ids_only(client, data_manager, physio_west, query):
    actions.correct_from_query(query, 2, "The paper form says 2.", physio_west)
    actions.close_query(query, "", data_manager)
    client.force_login(data_manager)
    response = client.get(reverse("datamanagement:query_log_csv", args=["betterback"]))
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert list(rows[0]) == COLUMNS
    mine = [r for r in rows if r["query_id"] == str(query.pk)]
    assert [r["message_kind"] for r in mine] == ["raised", "corrected", "closed"]
    assert mine[1]["new_value"] == "2" and mine[1]["message_by"] == "physio_west"
    assert {r["study_id"] for r in rows} == {query.participant.study_id}
    details = query.participant.personal_details
    text = response.content.decode()
    for identifier in (details.full_name, details.national_id, details.email, details.mobile):
        assert identifier not in text
    assert len(query_log_rows(query.participant.trial)) == len(rows)


def test_a_swedish_physiotherapist_reads_the_query_and_its_error_in_swedish(
    client, physio_west, query
):
    client.force_login(physio_west)
    page = client.get(detail(query), HTTP_ACCEPT_LANGUAGE="sv").content.decode()
    assert "Öppen" in page and "Värde" in page
    assert "An answer, the reason for a correction" not in page
    r = client.post(detail(query), {"action": "answer", "text": ""}, HTTP_ACCEPT_LANGUAGE="sv",
                    follow=True)
    assert "Skriv ett svar." in r.content.decode()


def test_the_edit_checks_own_texts_in_the_readers_language(client, physio_west, participant,
                                                           data_manager):
    """The check's message (sv in BetterBack's protocol file) and the automatic "closed"
    note: Swedish on a Swedish page, English in the stored thread (the query log)."""
    from .conftest import answer

    nrs = answer(participant, "baseline", "nrs", {"back": 0}, on=date(2017, 5, 3))
    query = Query.objects.get(participant=participant, check_code="baseline-back-pain")
    client.force_login(physio_west)
    sv = client.get(detail(query), HTTP_ACCEPT_LANGUAGE="sv").content.decode()
    assert "Ingen ryggsmärta (0) vid studiens start" in sv and "No back pain" not in sv
    mark = client.get(reverse("response_correct", args=[nrs.pk]),
                      HTTP_ACCEPT_LANGUAGE="sv").content.decode()
    assert "Ingen ryggsmärta (0)" in mark
    assert query.messages.get().text.startswith("No back pain (0) at baseline")
    actions.correct_from_query(query, 6, "Patienten bekräftade 6.", physio_west)
    sv = client.get(detail(query), HTTP_ACCEPT_LANGUAGE="sv").content.decode()
    assert "Kontrollregeln godkänns nu: stängd automatiskt." in sv
    en = client.get(detail(query), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "No back pain (0) at baseline" in en and "passes now: closed automatically" in en


def test_closed_after_the_correction_is_stored_in_english_and_shown_translated(
    client, data_manager, physio_west, query
):
    actions.correct_from_query(query, 2, "Paper form says 2.", physio_west)
    client.force_login(data_manager)
    client.post(detail(query), {"action": "close", "text": ""}, HTTP_ACCEPT_LANGUAGE="sv")
    closed = query.messages.get(kind="closed")
    assert closed.text == "Closed after the correction."  # the query log's language
    sv = client.get(detail(query), HTTP_ACCEPT_LANGUAGE="sv").content.decode()
    assert "Stängd efter rättelsen." in sv


def test_the_query_page_gives_the_item_and_its_codes_in_swedish(client, physio_west, query):
    """As the forms do: the trial's official Swedish wording where loaded (ODI's is
    licensed, so only the trial can load it), else the catalogue's."""
    from questionnaires.models import InstrumentWording

    InstrumentWording.objects.create(
        trial=query.participant.trial, instrument="odi", version=1, language="sv",
        items={"q4": "Gång"}, choices={"q4": {"0": "Smärtan hindrar mig inte från att gå"}},
    )
    client.force_login(physio_west)
    page = client.get(detail(query), HTTP_ACCEPT_LANGUAGE="sv").content.decode()
    codes = page.split('id="codes"')[1].split("</dd>")[0]
    assert "0 = Smärtan hindrar mig inte från att gå" in codes
    assert "Gång" in page.split('id="query-target"')[1].split("</dd>")[0]
    en = client.get(detail(query), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "0 = Pain does not stop me walking any distance" in en


def test_a_physiotherapists_menu_leads_to_the_queries_waiting_for_their_clinic(
    client, query, physio_west, physio_east, data_manager
):
    """A physiotherapist has no data-management page: the menu names the trial's queries
    and how many wait for their clinic's answer; those of another clinic do not count."""
    client.force_login(physio_west)
    home = client.get(reverse("participant_detail", args=[query.participant.study_id]))
    html = home.content.decode()
    link = reverse("datamanagement:query_list", args=["betterback"])
    assert f'class="nav-link query-nav" href="{link}"' in html
    assert 'title="waiting for your clinic">1</span>' in html
    assert client.get(link).status_code == 200
    actions.answer_query(query, "Ticked 2; corrected.", physio_west)
    html = client.get(link).content.decode()
    assert "query-nav" in html and "waiting for your clinic" not in html  # answered
    client.force_login(physio_east)
    assert "waiting for your clinic" not in client.get(link).content.decode()
    client.force_login(data_manager)  # reaches them from the data-management page
    assert "query-nav" not in client.get(link).content.decode()


def test_the_instrument_filter_names_instruments(client, query, data_manager):
    client.force_login(data_manager)
    html = client.get(reverse("datamanagement:query_list", args=["betterback"])).content.decode()
    assert '<option value="odi">Oswestry Disability Index 2.1</option>' in html
