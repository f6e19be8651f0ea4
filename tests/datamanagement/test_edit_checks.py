"""Edit checks from the protocol file: a failing check opens one query, the correction
closes it, a repeated batch changes nothing; the command; the nightly beat entry."""

from datetime import date
from unittest import mock

import pytest
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from datamanagement.queries import actions
from datamanagement.queries.checks import FAILS_AGAIN, PASSES_NOW, run_checks
from datamanagement.queries.facts import Facts
from datamanagement.queries.models import Query, QueryMessage
from datamanagement.queries.rules import evaluate
from enrolment.actions.changes import update_participant
from enrolment.models import Participant
from questionnaires.models import Response
from questionnaires.services.saving import correct_response
from tests.conftest import use_betterback_built_once
from tests.factories import enrol
from trialsite.celery import app

from .conftest import answer

pytestmark = pytest.mark.django_db
betterback = use_betterback_built_once()  # loaded once for the module


def auto(participant, code):
    return Query.objects.filter(participant=participant, check_code=code)


def test_a_failing_check_opens_one_query_on_save_and_closes_it_on_correction(
    participant, data_manager, physio_west
):
    response = answer(participant, "baseline", "nrs", {"back": 0}, on=date(2017, 5, 3))
    query = auto(participant, "baseline-back-pain").get()
    assert (query.state, query.target, query.response_id) == (
        Query.OPEN,
        "baseline.nrs.back",
        response.pk,
    )
    assert query.messages.get().text.startswith("No back pain (0) at baseline")
    assert query.raised_by is None
    # Saved again, the value still wrong: still one query, one message.
    correct_response(response, {**response.answers, "leg": 3}, "leg typo", data_manager)
    assert auto(participant, "baseline-back-pain").count() == 1
    assert query.messages.count() == 1
    # Corrected from the query: the check passes on save and closes its own query.
    actions.correct_from_query(query, 6, "Patient confirmed 6 by phone.", physio_west)
    query.refresh_from_db()
    assert query.state == Query.CLOSED
    assert list(query.messages.values_list("kind", flat=True)) == [
        "raised",
        "corrected",
        "closed",
    ]
    assert query.messages.filter(kind="closed").get().text == PASSES_NOW


def test_the_same_query_reopens_when_the_value_goes_wrong_again(participant, data_manager):
    response = answer(participant, "baseline", "nrs", {"back": 0}, on=date(2017, 5, 3))
    correct_response(response, {**response.answers, "back": 4}, "fixed", data_manager)
    correct_response(response, {**response.answers, "back": 0}, "oops", data_manager)
    query = auto(participant, "baseline-back-pain").get()
    assert query.state == Query.REOPENED
    assert query.messages.last().text == FAILS_AGAIN


def test_a_repeated_batch_changes_nothing(participant, clinic_west, betterback):
    other = enrol(clinic_west, enrolled_on=date(2017, 5, 10))
    for p in (participant, other):
        answer(p, "baseline", "nrs", {"back": 0}, on=p.enrolled_on)
        answer(p, "3m", "odi", on=date(2017, 6, 1))  # before the 3-month window opens
    Query.objects.filter(check_code__gt="").update(state=Query.CLOSED)  # as if wrongly closed
    first = run_checks(betterback)
    assert (first.opened, first.reopened) == (0, 4)
    queries = QueryMessage.objects.count()
    second = run_checks(betterback)
    assert (second.opened, second.reopened, second.closed) == (0, 0, 0)
    assert second.failing == first.failing == 4
    assert QueryMessage.objects.count() == queries
    assert set(Query.objects.filter(check_code__gt="").values_list("check_code", flat=True)) == {
        "baseline-back-pain",
        "odi-3m-window",
    }


def test_the_batch_opens_what_a_save_could_not_see(participant, betterback):
    """A change that bypasses save (an import's update()) is caught at night."""
    answer(participant, "baseline", "odi", on=date(2017, 5, 3))
    Response.objects.filter(participant=participant).update(answers={})  # hypothetically
    participant_ids = [participant.pk]
    from enrolment.models import Participant

    Participant.objects.filter(pk__in=participant_ids).update(final_visit_on=date(2017, 1, 1))
    report = run_checks(betterback)
    assert report.opened == 1
    query = auto(participant, "final-visit-after-enrolment").get()
    assert query.target == "enrolment.final_visit_on"
    update_participant(participant, {"final_visit_on": date(2017, 8, 1)}, "date corrected")
    query.refresh_from_db()
    assert query.state == Query.CLOSED


def test_one_query_per_check_and_value_in_the_database(participant, betterback):
    answer(participant, "baseline", "nrs", {"back": 0}, on=date(2017, 5, 3))
    query = auto(participant, "baseline-back-pain").get()
    with pytest.raises(IntegrityError), transaction.atomic():
        Query.objects.create(
            participant=participant,
            response=query.response,
            field="back",
            check_code="baseline-back-pain",
            instrument="nrs",
            timepoint_code="baseline",
            raised_at=query.raised_at,
        )
    participant.final_visit_on = date(2017, 1, 1)
    participant._change_reason = "test"
    participant.save()
    enrolment_query = auto(participant, "final-visit-after-enrolment").get()
    with pytest.raises(IntegrityError), transaction.atomic():
        Query.objects.create(
            participant=participant,
            field="final_visit_on",
            check_code="final-visit-after-enrolment",
            instrument="enrolment",
            raised_at=enrolment_query.raised_at,
        )


def test_birth_date_against_the_personnummer(clinic_west, coordinator):
    participant = enrol(clinic_west, national_id="19800101-0001", date_of_birth=date(1980, 2, 1))
    query = auto(participant, "birth-date-personnummer").get()
    assert query.target == "enrolment.date_of_birth"
    assert "0001" not in query.messages.get().text  # never repeats the number
    actions.correct_from_query(query, "1980-01-01", "Checked the ID card.", coordinator)
    query.refresh_from_db()
    assert query.state == Query.CLOSED


def test_an_enrolment_is_checked_once_when_whole_not_at_each_row(clinic_west):
    """Enrolment writes the participant, their details and their consent: the checks run
    once the three are saved (a third of an enrolment's queries ran them three times),
    and still open what the enrolment got wrong."""
    from datamanagement.queries import signals

    with mock.patch.object(
        signals, "run_for_participant", wraps=signals.run_for_participant
    ) as checked:
        participant = enrol(
            clinic_west, national_id="19800101-0001", date_of_birth=date(1980, 2, 1)
        )
    assert [c.args for c in checked.call_args_list] == [(participant.pk,)]
    assert auto(participant, "birth-date-personnummer").get().state == Query.OPEN


def test_consent_after_enrolment(clinic_west):
    from enrolment.models import Consent

    participant = enrol(clinic_west, enrolled_on=date(2017, 5, 2))
    consent = Consent.objects.get(participant=participant)
    consent.consented_on = date(2017, 5, 9)
    consent._change_reason = "test"
    consent.save()
    assert auto(participant, "consent-before-enrolment").get().state == Query.OPEN


def test_rules_as_pure_functions():
    checks = [
        {
            "code": "r",
            "kind": "range",
            "value": "baseline.nrs.back",
            "min": 1,
            "max": 10,
            "message": "m",
        },
        {
            "code": "q",
            "kind": "required_if",
            "value": "3m.eq5d3l.vas",
            "when": "3m.eq5d3l.mo",
            "equals": [2, 3],
            "message": "m",
        },
        {
            "code": "c",
            "kind": "compare",
            "left": "3m.odi.completed",
            "op": ">=",
            "right": "enrolment.enrolled_on",
            "message": "m",
        },
    ]
    facts = Facts(
        1,
        {"enrolled_on": date(2017, 5, 2)},
        responses={
            ("baseline", "nrs"): (10, {"back": 0}, {}, date(2017, 5, 2)),
            ("3m", "eq5d3l"): (11, {"mo": 2}, {}, date(2017, 8, 2)),
            ("3m", "odi"): (12, {}, {}, date(2017, 5, 1)),
        },
    )
    failures = evaluate(checks, [facts], {"timepoints": {}, "region": "SE"})
    assert sorted((f.check_code, f.response_id, f.field) for f in failures.values()) == [
        ("c", 12, "completed"),
        ("q", 11, "vas"),
        ("r", 10, "back"),
    ]
    # A missing-data reason is an answer for required-if; another code does not trigger it.
    facts.responses[("3m", "eq5d3l")] = (11, {"mo": 1}, {}, date(2017, 8, 2))
    facts.responses[("baseline", "nrs")] = (10, {"back": 3}, {}, date(2017, 5, 2))
    assert [f.check_code for f in evaluate(checks, [facts], {}).values()] == ["c"]


def test_run_checks_command(participant, capsys):
    answer(participant, "baseline", "nrs", {"back": 0}, on=date(2017, 5, 3))
    Query.objects.filter(check_code__gt="").update(state=Query.CLOSED)
    call_command("run_checks", "betterback")
    out = capsys.readouterr().out
    assert (
        "betterback: 10 checks; 1 participants checked: 1 failing; 0 queries opened, "
        "1 re-opened, 0 closed" in out
    )


def test_nightly_batch_is_the_beat_schedule_entry(participant):
    answer(participant, "baseline", "nrs", {"back": 0}, on=date(2017, 5, 3))
    Query.objects.filter(check_code__gt="").update(state=Query.CLOSED)
    app.loader.import_default_modules()
    entry = app.conf.beat_schedule["datamanagement-edit-checks"]
    assert entry["schedule"].hour == {2}  # nightly
    result = app.tasks[entry["task"]].apply().get()
    assert "1 re-opened" in result["betterback"]
    assert auto(participant, "baseline-back-pain").get().state == Query.REOPENED


def test_erasing_personal_details_leaves_the_birth_date_query_as_it_is(clinic_west, coordinator):
    from enrolment.actions.erasure import erase_personal_data

    participant = enrol(clinic_west, national_id="19800101-0001", date_of_birth=date(1980, 2, 1))
    query = auto(participant, "birth-date-personnummer").get()
    erase_personal_data(participant, "the participant asked", coordinator)
    query.refresh_from_db()
    assert query.state == Query.OPEN  # not closed "as corrected": it can no longer be checked
    assert not query.messages.filter(text=PASSES_NOW).exists()


def _sql_of(action) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        action()
    return [q["sql"] for q in captured.captured_queries]


def test_a_saved_response_runs_only_the_checks_that_read_it(participant, betterback):
    """The patient's page saves often: a response no check reads asks nothing of the
    queries (before, every save re-ran all eleven checks: six more queries); one a check
    reads runs that check, with what it reads of the enrolment, and opens its query."""
    sql = _sql_of(lambda: answer(participant, "3m", "nrs"))
    assert not [s for s in sql if "datamanagement_query" in s]
    sql = _sql_of(lambda: answer(participant, "baseline", "nrs", {"back": 0}))
    assert [s for s in sql if "datamanagement_query" in s]
    # The back-pain range reads neither the personal details nor the consent.
    assert not [s for s in sql if "enrolment_personaldetails" in s or "enrolment_consent" in s]
    assert auto(participant, "baseline-back-pain").get().state == Query.OPEN
    # ODI at 3 months is compared with the enrolment date: read with it.
    participant.enrolled_on = date(2030, 1, 1)
    Participant.objects.filter(pk=participant.pk).update(enrolled_on=date(2030, 1, 1))
    answer(participant, "3m", "odi")
    assert auto(participant, "odi-3m-after-enrolment").get().state == Query.OPEN


def test_a_saved_page_s_checks_read_it_as_saved_not_again(participant, betterback):
    """The 3-month ODI and EQ-5D pages run checks that read only that page and the
    enrolment date: the page just saved and its participant are used as they are in
    memory (what the database gives back in the same transaction, compared here), not
    read again (0.6 ms of each such page's save)."""
    from datamanagement.queries.facts import checks_reading, facts_of_saved, load_facts

    checks = betterback.edit_checks
    for code, answers in (("odi", {}), ("eq5d3l", {"mo": 2, "vas": None})):
        sql = _sql_of(lambda code=code, answers=answers: answer(participant, "3m", code, answers))
        assert not [s for s in sql if "IS NOT NULL" in s and "questionnaires_response" in s]
        response = Response.objects.select_related("participant", "timepoint__trial").get(
            participant=participant, timepoint__code="3m", instrument=code
        )
        reading = checks_reading(checks, "3m", code)
        assert reading
        assert (
            facts_of_saved(response, reading)
            == load_facts(betterback, reading, [participant.pk])[participant.pk]
        )
    assert auto(participant, "eq5d-vas-3m").get().state == Query.OPEN
    # The final CRPE-tool is compared with the first one: that is read from the database.
    crpe = checks_reading(checks, "crpe-final", "crpe")
    response.timepoint = betterback.timepoints.get(code="crpe-final")
    response.instrument = "crpe"
    assert facts_of_saved(response, crpe) is None
