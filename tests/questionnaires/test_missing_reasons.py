"""Missing-data reasons (issue 12): an item left unanswered with a reason code
(questionnaires.missing) is absent from the answers, so scoring treats it as missing and
the published missing-item rules apply unchanged. Staff give any reason on paper entry and
corrections; a respondent only "prefer not to answer" on items the instrument does not
require; double data entry compares reasons like values; a questionnaire or a whole
timepoint can be marked not done, which closes the follow-up contact."""

import pytest
from django.urls import reverse
from django.utils.html import escape

from followup import dispatch as dispatcher
from followup.models import Contact, Message
from followup.tokens import token_for
from questionnaires import missing, not_done, reasons
from questionnaires.instruments import get
from questionnaires.models import Response
from questionnaires.services.answers import ResponseError
from questionnaires.services.double_entry import compare_entries, resolve_double_entry
from questionnaires.services.saving import correct_response, save_answers
from tests.conftest import use_betterback_built_once

from ..factories import enrol
from ..followup.conftest import dispatch_now, three_months_ago
from .engine_helpers import as_post, valid_answers

pytestmark = pytest.mark.django_db
betterback = use_betterback_built_once()  # loaded once for the module

ODI = get("odi")


@pytest.fixture
def participant(clinic_west):
    return enrol(clinic_west)


def baseline(p):
    return p.trial.timepoints.get(code="baseline")


def odi_values(values):
    return {f"q{n}": v for n, v in enumerate(values, start=1)}


# --- validation ----------------------------------------------------------------------


def test_a_reason_must_be_a_known_code_and_never_beside_a_value():
    answers = odi_values([1] * 10)
    del answers["q3"]
    staff = reasons.STAFF
    assert reasons.validate_missing(ODI, answers, {"q3": missing.LOST}, staff) == {}
    errors = reasons.validate_missing(ODI, answers, {"q3": -94}, staff)
    assert "not a missing-data reason" in errors["q3"]
    errors = reasons.validate_missing(ODI, answers, {"q3": "-95"}, staff)
    assert "not a missing-data reason" in errors["q3"]
    errors = reasons.validate_missing(ODI, answers, {"q4": missing.LOST}, staff)
    assert "either a value or a reason" in errors["q4"]
    errors = reasons.validate_missing(ODI, answers, {"q99": missing.LOST}, staff)
    assert "unknown item" in errors["q99"]


def test_a_respondent_may_only_refuse_and_only_where_the_instrument_allows_skipping():
    who = reasons.RESPONDENT
    # ODI's sex life section is not required: "prefer not to answer" is allowed there.
    assert reasons.allowed_reasons(ODI.item("q8"), who) == (missing.REFUSED,)
    assert reasons.allowed_reasons(ODI.item("q3"), who) == ()
    assert reasons.allowed_reasons(ODI.item("q3"), reasons.STAFF) == tuple(missing.REASONS)
    errors = reasons.validate_missing(ODI, {}, {"q8": missing.LOST}, who)
    assert "not allowed" in errors["q8"]
    errors = reasons.validate_missing(ODI, {}, {"q3": missing.REFUSED}, who)
    assert "not allowed" in errors["q3"]


def test_save_answers_refuses_a_reason_from_a_respondent_without_login(participant):
    with pytest.raises(ResponseError) as exc:
        save_answers(
            instrument=ODI,
            timepoint=baseline(participant),
            answers={},
            missing={"q3": missing.REFUSED},
            complete=False,
            mode=Response.PATIENT_ONLINE,
            participant=participant,
        )
    assert "q3" in exc.value.message_dict
    assert not Response.objects.exists()


def test_a_reason_staff_gave_stays_when_the_respondent_saves_next(participant, coordinator):
    tp = baseline(participant)
    response = save_answers(
        instrument=ODI,
        timepoint=tp,
        answers={"q1": 2},
        missing={"q3": missing.NOT_DONE},
        complete=False,
        mode=Response.STAFF_CLINIC,
        user=coordinator,
        participant=participant,
    )
    # The patient goes on (no login): the staff's reason stays, a new one is refused.
    response = save_answers(
        instrument=ODI,
        timepoint=tp,
        answers={"q1": 2, "q2": 1},
        missing={"q3": missing.NOT_DONE},
        complete=False,
        mode=Response.STAFF_CLINIC,
        participant=participant,
        response=response,
    )
    assert response.missing == {"q3": missing.NOT_DONE}
    with pytest.raises(ResponseError):
        save_answers(
            instrument=ODI,
            timepoint=tp,
            answers={"q1": 2, "q2": 1},
            missing={"q3": missing.NOT_DONE, "q4": missing.NOT_DONE},
            complete=False,
            mode=Response.STAFF_CLINIC,
            participant=participant,
            response=response,
        )


# --- scoring treats every reason as missing --------------------------------------------


@pytest.mark.parametrize("code", list(missing.REASONS))
def test_odi_with_one_reason_scores_over_45_and_with_two_is_missing(participant, coordinator, code):
    # SCORING.md / Fairbank & Pynsent 2000: one section unanswered -> denominator 45
    # (16/45 = 35.56%); more than one -> missing.
    answers = odi_values([3, 2, 2, 1, 2, 1, 2, 0, 2, 1])
    del answers["q8"]
    response = save_answers(
        instrument=ODI,
        timepoint=baseline(participant),
        answers=answers,
        missing={"q8": code},
        complete=True,
        mode=Response.STAFF_PAPER,
        user=coordinator,
        participant=participant,
    )
    assert response.answers == answers and response.missing == {"q8": code}
    assert response.scores["odi"] == pytest.approx(16 / 45 * 100)
    assert response.scores["sections_answered"] == 9

    del answers["q2"]
    response = correct_response(
        response, answers, "page 1 lost", coordinator, {"q8": code, "q2": missing.LOST}
    )
    assert response.scores == {"odi": None, "sections_answered": 8}


def test_eq5d3l_with_a_reason_for_one_dimension_has_no_index_but_keeps_the_vas(
    participant, coordinator
):
    # SCORING.md: an index is the constant minus each dimension's decrement, so it needs
    # all five levels; Swedish 3L set (Burström 2014): 11111 -> 0.9694, 21111 -> 0.9028.
    eq5d = get("eq5d3l")
    answers = {"mo": 2, "sc": 1, "ua": 1, "pd": 1, "ad": 1, "vas": 70}
    kwargs = dict(
        instrument=eq5d,
        timepoint=baseline(participant),
        complete=True,
        mode=Response.STAFF_PAPER,
        user=coordinator,
        participant=participant,
    )
    full = save_answers(answers=answers, **kwargs)
    assert full.scores["index"] == pytest.approx(0.9694 - 0.0666)
    without_pain = {k: v for k, v in answers.items() if k != "pd"}
    response = correct_response(
        full, without_pain, "patient did not know", coordinator, {"pd": missing.DONT_KNOW}
    )
    assert response.scores["index"] is None and response.scores["profile"] is None
    assert response.scores["vas"] == 70
    assert response.missing == {"pd": missing.DONT_KNOW}


# --- the survey link: prefer not to answer ---------------------------------------------


@pytest.mark.parametrize(
    "language,text",
    [("sv", "Vill inte svara"), ("da", "Vil ikke svare"), ("en", "Prefer not to answer")],
)
def test_a_patient_prefers_not_to_answer_a_skippable_item_on_the_survey_link(
    client, clinic_west, language, text
):
    patient = enrol(clinic_west, enrolled_on=three_months_ago(), preferred_language=language)
    contact = patient.contacts.get(timepoint__code="3m")
    dispatch_now(contact)
    page = contact.timepoint.instruments.index("odi") + 1
    url = f"/s/{token_for(contact)}/{page}/"
    html = client.get(url).content.decode()
    assert text in html
    # Offered under sex life (q8) only: every other section is required.
    assert 'name="q8__reason"' in html and 'name="q3__reason"' not in html

    answers = valid_answers(ODI, skip=("q8",))
    # A forged reason on a required item is ignored: the form has no such field.
    r = client.post(url, as_post(answers, q8__reason="on", q3__reason="-95", action="next"))
    assert r.status_code == 302
    response = Response.objects.get(participant=patient, instrument="odi")
    assert response.is_complete and response.mode == Response.PATIENT_ONLINE
    assert response.missing == {"q8": missing.REFUSED}
    assert "q8" not in response.answers and response.answers["q3"] == answers["q3"]
    assert response.scores["sections_answered"] == 9
    # Shown ticked when the patient comes back to the page.
    html = client.get(url).content.decode()
    assert 'name="q8__reason"' in html and "checked" in html.split('name="q8__reason"')[1][:80]


def test_a_value_and_prefer_not_to_answer_together_is_an_error_that_keeps_the_rest(
    client, clinic_west
):
    patient = enrol(clinic_west, enrolled_on=three_months_ago(), preferred_language="en")
    contact = patient.contacts.get(timepoint__code="3m")
    dispatch_now(contact)
    page = contact.timepoint.instruments.index("odi") + 1
    url = f"/s/{token_for(contact)}/{page}/"
    answers = valid_answers(ODI)
    r = client.post(url, as_post(answers, q8__reason="on", action="next"))
    assert r.status_code == 200
    assert "Give either an answer or a reason why it is missing, not both." in r.content.decode()
    response = Response.objects.get(participant=patient, instrument="odi")
    assert not response.is_complete and response.missing == {}
    assert response.answers["q1"] == answers["q1"]  # the valid answers are saved


# --- paper entry, double data entry, corrections -----------------------------------


def entry_url(p, code="odi"):
    return reverse("paper_entry", args=[p.study_id, "baseline", code])


def compare_url(p, code="odi"):
    return reverse("paper_compare", args=[p.study_id, "baseline", code])


def test_paper_entry_offers_every_reason_and_a_reason_against_a_value_is_a_difference(
    client, participant, coordinator, physio_west, data_manager
):
    client.force_login(coordinator)
    html = client.get(entry_url(participant)).content.decode()
    assert 'name="q3__reason"' in html
    for code in missing.REASONS:
        assert f'value="{code}"' in html
    first = valid_answers(ODI, skip=("q5",))
    r = client.post(entry_url(participant), as_post(first, q5__reason="-95", action="save"))
    assert r.status_code == 302
    e1 = Response.objects.get(participant=participant, entry=Response.FIRST_ENTRY)
    assert e1.missing == {"q5": missing.LOST} and "q5" not in e1.answers

    client.force_login(physio_west)
    second = valid_answers(ODI)  # the second typist read a value in section 5
    r = client.post(entry_url(participant), as_post(second, action="save"))
    assert r.status_code == 302
    e2 = Response.objects.get(participant=participant, entry=Response.SECOND_ENTRY)
    differences = compare_entries(e1, e2)
    assert [(d.item.id, d.first, d.second) for d in differences] == [
        ("q5", missing.LOST, second["q5"])
    ]

    client.force_login(data_manager)
    html = client.get(compare_url(participant)).content.decode()
    assert 'id="diff-q5"' in html and "-95 Lost (paper form)" in html
    assert 'id="reason-codes"' in html
    r = client.post(
        compare_url(participant), {"choice_q5": "first", "reason_q5": "page 2 is missing"}
    )
    assert r.status_code == 302
    final = Response.objects.get(participant=participant, entry=Response.FINAL)
    assert final.missing == {"q5": missing.LOST} and "q5" not in final.answers
    assert final.scores["sections_answered"] == 9
    assert final.resolution["q5"]["final"] == missing.LOST


def test_resolution_may_type_a_reason_code_for_a_value_both_entries_gave(
    participant, coordinator, physio_west, data_manager
):
    answers = valid_answers(ODI)
    kwargs = dict(
        instrument=ODI,
        timepoint=baseline(participant),
        complete=True,
        mode=Response.STAFF_PAPER,
        participant=participant,
    )
    e1 = save_answers(
        answers=answers, user=coordinator, entry=Response.FIRST_ENTRY, **kwargs
    )
    e2 = save_answers(
        answers=dict(answers, q2=0),
        user=physio_west,
        entry=Response.SECOND_ENTRY,
        **kwargs,
    )
    final = resolve_double_entry(
        e1, e2, {"q2": (missing.NOT_DONE, "two boxes ticked: not answerable")}, data_manager
    )
    assert final.missing == {"q2": missing.NOT_DONE} and "q2" not in final.answers


def test_a_correction_swaps_a_value_for_a_reason_with_the_staff_reason_in_history(
    client, participant, coordinator
):
    response = save_answers(
        instrument=ODI,
        timepoint=baseline(participant),
        answers=valid_answers(ODI),
        complete=True,
        mode=Response.STAFF_PAPER,
        user=coordinator,
        participant=participant,
    )
    client.force_login(coordinator)
    url = reverse("response_correct", args=[response.pk])
    html = client.get(url).content.decode()
    assert 'name="q6__reason"' in html
    answers = valid_answers(ODI, skip=("q6",))
    r = client.post(url, as_post(answers, q6__reason=str(missing.DONT_KNOW), reason="call"))
    assert r.status_code == 302
    response.refresh_from_db()
    assert response.missing == {"q6": missing.DONT_KNOW} and "q6" not in response.answers
    latest = response.history.first()
    assert latest.history_change_reason == "call" and latest.history_user == coordinator
    assert latest.missing == {"q6": missing.DONT_KNOW}
    # And back: a value replaces the reason.
    r = client.post(url, as_post(valid_answers(ODI), q6__reason="", reason="found it"))
    assert r.status_code == 302
    response.refresh_from_db()
    assert response.missing == {} and "q6" in response.answers


# --- not done ----------------------------------------------------------------------


def test_one_questionnaire_marked_not_done_is_complete_with_every_item_reasoned(
    client, participant, coordinator
):
    client.force_login(coordinator)
    url = reverse("mark_not_done", args=[participant.study_id, "baseline"]) + "?instrument=odi"
    assert client.get(url).status_code == 200
    r = client.post(url, {"code": str(missing.NOT_DONE), "why": ""})
    assert r.status_code == 200 and not Response.objects.exists()  # a reason is required
    r = client.post(url, {"code": str(missing.NOT_DONE), "why": "ran out of time"})
    assert r.status_code == 302
    response = Response.objects.get(participant=participant, instrument="odi")
    assert response.not_done and response.is_complete and response.answers == {}
    assert response.missing == {i: missing.NOT_DONE for i in ODI.item_ids}
    assert response.scores["odi"] is None
    assert "ran out of time" in response.history.first().history_change_reason
    assert response.history.first().history_user == coordinator
    html = client.get(reverse("participant_detail", args=[participant.study_id])).content
    assert "not done" in html.decode()
    # Complete now: it cannot be marked again; a correction is the way.
    r = client.post(url, {"code": str(missing.LOST), "why": "again"})
    assert r.status_code == 200 and "correct it instead" in r.content.decode()


def test_a_form_marked_not_done_is_the_version_the_protocol_pins(
    client, participant, coordinator, betterback
):
    """BetterBack pins NRS to version 1 (its [instrument_versions]): a not-done NRS is a
    version 1 form, with version 1's items reasoned and its name on the participant page,
    not the latest version's."""
    assert betterback.instrument_versions["nrs"] == 1 and get("nrs").version > 1
    response = not_done.mark_not_done(
        participant=participant, timepoint=baseline(participant), instrument="nrs",
        code=missing.NOT_DONE, why="ran out of time", user=coordinator,
    )
    assert response.version == 1
    assert set(response.missing) == set(get("nrs", 1).item_ids)
    client.force_login(coordinator)
    html = client.get(reverse("participant_detail", args=[participant.study_id])).content
    assert f"{escape(get('nrs', 1).name)}:" in html.decode()
    assert escape(get("nrs").name) not in html.decode()


def test_a_physiotherapist_of_another_clinic_cannot_mark_not_done(client, participant, physio_east):
    client.force_login(physio_east)
    url = reverse("mark_not_done", args=[participant.study_id, "baseline"])
    assert client.post(url, {"code": "-99", "why": "x"}).status_code in (403, 404)
    assert not Response.objects.exists()


def test_a_timepoint_marked_not_done_closes_its_contact_and_stops_reminders(
    clinic_west, coordinator
):
    patient = enrol(clinic_west, enrolled_on=three_months_ago())
    contact = patient.contacts.get(timepoint__code="3m")
    dispatch_now(contact)
    contact.refresh_from_db()
    assert contact.status == Contact.INVITED
    tp = contact.timepoint
    # The patient had started the NRS: their answers stay.
    nrs = get("nrs", 1)
    save_answers(
        instrument=nrs,
        timepoint=tp,
        answers={nrs.items[0].id: 4},
        complete=False,
        mode=Response.PATIENT_ONLINE,
        participant=patient,
    )
    marked = not_done.mark_timepoint_not_done(
        participant=patient,
        timepoint=tp,
        code=missing.NOT_DONE,
        why="moved abroad",
        user=coordinator,
    )
    assert {r.instrument for r in marked} == set(tp.instruments)
    started = next(r for r in marked if r.instrument == "nrs")
    assert started.answers == {nrs.items[0].id: 4} and not started.not_done
    assert all(r.not_done for r in marked if r.instrument != "nrs")
    assert all(r.is_complete for r in marked)
    # Audited with who and why, also outside a request.
    latest = marked[-1].history.first()
    assert latest.history_user == coordinator and "moved abroad" in latest.history_change_reason

    # The dispatcher's next pass (when a reminder would be due) closes the contact.
    contact.refresh_from_db()
    dispatcher.dispatch_due(contact.next_action_at, 10)
    contact.refresh_from_db()
    assert contact.status == Contact.COMPLETED
    assert not Message.objects.filter(contact=contact, kind=Message.REMINDER).exists()
    with pytest.raises(ResponseError):
        not_done.mark_timepoint_not_done(
            participant=patient, timepoint=tp, code=missing.NOT_DONE, why="x", user=coordinator
        )


def test_a_data_manager_types_a_reason_code_as_the_final_value(
    client, participant, coordinator, physio_west, data_manager
):
    # Typed in the comparison's "This value" box; any item kind takes a reason code.
    answers = valid_answers(ODI)
    kwargs = dict(
        instrument=ODI,
        timepoint=baseline(participant),
        complete=True,
        mode=Response.STAFF_PAPER,
        participant=participant,
    )
    save_answers(answers=answers, user=coordinator, entry=Response.FIRST_ENTRY, **kwargs)
    save_answers(
        answers=dict(answers, q4=0), user=physio_west, entry=Response.SECOND_ENTRY, **kwargs
    )
    client.force_login(data_manager)
    r = client.post(
        compare_url(participant),
        {"choice_q4": "other", "value_q4": "-97", "reason_q4": "two boxes ticked"},
    )
    assert r.status_code == 302
    final = Response.objects.get(participant=participant, entry=Response.FINAL)
    assert final.missing == {"q4": missing.DONT_KNOW} and "q4" not in final.answers


def test_the_participant_page_marks_a_whole_timepoint_not_done(client, participant, coordinator):
    client.force_login(coordinator)
    page = client.get(reverse("participant_detail", args=[participant.study_id])).content.decode()
    url = reverse("mark_not_done", args=[participant.study_id, "3m"])
    assert f'href="{url}"' in page
    r = client.post(url, {"code": str(missing.LOST), "why": "the whole booklet was lost"})
    assert r.status_code == 302
    tp = participant.trial.timepoints.get(code="3m")
    rows = Response.objects.filter(participant=participant, timepoint=tp)
    assert sorted(rows.values_list("instrument", flat=True)) == sorted(tp.instruments)
    assert all(r.not_done and set(r.missing.values()) == {missing.LOST} for r in rows)
    page = client.get(reverse("participant_detail", args=[participant.study_id])).content.decode()
    assert f'href="{url}"' not in page  # nothing left to mark
