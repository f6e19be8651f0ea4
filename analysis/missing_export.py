"""Missing-data reasons in the exports (questionnaires.missing: codes -99..-95).

A response keeps a reason apart from its answers (``Response.missing``); here the reason
is put back beside the column it explains:

* **CSV and Parquet**: the column holds a plain missing value, and a parallel
  ``<column>_reason`` column (long shape: ``value_reason``) holds the code.
* **SPSS (.sav)**: a numeric column holds the code itself, declared user-missing (the
  range -99..-95) and labelled, so SPSS leaves it out of every computation and shows why.
* **Stata (.dta)**: a numeric column holds an extended missing value with a value label,
  one letter per reason (:data:`STATA_MISSING`: ``.a`` not done ... ``.e`` lost); text and
  date columns, which neither format can mark so, get the ``_reason`` column as in CSV.

Item columns carry the item's reason; score columns carry a reason only where staff marked
the whole questionnaire not done (``Response.not_done``): a score missing because of some
missing items is derived, and its items say why. The codebook lists every reason code with
its label (the ``_reason`` columns' value labels, and the labelled numeric columns).
The analysis shape has no reasons: its scores are missing wherever a reason stands
(:func:`analysis.plan.dataset.reasons_as_missing` does the same for a file read back).
"""

from __future__ import annotations

from collections.abc import Iterator

from django.db.models import Q

from questionnaires import missing as reasons
from questionnaires.models import Response

from .varnames import DATE, NUMERIC, STRING, Export, Var, tp_suffix

REASON_LABELS = {code: str(label) for code, (_key, label) in reasons.REASONS.items()}
# Stata's extended missing values, one per reason (SPSS keeps the codes themselves).
STATA_MISSING = {
    reasons.NOT_DONE: "a",
    reasons.REFUSED: "b",
    reasons.DONT_KNOW: "c",
    reasons.NOT_APPLICABLE: "d",
    reasons.LOST: "e",
}
SUFFIX = "_reason"
RULE = (
    "a missing value may have a reason: the code in <column>_reason (CSV, Parquet), a "
    "user-missing code -99..-95 (SPSS) or an extended missing value .a-.e (Stata)"
)


def _key(study_id, tp_code, instrument, week) -> tuple:
    return (study_id, tp_code, instrument, week)


def reasons_of(trial) -> dict[tuple, tuple[dict, bool]]:
    """(study_id, timepoint code, instrument, week) -> (item id -> code, not done) for the
    exported responses (final, completed) that have a reason. One query; only responses
    with a reason are read, a small share of the trial."""
    rows = (
        Response.objects.filter(
            participant__trial=trial, entry=Response.FINAL, completed_at__isnull=False
        )
        .exclude(Q(missing={}) | Q(missing__isnull=True))
        .values_list(
            "participant__study_id", "timepoint__code", "instrument", "week", "missing", "not_done"
        )
    )
    return {_key(s, t, i, w): (m or {}, nd) for s, t, i, w, m, nd in rows}


def _code(found: tuple[dict, bool] | None, key: str, level: str):
    if found is None:
        return None
    items, not_done = found
    if level == "item":
        return items.get(key)
    if not_done and items:
        return next(iter(items.values()))
    return None


def _reason_var(var):
    return Var(
        f"{var.name}{SUFFIX}",
        f"Reason {var.name} is missing",
        NUMERIC,
        labels=dict(REASON_LABELS),
        instrument=var.instrument,
        version=var.version,
        rule=RULE,
        timepoint=var.timepoint,
    )


def _labelled(var):
    """The var with the reason codes among its value labels (SPSS, Stata)."""
    return Var(**{**var.__dict__, "labels": {**var.labels, **REASON_LABELS}})


def with_reasons(export, trial, shape: str, level: str, fmt: str):
    """The export with the reasons added for ``fmt`` (see the module's docstring)."""
    if shape == "long":
        return _long(export, trial, level, fmt)
    if shape == "wide":
        return _wide(export, trial, level, fmt)
    return export


def _wide(export, trial, level, fmt):
    labelled_missing = fmt in ("sav", "dta")
    columns = []  # (index, key parts, in place?) of the columns a reason may explain
    out_vars = []
    for i, var in enumerate(export.vars):
        parts = _wide_parts(var)
        if parts is None:
            out_vars.append(var)
            continue
        in_place = labelled_missing and var.type == NUMERIC
        columns.append((i, parts, in_place))
        if in_place:
            out_vars.append(_labelled(var))
        else:
            out_vars.extend([var, _reason_var(var)])

    def rows() -> Iterator[list]:
        found = reasons_of(trial)  # read when the rows are, not for the codebook alone
        for row in export.rows():
            study_id = row[0]
            extra = {}
            for i, (tp_code, instrument, week, key), in_place in columns:
                code = _code(found.get(_key(study_id, tp_code, instrument, week)), key, level)
                if in_place:
                    if code is not None and row[i] is None:
                        row[i] = code
                else:
                    extra[i] = code if row[i] is None else None
            if not extra:
                yield row
                continue
            out = []
            for i, value in enumerate(row):
                out.append(value)
                if i in extra:
                    out.append(extra[i])
            yield out

    return Export(out_vars, rows, export.total)


def _wide_parts(var):
    """(timepoint code, instrument, week, item id or score name) of a wide column."""
    if not (var.instrument and var.timepoint):
        return None
    name, week = var.name, None
    head = var.instrument + "_"
    if not name.startswith(head):
        return None
    tail = "_" + tp_suffix(var.timepoint)
    if name.endswith(tail):
        key = name[len(head) : -len(tail)]
    elif len(name) > 4 and name[-4:-2] == "_w" and name[-2:].isdigit():
        key, week = name[len(head) : -4], int(name[-2:])
    else:
        return None
    return var.timepoint, var.instrument, week, key


def _long(export, trial, level, fmt):
    from .exports import instrument_vars

    numeric: dict[str, set[str]] = {}

    def is_numeric(instrument: str, variable: str) -> bool:
        if instrument not in numeric:
            found_vars = instrument_vars(instrument, level)
            numeric[instrument] = {v.name for v in found_vars if v.type == NUMERIC}
        return variable in numeric[instrument]

    names = [v.name for v in export.vars]
    at = {n: names.index(n) for n in ("timepoint", "week", "instrument", "variable", "value")}
    labelled_missing = fmt in ("sav", "dta")
    value_var = export.vars[at["value"]]
    out_vars = list(export.vars)
    if labelled_missing:
        out_vars[at["value"]] = _labelled(value_var)
    out_vars.append(_reason_var(value_var))

    def rows() -> Iterator[list]:
        found = reasons_of(trial)
        for row in export.rows():
            instrument = row[at["instrument"]]
            key = row[at["variable"]][len(instrument) + 1 :]
            hit = found.get(_key(row[0], row[at["timepoint"]], instrument, row[at["week"]]))
            code = _code(hit, key, level)
            value = row[at["value"]]
            text = row[at["value"] + 1]
            if code is not None and (value is not None or text not in (None, "")):
                code = None  # a value was given after all: it wins
            variable = row[at["variable"]]
            if code is not None and labelled_missing and is_numeric(instrument, variable):
                row[at["value"]] = code
            yield [*row, code]

    return Export(out_vars, rows, export.total)


# --- writing SPSS and Stata ---------------------------------------------------------


def readstat_options(export, df, fmt: str) -> dict:
    """Extra keyword arguments of pyreadstat's writer for the columns carrying reason codes
    (after :func:`with_reasons`); for Stata the codes in ``df`` become their letters."""
    carrying = [v.name for v in export.vars if v.type == NUMERIC and carries_codes(v)]
    if not carrying:
        return {}
    if fmt == "sav":
        span = {"lo": float(min(REASON_LABELS)), "hi": float(max(REASON_LABELS))}
        return {"missing_ranges": {name: [span] for name in carrying}}
    letters = {float(code): letter for code, letter in STATA_MISSING.items()}
    for name in carrying:
        df[name] = df[name].map(lambda x: letters.get(x, x)).astype(object)
    return {"missing_user_values": {name: sorted(STATA_MISSING.values()) for name in carrying}}


def carries_codes(var) -> bool:
    """True for a column holding reason codes in place of values (not a ``_reason`` column,
    whose name Stata's 32 characters may have cut, so it is known by its rule)."""
    return var.rule != RULE and set(REASON_LABELS) <= set(var.labels)


def readstat_value_labels(export, fmt: str) -> dict:
    """Variable name -> value labels for pyreadstat: numeric columns, and text columns
    in SPSS (Stata labels numbers only). pyreadstat names a Stata label set
    ``<variable><n>`` (n counting the label sets) and Stata allows 32 characters: a column
    whose set name would be longer is left out here (:func:`long_named_labels`)."""
    out = {}
    for v in export.vars:
        if not v.labels or v.type == DATE or (v.type == STRING and fmt != "sav"):
            continue
        if v.type == STRING:
            out[v.name] = {str(k): str(label) for k, label in v.labels.items()}
        elif not (fmt == "dta" and len(v.name) + len(str(len(out))) > 32):
            out[v.name] = value_labels_for(v, fmt)
    return out


def long_named_labels(export, fmt: str) -> dict:
    """The Stata columns :func:`readstat_value_labels` leaves out for their names' length,
    with their labels: the streamed writer gives their label sets short names of its own."""
    if fmt != "dta":
        return {}
    kept = readstat_value_labels(export, fmt)
    return {
        v.name: value_labels_for(v, fmt)
        for v in export.vars
        if v.type == NUMERIC and v.labels and v.name not in kept
    }


def value_labels_for(var, fmt: str) -> dict:
    """A numeric var's value labels as pyreadstat writes them (reason codes as letters for
    Stata)."""
    out = {}
    letters = fmt == "dta" and carries_codes(var)
    for k, label in var.labels.items():
        if letters and k in STATA_MISSING:
            out[STATA_MISSING[k]] = str(label)
        else:
            out[float(k)] = str(label)
    return out
