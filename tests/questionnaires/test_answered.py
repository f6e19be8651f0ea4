"""The answered timepoints kept per participant (questionnaires.answered) equal what the
responses say on every write path: a first answer, a page answered but not finished, a
paper entry before its final, a correction that moves an answer to another timepoint,
rows written around the save, and two answers of one participant saved at once on
PostgreSQL. The CONSORT flow counts "responded" from them."""

import threading
import time

import pytest
from django.db import connection, transaction

from enrolment.models import Timepoint
from questionnaires import flags
from questionnaires.answered import ids_of
from questionnaires.instruments import get
from questionnaires.models import AnsweredTimepoints, Response
from questionnaires.services.saving import save_answers
from tests.factories import enrol

from .engine_helpers import valid_answers


def _save(participant, timepoint: str, code: str, complete=True, entry=Response.FINAL):
    return save_answers(
        instrument=get(code),
        timepoint=Timepoint.objects.get(trial=participant.trial, code=timepoint),
        answers=valid_answers(get(code)),
        complete=complete,
        mode=Response.STAFF_PAPER,
        participant=participant,
        entry=entry,
    )


def _kept(participant) -> set[str]:
    row = AnsweredTimepoints.objects.filter(participant=participant).first()
    ids = ids_of(row.timepoints) if row else set()
    return set(Timepoint.objects.filter(pk__in=ids).values_list("code", flat=True))


def _from_responses(participant) -> set[str]:
    return set(
        Response.objects.filter(
            participant=participant, entry=Response.FINAL, completed_at__isnull=False
        ).values_list("timepoint__code", flat=True)
    )


@pytest.mark.django_db
def test_each_write_path_keeps_the_answered_timepoints(clinic_west):
    participant = enrol(clinic_west)
    assert _kept(participant) == set()
    _save(participant, "3m", "nrs", complete=False)  # a page answered, not finished
    assert _kept(participant) == set()
    _save(participant, "6m", "nrs", entry=Response.FIRST_ENTRY)  # paper, not resolved
    _save(participant, "6m", "nrs", entry=Response.SECOND_ENTRY)
    assert _kept(participant) == set()
    _save(participant, "3m", "nrs")  # the same response finished
    _save(participant, "3m", "odi")  # a second instrument of an answered timepoint
    _save(participant, "6m", "nrs")  # the resolved final
    assert _kept(participant) == {"3m", "6m"} == _from_responses(participant)

    # A correction moves the 6-month answer to 12 months: 6 months is answered no more.
    moved = Response.objects.get(participant=participant, timepoint__code="6m", entry=0)
    moved.timepoint = Timepoint.objects.get(trial=participant.trial, code="12m")
    moved._change_reason = "entered at the wrong timepoint"
    moved.save()
    assert _kept(participant) == {"3m", "12m"} == _from_responses(participant)

    # Written around the save (a bulk import): flags.refresh sets them, as for the flags.
    other = enrol(clinic_west)
    Response.objects.bulk_create(
        [
            Response(
                participant=other,
                timepoint=Timepoint.objects.get(trial=other.trial, code="3m"),
                instrument="nrs",
                version=get("nrs").version,
                answers=valid_answers(get("nrs")),
                mode=Response.STAFF_PAPER,
                started_at=moved.started_at,
                completed_at=moved.completed_at,
            )
        ]
    )
    assert _kept(other) == set()
    flags.refresh(Response.objects.filter(participant=other))
    assert _kept(other) == {"3m"} == _from_responses(other)
    assert _kept(participant) == {"3m", "12m"}


@pytest.mark.django_db(transaction=True)
def test_two_answers_of_one_participant_saved_at_once_are_both_kept(betterback, clinic_west):
    """Each writer holds its transaction open after its save: the second's change waits
    for the first's row and is applied on top of it, not over it. Saved as the SMS
    replies are (``Response.save``), without the participant's lock that the survey's
    save takes (questionnaires.services.saving)."""
    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers need PostgreSQL: CI runs this against it")
    participant = enrol(clinic_west)
    _save(participant, "baseline", "nrs")
    errors = []

    def answer(timepoint: str, hold: float):
        try:
            with transaction.atomic():
                first_answer = Response.objects.get(participant=participant)
                Response(
                    participant_id=participant.pk,
                    timepoint=Timepoint.objects.get(trial=betterback, code=timepoint),
                    instrument="nrs",
                    version=first_answer.version,
                    answers=first_answer.answers,
                    mode=Response.PATIENT_SMS,
                    started_at=first_answer.started_at,
                    completed_at=first_answer.completed_at,
                ).save()
                time.sleep(hold)
        except Exception as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)
        finally:
            connection.close()

    first = threading.Thread(target=answer, args=("3m", 1.0))
    second = threading.Thread(target=answer, args=("6m", 0.0))
    first.start()
    time.sleep(0.3)  # the first has saved and holds the row
    second.start()
    first.join()
    second.join()
    assert errors == []
    assert _kept(participant) == {"baseline", "3m", "6m"} == _from_responses(participant)
