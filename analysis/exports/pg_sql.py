"""The SQL of the exports shaped in PostgreSQL (:mod:`analysis.exports.pg` runs it): each
value written as Python writes it (the JSON field of the exported level only, numbers as
``repr`` of the float, booleans ``True``/``False``, a list of codes joined by ``;``), the
reason for a missing value beside it, and :func:`long_sql` and :func:`wide_sql`, which
return the query and its columns, the wide one a generated pivot with a ``_reason``
column after each instrument column.
"""

from __future__ import annotations

from enrolment.models import Clinic, Cluster, Participant, PersonalDetails, Timepoint, Trial
from enrolment.models.versions import ProtocolVersion
from questionnaires.instruments import codes as instrument_codes
from questionnaires.models import Response

from .. import missing_export
from ..varnames import NUMERIC, Var
from .columns import (
    baseline_risk,
    instrument_vars,
    participant_columns,
    participant_timepoints,
    sql_text,
    weekly_timepoints,
)
from .stream import long_columns, wide_columns

FINAL = Response.FINAL


# --- values as Python writes them ----------------------------------------------------


def _number(t: str) -> str:
    """The text of a jsonb number as Python's repr of the float it was written from."""
    sign = f"CASE WHEN left({t}, 1) = '-' THEN '-' ELSE '' END"
    frac = f"substr(ltrim({t}, '-'), 3)"
    digits = f"ltrim({frac}, '0')"
    sci = (
        f"{sign} || left({digits}, 1) || CASE WHEN length({digits}) > 1 THEN '.' || "
        f"substr({digits}, 2) ELSE '' END || 'e-' || "
        f"lpad((length({frac}) - length({digits}) + 1)::text, 2, '0')"
    )
    return f"CASE WHEN {t} LIKE '0.0000%' OR {t} LIKE '-0.0000%' THEN {sci} ELSE {t} END"


def _scalar(j: str, empty_is_null: bool, kind: str = "", text: str = "") -> str:
    j = f"({j})"
    kind = kind or f"jsonb_typeof({j})"
    text = text or f"({j} #>> '{{}}')"
    string = f"NULLIF({text}, '')" if empty_is_null else text
    return (
        f"CASE {kind} WHEN 'number' THEN {_number(text)} "
        f"WHEN 'string' THEN {string} "
        f"WHEN 'boolean' THEN CASE WHEN {j} = 'true' THEN 'True' ELSE 'False' END "
        f"WHEN 'null' THEN {'NULL' if empty_is_null else chr(39) + 'None' + chr(39)} "
        f"ELSE replace({j}::text, '\"', '''') END"
    )


def value(j: str, kind: str = "", text: str = "") -> str:
    """SQL text of the jsonb ``j`` as :func:`analysis.exports.columns._value` gives it
    (NULL for none; '' only for a list of one empty string). ``kind`` and ``text``: SQL
    of ``j``'s type and text where a query has them already (:func:`each_value`)."""
    j = f"({j})"
    joined = (
        f"(SELECT string_agg({_scalar('a.x', False)}, ';' ORDER BY a.n)"
        f" FROM jsonb_array_elements({j}) WITH ORDINALITY a(x, n))"
    )
    return (
        f"CASE WHEN {kind or f'jsonb_typeof({j})'} = 'array' THEN CASE WHEN {j} = '[]' "
        f"THEN NULL ELSE {joined} END ELSE {_scalar(j, True, kind, text)} END"
    )


def each_value(j: str) -> tuple[str, str]:
    """(a ``CROSS JOIN LATERAL`` naming the jsonb ``j``'s type ``x.kind`` and text ``x.txt``
    once, SQL of its text as :func:`value` gives it from those): PostgreSQL evaluates a
    repeated expression every time it is written, and :func:`value` writes the type and
    the text of its value five times; over the wide pivot's 5 million answers that was a
    fifth of the export."""
    join = f" CROSS JOIN LATERAL (SELECT jsonb_typeof({j}) AS kind, {j} #>> '{{}}' AS txt) x"
    return join, value(j, "x.kind", "x.txt")


# What an object's text (jsonb writes numbers out in full) holds when a value's text
# is not :func:`value`'s: a boolean, a list, an object, an empty string, a non-zero
# number below 1e-4 in size. A string may match too: it is then only taken apart.
_REWRITTEN = r'\[|.\{|""|true|false|0\.0000'


def as_written(obj: str) -> str:
    """SQL of the jsonb object ``obj`` whose values' texts (``->>``) are :func:`value`'s of
    them (NULL when ``obj`` is no object). Most objects hold only values jsonb writes as
    Python does (non-empty strings, numbers, null) and are taken as they are; taking
    every value apart was two thirds of the wide export at score level."""
    each, text = each_value("f.value")
    rewritten = f"(SELECT jsonb_object_agg(f.key, to_jsonb({text})) FROM jsonb_each({obj}) f{each})"
    return (
        f"CASE WHEN jsonb_typeof({obj}) <> 'object' THEN NULL"
        f" WHEN {obj}::text ~ {sql_text(_REWRITTEN)} THEN {rewritten} ELSE {obj} END"
    )


def _reason_source(level: str) -> tuple[str, str]:
    """(SQL of a response's reason JSON, condition for a response having one): item level
    the item -> code object, score level the code of a questionnaire marked not done."""
    has = "jsonb_typeof(r.missing) = 'object' AND r.missing <> '{}'"
    if level == "item":
        return "r.missing", has
    first = "(SELECT m1.value FROM jsonb_each(r.missing) m1 LIMIT 1)"
    return first, f"r.not_done AND {has}"


# --- the participants ------------------------------------------------------------------


def _participants(trial: Trial, blinded: bool) -> tuple[str, int]:
    """A subquery of the trial's participants (``id``, ``enrolled_on``, ``c0``..) in id
    order, and the number of participant columns."""
    cols = participant_columns(trial, blinded)
    risk_sql = baseline_risk(trial)[2]
    select = ", ".join(f"{c.sql} AS c{i}" for i, c in enumerate(cols))
    sql = (
        f"SELECT p.id, p.enrolled_on, {select}"
        f" FROM {Participant._meta.db_table} p"
        f" LEFT JOIN {Clinic._meta.db_table} c ON c.id = p.clinic_id"
        f" LEFT JOIN {Cluster._meta.db_table} k ON k.id = c.cluster_id"
        f" LEFT JOIN {PersonalDetails._meta.db_table} d ON d.participant_id = p.id"
        f" LEFT JOIN {ProtocolVersion._meta.db_table} pv ON pv.id = p.protocol_version_id"
        f" LEFT JOIN LATERAL ({risk_sql}) rk ON true"
        f" WHERE p.trial_id = {int(trial.pk)} ORDER BY p.id OFFSET 0"
    )
    return sql, len(cols)


def _days(tz: str) -> str:
    return f"((r.completed_at AT TIME ZONE {sql_text(tz)})::date - pp.enrolled_on)"


def _responses_where(tps) -> str:
    ids = ", ".join(str(int(t.pk)) for t in tps) or "NULL"
    return (
        f"r.entry = {FINAL} AND r.completed_at IS NOT NULL AND r.timepoint_id IN ({ids})"
    )


# --- long --------------------------------------------------------------------------------


def _text(expr: str, empty: bool) -> str:
    """A text column of the file: '' as written (``empty``, Parquet keeps "" apart from
    null) or as NULL (CSV writes both alike; PostgreSQL would quote the '')."""
    return expr if empty else f"NULLIF({expr}, '')"


def long_sql(trial: Trial, level: str, blinded: bool, empty: bool = False
             ) -> tuple[str, list[Var]]:
    tps = participant_timepoints(trial)
    _pcols, cols, variables = long_columns(trial, level, blinded)
    for code in sorted(instrument_codes() - set(variables)):
        variables[code] = instrument_vars(code, level, trial)
    values = ", ".join(
        f"({sql_text(code)}, {sql_text(v.name)}, {sql_text(v.name[len(code) + 1 :])}, "
        f"{'true' if v.type == NUMERIC else 'false'}, {n})"
        for code, vs in variables.items()
        for n, v in enumerate(vs)
    )
    people, n = _participants(trial, blinded)
    source = "scores" if level == "score" else "answers"
    reason, has_reason = _reason_source(level)
    reason_cell = "r.missing -> v.key" if level == "item" else reason
    inner = (
        f"SELECT {', '.join(f'pp.c{i}' for i in range(n))}, t.code AS tp,"
        f" {_days(trial.time_zone)} AS days, r.week, r.mode, r.instrument, r.version,"
        f" v.name, v.numeric, {value(f'r.{source} -> v.key')} AS val,"
        f" CASE WHEN {has_reason} THEN {reason_cell} END AS why"
        f" FROM ({people}) pp"
        f" JOIN {Response._meta.db_table} r ON r.participant_id = pp.id"
        f" JOIN {Timepoint._meta.db_table} t ON t.id = r.timepoint_id"
        f" JOIN (VALUES {values}) v(instrument, name, key, numeric, n)"
        f" ON v.instrument = r.instrument"
        f" WHERE {_responses_where(tps)}"
        f" ORDER BY pp.id, r.timepoint_id, r.instrument, r.week, r.id, v.n OFFSET 0"
    )
    heads = ", ".join(_text(f"x.c{i}::text", empty) for i in range(n))
    sql = (
        f"SELECT {heads}, x.tp, x.days, x.week, {_text('x.mode', empty)}, x.instrument,"
        f" x.version, x.name, CASE WHEN x.numeric THEN {_text('x.val', empty)} END,"
        f" CASE WHEN NOT x.numeric THEN {_text('x.val', empty)} END,"
        " CASE WHEN x.val IS NULL OR (NOT x.numeric AND x.val = '') THEN"
        f" {value('x.why')} END"
        f" FROM ({inner}) x"
    )
    return sql, cols


# --- wide --------------------------------------------------------------------------------


def _slot(tp_id: int, code: str, week: int | None) -> str:
    return f"{tp_id}/{code}/{'' if week is None else week}"


def wide_sql(trial: Trial, level: str, blinded: bool, empty: bool = False
             ) -> tuple[str, list[Var]]:
    tps = participant_timepoints(trial)
    _pcols, cols, layout = wide_columns(trial, level, blinded)
    weekly = weekly_timepoints(trial)
    people, n = _participants(trial, blinded)
    source = "scores" if level == "score" else "answers"
    reason, has_reason = _reason_source(level)
    slot = "r.timepoint_id || '/' || r.instrument || '/' || coalesce(r.week::text, '')"
    responses = f"{Response._meta.db_table} r WHERE r.participant_id = pp.id AND " + (
        _responses_where(tps)
    )
    # One pass over a participant's responses: each timepoint's days and mode from its
    # earliest completed response (on a tie the last in row order, as the Python path),
    # each response's values as an object under its slot, which the columns look up.
    firsts = []
    for t in tps:
        if t.id not in weekly:
            of = f"FILTER (WHERE r.timepoint_id = {int(t.id)})"
            firsts += [
                f"min(r.completed_at) {of} AS d{t.id}",
                f"(array_agg(r.mode ORDER BY r.completed_at, r.instrument DESC, r.week DESC,"
                f" r.id DESC) {of})[1] AS m{t.id}",
            ]
    aggregates = [*firsts, f"jsonb_object_agg({slot}, {as_written(f'r.{source}')}) AS txt"]
    if level == "score":
        aggregates.append(
            f"jsonb_object_agg({slot}, {value(reason)}) FILTER (WHERE {has_reason}) AS why"
        )
    laterals = f" LEFT JOIN LATERAL (SELECT {', '.join(aggregates)} FROM {responses}) a ON true"
    if level == "item":
        whys = (
            f"SELECT jsonb_object_agg({slot}, (SELECT jsonb_object_agg(m.key, {value('m.value')})"
            f" FROM jsonb_each(r.missing) m)) AS why FROM {responses} AND {has_reason}"
        )
        laterals += f" LEFT JOIN LATERAL ({whys}) w ON true"
    cells, out = [], [_text(f"y.c{i}::text", empty) for i in range(n)]
    pos = 0
    for t in tps:
        if t.id not in weekly:
            day = f"(a.d{t.id} AT TIME ZONE {sql_text(trial.time_zone)})::date - pp.enrolled_on"
            cells += [f"({day})::text", f"a.m{t.id}"]
            out += [f"y.e{len(cells) - 2}", _text(f"y.e{len(cells) - 1}", empty)]
        while pos < len(layout) and layout[pos][0] == t.id:
            _tp, code, week, var = layout[pos]
            slot_key = sql_text(_slot(t.id, code, week))
            key = sql_text(var.name[len(code) + 1 :])
            why = f"w.why -> {slot_key} ->> {key}" if level == "item" else f"a.why ->> {slot_key}"
            cells += [f"a.txt -> {slot_key} ->> {key}", why]
            i = len(cells) - 2
            out.append(_text(f"y.e{i}", empty))
            out.append(f"CASE WHEN y.e{i} IS NULL THEN y.e{i + 1} END")
            pos += 1
    inner = (
        f"SELECT pp.*{''.join(f', {c} AS e{i}' for i, c in enumerate(cells))}"
        f" FROM ({people}) pp{laterals} ORDER BY pp.id OFFSET 0"
    )
    sql = f"SELECT {', '.join(out)} FROM ({inner}) y"
    return sql, _with_reason_columns(cols)


def _with_reason_columns(cols: list[Var]) -> list[Var]:
    """The wide CSV's columns: a ``_reason`` column after each instrument column (as
    :func:`analysis.missing_export.with_reasons` adds them for CSV)."""
    out = []
    for var in cols:
        out.append(var)
        if missing_export._wide_parts(var) is not None:
            out.append(missing_export._reason_var(var))
    return out
