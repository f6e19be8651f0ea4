"""The CSV shaped in PostgreSQL (analysis.exports.pg) is byte for byte the CSV the rows
built in Python give (analysis.exports.stream with the missing-data reasons), and both
list the rows in one explicit order."""

from __future__ import annotations

import csv
from datetime import date, timedelta

import pyarrow.parquet as pq
import pytest
from django.db import connection

from analysis import exports, missing_export
from analysis.exports import pg
from enrolment.models import Participant
from questionnaires import missing, not_done
from questionnaires.models import Response
from questionnaires.services.saving import correct_response
from tests.analysis.exportdata import make_trial_data
from tests.conftest import use_betterback_built_once

from .test_export_sms import answered, safe  # noqa: F401 - the weekly SMS fixtures

pytestmark = pytest.mark.django_db
betterback = use_betterback_built_once()  # loaded once for the module
on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the SQL export is PostgreSQL's"
)


def _python_csv(trial, shape, level, blinded, path) -> list[str]:
    export = exports.build(trial, shape, level, blinded)
    export = exports.for_format(
        missing_export.with_reasons(export, trial, shape, level, "csv"), "csv"
    )
    exports.write_csv(export, path)
    return [v.name for v in export.vars]


def _both(trial, shape, level, blinded, tmp_path) -> tuple[bytes, bytes]:
    names = _python_csv(trial, shape, level, blinded, tmp_path / "python.csv")
    rows = pg.write_csv(trial, shape, level, blinded, names, tmp_path / "sql.csv")
    python = (tmp_path / "python.csv").read_bytes()
    assert rows == python.count(b"\r\n") - 1
    return python, (tmp_path / "sql.csv").read_bytes()


@pytest.fixture
def data(betterback, coordinator):
    """Three participants over every patient timepoint: item reasons, a questionnaire
    marked not done, one withdrawn, one dead the day before a birthday, and values whose
    text is easy to get wrong (tiny floats, True, lists, quotes, commas, a newline)."""
    people = make_trial_data(betterback, per_clinic=1)
    p, withdrawn, dead = people
    odi = p.responses.get(timepoint__code="baseline", instrument="odi", entry=0)
    answers = {k: v for k, v in odi.answers.items() if k != "q8"}
    correct_response(odi, answers, "patient refused", coordinator, {"q8": missing.REFUSED})
    three = p.responses.get(timepoint__code="3m", instrument="odi", entry=0)
    three._change_reason = "entered against the wrong participant"
    three.delete()
    not_done.mark_not_done(participant=p, timepoint=three.timepoint, instrument="odi",
                           code=missing.NOT_DONE, why="no time", user=coordinator)
    Participant.objects.filter(pk=withdrawn.pk).update(
        status=Participant.WITHDRAWN, withdrawn_on=date(2017, 9, 1))
    Participant.objects.filter(pk=dead.pk).update(status=Participant.DIED, died_on=date(2018, 1, 2))
    born = dead.enrolled_on.replace(year=dead.enrolled_on.year - 40) + timedelta(days=1)
    type(dead.personal_details).objects.filter(pk=dead.personal_details.pk).update(
        date_of_birth=born)  # 40 tomorrow: 39 in the export
    eq5d = withdrawn.responses.get(timepoint__code="baseline", instrument="eq5d3l", entry=0)
    Response.objects.filter(pk=eq5d.pk).update(
        scores={**eq5d.scores, "index": 5.551115123125783e-17, "vas": 1e-05,
                "profile": 'a "quoted", odd\nprofile'},
        answers={**eq5d.answers, "mo": True, "sc": [1, "", 2.5], "ua": "", "pd": [""]},
    )
    # A tie for a timepoint's first response: its days and mode are the last in row order's.
    tied = dead.responses.filter(timepoint__code="6m", entry=0).order_by("instrument")
    at = tied.first().completed_at
    tied.update(completed_at=at, mode=Response.STAFF_CLINIC)
    Response.objects.filter(pk=tied.last().pk).update(mode=Response.STAFF_PAPER)
    return people


@on_postgresql
@pytest.mark.parametrize("shape", ["long", "wide"])
@pytest.mark.parametrize("level", ["score", "item"])
@pytest.mark.parametrize("blinded", [False, True])
def test_sql_and_python_csv_are_the_same_bytes(betterback, data, tmp_path, shape, level,
                                               blinded):
    python, sql = _both(betterback, shape, level, blinded, tmp_path)
    assert sql == python
    text = python.decode()
    assert "5.551115123125783e-17" in text or level == "item"
    assert "-97" in text or "-99" in text  # a reason made it


@on_postgresql
@pytest.mark.parametrize("shape,level", [("long", "score"), ("wide", "item")])
def test_sql_and_python_parquet_hold_the_same_table(betterback, data, tmp_path, shape, level):
    # numeric items hold numbers here: the Python path makes no double of "1;;2.5" or ""
    odd = Response.objects.get(participant=data[1], timepoint__code="baseline",
                               instrument="eq5d3l", entry=0)
    Response.objects.filter(pk=odd.pk).update(answers={**odd.answers, "mo": 1, "sc": 2, "pd": 1})
    export = exports.build(betterback, shape, level, False)
    export = missing_export.with_reasons(export, betterback, shape, level, "parquet")
    rows = exports.write_parquet(export, tmp_path / "python.parquet")
    assert pg.write_parquet(betterback, shape, level, False, export.vars,
                            tmp_path / "sql.parquet") == rows
    python = pq.read_table(tmp_path / "python.parquet")
    sql = pq.read_table(tmp_path / "sql.parquet")
    assert sql.schema == python.schema
    assert sql.to_pylist() == python.to_pylist()


@on_postgresql
@pytest.mark.parametrize("shape", ["long", "wide"])
def test_weekly_sms_answers_are_the_same_bytes(answered, tmp_path, shape):  # noqa: F811
    trial, _a, _b = answered
    python, sql = _both(trial, shape, "score", False, tmp_path)
    assert sql == python
    assert b"sms_tracking_pain_w03" in python or shape == "long"


def test_rows_are_in_participant_timepoint_instrument_week_and_id_order(betterback, data,
                                                                       tmp_path):
    """Rewritten rows move in the table (PostgreSQL writes a new row version): the file
    keeps its order, the same on every run."""
    first = data[0]
    for r in Response.objects.filter(participant=first).order_by("-instrument"):
        Response.objects.filter(pk=r.pk).update(started_at=r.started_at + timedelta(seconds=1))
    exports.write_export(betterback, tmp_path / "a.csv", "csv", "long", "score")
    with open(tmp_path / "a.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    tps = {t.code: t.id for t in betterback.timepoints.all()}
    ids = dict(Participant.objects.values_list("study_id", "id"))
    keys = [(ids[r["study_id"]], tps[r["timepoint"]], r["instrument"]) for r in rows]
    # instruments within a timepoint in the database's own string order
    instruments = list(
        Response.objects.filter(participant=first, timepoint_id=keys[0][1], entry=0)
        .order_by("instrument").values_list("instrument", flat=True)
    )
    assert [k for k in dict.fromkeys(keys) if k[:2] == keys[0][:2]] == [
        (keys[0][0], keys[0][1], i) for i in instruments
    ]
    assert [k[:2] for k in keys] == sorted(k[:2] for k in keys)
    exports.write_export(betterback, tmp_path / "b.csv", "csv", "long", "score")
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()
