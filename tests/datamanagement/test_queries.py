"""Queries on a value: every state change, who may take it, a correction from the query
through the audited correction flow, and queries never deleted."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from datamanagement.queries import actions
from datamanagement.queries.models import Query, QueryMessage
from questionnaires.models import Response
from tests.conftest import use_betterback_built_once

from .conftest import answer

pytestmark = pytest.mark.django_db
betterback = use_betterback_built_once()  # loaded once for the module


def raise_on(response, user, item="q4", text="Q4 looks like a slip of the pen."):
    ref = f"{response.timepoint.code}.{response.instrument}.{item}"
    return actions.raise_query(response.participant, ref, text, user)


def kinds(query):
    return list(query.messages.values_list("kind", flat=True))


def test_open_answered_closed_reopened_answered_closed(odi_baseline, data_manager, physio_west):
    query = raise_on(odi_baseline, data_manager)
    assert (query.state, query.raised_by, query.target) == (
        Query.OPEN,
        data_manager,
        "baseline.odi.q4",
    )
    query = actions.answer_query(query, "The form says 5.", physio_west)
    assert query.state == Query.ANSWERED
    query = actions.close_query(query, "Confirmed against the paper form.", data_manager)
    assert query.state == Query.CLOSED and query.closed_at is not None
    query = actions.reopen_query(query, "The scan shows 2, not 5.", data_manager)
    assert (query.state, query.closed_at) == (Query.REOPENED, None)
    query = actions.answer_query(query, "Looked again: it is 5.", physio_west)
    query = actions.close_query(query, "Agreed.", data_manager)
    assert query.state == Query.CLOSED
    assert kinds(query) == ["raised", "answered", "closed", "reopened", "answered", "closed"]
    authors = list(query.messages.values_list("author__username", flat=True))
    assert authors == [
        "datamanager",
        "physio_west",
        "datamanager",
        "datamanager",
        "physio_west",
        "datamanager",
    ]


def test_an_open_query_is_closed_or_reopened_from_answered(odi_baseline, data_manager, monitor):
    query = raise_on(odi_baseline, monitor)
    with pytest.raises(ValidationError, match="Only an answered or closed"):
        actions.reopen_query(query, "again", monitor)
    query = actions.close_query(query, "Raised in error.", monitor)
    assert query.state == Query.CLOSED
    with pytest.raises(ValidationError, match="closed already"):
        actions.close_query(query, "twice", data_manager)


def test_closing_without_a_change_needs_a_reason(odi_baseline, data_manager):
    query = raise_on(odi_baseline, data_manager)
    with pytest.raises(ValidationError, match="give a reason"):
        actions.close_query(query, "  ", data_manager)
    assert Query.objects.get(pk=query.pk).state == Query.OPEN


def test_correction_from_the_query_goes_through_the_audited_flow(
    odi_baseline, data_manager, physio_west
):
    before = odi_baseline.answers["q4"]
    query = raise_on(odi_baseline, data_manager)
    query = actions.correct_from_query(query, 2, "Paper form says 2.", physio_west)
    assert query.state == Query.ANSWERED
    response = Response.objects.get(pk=odi_baseline.pk)
    assert response.answers["q4"] == 2
    assert response.scores != odi_baseline.scores  # rescored by the one write path
    last = response.history.first()
    assert last.history_change_reason == (f"query {query.pk} (baseline.odi.q4): Paper form says 2.")
    message = query.messages.get(kind=QueryMessage.CORRECTED)
    assert (message.old_value, message.new_value) == (before, 2)
    # A correction since it was raised: closing needs no further reason.
    query = actions.close_query(query, "", data_manager)
    assert query.state == Query.CLOSED


def test_an_invalid_correction_changes_nothing(odi_baseline, data_manager, physio_west):
    query = raise_on(odi_baseline, data_manager)
    with pytest.raises(ValidationError):
        actions.correct_from_query(query, 99, "typo", physio_west)
    assert Response.objects.get(pk=odi_baseline.pk).answers == odi_baseline.answers
    assert Query.objects.get(pk=query.pk).state == Query.OPEN
    assert kinds(query) == ["raised"]


def test_correcting_an_enrolment_date_from_the_query(participant, data_manager, coordinator):
    query = actions.raise_query(
        participant, "enrolment.date_of_birth", "Check the year.", data_manager
    )
    actions.correct_from_query(query, "1980-01-02", "Typed wrong.", coordinator)
    details = participant.personal_details
    details.refresh_from_db()
    assert str(details.date_of_birth) == "1980-01-02"
    assert details.history.first().history_change_reason.startswith(f"query {query.pk} ")


def test_who_may_do_what(
    odi_baseline, data_manager, physio_west, physio_east, statistician, coordinator, monitor
):
    for user in (physio_west, coordinator, statistician, physio_east):
        with pytest.raises(PermissionDenied):
            raise_on(odi_baseline, user)
    query = raise_on(odi_baseline, monitor)
    for user in (physio_east, statistician, data_manager, monitor):
        with pytest.raises(PermissionDenied):
            actions.answer_query(query, "an answer", user)
    actions.answer_query(query, "The coordinator answers.", coordinator)
    for user in (physio_west, coordinator, statistician):
        with pytest.raises(PermissionDenied):
            actions.close_query(query, "closing", user)


def test_visible_to(
    odi_baseline, data_manager, physio_west, physio_east, statistician, coordinator, monitor
):
    query = raise_on(odi_baseline, data_manager)
    for user in (data_manager, physio_west, coordinator, monitor):
        assert list(Query.objects.visible_to(user).filter(check_code="")) == [query]
    for user in (physio_east, statistician):
        assert not Query.objects.visible_to(user).exists()


def test_a_query_names_a_value_the_participant_has(participant, data_manager):
    with pytest.raises(ValidationError, match="not a value"):
        actions.raise_query(participant, "3m.odi.q4", "no such response", data_manager)
    with pytest.raises(ValidationError, match="not a value"):
        actions.raise_query(participant, "enrolment.full_name", "no", data_manager)


def test_queries_are_never_deleted(odi_baseline, data_manager):
    query = raise_on(odi_baseline, data_manager)
    with pytest.raises(ValidationError):
        query.delete()
    with pytest.raises(ValidationError):
        Query.objects.all().delete()
    with pytest.raises(ValidationError):
        QueryMessage.objects.filter(query=query).delete()
    assert Query.objects.filter(pk=query.pk).exists() and query.messages.count() == 1


def test_the_admin_is_read_only(admin_client, odi_baseline, data_manager):
    query = raise_on(odi_baseline, data_manager)
    assert admin_client.get(f"/admin/datamanagement/query/{query.pk}/change/").status_code == 200
    assert admin_client.get(f"/admin/datamanagement/query/{query.pk}/delete/").status_code == 403
    assert admin_client.get("/admin/datamanagement/query/add/").status_code == 403
    html = admin_client.get("/admin/datamanagement/query/").content.decode()
    assert "delete_selected" not in html


def test_answering_a_closed_query_is_refused(odi_baseline, data_manager, physio_west):
    query = actions.close_query(raise_on(odi_baseline, data_manager), "fine", data_manager)
    with pytest.raises(ValidationError, match="closed"):
        actions.answer_query(query, "late answer", physio_west)
    with pytest.raises(ValidationError, match="closed"):
        actions.correct_from_query(query, 1, "late", physio_west)


def test_a_second_odi_helper_answer(participant):
    # The helper's responses are real ones (guards against a silently skipped setup).
    response = answer(participant, "3m", "odi")
    assert response.is_complete and response.entry == Response.FINAL


# Every (state, action) pair: the state it leads to, or None where it is refused.
TRANSITIONS = {
    Query.OPEN: {"answer": Query.ANSWERED, "correct": Query.ANSWERED, "close": Query.CLOSED,
                 "reopen": None},
    Query.ANSWERED: {"answer": Query.ANSWERED, "correct": Query.ANSWERED,
                     "close": Query.CLOSED, "reopen": Query.REOPENED},
    Query.CLOSED: {"answer": None, "correct": None, "close": None, "reopen": Query.REOPENED},
    Query.REOPENED: {"answer": Query.ANSWERED, "correct": Query.ANSWERED,
                     "close": Query.CLOSED, "reopen": None},
}


def _in_state(state, response, manager, physio):
    query = raise_on(response, manager)
    if state == Query.ANSWERED:
        query = actions.answer_query(query, "As entered.", physio)
    if state in (Query.CLOSED, Query.REOPENED):
        query = actions.close_query(query, "Fine as it is.", manager)
    if state == Query.REOPENED:
        query = actions.reopen_query(query, "Not fine after all.", manager)
    assert query.state == state
    return query


@pytest.mark.parametrize("state,action,to", [
    (state, action, to) for state, row in TRANSITIONS.items() for action, to in row.items()
])
def test_every_state_and_action(state, action, to, odi_baseline, data_manager, physio_west):
    query = _in_state(state, odi_baseline, data_manager, physio_west)
    messages = query.messages.count()
    do = {
        "answer": lambda: actions.answer_query(query, "Looked again.", physio_west),
        "correct": lambda: actions.correct_from_query(query, 1, "Re-read.", physio_west),
        "close": lambda: actions.close_query(query, "Agreed.", data_manager),
        "reopen": lambda: actions.reopen_query(query, "Once more.", data_manager),
    }[action]
    if to is None:
        with pytest.raises(ValidationError):
            do()
        assert Query.objects.get(pk=query.pk).state == state
        assert query.messages.count() == messages
    else:
        do()
        assert Query.objects.get(pk=query.pk).state == to
        assert query.messages.count() > messages
