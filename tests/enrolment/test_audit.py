"""Audit trail: every create and change of Participant and PersonalDetails is recorded with
user, time, old and new value, and a reason for changes to saved values."""

from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import translation

from enrolment.actions.changes import update_personal_details
from enrolment.actions.status import withdraw_participant
from enrolment.audit import participant_history
from enrolment.models import PersonalDetails
from questionnaires.instruments import get
from questionnaires.services.saving import save_answers
from tests.conftest import use_betterback_built_once

from ..factories import enrol
from ..questionnaires.engine_helpers import valid_answers

pytestmark = pytest.mark.django_db
betterback = use_betterback_built_once()  # loaded once for the module


def test_enrolment_is_recorded_as_created(clinic_west, coordinator):
    p = enrol(clinic_west, user=coordinator)
    entries = participant_history(p)
    assert {(e.what, e.action) for e in entries} == {
        ("Participant", "created"),
        ("Personal details", "created"),
        ("Consent", "created"),  # the consent at enrolment starts the consent history
    }
    # Who enrolled, though no request named them (found walking the demo: "system").
    assert {e.who for e in entries} == {"coordinator"}


def test_change_without_a_reason_is_refused_and_nothing_is_saved(clinic_west):
    p = enrol(clinic_west, email="old@example.com")
    details = p.personal_details
    with pytest.raises(ValidationError, match="reason"):
        update_personal_details(details, {"email": "new@example.com"}, reason="  ")
    details.email = "new@example.com"
    with pytest.raises(ValidationError, match="reason"):
        details.save()  # the model refuses too, whoever calls it
    assert PersonalDetails.objects.get(pk=details.pk).email == "old@example.com"


def test_change_with_reason_records_old_new_and_reason(clinic_west):
    p = enrol(clinic_west, email="old@example.com")
    details = PersonalDetails.objects.get(participant=p)
    update_personal_details(details, {"email": "new@example.com"}, reason="typo at enrolment")
    change = [e for e in participant_history(p) if e.action == "changed"][0]
    assert change.reason == "typo at enrolment"
    assert change.changes == [("email", "old@example.com", "new@example.com")]


def test_withdrawal_is_audited_with_its_reason(clinic_west):
    p = enrol(clinic_west)
    withdraw_participant(p, date(2017, 8, 1), "moved abroad")
    change = [e for e in participant_history(p) if e.action == "changed"][0]
    assert change.reason == "withdrawal: moved abroad"
    assert ("status", "active", "withdrawn") in change.changes


def test_edit_in_the_browser_asks_for_a_reason_and_keeps_the_input(
    client, coordinator, clinic_west
):
    p = enrol(clinic_west, mobile="+46700000001")
    client.force_login(coordinator)
    url = reverse("personal_details_edit", args=[p.study_id])
    data = {
        "full_name": p.personal_details.full_name,
        "national_id": p.personal_details.national_id,
        "date_of_birth": "1980-01-01",
        "email": p.personal_details.email,
        "mobile": "+46700000002",
        "preferred_language": "sv",
        "reason": "",
    }
    response = client.post(url, data)
    page = response.content.decode()
    assert response.status_code == 200
    assert "Say why you change a value" in page and "+46700000002" in page  # input kept
    assert PersonalDetails.objects.get(pk=p.personal_details.pk).mobile == "+46700000001"

    response = client.post(url, {**data, "reason": "new phone number"})
    assert response.status_code == 302
    history = client.get(reverse("participant_history", args=[p.study_id])).content.decode()
    assert "new phone number" in history and "+46700000001" in history
    assert "+46700000002" in history and "coordinator" in history


def test_history_records_the_logged_in_user(client, coordinator, clinic_west):
    p = enrol(clinic_west)
    client.force_login(coordinator)
    client.post(
        reverse("participant_edit", args=[p.study_id]),
        {"clinic": clinic_west.pk, "enrolled_on": "2017-05-03", "reason": "date misread"},
    )
    change = [e for e in participant_history(p) if e.action == "changed"][0]
    assert change.who == "coordinator"
    assert change.changes == [("enrolled_on", date(2017, 5, 2), date(2017, 5, 3))]


def test_data_manager_reads_history_physiotherapist_does_not(
    client, data_manager, physio_west, clinic_west
):
    p = enrol(clinic_west)
    client.force_login(data_manager)
    assert client.get(reverse("participant_history", args=[p.study_id])).status_code == 200
    client.force_login(physio_west)
    assert client.get(reverse("participant_history", args=[p.study_id])).status_code == 403


def test_a_patient_s_own_answers_are_theirs_in_the_audit_trail_not_the_system_s(
    client, data_manager, clinic_west
):
    """Answers given by a survey link or an SMS reply carry no staff user: the trail
    names the participant and how they answered (found walking the demo: "system")."""
    from questionnaires.instruments import get
    from questionnaires.models import Response
    from questionnaires.services.saving import save_answers
    from tests.questionnaires.engine_helpers import valid_answers

    p = enrol(clinic_west)
    odi = get("odi")
    save_answers(
        instrument=odi,
        timepoint=p.trial.timepoints.get(code="3m"),
        answers=valid_answers(odi),
        complete=True,
        mode=Response.PATIENT_ONLINE,
        user=None,
        participant=p,
    )
    answered = [e for e in participant_history(p) if e.what.startswith("Response odi")]
    assert [(e.who, e.by_staff) for e in answered] == [
        ("the participant, by their survey link", False)
    ]
    enrolled = [e for e in participant_history(p) if e.what == "Participant"]
    assert enrolled and all(e.who == "system" for e in enrolled)  # enrol() gives no user
    client.force_login(data_manager)
    page = client.get(
        reverse("participant_history", args=[p.study_id]), HTTP_ACCEPT_LANGUAGE="sv"
    ).content.decode()
    assert "deltagaren, via sin enkätlänk" in page and ">systemet<" in page


def test_a_corrected_answer_reads_item_by_item_on_the_trials_clock(
    client, data_manager, coordinator, clinic_west
):
    """The trail shows which answer and score changed, not two whole objects, a computed
    score to the digits it means, and times in the trial's zone, which the header names."""
    from questionnaires.instruments import get
    from questionnaires.models import Response
    from questionnaires.services.saving import correct_response, save_answers
    from tests.questionnaires.engine_helpers import valid_answers

    p = enrol(clinic_west)
    odi = get("odi")
    answers = {**valid_answers(odi), "q3": 2}
    response = save_answers(instrument=odi, timepoint=p.trial.timepoints.get(code="3m"),
                            answers=answers, complete=True, mode=Response.STAFF_PAPER,
                            user=coordinator, participant=p)
    correct_response(response, {**answers, "q3": 0}, "misread on paper", coordinator)
    change = [e for e in participant_history(p) if e.action == "changed"][0]
    shown = {name: (old, new) for name, old, new in change.readable}
    assert shown["Answers q3"] == (2, 0)
    assert "Answers q1" not in shown  # unchanged answers are not listed
    assert {name for name in shown if name.startswith("Scores ")}  # the score moved too
    client.force_login(data_manager)
    page = client.get(reverse("participant_history", args=[p.study_id])).content.decode()
    assert "Answers q3: 2 → 0" in page and "When (Europe/Stockholm)" in page


def test_floats_read_as_entered_and_lists_joined():
    from datetime import UTC, datetime

    from enrolment.audit import readable_changes

    assert readable_changes([("scores", {"total": 27.0}, {"total": 28.000000000000004}),
                             ("answers", None, {"sc": [1, 2]})]) == [
        ("scores.total", "27", "28"), ("answers.sc", None, "1; 2")]
    # Times as the trail writes them (found walking: "Dec. 2, 2026, 1:01 p.m."), an empty
    # text as nothing.
    assert readable_changes([("cleared_at", None, datetime(2026, 12, 2, 12, 1, tzinfo=UTC)),
                             ("cleared_reason", "", "changed")]) == [
        ("cleared_at", None, "2026-12-02 12:01:00"), ("cleared_reason", None, "changed")]
    # Yes and no in the reader's language (found walking: "not_done: False → True").
    with translation.override("sv"):
        assert readable_changes([("not_done", False, True)]) == [("not_done", "nej", "ja")]


def test_a_swedish_reader_reads_each_response_by_its_instrument_and_timepoint(
    client, coordinator, clinic_west, betterback
):
    """The page names a response in the reader's language; the API keeps its English
    record name ("Response odi at baseline")."""
    p = enrol(clinic_west, user=coordinator)
    baseline = betterback.timepoints.get(code="baseline")
    save_answers(instrument=get("odi"), timepoint=baseline, answers=valid_answers(get("odi")),
                 complete=True, participant=p, user=coordinator, mode="staff_clinic")
    assert any(e.what == "Response odi at baseline" for e in participant_history(p))
    client.force_login(coordinator)
    client.cookies["django_language"] = "sv"
    html = client.get(reverse("participant_history", args=[p.study_id])).content.decode()
    assert "Response odi at baseline" not in html
    assert f"{get('odi').name}, Vid studiens start" in html


def test_the_sites_own_reasons_are_read_in_the_readers_language(
    client, coordinator, clinic_west
):
    """"enrolment" and "withdrawal: <the staff's words>" are the site's words: a Swedish
    reader reads them in Swedish, the staff's own words as typed."""
    p = enrol(clinic_west, user=coordinator)
    withdraw_participant(p, date(2017, 9, 1), "moved abroad")
    client.force_login(coordinator)
    url = reverse("participant_history", args=[p.study_id])
    client.cookies["django_language"] = "sv"
    html = client.get(url).content.decode()
    assert "<td>inklusion</td>" in html and "avbrutet deltagande: moved abroad" in html
    assert "<td>enrolment</td>" not in html
    client.cookies["django_language"] = "en"
    html = client.get(url).content.decode()
    assert "<td>enrolment</td>" in html and "withdrawal: moved abroad" in html



def test_a_changed_field_reads_by_its_name_and_its_value_by_its_label(
    client, coordinator, clinic_west
):
    """Found walking the Swedish audit trail: "contact_preference: email → sms" and
    "answers.q5", the models' own names and codes among Swedish words."""
    p = enrol(clinic_west, user=coordinator)
    update_personal_details(
        p.personal_details,
        {"contact_preference": PersonalDetails.BY_SMS, "mobile": "+46709876543"},
        "asked for SMS",
    )
    client.force_login(coordinator)
    url = reverse("participant_history", args=[p.study_id])
    client.cookies["django_language"] = "sv"
    html = client.get(url).content.decode()
    assert "Kontaktsätt: E-post → SMS" in html and "Mobilnummer: +46701" in html
    assert "→ +46709876543" in html
    assert "contact_preference" not in html and "mobile:" not in html
    client.cookies["django_language"] = "en"
    html = client.get(url).content.decode()
    assert "Contact preference: Email → SMS" in html


@pytest.mark.parametrize("language", ["sv", "da", "nb"])
def test_the_sites_reasons_with_values_in_them_are_read_in_the_readers_language(language):
    """A reason the site writes with values in it ("re-consent to version 2.0", a double
    data entry's entries, a query's number) reads in the reader's language, the values
    as written; words staff typed that merely look alike stay as typed."""
    from enrolment import audit

    written = [
        audit.RECONSENT % {"version": "2.0"},
        audit.DOUBLE_ENTRY_AGREE % {"first": 673, "second": 681},
        audit.QUERY % {"number": 7, "target": "baseline.odi.q2", "text": "typed: 3"},
    ]
    with translation.override(language):
        shown = [audit.reason_shown(text) for text in written]
        for pattern in audit.PATTERNS:
            assert translation.gettext(pattern) != pattern, pattern
    assert all(a != b for a, b in zip(shown, written, strict=True)), shown
    assert "2.0" in shown[0] and "673" in shown[1] and "681" in shown[1]
    assert "baseline.odi.q2" in shown[2] and shown[2].endswith("typed: 3")
    with translation.override(language):
        assert audit.reason_shown("re-consent to version 2.0 was asked by phone") == (
            "re-consent to version 2.0 was asked by phone"
        )
