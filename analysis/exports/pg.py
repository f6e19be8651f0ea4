"""Long and wide exports shaped in PostgreSQL and streamed by ``COPY (...) TO STDOUT``:
CSV with the same bytes as :mod:`analysis.exports.stream` with the reasons of
:mod:`analysis.missing_export`, and Parquet with the same table (tests compare them), at
about the cost of a ``COPY`` of the same rows and columns (``benchmarks/export.py``).

Each value is written as Python writes it: the JSON field of the exported level only
(``scores`` or ``answers``, by ``->`` per variable), numbers as ``repr`` of the float
(below 1e-4 in scientific notation; jsonb keeps the digits), booleans ``True``/``False``,
a list of codes joined by ``;``. Two things jsonb cannot tell: a float of 1e16 or more
reads as an integer, and JSON objects (which no instrument stores) keep their JSON text
with ``'`` for ``"``. Rows in the order of :mod:`analysis.exports.stream`.

This module streams (``COPY ... TO STDOUT`` into CSV, or Parquet); the SQL is
:mod:`analysis.exports.pg_sql`'s.
"""

from __future__ import annotations

import csv
import io
import os
import threading
from collections.abc import Callable, Iterator

from django.db import connection, connections, transaction

from enrolment.models import Trial

from .. import missing_export
from ..varnames import DATE, NUMERIC, STRING, Var
from .pg_sql import long_sql, wide_sql
from .stream import CHUNK

SHAPES = ("long", "wide")


def applies(shape: str) -> bool:
    return connection.vendor == "postgresql" and shape in SHAPES


# --- writing -------------------------------------------------------------------------------


class _Lines:
    """psycopg2's ``copy_expert`` writes one row a call. PostgreSQL's CSV row becomes the
    csv module's: ``\\r\\n`` at its end, and a row with a quoted field re-written by the csv
    module (PostgreSQL also quotes an empty string, and ``\\.``)."""

    def __init__(self, fh, progress: Callable[[int], None] | None):
        self.fh, self.progress, self.rows = fh, progress, 0
        self._text = io.StringIO()
        self._writer = csv.writer(self._text)

    def write(self, data):
        if isinstance(data, str):
            data = data.encode()
        if b'"' in data:
            self._text.seek(0)
            self._text.truncate()
            self._writer.writerow(next(csv.reader([data.decode()])))
            self.fh.write(self._text.getvalue().encode())
        else:
            self.fh.write(data[:-1])
            self.fh.write(b"\r\n")
        self.rows += 1
        if self.progress and self.rows % CHUNK == 0:
            self.progress(self.rows)


def _query(trial, shape, level, blinded, names, empty=False) -> str:
    sql, cols = (long_sql if shape == "long" else wide_sql)(trial, level, blinded, empty)
    if shape == "long":
        cols = [*cols, missing_export._reason_var(cols[-2])]
    if [v.name for v in cols] != names:
        raise ValueError("the SQL export's columns differ from the codebook's")
    return f"COPY ({sql}) TO STDOUT WITH (FORMAT csv)"


def _copy(sql: str, sink) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        # Compiling a query of hundreds of columns costs more than it saves.
        cursor.execute("SET LOCAL jit = off")
        cursor.cursor.copy_expert(sql, sink)


def write_csv(trial: Trial, shape: str, level: str, blinded: bool, names: list[str], path,
              progress=None) -> int:
    """The CSV at ``path`` (header ``names``, checked against the SQL's columns); returns
    the row count."""
    sql = _query(trial, shape, level, blinded, names)
    with open(path, "wb") as fh:
        lines = _Lines(fh, progress)
        lines._writer.writerow(names)
        fh.write(lines._text.getvalue().encode())
        _copy(sql, lines)
    return lines.rows


def streams(shape: str) -> bool:
    """Whether :func:`csv_chunks` may serve this shape now: on PostgreSQL, and outside a
    transaction, whose uncommitted rows its second connection would not see (a request is
    outside one; a test case inside)."""
    return applies(shape) and not connection.in_atomic_block


def csv_chunks(trial: Trial, shape: str, level: str, blinded: bool, names: list[str],
               size: int = 1 << 16) -> Iterator[bytes]:
    """The bytes of :func:`write_csv`'s file, chunk by chunk, for a streamed response (the
    API's dataset): the COPY runs in a second thread, on that thread's own connection,
    into a pipe this generator reads, so memory stays flat and the rows cost what the file
    export's do. Closing the generator early (a client gone) closes the pipe, which ends
    the COPY. The second connection sees committed rows only, as any other request."""
    sql = _query(trial, shape, level, blinded, names)
    header = io.StringIO()
    csv.writer(header).writerow(names)
    yield header.getvalue().encode()
    read_fd, write_fd = os.pipe()
    done: dict = {}

    def produce():
        try:
            with open(write_fd, "wb") as sink:
                _copy(sql, _Lines(sink, None))
        except BaseException as error:  # noqa: BLE001 - raised again in the reader
            done["error"] = error
        finally:
            connections.close_all()  # this thread's connection only

    worker = threading.Thread(target=produce, name="csv-copy", daemon=True)
    worker.start()
    try:
        with open(read_fd, "rb") as source:
            while chunk := source.read(size):
                yield chunk
    finally:
        worker.join()
    if "error" in done:
        raise done["error"]


ARROW_TYPES = {NUMERIC: "float64", STRING: "string", DATE: "date32"}


def write_parquet(trial: Trial, shape: str, level: str, blinded: bool, variables: list[Var],
                  path) -> int:
    """The Parquet file of the same query: its CSV read by Arrow in a second thread as the
    COPY writes it into a pipe, batch by batch (memory flat). Values as the Python path's
    (:func:`analysis.exports.writers.write_parquet`): numbers as doubles, dates as dates,
    '' kept apart from null. (No progress on the way: the thread must not touch the
    database.)"""
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    names = [v.name for v in variables]
    sql = _query(trial, shape, level, blinded, names, empty=True)
    schema = pa.schema([(v.name, getattr(pa, ARROW_TYPES[v.type])()) for v in variables])
    options = {
        "read_options": pacsv.ReadOptions(column_names=names, block_size=1 << 22),
        "parse_options": pacsv.ParseOptions(newlines_in_values=True),
        "convert_options": pacsv.ConvertOptions(
            column_types=schema, null_values=[""], strings_can_be_null=True,
            quoted_strings_can_be_null=False,
        ),
    }
    read_fd, write_fd = os.pipe()
    done: dict = {"rows": 0}

    def convert():
        try:
            with open(read_fd, "rb") as source, pq.ParquetWriter(path, schema) as writer:
                for batch in pacsv.open_csv(source, **options):
                    writer.write_batch(batch)
                    done["rows"] += batch.num_rows
        except BaseException as error:  # noqa: BLE001 - raised again in the caller
            done["error"] = error

    worker = threading.Thread(target=convert)
    worker.start()
    try:
        with open(write_fd, "wb") as sink:
            _copy(sql, sink)
    except BaseException:
        worker.join()
        if "error" in done:  # the reader's failure closed the pipe: it is the cause
            raise done["error"] from None
        raise
    worker.join()
    if "error" in done:
        raise done["error"]
    return done["rows"]
