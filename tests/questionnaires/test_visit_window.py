"""A tablet visit before its window needs a confirmation and shows the window (issue 15
finding 6)."""

from datetime import date, timedelta

import pytest
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from enrolment.actions.status import record_death, withdraw_participant
from enrolment.views_enrol import trial_today
from followup.schedule import offset_date
from questionnaires.due import due_date
from questionnaires.instruments import for_trial
from questionnaires.services.saving import save_answers
from tests.conftest import use_betterback_built_once

from ..factories import enrol
from .engine_helpers import valid_answers

betterback = use_betterback_built_once()  # loaded once for the module


@given(
    anchor=st.dates(min_value=date(2000, 1, 1), max_value=date(2040, 12, 31)),
    offset=st.integers(0, 60),
    unit=st.sampled_from(["days", "weeks", "months"]),
)
def test_due_date_agrees_with_the_follow_up_schedule(anchor, offset, unit):
    assert due_date(anchor, offset, unit) == offset_date(anchor, offset, unit)


@pytest.mark.django_db
def test_12_month_visit_on_the_enrolment_day_warns_shows_the_window_and_needs_confirmation(
    client, physio_west, clinic_west, betterback
):
    today = trial_today(betterback)
    p = enrol(clinic_west, enrolled_on=today)
    tp = betterback.timepoints.get(code="12m")
    client.force_login(physio_west)
    start = reverse("visit_start", args=[p.study_id, "12m"])
    r = client.get(start)
    html = r.content.decode()
    assert r.status_code == 200 and "This visit is not due yet." in html
    due = offset_date(today, 12, "months")
    assert f"It is due on {due:%Y-%m-%d}" in html
    opens = due - timedelta(days=tp.window_before_days)
    closes = due + timedelta(days=tp.window_after_days)
    assert f"its window is {opens:%Y-%m-%d} to {closes:%Y-%m-%d}" in html
    # The page itself by its address is not a way round.
    first_page = reverse("visit_page", args=[p.study_id, "12m", 1])
    assert client.get(first_page)["Location"] == start
    r = client.post(start, {"confirm_early": "1"})
    assert r.status_code == 302 and r["Location"] == first_page
    assert client.get(first_page).status_code == 200


@pytest.mark.django_db
def test_baseline_on_the_enrolment_day_opens_at_once(client, physio_west, clinic_west, betterback):
    p = enrol(clinic_west, enrolled_on=trial_today(betterback))
    client.force_login(physio_west)
    r = client.get(reverse("visit_start", args=[p.study_id, "baseline"]))
    assert r["Location"] == reverse("visit_page", args=[p.study_id, "baseline", 1])


@pytest.mark.django_db
def test_a_late_visit_asks_the_staff_before_the_tablet_is_handed_over(
    client, physio_west, clinic_west, betterback
):
    """The window's end is said on a page of its own: the visit's pages are the patient's
    and show no message, so a warning queued for them waited for the next staff page."""
    today = trial_today(betterback)
    p = enrol(clinic_west, enrolled_on=today - timedelta(days=365))
    tp = betterback.timepoints.get(code="3m")
    client.force_login(physio_west)
    start = reverse("visit_start", args=[p.study_id, "3m"])
    r = client.get(start)
    html = r.content.decode()
    due = offset_date(p.enrolled_on, 3, "months")
    opens = due - timedelta(days=tp.window_before_days)
    closes = due + timedelta(days=tp.window_after_days)
    assert r.status_code == 200 and 'id="window-closed"' in html
    assert (f"The window of {tp.staff_label} closed on {closes:%Y-%m-%d} "
            f"(it was {opens:%Y-%m-%d} to {closes:%Y-%m-%d})") in html
    assert "outside its window" in html and 'name="confirm_late"' in html
    r = client.post(start, {"confirm_late": "1"})
    first_page = reverse("visit_page", args=[p.study_id, "3m", 1])
    assert r.status_code == 302 and r["Location"] == first_page
    # Confirmed: the start goes straight to the form, and no warning waits for the staff.
    assert client.get(start)["Location"] == first_page
    page = client.get(reverse("participant_detail", args=[p.study_id])).content.decode()
    assert "closed on" not in page


@pytest.mark.django_db
def test_the_late_visits_page_is_in_swedish_for_a_swedish_reader(
    client, physio_west, clinic_west, betterback
):
    p = enrol(clinic_west, enrolled_on=trial_today(betterback) - timedelta(days=365))
    client.force_login(physio_west)
    client.cookies["django_language"] = "sv"
    html = client.get(reverse("visit_start", args=[p.study_id, "3m"])).content.decode()
    assert "stängde" in html and "utanför" in html and "Öppna ändå" in html


@pytest.mark.django_db
@pytest.mark.parametrize("ending", ["died", "withdrew"])
def test_no_visit_is_opened_for_a_participant_who_died_or_withdrew(
    client, coordinator, clinic_west, betterback, ending
):
    today = trial_today(betterback)
    p = enrol(clinic_west, enrolled_on=today - timedelta(days=100))
    if ending == "died":
        record_death(p, today - timedelta(days=3), "reported by the family")
    else:
        withdraw_participant(p, today - timedelta(days=3), "asked for no more questionnaires")
    client.force_login(coordinator)
    detail = reverse("participant_detail", args=[p.study_id])
    html = client.get(detail).content.decode()
    assert reverse("visit_start", args=[p.study_id, "3m"]) not in html
    for url in (reverse("visit_start", args=[p.study_id, "3m"]),
                reverse("visit_page", args=[p.study_id, "3m", 1])):
        r = client.get(url, follow=True)
        assert r.redirect_chain[-1][0] == detail
        assert f"{p.study_id} {ending} on {today - timedelta(days=3):%Y-%m-%d}" in (
            r.content.decode())


@pytest.mark.django_db
def test_a_finished_visit_offers_no_visit_on_this_device(client, coordinator, clinic_west):
    p = enrol(clinic_west, user=coordinator)
    baseline = p.trial.timepoints.get(code="baseline")
    for code in baseline.instruments:
        instrument = for_trial(p.trial, code)
        save_answers(instrument=instrument, timepoint=baseline, answers=valid_answers(instrument),
                     complete=True, participant=p, user=coordinator, mode="staff_clinic")
    client.force_login(coordinator)
    html = client.get(reverse("participant_detail", args=[p.study_id])).content.decode()
    assert reverse("visit_start", args=[p.study_id, "baseline"]) not in html
    assert reverse("visit_start", args=[p.study_id, "3m"]) in html


@pytest.mark.django_db
def test_paper_is_taken_for_the_visits_before_a_death_and_none_after(
    client, coordinator, clinic_west, betterback
):
    """A form answered before and posted after the death may still come; none of a
    timepoint whose window opened after it."""
    today = trial_today(betterback)
    p = enrol(clinic_west, enrolled_on=today - timedelta(days=400))
    record_death(p, today - timedelta(days=200), "reported by the family")
    client.force_login(coordinator)
    detail = reverse("participant_detail", args=[p.study_id])
    html = client.get(detail).content.decode()
    before = reverse("paper_entry", args=[p.study_id, "baseline", "nrs"])
    after = reverse("paper_entry", args=[p.study_id, "12m", "nrs"])
    assert before in html and after not in html
    assert client.get(before).status_code == 200
    r = client.get(after, follow=True)
    assert r.redirect_chain[-1][0] == detail and "no questionnaire is asked" in (
        r.content.decode())


@pytest.mark.django_db
def test_a_withdrawal_reads_in_the_readers_language_on_the_participant_page(
    client, coordinator, clinic_west, betterback
):
    """Found walking: "Inställd withdrawn: moved abroad" and no badge in the header."""
    p = enrol(clinic_west, enrolled_on=trial_today(betterback) - timedelta(days=10))
    withdraw_participant(p, trial_today(betterback), "moved abroad")
    client.force_login(coordinator)
    client.cookies["django_language"] = "sv"
    html = client.get(reverse("participant_detail", args=[p.study_id])).content.decode()
    assert "avbrutit deltagandet: moved abroad" in html and "withdrawn:" not in html
    assert 'id="withdrawn">Avbrutit deltagandet</span>' in html
