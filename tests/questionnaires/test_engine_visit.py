"""A visit answered page by page on a device in the clinic: progress, Back / Next, save
and resume, errors next to the item with nothing lost, and no allocation on patient pages."""

import re

import pytest
from django.urls import reverse

from enrolment.audit import participant_history
from enrolment.views_enrol import trial_today
from questionnaires.instruments import get
from questionnaires.models import Response
from tests.conftest import use_betterback_built_once

from ..factories import enrol
from .engine_helpers import as_post, checked, valid_answers

pytestmark = pytest.mark.django_db
betterback = use_betterback_built_once()  # loaded once for the module

BASELINE = ["nrs", "odi", "eq5d3l", "bipq", "sbst"]  # protocols/betterback.toml


@pytest.fixture
def participant(clinic_west, coordinator, betterback):
    # Enrolled today: the baseline visit is in its window (a late one asks the staff first,
    # test_visit_window.py).
    return enrol(clinic_west, user=coordinator, preferred_language="en",
                 enrolled_on=trial_today(betterback))


def page_url(p, n, tp="baseline"):
    return reverse("visit_page", args=[p.study_id, tp, n])


def test_the_baseline_timepoint_has_the_instruments_the_test_expects(betterback):
    assert betterback.timepoints.get(code="baseline").instruments == BASELINE


def test_visit_page_by_page_with_progress_and_resume(client, participant, physio_west):
    client.force_login(physio_west)
    start = client.get(reverse("visit_start", args=[participant.study_id, "baseline"]))
    assert start.url == page_url(participant, 1)
    page = client.get(page_url(participant, 1))
    html = page.content.decode()
    assert "Questionnaire 1 of 5" in html and 'class="progress' in html
    assert get("nrs", 1).name in html  # BetterBack's protocol pins nrs = 1

    # Page 1 answered, Next goes to page 2 and the response is completed.
    nrs = valid_answers(get("nrs", 1))
    r = client.post(page_url(participant, 1), as_post(nrs, action="next"))
    assert r.url == page_url(participant, 2)
    saved = Response.objects.get(participant=participant, instrument="nrs")
    assert saved.answers == nrs and saved.is_complete and saved.scores["back"] == 10
    assert saved.mode == Response.STAFF_CLINIC and saved.entered_by == physio_west

    # Half of page 2, then "Save and continue later": saved, not completed.
    odi = get("odi")
    half = dict(list(valid_answers(odi).items())[:4])
    r = client.post(page_url(participant, 2), as_post(half, action="save_later"))
    assert r.status_code == 302 and "done" in r.url
    partial = Response.objects.get(participant=participant, instrument="odi")
    assert partial.answers == half and not partial.is_complete

    # Resuming opens the first unfinished page with the saved answers filled in.
    resume = client.get(reverse("visit_start", args=[participant.study_id, "baseline"]))
    assert resume.url == page_url(participant, 2)
    html = client.get(page_url(participant, 2)).content.decode()
    for item_id, value in half.items():
        assert checked(html, item_id) == [str(value)]

    # Back from page 2 goes to page 1.
    r = client.post(page_url(participant, 2), as_post(half, action="back"))
    assert r.url == page_url(participant, 1)


def test_next_with_a_required_item_missing_shows_the_error_and_saves_the_rest(
    client, participant, coordinator
):
    client.force_login(coordinator)
    odi = get("odi")
    answers = valid_answers(odi)
    missing = odi.items[3].id
    del answers[missing]
    r = client.post(page_url(participant, 2), as_post(answers, action="next"))
    assert r.status_code == 200  # stays on the page
    html = r.content.decode()
    block = html.split(f'id="div_id_{missing}"')[1].split('id="div_id_')[0]
    assert "This field is required." in block
    saved = Response.objects.get(participant=participant, instrument="odi")
    assert saved.answers == answers and not saved.is_complete
    # The other answers are shown again as entered.
    for item_id, value in answers.items():
        assert checked(html, item_id) == [str(value)]


def test_an_out_of_range_value_keeps_the_saved_answer_and_the_other_answers(
    client, participant, coordinator
):
    client.force_login(coordinator)
    client.post(page_url(participant, 1), {"back": "4", "action": "save_later"})
    r = client.post(page_url(participant, 1), {"back": "11", "leg": "2", "action": "next"})
    assert r.status_code == 200
    html = r.content.decode()
    assert (
        "Choose a value from 0 to 10." in html.split('id="div_id_back"')[1].split("div_id_leg")[0]
    )
    saved = Response.objects.get(participant=participant, instrument="nrs")
    assert saved.answers == {"back": 4, "leg": 2}
    assert not saved.is_complete


def test_finishing_the_last_page_and_the_audit_trail(client, participant, coordinator):
    client.force_login(coordinator)
    for n, code in enumerate(BASELINE, start=1):
        r = client.post(page_url(participant, n), as_post(valid_answers(get(code)), action="next"))
        assert r.status_code == 302, (code, r.content.decode()[:2000])
    assert r.url == reverse("visit_done", args=[participant.study_id, "baseline"])
    assert Response.objects.filter(participant=participant, completed_at__isnull=False).count() == 5
    eq = Response.objects.get(participant=participant, instrument="eq5d3l")
    assert eq.scores["profile"] == "33333"  # the SE value set of BetterBack was used
    from questionnaires.instruments.definitions.eq5d import index_value

    assert eq.scores["index"] == index_value(
        "eq5d3l", dict.fromkeys("mo sc ua pd ad".split(), 3), "SE"
    )
    whats = {e.what for e in participant_history(participant)}
    assert "Response nrs at baseline" in whats


def test_patient_pages_show_no_condition_arm_cluster_or_staff_navigation(
    client, participant, coordinator, betterback
):
    client.force_login(coordinator)
    pages = [client.get(page_url(participant, n)) for n in range(1, 6)]
    pages.append(client.get(reverse("visit_done", args=[participant.study_id, "baseline"])))
    # Also the page re-rendered with errors.
    pages.append(client.post(page_url(participant, 1), {"back": "99", "action": "next"}))
    # Arm codes ("control", "intervention") are ordinary words of some items (BIPQ asks
    # about control over the illness): the labels, names and markup are checked instead.
    words = [a.label for a in betterback.arms.all()]
    words += [participant.clinic.cluster.name, participant.clinic.name]
    words += ["Outbox", "Log out", "Condition", "cluster", "allocation", "allocated"]
    for page in pages:
        assert page.status_code == 200
        html = page.content.decode()
        text = re.sub(r"<[^>]+>", " ", html)  # what the patient reads
        for word in words:
            # Case-sensitive for "Condition" (the staff label), as SBST speaks of a back condition.
            flags = 0 if word == "Condition" else re.IGNORECASE
            assert not re.search(rf"\b{re.escape(word)}\b", text, flags), word
        for marker in ["condition-", "navbar", "crossover", "washout"]:
            assert marker not in html, marker
        assert [t.name for t in page.templates][0].startswith("questionnaires/")
        assert "base.html" not in [t.name for t in page.templates]


def test_patient_pages_are_translated_into_the_respondents_language(
    client, clinic_west, coordinator
):
    p = enrol(clinic_west, preferred_language="sv")
    client.force_login(coordinator)
    html = client.get(page_url(p, 1)).content.decode()
    assert '<html lang="sv">' in html


def test_another_clinics_physiotherapist_gets_404(client, participant, physio_east):
    client.force_login(physio_east)
    for url in [
        reverse("visit_start", args=[participant.study_id, "baseline"]),
        page_url(participant, 1),
        reverse("paper_entry", args=[participant.study_id, "baseline", "nrs"]),
        reverse("paper_compare", args=[participant.study_id, "baseline", "nrs"]),
        reverse("crpe_form", args=[participant.study_id, "crpe-first"]),
    ]:
        assert client.get(url).status_code == 404, url
    r = client.post(page_url(participant, 1), {"back": "3", "action": "next"})
    assert r.status_code == 404
    assert not Response.objects.exists()


def test_a_statistician_cannot_open_a_visit(client, participant, statistician):
    client.force_login(statistician)
    assert client.get(page_url(participant, 1)).status_code == 403


def test_participant_page_lists_timepoints_responses_and_buttons(client, participant, physio_west):
    client.force_login(physio_west)
    client.post(page_url(participant, 1), {"back": "3", "leg": "5", "action": "next"})
    html = client.get(reverse("participant_detail", args=[participant.study_id])).content.decode()
    block = html.split('id="questionnaires"')[1]
    assert "Open visit on this device" in block and "Enter paper form" in block
    assert "CRPE First visit" in block and "CRPE Final visit" in block
    assert "completed" in block and "back 3" in block and "not started" in block


def test_finishing_the_last_page_goes_back_to_a_page_left_unfinished(
    client, participant, coordinator
):
    client.force_login(coordinator)
    client.post(page_url(participant, 1), {"back": "2", "action": "save_later"})
    for n, code in enumerate(BASELINE[1:], start=2):
        r = client.post(page_url(participant, n), as_post(valid_answers(get(code)), action="next"))
    assert r.url == page_url(participant, 1)  # NRS still needs its leg item


def test_the_visit_logic_runs_without_a_login_for_a_later_token_link(participant):
    """A token link builds a Visit itself (no user) and calls run_visit_page."""
    from django.contrib.auth.models import AnonymousUser
    from django.contrib.messages.storage.fallback import FallbackStorage
    from django.contrib.sessions.backends.db import SessionStore
    from django.test import RequestFactory

    from questionnaires.services.saving import Visit
    from questionnaires.views.visits import run_visit_page

    tp = participant.trial.timepoints.get(code="baseline")
    visit = Visit(timepoint=tp, participant=participant, mode=Response.PATIENT_ONLINE)
    request = RequestFactory().post("/t/abc/1/", {"back": "1", "leg": "0", "action": "next"})
    request.user = AnonymousUser()
    request.session = SessionStore()
    request._messages = FallbackStorage(request)
    request._dont_enforce_csrf_checks = True
    r = run_visit_page(request, visit, 1, lambda n: f"/t/abc/{n}/", "/t/abc/done/")
    assert r.status_code == 302 and r.url == "/t/abc/2/"
    saved = Response.objects.get(participant=participant, instrument="nrs")
    assert saved.mode == Response.PATIENT_ONLINE and saved.entered_by is None
    request = RequestFactory().get("/t/abc/2/")
    request.user = AnonymousUser()
    page = run_visit_page(request, visit, 2, lambda n: f"/t/abc/{n}/", "/t/abc/done/")
    assert page.status_code == 200 and b"Questionnaire 2 of 5" in page.content


def test_a_physiotherapist_answers_their_own_questionnaires(client, physio_west, betterback):
    from enrolment.models import Physiotherapist

    tp = betterback.timepoints.get(code="pt-before")
    client.force_login(physio_west)
    url = reverse("own_visit_page", args=["betterback", "pt-before", 1])
    first = get(tp.instruments[0])
    r = client.post(url, as_post(valid_answers(first), action="next"))
    assert r.status_code == 302
    saved = Response.objects.get(instrument=first.code)
    assert saved.physiotherapist == Physiotherapist.objects.get(user=physio_west)
    assert saved.participant is None and saved.is_complete


def test_a_physiotherapist_s_own_done_page_asks_nothing_to_be_handed_back(
    client, physio_west, betterback
):
    """Answered on their own computer: no "hand the device back to the staff" (the clinic
    tablet's words), a way back to the start page instead, in their language."""
    client.force_login(physio_west)
    page = client.get(reverse("own_visit_done", args=["betterback", "pt-before"]))
    page = page.content.decode()
    assert "Lämna tillbaka enheten" not in page and "hand the device" not in page
    assert 'href="/"' in page and "Tillbaka till startsidan" in page
    # Nothing answered yet: the page says so, and where to go on, not "all answered".
    assert "Du har besvarat alla enkäter" not in page
    assert reverse("own_visit_page", args=["betterback", "pt-before", 1]) in page


def test_someone_who_is_not_a_physiotherapist_has_no_own_questionnaires(client, coordinator):
    client.force_login(coordinator)
    url = reverse("own_visit_page", args=["betterback", "pt-before", 1])
    assert client.get(url).status_code == 404
