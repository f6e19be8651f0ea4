"""SPSS and Stata files written a row at a time (analysis.exports.readstat): the same bytes
pyreadstat writes from a whole frame, dates that read back as the dates exported, and
memory that does not grow with the rows."""

import ctypes
import gc
import time
import tracemalloc
from datetime import date

import pandas as pd
import pyreadstat
import pytest

from analysis import exports, missing_export
from analysis.exports import readstat, writers
from analysis.missing_export import REASON_LABELS
from analysis.varnames import DATE, NUMERIC, STRING, Export, Var
from enrolment.actions.status import withdraw_participant
from questionnaires import missing
from questionnaires.services.saving import correct_response
from tests.analysis.exportdata import make_trial_data
from tests.conftest import use_betterback_built_once

pytestmark = pytest.mark.django_db
betterback = use_betterback_built_once()  # loaded once for the module

_libc = ctypes.CDLL(None)
_libc.time.restype = ctypes.c_long


def both(export_of, fmt, tmp_path, streamed_of=None):
    """The file pyreadstat writes from the frame and the streamed one (of ``streamed_of``'s
    export where given), stamped with the same second (ReadStat writes the C clock's
    second into the header)."""
    while True:
        # Start early in a second: the C clock's coarse second lags Python's by a tick,
        # and a write begun at a second's edge was stamped with the next one (CI, once).
        while time.time() % 1 > 0.5:
            time.sleep(0.05)
        second = _libc.time(None)
        writers.write_readstat(export_of(), tmp_path / f"frame.{fmt}", fmt)
        if _libc.time(None) == second:
            break
    n = readstat.write((streamed_of or export_of)(), tmp_path / f"stream.{fmt}", fmt,
                       timestamp=second)
    return (tmp_path / f"frame.{fmt}").read_bytes(), (tmp_path / f"stream.{fmt}").read_bytes(), n


def test_the_streamed_writer_is_reachable_with_the_pinned_pyreadstat():
    assert readstat.available()


@pytest.fixture
def data(betterback, coordinator):
    people = make_trial_data(betterback, per_clinic=1)
    p = people[0]
    odi = p.responses.get(timepoint__code="baseline", instrument="odi", entry=0)
    answers = {k: v for k, v in odi.answers.items() if k != "q8"}
    correct_response(odi, answers, "patient refused", coordinator, {"q8": missing.REFUSED})
    withdraw_participant(people[1], date(2017, 9, 1), "moved abroad")
    return people


@pytest.mark.parametrize("fmt", ["sav", "dta"])
@pytest.mark.parametrize(
    "shape,level", [("long", "score"), ("long", "item"), ("wide", "score"), ("wide", "item"),
                    ("analysis", "score")],
)
def test_every_shape_is_the_file_pyreadstat_writes_byte_for_byte(
    betterback, data, fmt, shape, level, tmp_path
):
    def export_of():
        export = writers.build(betterback, shape, level)
        with_reasons = missing_export.with_reasons(export, betterback, shape, level, fmt)
        return writers.for_format(with_reasons, fmt)

    frame, stream, n = both(export_of, fmt, tmp_path)
    assert n > 0
    long_named = missing_export.long_named_labels(export_of(), fmt)
    if not long_named:
        assert stream == frame
        return
    # Stata names pyreadstat would make too long: pyreadstat writes those columns without
    # their labels, the stream with label sets of its own names. All else is the same.
    read = pyreadstat.read_dta
    frame_data, frame_meta = read(tmp_path / "frame.dta", user_missing=True)
    stream_data, stream_meta = read(tmp_path / "stream.dta", user_missing=True)
    assert stream_data.equals(frame_data)
    assert stream_meta.column_labels == frame_meta.column_labels
    assert stream_meta.readstat_variable_types == frame_meta.readstat_variable_types
    assert stream_meta.missing_user_values == frame_meta.missing_user_values
    labels = stream_meta.variable_value_labels
    assert {k: v for k, v in labels.items() if k not in long_named} == (
        frame_meta.variable_value_labels
    )
    def keyed(d):
        return {k if isinstance(k, str) else float(k): v for k, v in d.items()}

    for name, expected in long_named.items():
        assert name not in frame_meta.variable_value_labels
        assert keyed(labels[name]) == keyed(expected)  # reasons' letters included


def synthetic(rows: int, long_text: bool = True) -> Export:
    reason = Var("pain", "Back pain (0-10)", NUMERIC,
                 labels={0: "none", 10: "worst", **REASON_LABELS}, allowed="0..10")
    variables = [
        Var("study_id", "Study ID", STRING),
        Var("enrolment_date", "Date of enrolment", DATE),
        reason,
        Var("note", "Coordinator's note", STRING),
        Var("weight", "Weight (kg)", NUMERIC),
        Var("change", "Change since baseline", NUMERIC),  # repeats, and zero of both signs
    ]
    notes = ["", None, "smärta i ländryggen", "x" * 3000 if long_text else "y"]
    enrolled = [date(2017, 5, 2), "2017-06-30", None, date(1959, 12, 31)]
    pains = [3, None, float(missing.NOT_DONE), 10.0, float(missing.LOST)]
    changes = [0.0, -0.0, -0.0, 0.0, 1.5, 1.5, None, None]

    def generate():
        for i in range(rows):
            yield [f"BB-{i // 3:06d}", enrolled[i // 3 % 4], pains[i % 5], notes[i // 2 % 4],
                   70.5 + i % 3, changes[i % 8]]

    return Export(variables, generate, rows)


@pytest.mark.parametrize("fmt", ["sav", "dta"])
def test_texts_dates_reasons_and_a_strl_are_the_bytes_pyreadstat_writes(fmt, tmp_path):
    frame, stream, n = both(lambda: writers.for_format(synthetic(40), fmt), fmt, tmp_path)
    assert n == 40
    assert stream == frame


@pytest.mark.parametrize("fmt", ["sav", "dta"])
def test_dates_and_empty_texts_read_back_as_exported(data, betterback, fmt, tmp_path):
    """pandas 3 turned every date of the frame into 1970-01-01 and every missing text
    into "nan" (pyreadstat 1.3 writes its datetime64[s] as zero; its strings hold NaN)."""
    exports.write_export(betterback, tmp_path / f"w.{fmt}", fmt, "wide", "score")
    read = pyreadstat.read_sav if fmt == "sav" else pyreadstat.read_dta
    df, _meta = read(tmp_path / f"w.{fmt}")
    df = df.set_index("study_id")
    for p in data:
        assert df.loc[p.study_id, "enrolment_date"] == p.enrolled_on
    assert df.loc[data[1].study_id, "withdrawn"] == date(2017, 9, 1)
    assert df["died"].isna().all()
    # Dates, as the codebook says: Stata %td, SPSS DATE11 (until 2026-12-02, %tc and
    # DATETIME moments at midnight).
    formats = _meta.original_variable_types
    assert formats["enrolment_date"] == ("%td" if fmt == "dta" else "DATE11")
    texts = [c for c in df.columns if df[c].dtype == object]
    assert texts and not (df[texts] == "nan").any().any()


@pytest.mark.parametrize("fmt", ["sav", "dta"])
def test_a_producer_that_fills_one_list_for_every_row_gets_every_row(fmt, tmp_path):
    """Only the cells that change are handed to ReadStat: "change" is judged on the values,
    not on the producer's list, which may be one list refilled for each row."""

    def refilled():
        export = synthetic(40, long_text=False)

        def rows():
            row = []
            for values in export.rows():
                row[:] = values
                yield row

        return writers.for_format(Export(export.vars, rows, export.total), fmt)

    def as_rows():
        return writers.for_format(synthetic(40, long_text=False), fmt)

    frame, stream, n = both(as_rows, fmt, tmp_path, refilled)
    assert n == 40
    assert stream == frame


def test_memory_does_not_grow_with_the_rows(tmp_path, monkeypatch):
    """Traced Python memory (ReadStat's own, in C, holds one row); both formats share the
    spool."""
    fmt = "sav"
    monkeypatch.setattr(readstat, "CHUNK", 1_000)  # cells: memory holds about one chunk

    def peak(rows):
        gc.collect()
        tracemalloc.start()
        readstat.write(writers.for_format(synthetic(rows, long_text=False), fmt),
                       tmp_path / f"m.{fmt}", fmt)
        top = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        return top

    small, large = peak(1_000), peak(10_000)
    assert large < 1.2 * small, (small, large)
    # The same measure sees the frame of the fallback grow with its rows.
    assert _frame_peak(10_000, fmt) > 5 * _frame_peak(1_000, fmt)


def _frame_peak(rows, fmt):
    gc.collect()
    tracemalloc.start()
    writers._frame(writers.for_format(synthetic(rows, long_text=False), fmt), fmt)
    top = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return top


@pytest.mark.parametrize("fmt", ["sav", "dta"])
def test_every_column_the_codebook_labels_is_labelled_in_the_file(data, betterback, fmt,
                                                                   tmp_path):
    """A walk found 67 of SAFE's Stata columns without their labels (the .a-.e reasons
    included: names too long for pyreadstat's label sets) and SPSS text columns without
    theirs (condition, status, entry mode)."""
    exports.write_export(betterback, tmp_path / f"w.{fmt}", fmt, "wide", "item")
    read = pyreadstat.read_sav if fmt == "sav" else pyreadstat.read_dta
    _df, meta = read(tmp_path / f"w.{fmt}", metadataonly=True)
    codebook = pd.read_csv(tmp_path / "w_codebook.csv")
    labelled = codebook[codebook["value_labels"].notna() & (codebook["type"] != "date")]
    if fmt == "dta":  # Stata labels numbers only
        labelled = labelled[labelled["type"] == "numeric"]
    assert len(labelled) > 20 and any(len(n) > 30 for n in labelled["name"])
    assert set(labelled["name"]) <= set(meta.variable_value_labels)
    if fmt == "sav":
        assert meta.variable_value_labels["status"]["withdrawn"] == "Withdrawn"


@pytest.mark.parametrize("fmt", ["sav", "dta"])
def test_a_text_column_of_mixed_values_keeps_each_as_written(fmt, tmp_path):
    """1, 1.0 and True are one key of a dictionary: the writer's memory of texts it has
    encoded must not make True read "1"."""
    variables = [Var("study_id", "Study ID", STRING), Var("answer", "Answer as typed", STRING)]
    values = [1, True, 1.0, "1", None, "x"]

    def export():
        def rows():
            for i, value in enumerate(values * 2):
                yield [f"BB-{i:04d}", value]

        return writers.for_format(Export(variables, rows, len(values) * 2), fmt)

    frame, stream, n = both(export, fmt, tmp_path)
    assert n == len(values) * 2
    assert stream == frame
    read = pyreadstat.read_sav if fmt == "sav" else pyreadstat.read_dta
    df, _meta = read(tmp_path / f"stream.{fmt}")
    assert list(df["answer"][:4]) == ["1", "True", "1.0", "1"]
