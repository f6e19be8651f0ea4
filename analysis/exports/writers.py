"""Building an export (:func:`build`) and writing it: the data file (CSV, Parquet, SPSS,
Stata), its codebook and, beside a CSV, the R and SAS scripts (:func:`write_export`)."""

from __future__ import annotations

import csv
import html
import itertools
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pandas as pd

from enrolment.models import Trial

from .. import missing_export, syntax
from ..models import ExportLog
from ..varnames import DATE, NUMERIC, STRING, Export, Var, stata_name
from . import pg, readstat
from .dataset import analysis_export
from .stream import CHUNK, long_export, wide_export

FORMATS = ("csv", "sav", "dta", "parquet")
SHAPES = ("long", "wide", "analysis")
LEVELS = ("score", "item")


def build(trial: Trial, shape: str, level: str = "score", blinded: bool = False) -> Export:
    if shape == "long":
        return long_export(trial, level, blinded)
    if shape == "wide":
        return wide_export(trial, level, blinded)
    if shape == "analysis":
        return analysis_export(trial, blinded)
    raise ValueError(f"unknown shape {shape!r}")


# --- codebook ------------------------------------------------------------------------

CODEBOOK_COLUMNS = [
    "name",
    "label",
    "type",
    "allowed_values",
    "value_labels",
    "instrument",
    "version",
    "scoring_rule",
    "timepoint",
]


def codebook(variables: list[Var]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            [
                v.name,
                v.label,
                v.type,
                v.allowed or ";".join(str(k) for k in v.labels),
                "; ".join(f"{k}={lab}" for k, lab in v.labels.items()),
                v.instrument,
                v.version,
                v.rule,
                v.timepoint,
            ]
            for v in variables
        ],
        columns=CODEBOOK_COLUMNS,
    )


def write_codebook(variables: list[Var], stem: Path, title: str) -> tuple[Path, Path]:
    book = codebook(variables)
    csv_path, html_path = (
        stem.with_name(stem.name + "_codebook.csv"),
        stem.with_name(stem.name + "_codebook.html"),
    )
    book.to_csv(csv_path, index=False)
    html_path.write_text(
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title></head><body><h1>{html.escape(title)}</h1>\n"
        + book.to_html(index=False, border=1, na_rep="", classes="codebook")
        + "\n</body></html>\n",
        encoding="utf-8",
    )
    return csv_path, html_path


# --- writers -------------------------------------------------------------------------


def _csv_cell(v):
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer():
        return repr(v)
    return v


def write_csv(export: Export, path: Path, progress=None) -> int:
    """Streams rows to the file; returns the row count."""
    n = 0
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow([v.name for v in export.vars])
        for row in export.rows():
            writer.writerow(["" if c is None else c for c in row])
            n += 1
            if progress and n % CHUNK == 0:
                progress(n)
    return n


def _arrow_schema(variables):
    import pyarrow as pa

    kinds = {NUMERIC: pa.float64(), STRING: pa.string(), DATE: pa.date32()}
    return pa.schema([(v.name, kinds[v.type]) for v in variables])


def _arrow_value(v, kind):
    if v is None:
        return None
    if kind == NUMERIC:
        return float(v)
    if kind == DATE:
        return v if isinstance(v, date) else date.fromisoformat(v)
    return str(v)


def write_parquet(export: Export, path: Path, progress=None, batch: int = 10000) -> int:
    """Streams rows in batches of ``batch`` rows to a Parquet file."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = _arrow_schema(export.vars)
    kinds = [v.type for v in export.vars]
    n = 0
    rows = export.rows()
    with pq.ParquetWriter(path, schema) as writer:
        while chunk := list(itertools.islice(rows, batch)):
            columns = list(zip(*chunk, strict=True))
            arrays = [
                pa.array([_arrow_value(v, k) for v in col], type=schema.field(i).type)
                for i, (col, k) in enumerate(zip(columns, kinds, strict=True))
            ]
            writer.write_table(pa.Table.from_arrays(arrays, schema=schema))
            n += len(chunk)
            if progress:
                progress(n)
    return n


def _frame(export: Export, fmt: str) -> pd.DataFrame:
    # Built as objects: pandas 3 reads a text column as strings with NaN for None (written
    # "nan"), and dates as datetime64[s], a unit pyreadstat 1.3 writes as 1970-01-01. A
    # date is the number SPSS or Stata counts it by, given its date format on writing.
    df = pd.DataFrame(list(export.rows()), columns=[v.name for v in export.vars], dtype=object)
    for v in export.vars:
        if v.type == NUMERIC:
            df[v.name] = pd.to_numeric(df[v.name], errors="coerce").astype(float)
        elif v.type == DATE:
            df[v.name] = df[v.name].map(lambda x: readstat.day_number(x, fmt)).astype(float)
        else:
            df[v.name] = df[v.name].map(lambda x: "" if x is None else str(x)).astype(object)
    return df


def write_readstat(export: Export, path: Path, fmt: str) -> int:
    """SPSS or Stata with variable labels and (numeric) value labels, from one frame in
    memory: where ReadStat's writer is not reachable (:mod:`analysis.exports.readstat`,
    which writes the same bytes a row at a time)."""
    import pyreadstat

    df = _frame(export, fmt)
    labels = [v.label[:80] if fmt == "dta" else v.label for v in export.vars]
    dates = {v.name: readstat.DATE_FORMAT[fmt] for v in export.vars if v.type == DATE}
    value_labels = missing_export.readstat_value_labels(export, fmt)
    # Reason codes as user-missing (SPSS) or extended missing values (Stata).
    extra = missing_export.readstat_options(export, df, fmt)
    if fmt == "sav":
        pyreadstat.write_sav(
            df, str(path), column_labels=labels, variable_value_labels=value_labels,
            variable_format=dates, **extra,
        )
    else:
        pyreadstat.write_dta(
            df,
            str(path),
            column_labels=labels,
            variable_value_labels=value_labels,
            variable_format=dates,
            version=15,
            **extra,
        )
    return len(df)


def for_format(export: Export, fmt: str) -> Export:
    """The export with Stata-safe names for .dta (the codebook then lists those names)."""
    if fmt != "dta":
        return export
    renamed = [Var(**{**v.__dict__, "name": stata_name(v.name)}) for v in export.vars]
    return Export(renamed, export.rows, export.total)


def write_syntax(variables: list[Var], path: Path, title: str) -> tuple[Path, Path]:
    """The R and SAS scripts that read the CSV at ``path`` ready-labelled."""
    r_path, sas_path = path.with_suffix(".R"), path.with_suffix(".sas")
    r_path.write_text(syntax.r_script(variables, path.name, title), encoding="utf-8")
    sas_path.write_text(syntax.sas_script(variables, path.name, title), encoding="utf-8")
    return r_path, sas_path


def write_export(
    trial: Trial,
    path,
    fmt: str = "csv",
    shape: str = "wide",
    level: str = "score",
    blinded: bool = False,
    user=None,
    user_label: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> ExportLog:
    """Write the data file at ``path`` and its codebook next to it (``<stem>_codebook.csv``
    and ``.html``); log the export. ``progress(percent)`` is called as rows are written."""
    if fmt not in FORMATS or shape not in SHAPES or level not in LEVELS:
        raise ValueError(f"unknown format/shape/level {fmt}/{shape}/{level}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    export = build(trial, shape, level, blinded)
    export = for_format(missing_export.with_reasons(export, trial, shape, level, fmt), fmt)
    total = max(export.total, 1)

    def rows_progress(n):  # rows per participant vary: report participants seen, roughly
        if progress:
            progress(min(99, int(100 * n / (total * (20 if shape == "long" else 1)))))

    if fmt == "csv" and pg.applies(shape):
        names = [v.name for v in export.vars]
        rows = pg.write_csv(trial, shape, level, blinded, names, path, rows_progress)
    elif fmt == "csv":
        rows = write_csv(export, path, rows_progress)
    elif fmt == "parquet" and pg.applies(shape):
        rows = pg.write_parquet(trial, shape, level, blinded, export.vars, path)
    elif fmt == "parquet":
        rows = write_parquet(export, path, rows_progress)
    elif readstat.available():
        rows = readstat.write(export, path, fmt, rows_progress)
    else:
        rows = write_readstat(export, path, fmt)
    write_codebook(export.vars, path.with_suffix(""), f"Codebook: {trial.code} {shape} {level}")
    if fmt == "csv":
        write_syntax(export.vars, path, f"{trial.code} {shape} {level}")
    if progress:
        progress(100)
    label = user_label or (user.get_username() if user is not None else "command line")
    return ExportLog.objects.create(
        user=user if user is not None and user.is_authenticated else None,
        user_label=label,
        trial=trial,
        format=fmt,
        shape=shape,
        level=level if shape != "analysis" else "score",
        blinded=blinded,
        rows=rows,
        file_name=path.name,
    )
