"""On PostgreSQL the API streams the dataset through the file export's own COPY
(analysis.exports.pg.csv_chunks): the same bytes as the analysis page's file, and a client
that stops reading ends the COPY."""

import threading

import pytest
from django.db import connection

from analysis import exports
from analysis.exports import pg
from api import data
from tests.analysis.exportdata import make_trial_data

from .conftest import token_client

pytestmark = [
    pytest.mark.django_db(transaction=True),  # the COPY's own connection sees committed rows
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the COPY path is PostgreSQL's"),
]


@pytest.mark.parametrize("shape,level", [("long", "score"), ("wide", "item")])
def test_the_stream_is_the_file_exports_bytes(betterback, statistician, tmp_path, shape,
                                              level):
    trial = betterback
    make_trial_data(trial, per_clinic=2)
    client = token_client(statistician, trial)
    r = client.get(f"/api/v1/trials/betterback/dataset.csv?shape={shape}&level={level}")
    assert r.status_code == 200 and r.streaming
    streamed = b"".join(r.streaming_content)
    path = tmp_path / "file.csv"
    log = exports.write_export(trial, path, "csv", shape, level, blinded=True)
    assert streamed == path.read_bytes()
    assert streamed.count(b"\r\n") == log.rows + 1


def test_closing_the_stream_early_ends_the_copy(betterback):
    trial = betterback
    make_trial_data(trial, per_clinic=2)
    names = [v.name for v in data.dataset(trial, "long", "item", False).vars]
    chunks = pg.csv_chunks(trial, "long", "item", False, names, size=256)
    assert next(chunks).startswith(b"study_id,")
    assert next(chunks)
    chunks.close()  # the client went away
    assert not [t for t in threading.enumerate() if t.name == "csv-copy"]


def test_inside_a_transaction_the_rows_are_built_in_python(betterback, statistician):
    """Rows written and not yet committed are the transaction's own: a second connection
    would not see them, so inside one the stream builds its rows in Python."""
    from django.db import transaction

    with transaction.atomic():
        make_trial_data(betterback, per_clinic=1)
        assert not pg.streams("long")
        r = token_client(statistician, betterback).get(
            "/api/v1/trials/betterback/dataset.csv")
        lines = b"".join(r.streaming_content).splitlines()
        assert len(lines) > 1 + 3  # the header and the rows of the uncommitted participants
    assert pg.streams("long")
