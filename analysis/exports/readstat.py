"""SPSS (.sav) and Stata (.dta) files written a row at a time, in flat memory.

pyreadstat writes these files from a whole data frame: at 10,000 participants the wide
item-level file took 259-279 MB against the CSV's 170 MB, and the long shape grows with
every response. The library it wraps, ReadStat, writes a row at a time, and pyreadstat's
compiled writer carries ReadStat's C functions as exported symbols: this module calls
them with ctypes, in the order and with the arguments pyreadstat's ``write_sav`` and
``write_dta(version=15)`` use, so the file is the one pyreadstat writes from the same frame
(:func:`analysis.exports.writers._frame`), byte for byte (tests/analysis/
test_readstat_stream.py checks every shape and level). One difference, on purpose: a Stata
column whose label-set name pyreadstat would make longer than 32 characters gets a short
set name here (``_L<n>``) where pyreadstat writes the column without its labels.

ReadStat needs the row count and each text column's width before the first row, so the
rows are read once into a temporary file (marshalled chunks of the cells that differ from
the row before, each value already as the file holds it) and then written, handing
ReadStat only those cells: the long shape's participant and response columns repeat down
its rows, and a ctypes call was most of its time. Memory holds one chunk; the temporary
file, smaller than a CSV of the export, is removed at the end. Stata's long texts (strL,
2,045 bytes and more) are the exception: ReadStat keeps those columns' distinct values
until the end.

:func:`available` says whether the symbols are there (a pyreadstat built without them, or
a future one, falls back to the frame in :mod:`analysis.exports.writers`).
"""

from __future__ import annotations

import contextlib
import ctypes
import marshal
import math
import tempfile
from datetime import date, datetime
from functools import cache
from pathlib import Path

from .. import missing_export
from ..varnames import DATE, NUMERIC, Export

CHUNK = 50_000  # cells held at once: 2,272 rows of the long shape, 97 of the wide item level
# ReadStat's readstat_type_t
_STRING, _DOUBLE, _STRING_REF = 0, 5, 6
DTA_STR_MAX = 2045  # dta 117 and later: a text this long or longer is a strL
# pyreadstat's constants: days from SPSS's 1582-10-14 and Stata's 1960-01-01 to 1970.
_OFFSET_DAYS = {"sav": 141428, "dta": 3653}
_EPOCH = date(1970, 1, 1)
DATE_FORMAT = {"sav": "DATE11", "dta": "%td"}  # dates, as the codebook says
_VERSION = {"sav": 2, "dta": 119}  # write_sav() uncompressed; write_dta(version=15)

_P, _S = ctypes.c_void_p, ctypes.c_char_p
_SIGNATURES = {
    "readstat_writer_init": (_P, []),
    "readstat_set_data_writer": (ctypes.c_int, [_P, _P]),
    "readstat_writer_set_file_format_version": (ctypes.c_int, [_P, ctypes.c_uint8]),
    "readstat_writer_set_file_format_is_64bit": (ctypes.c_int, [_P, ctypes.c_int]),
    "readstat_writer_set_file_timestamp": (ctypes.c_int, [_P, ctypes.c_long]),
    "readstat_add_variable": (_P, [_P, _S, ctypes.c_int, ctypes.c_size_t]),
    "readstat_variable_set_label": (None, [_P, _S]),
    "readstat_variable_set_format": (None, [_P, _S]),
    "readstat_variable_set_label_set": (None, [_P, _P]),
    "readstat_variable_add_missing_double_range": (ctypes.c_int, [_P, ctypes.c_double,
                                                                   ctypes.c_double]),
    "readstat_add_label_set": (_P, [_P, ctypes.c_int, _S]),
    "readstat_label_double_value": (None, [_P, ctypes.c_double, _S]),
    "readstat_label_tagged_value": (None, [_P, ctypes.c_char, _S]),
    "readstat_label_string_value": (None, [_P, _S, _S]),
    "readstat_add_string_ref": (_P, [_P, _S]),
    "readstat_begin_writing_sav": (ctypes.c_int, [_P, _P, ctypes.c_long]),
    "readstat_begin_writing_dta": (ctypes.c_int, [_P, _P, ctypes.c_long]),
    "readstat_validate_metadata": (ctypes.c_int, [_P]),
    "readstat_validate_variable": (ctypes.c_int, [_P, _P]),
    "readstat_begin_row": (ctypes.c_int, [_P]),
    "readstat_insert_double_value": (ctypes.c_int, [_P, _P, ctypes.c_double]),
    "readstat_insert_string_value": (ctypes.c_int, [_P, _P, _S]),
    "readstat_insert_string_ref": (ctypes.c_int, [_P, _P, _P]),
    "readstat_insert_missing_value": (ctypes.c_int, [_P, _P]),
    "readstat_insert_tagged_missing_value": (ctypes.c_int, [_P, _P, ctypes.c_char]),
    "readstat_end_row": (ctypes.c_int, [_P]),
    "readstat_end_writing": (ctypes.c_int, [_P]),
    "readstat_writer_free": (None, [_P]),
    "readstat_error_message": (_S, [ctypes.c_int]),
}
_DATA_WRITER = ctypes.CFUNCTYPE(ctypes.c_ssize_t, ctypes.c_void_p, ctypes.c_size_t,
                                ctypes.c_void_p)


class ReadStatError(RuntimeError):
    pass


@cache
def _library():
    """ReadStat's functions from pyreadstat's writer module, or None."""
    try:
        from pyreadstat import _readstat_writer

        lib = ctypes.CDLL(_readstat_writer.__file__)
        for name, (restype, argtypes) in _SIGNATURES.items():
            function = getattr(lib, name)
            function.restype, function.argtypes = restype, argtypes
    except (ImportError, OSError, AttributeError):
        return None
    return lib


def available() -> bool:
    return _library() is not None


# --- values as the file holds them (as writers._frame and pandas make them) ------------


def _number(v):
    if v is None or isinstance(v, str) and not v.strip():
        return None
    try:
        number = float(v)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


def as_date(v) -> date | None:
    """A date column's value as a date: a date, a datetime's day or an ISO text; None
    for anything else."""
    if isinstance(v, datetime):
        return v.date()
    if isinstance(v, date):
        return v
    if isinstance(v, str):
        with contextlib.suppress(ValueError):
            return datetime.fromisoformat(v.strip()).date()
    return None


def day_number(v, fmt: str) -> float | None:
    """A date as pyreadstat writes a date column: Stata's days since 1960-01-01, SPSS's
    seconds since 1582-10-14."""
    day = as_date(v)
    if day is None:
        return None
    days = float((day - _EPOCH).days + _OFFSET_DAYS[fmt])
    return days * 86400 if fmt == "sav" else days


# How a column's values are held in the spool and inserted: a double or None; a double,
# None or a Stata missing letter (bytes); UTF-8 bytes.
_NUMBER, _TAGGED, _TEXT = "number", "tagged", "text"


def _kinds(export: Export, fmt: str) -> list[str]:
    return [
        _TEXT if v.type not in (NUMERIC, DATE)
        else _TAGGED if fmt == "dta" and missing_export.carries_codes(v)
        else _NUMBER
        for v in export.vars
    ]


def _converter(kind: str, var_type: str, fmt: str, widths: dict, i: int, known: dict):
    """How one column's value becomes what the spool holds; a text column's converter
    also keeps its widest value in ``widths[i]``, and each text it encoded in ``known``
    (a column's texts repeat: variable names, codes; the spool empties it each chunk)."""
    if var_type == DATE:
        return lambda v: day_number(v, fmt)
    if kind == _TEXT:

        def text(v):
            if type(v) is str:  # only texts are kept: 1, 1.0 and True are one key
                encoded = known.get(v)
                if encoded is None:
                    encoded = known[v] = v.encode()
            elif v is None:
                return b""
            else:
                encoded = str(v).encode()
            if len(encoded) > widths[i]:
                widths[i] = len(encoded)
            return encoded

        return text
    if kind == _TAGGED:
        return lambda v: _LETTERS.get(number := _as_number(v), number)
    return _as_number


def _as_number(v) -> float | None:
    if type(v) is float:
        return None if v != v else v
    if type(v) is int:
        return float(v)
    return None if v is None else _number(v)


_LETTERS = {float(code): tag.encode() for code, tag in missing_export.STATA_MISSING.items()}


# --- the two passes ---------------------------------------------------------------------


class _Spool:
    """The rows in a temporary file, each as the cells that differ from the row before,
    with their count and each text column's width in bytes. A chunk of rows is two flat
    lists: column indices, :data:`END` after each row, and the values beside them as the
    file holds them (flat, because a list or tuple a row made the garbage collector's
    passes cost a third of the spool).

    "Differ" is "is not the same object": a participant's columns are one list for all
    their rows, and a response's timepoint, days and mode one object for all its
    variables, so the long shape keeps about 3 of its 22 cells a row, each converted once.
    A value equal but not the same object is kept again: never a wrong byte, at worst a
    call more (:func:`_rows` relies on ReadStat keeping the cells it is not given)."""

    def __init__(self, export: Export, fmt: str, progress=None):
        self.kinds = _kinds(export, fmt)
        self.widths = {i: 1 for i, kind in enumerate(self.kinds) if kind == _TEXT}
        self._known: dict = {}
        convert = [_converter(kind, v.type, fmt, self.widths, i, self._known.setdefault(i, {}))
                   for i, (kind, v) in enumerate(zip(self.kinds, export.vars, strict=True))]
        self.count = 0
        self.file = tempfile.TemporaryFile()
        columns = range(len(export.vars))
        before = [_UNSET] * len(export.vars)
        size = max(1, CHUNK // max(1, len(export.vars)))
        indices, values, rows = [], [], 0
        for row in export.rows():
            changed = [i for i, value, previous in zip(columns, row, before, strict=True)
                       if value is not previous]
            indices += changed
            indices.append(END)
            values += [convert[i](row[i]) for i in changed]
            values.append(None)
            before = list(row)  # holds the values, whatever the producer does with its list
            rows += 1
            if rows == size:
                self._dump(indices, values, rows, progress)
                indices, values, rows = [], [], 0
        if rows:
            self._dump(indices, values, rows, progress)

    def _dump(self, indices: list, values: list, rows: int, progress) -> None:
        data = marshal.dumps((indices, values))  # marshal.load reads a file a few bytes a call
        self.file.write(len(data).to_bytes(8, "little"))
        self.file.write(data)
        self.count += rows
        for known in self._known.values():
            known.clear()
        if progress:
            progress(self.count)

    def cells(self):
        """(column index, value) of every changed cell, and (:data:`END`, None) after
        each row."""
        self.file.seek(0)
        while size := self.file.read(8):
            indices, values = marshal.loads(self.file.read(int.from_bytes(size, "little")))
            yield from zip(indices, values, strict=True)


END = -1
_UNSET = object()  # no value is this object: every cell of the first row is kept


def _check(lib, code: int) -> None:
    if code:
        raise ReadStatError(lib.readstat_error_message(code).decode())


def write(export: Export, path: Path, fmt: str, progress=None, timestamp: int | None = None) -> int:
    """Write ``export`` as SPSS (``fmt="sav"``) or Stata (``"dta"``); returns the row
    count. ``timestamp`` (seconds since 1970) stands in the header instead of now."""
    lib = _library()
    if lib is None:
        raise ReadStatError("ReadStat's writer is not reachable through pyreadstat")
    spool = _Spool(export, fmt, progress)
    with spool.file, open(path, "wb") as out:

        def write_bytes(data, length, _ctx):
            out.write(ctypes.string_at(data, length))
            return length

        callback = _DATA_WRITER(write_bytes)  # kept referenced until the writer is freed
        writer = lib.readstat_writer_init()
        try:
            _write(lib, writer, callback, export, spool, fmt, timestamp)
        finally:
            lib.readstat_writer_free(writer)
    return spool.count


def _write(lib, writer, callback, export, spool, fmt, timestamp) -> None:
    _check(lib, lib.readstat_set_data_writer(writer, ctypes.cast(callback, _P)))
    _check(lib, lib.readstat_writer_set_file_format_version(writer, _VERSION[fmt]))
    _check(lib, lib.readstat_writer_set_file_format_is_64bit(writer, 1))
    if timestamp is not None:
        _check(lib, lib.readstat_writer_set_file_timestamp(writer, timestamp))
    value_labels = missing_export.readstat_value_labels(export, fmt)
    set_names = {name: f"{name}{n}" for n, name in enumerate(value_labels)}  # pyreadstat's
    # Names pyreadstat would make too long for Stata: short ones of our own instead of none.
    long_named = missing_export.long_named_labels(export, fmt)
    set_names.update({name: f"_L{n}" for n, name in enumerate(long_named)})
    value_labels.update(long_named)
    carrying = {v.name for v in export.vars if v.type == NUMERIC
                and missing_export.carries_codes(v)}
    reasons = missing_export.REASON_LABELS
    long_texts = {i for i, w in spool.widths.items() if fmt == "dta" and w >= DTA_STR_MAX}
    refs = _string_refs(lib, writer, spool, long_texts)
    variables = []
    for i, var in enumerate(export.vars):
        if i in long_texts:
            kind, width = _STRING_REF, spool.widths[i]
        elif i in spool.widths:
            # pyreadstat makes room for the longest labelled value too
            labelled = [len(k) for k in value_labels.get(var.name, ())]
            kind, width = _STRING, max([spool.widths[i], *labelled])
        else:
            kind, width = _DOUBLE, 0
        variable = lib.readstat_add_variable(writer, var.name.encode(), kind, width)
        if var.type == DATE:
            lib.readstat_variable_set_format(variable, DATE_FORMAT[fmt].encode())
        label = var.label[:80] if fmt == "dta" else var.label
        lib.readstat_variable_set_label(variable, label.encode())
        if var.name in value_labels:
            name = set_names[var.name].encode()
            label_set = lib.readstat_add_label_set(writer, kind, name)
            for value, text in value_labels[var.name].items():
                if kind == _STRING:
                    lib.readstat_label_string_value(label_set, value.encode(), text.encode())
                elif isinstance(value, str):
                    lib.readstat_label_tagged_value(label_set, value.encode(), text.encode())
                else:
                    lib.readstat_label_double_value(label_set, value, text.encode())
            lib.readstat_variable_set_label_set(variable, label_set)
        if fmt == "sav" and var.name in carrying:
            lo, hi = float(min(reasons)), float(max(reasons))
            _check(lib, lib.readstat_variable_add_missing_double_range(variable, lo, hi))
        variables.append(variable)
    begin = lib.readstat_begin_writing_sav if fmt == "sav" else lib.readstat_begin_writing_dta
    _check(lib, begin(writer, None, spool.count))
    _check(lib, lib.readstat_validate_metadata(writer))
    for variable in variables:
        _check(lib, lib.readstat_validate_variable(writer, variable))
    _rows(lib, writer, variables, spool, long_texts, refs)
    _check(lib, lib.readstat_end_writing(writer))


def _string_refs(lib, writer, spool, columns: set[int]) -> dict:
    """Stata's strL values, added as pyreadstat adds them: column by column, each distinct
    value once, in row order."""
    refs: dict[bytes, int] = {}
    for i in sorted(columns):
        for j, value in spool.cells():
            if j == i and value not in refs:
                refs[value] = lib.readstat_add_string_ref(writer, value)
    return refs


def _rows(lib, writer, variables, spool, long_texts: set[int], refs: dict) -> None:
    """Every row through ReadStat's insert functions: a ctypes call costs 0.3-0.5 us, most
    of a long export's time before only the cells that change were inserted (19 million
    cells at 10,000 participants, 2.2 million of which change).

    ReadStat clears its row buffer in ``readstat_begin_row`` and nowhere else
    (``end_row`` hands the buffer to the file and leaves it as it is; each insert writes
    its whole cell), so calling ``begin_row`` for the first row only keeps the previous
    row's cells where the spool holds no change."""
    if not spool.count:
        return
    begin_row, end_row = lib.readstat_begin_row, lib.readstat_end_row
    double, text = lib.readstat_insert_double_value, lib.readstat_insert_string_value
    missing, tagged = lib.readstat_insert_missing_value, lib.readstat_insert_tagged_missing_value
    string_ref = lib.readstat_insert_string_ref
    kinds = ["ref" if i in long_texts else kind for i, kind in enumerate(spool.kinds)]
    cells = list(zip(kinds, variables, strict=True))
    number, failed = 1, begin_row(writer)
    for i, value in spool.cells():
        if i == END:
            failed |= end_row(writer)
            if failed:
                raise ReadStatError(f"ReadStat refused a value in row {number}")
            number += 1
            continue
        kind, variable = cells[i]
        if value is None:
            failed |= missing(writer, variable)
        elif kind == _NUMBER:
            failed |= double(writer, variable, value)
        elif kind == _TEXT:
            failed |= text(writer, variable, value)
        elif kind == _TAGGED:
            put = tagged if type(value) is bytes else double
            failed |= put(writer, variable, value)
        else:
            failed |= string_ref(writer, variable, refs[value])
