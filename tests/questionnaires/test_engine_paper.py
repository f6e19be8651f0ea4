"""Paper forms entered by staff, twice, compared item by item and resolved by a data
manager with a reason; the resolution is audited and gives the final response."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from enrolment.audit import participant_history
from questionnaires.instruments import get
from questionnaires.models import Response
from questionnaires.services.double_entry import compare_entries, resolve_double_entry
from questionnaires.services.saving import correct_response, save_answers
from tests.conftest import use_betterback_built_once

from ..factories import enrol
from .engine_helpers import as_post, valid_answers

pytestmark = pytest.mark.django_db
betterback = use_betterback_built_once()  # loaded once for the module


@pytest.fixture
def participant(clinic_west):
    return enrol(clinic_west)


def entry_url(p, code="odi"):
    return reverse("paper_entry", args=[p.study_id, "baseline", code])


def compare_url(p, code="odi"):
    return reverse("paper_compare", args=[p.study_id, "baseline", code])


def test_double_entry_one_difference_shown_and_resolved_with_audit(
    client, participant, coordinator, physio_west, data_manager
):
    odi = get("odi")
    first = valid_answers(odi)
    second = dict(first, q3=0)  # the second typist read item 3 differently
    assert first["q3"] != 0

    client.force_login(coordinator)
    r = client.post(entry_url(participant), as_post(first, action="save"))
    assert r.status_code == 302
    # The same person cannot make the second entry.
    r = client.get(entry_url(participant))
    assert r.status_code == 302 and r.url == compare_url(participant)

    client.force_login(physio_west)
    r = client.post(entry_url(participant), as_post(second, action="save"))
    assert r.status_code == 302
    e1 = Response.objects.get(participant=participant, entry=Response.FIRST_ENTRY)
    e2 = Response.objects.get(participant=participant, entry=Response.SECOND_ENTRY)
    assert (e1.entered_by, e2.entered_by) == (coordinator, physio_west)
    assert e1.mode == e2.mode == Response.STAFF_PAPER

    # A physiotherapist sees the differences but cannot resolve them.
    html = client.get(compare_url(participant)).content.decode()
    assert 'id="diff-q3"' in html and "A data manager resolves" in html
    assert client.post(compare_url(participant), {}).status_code == 403

    client.force_login(data_manager)
    html = client.get(compare_url(participant)).content.decode()
    assert html.count('<tr id="diff-') == 1 and 'id="diff-q3"' in html
    # Without a reason nothing is saved and the page says why.
    r = client.post(compare_url(participant), {"choice_q3": "first", "reason_q3": ""})
    assert r.status_code == 200 and "A reason is needed for q3" in r.content.decode()
    assert not Response.objects.filter(participant=participant, entry=Response.FINAL).exists()
    # The choice made stays chosen (a walk found every choice cleared).
    assert 'value="first" id="c1_q3" checked>' in r.content.decode()
    r = client.post(compare_url(participant), {"choice_q3": "other", "value_q3": "x",
                                               "reason_q3": "the scan"})
    html = r.content.decode()
    assert 'value="other" id="c3_q3" checked>' in html
    assert 'value="x" aria-label' in html and 'value="the scan" required' in html

    r = client.post(
        compare_url(participant), {"choice_q3": "first", "reason_q3": "paper shows box 5 ticked"}
    )
    assert r.status_code == 302
    final = Response.objects.get(participant=participant, entry=Response.FINAL)
    assert final.answers == first and final.is_complete and final.mode == Response.STAFF_PAPER
    assert final.scores == odi.score(first)
    assert final.entered_by == data_manager
    assert final.resolution == {
        "q3": {
            "first": first["q3"],
            "second": 0,
            "final": first["q3"],
            "reason": "paper shows box 5 ticked",
        }
    }
    row = final.history.first()
    assert "q3: paper shows box 5 ticked" in row.history_change_reason
    assert row.history_user == data_manager
    entries = [e for e in participant_history(participant) if e.what == "Response odi at baseline"]
    assert entries and "paper shows box 5 ticked" in entries[0].reason


def test_a_typed_corrected_value_is_validated_and_used(participant, coordinator, data_manager):
    odi = get("odi")
    base_answers = valid_answers(odi)
    tp = participant.trial.timepoints.get(code="baseline")
    kw = dict(
        instrument=odi,
        timepoint=tp,
        complete=True,
        mode=Response.STAFF_PAPER,
        participant=participant,
    )
    e1 = save_answers(answers=base_answers, user=coordinator, entry=1, **kw)
    e2 = save_answers(answers=dict(base_answers, q2=1), user=data_manager, entry=2, **kw)
    [diff] = compare_entries(e1, e2)
    assert (diff.item.id, diff.first, diff.second) == ("q2", base_answers["q2"], 1)
    with pytest.raises(ValidationError):
        resolve_double_entry(e1, e2, {"q2": (42, "typo")}, data_manager)  # out of range
    with pytest.raises(ValidationError, match="Resolve every difference"):
        resolve_double_entry(e1, e2, {}, data_manager)
    final = resolve_double_entry(
        e1, e2, {"q2": (2, "both misread: 2 is ticked")}, data_manager
    )
    assert final.answers["q2"] == 2 and final.resolution["q2"]["final"] == 2


def test_entries_by_the_same_person_are_not_compared(participant, coordinator):
    odi = get("odi")
    tp = participant.trial.timepoints.get(code="baseline")
    kw = dict(
        instrument=odi,
        timepoint=tp,
        complete=True,
        mode=Response.STAFF_PAPER,
        participant=participant,
    )
    e1 = save_answers(answers=valid_answers(odi), user=coordinator, entry=1, **kw)
    e2 = save_answers(answers=valid_answers(odi), user=coordinator, entry=2, **kw)
    with pytest.raises(ValidationError, match="different people"):
        resolve_double_entry(e1, e2, {}, coordinator)


def test_paper_blanks_are_missing_answers_not_errors_but_ranges_are_checked(
    client, participant, coordinator
):
    client.force_login(coordinator)
    r = client.post(entry_url(participant, "nrs"), {"back": "5", "action": "save"})
    assert r.status_code == 302
    e1 = Response.objects.get(participant=participant, entry=1)
    assert e1.answers == {"back": 5} and e1.is_complete and e1.scores == {"back": 5, "leg": None}


def test_paper_entry_out_of_range_is_shown_next_to_the_item(client, participant, coordinator):
    client.force_login(coordinator)
    r = client.post(entry_url(participant, "nrs"), {"back": "5", "leg": "12", "action": "save"})
    assert r.status_code == 200
    html = r.content.decode()
    assert "Choose a value from 0 to 10." in html.split('id="div_id_leg"')[1]
    e1 = Response.objects.get(participant=participant, entry=1)
    assert e1.answers == {"back": 5} and not e1.is_complete  # the valid value is kept


def test_staff_correction_of_a_completed_response_needs_a_reason(client, participant, coordinator):
    nrs = get("nrs", 1)
    tp = participant.trial.timepoints.get(code="baseline")
    r = save_answers(
        instrument=nrs,
        timepoint=tp,
        answers={"back": 3, "leg": 1},
        complete=True,
        mode=Response.STAFF_CLINIC,
        participant=participant,
    )
    with pytest.raises(ValidationError, match="reason"):
        correct_response(r, {"back": 4, "leg": 1}, "", coordinator)
    r.answers = {"back": 4, "leg": 1}
    with pytest.raises(ValidationError, match="reason"):
        r.save()  # the model refuses too
    client.force_login(coordinator)
    url = reverse("response_correct", args=[r.pk])
    page = client.post(url, {"back": "4", "leg": "1", "reason": ""})
    assert page.status_code == 200
    assert Response.objects.get(pk=r.pk).answers == {"back": 3, "leg": 1}
    page = client.post(url, {"back": "4", "leg": "1", "reason": "patient corrected on the phone"})
    assert page.status_code == 302
    r.refresh_from_db()
    assert r.answers == {"back": 4, "leg": 1} and r.scores["back"] == 4
    assert r.history.first().history_change_reason == "patient corrected on the phone"


def test_second_entry_that_disagrees_says_so_and_links_to_the_comparison(
    client, participant, coordinator, physio_west
):
    """Issue 15 finding 10: not just "saved"."""
    odi = get("odi")
    first = valid_answers(odi)
    client.force_login(coordinator)
    client.post(entry_url(participant), as_post(first, action="save"))
    client.force_login(physio_west)
    r = client.post(entry_url(participant), as_post(dict(first, q3=0), action="save"), follow=True)
    html = r.content.decode()
    assert "The two entries differ in 1 item: q3." in html
    assert f'<a href="{compare_url(participant)}" id="compare-link">' in html


def test_second_entry_that_agrees_says_so(client, participant, coordinator, physio_west):
    odi = get("odi")
    first = valid_answers(odi)
    client.force_login(coordinator)
    r = client.post(entry_url(participant), as_post(first, action="save"), follow=True)
    assert "compare-link" not in r.content.decode()  # one entry: nothing to compare yet
    client.force_login(physio_west)
    r = client.post(entry_url(participant), as_post(first, action="save"), follow=True)
    assert "The two entries agree." in r.content.decode()


def test_a_swedish_typist_is_told_in_swedish(client, participant, coordinator):
    """The refusals of paper entry reach staff in their language, not in English."""
    client.force_login(coordinator)
    client.post(reverse("set_language"), {"language": "sv", "next": "/"})
    first = valid_answers(get("odi"))
    assert client.post(entry_url(participant), as_post(first, action="save")).status_code == 302
    page = client.get(entry_url(participant), follow=True).content.decode()
    assert "Du har redan matat in detta formulär" in page
    assert "You have entered this form already" not in page
