"""The long and wide shapes as rows built in Python from two ordered ``.iterator()``
streams (participants, their responses): every database. On PostgreSQL the CSV files are
shaped in SQL instead (:mod:`analysis.exports.pg`), to the same bytes."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from zoneinfo import ZoneInfo

from enrolment.models import Participant, Trial
from questionnaires.instruments import get
from questionnaires.models import Response

from ..varnames import NUMERIC, STRING, Export, Var, tp_suffix
from .columns import (
    MODE_LABELS,
    _value,
    baseline_risk,
    instrument_vars,
    participant_columns,
    participant_timepoints,
    weekly_timepoints,
)

CHUNK = 2000


def participant_rows(trial: Trial) -> Iterator[dict]:
    """The trial's participants in id order, with what their columns read."""
    qs = (
        Participant.objects.filter(trial=trial)
        .annotate(risk=baseline_risk(trial)[1])
        .order_by("id")
        .values(
            "id",
            "study_id",
            "clinic__code",
            "clinic__cluster__allocation_order",
            "condition",
            "enrolled_on",
            "crossover_washout",
            "status",
            "withdrawn_on",
            "died_on",
            "risk",
            "personal_details__date_of_birth",  # for the age only; never written
            "protocol_version__number",
        )
    )
    yield from qs.iterator(chunk_size=CHUNK)


def _responses(trial: Trial, timepoints, source: str) -> Iterator[tuple]:
    """(participant, timepoint, instrument, version, ``source`` JSON, mode, completed, week)
    of the exported responses, in the order of the rows (``id`` breaks no tie the unique
    constraints leave, but makes the order explicit). Only the JSON used is read."""
    qs = (
        Response.objects.filter(
            participant__trial=trial,
            timepoint__in=timepoints,
            entry=Response.FINAL,
            completed_at__isnull=False,
        )
        .order_by("participant_id", "timepoint_id", "instrument", "week", "id")
        .values_list(
            "participant_id",
            "timepoint_id",
            "instrument",
            "version",
            source,
            "mode",
            "completed_at",
            "week",
        )
    )
    yield from qs.iterator(chunk_size=CHUNK)


def _joined(trial: Trial, timepoints, source: str) -> Iterator[tuple[dict, list[tuple]]]:
    """(participant, their responses) for every participant, merging two ordered streams."""
    groups = itertools.groupby(_responses(trial, timepoints, source), key=lambda r: r[0])
    pending = next(groups, None)
    for p in participant_rows(trial):
        mine: list[tuple] = []
        while pending is not None and pending[0] <= p["id"]:
            if pending[0] == p["id"]:
                mine = list(pending[1])
            else:
                for _ in pending[1]:  # responses of another trial's participant: none
                    pass
            pending = next(groups, None)
        yield p, mine


def _source(level: str) -> str:
    return "scores" if level == "score" else "answers"


def long_columns(trial: Trial, level: str, blinded: bool):
    """(participant columns, every column's var, instrument code -> its vars)."""
    tps = participant_timepoints(trial)
    pcols = participant_columns(trial, blinded)
    variables = {}
    for t in tps:
        for code in t.instruments:
            variables.setdefault(code, instrument_vars(code, level, trial))
    all_vars = [v for vs in variables.values() for v in vs]
    cols = [c.var for c in pcols] + [
        Var("timepoint", "Timepoint code", STRING, labels={t.code: t.label for t in tps}),
        Var("days_from_baseline", "Days from enrolment to completion", NUMERIC),
        Var("week", "Week since baseline (weekly SMS tracking; empty otherwise)", NUMERIC),
        Var("entry_mode", "How the response was entered", STRING, labels=MODE_LABELS),
        Var("instrument", "Instrument code", STRING, labels={c: get(c).name for c in variables}),
        Var("version", "Instrument version", NUMERIC),
        Var(
            "variable",
            "Variable (<instrument>_<score or item>)",
            STRING,
            labels={v.name: v.label for v in all_vars},
        ),
        Var("value", "Numeric value (see the variable's codebook entry)", NUMERIC),
        Var("value_text", "Text value (EQ-5D profile, dates, multiple choices)", STRING),
    ]
    return pcols, cols, variables


def long_export(trial: Trial, level: str = "score", blinded: bool = False) -> Export:
    tps = participant_timepoints(trial)
    by_id = {t.id: t for t in tps}
    pcols, cols, variables = long_columns(trial, level, blinded)
    tz = ZoneInfo(trial.time_zone)

    def rows():
        for p, responses in _joined(trial, tps, _source(level)):
            head = [c.get(p) for c in pcols]
            for _pid, tp_id, code, version, source, mode, completed, week in responses:
                days = (completed.astimezone(tz).date() - p["enrolled_on"]).days
                prefix = len(code) + 1
                for var in variables.get(code) or instrument_vars(code, level, trial):
                    value = _value(var, level, source or {}, var.name[prefix:])
                    numeric = var.type == NUMERIC
                    yield [
                        *head,
                        by_id[tp_id].code,
                        days,
                        week,
                        mode,
                        code,
                        version,
                        var.name,
                        value if numeric else None,
                        None if numeric else value,
                    ]

    return Export(cols, rows, Participant.objects.filter(trial=trial).count())


def _tp_var(v: Var, name: str, label: str, code: str) -> Var:
    return Var(name, label, v.type, v.labels, v.allowed, v.instrument, v.version, v.rule, code)


def wide_columns(trial: Trial, level: str, blinded: bool):
    """(participant columns, every column's var, layout): the layout lists (timepoint id,
    instrument code, week, var) of the instrument columns in column order."""
    tps = participant_timepoints(trial)
    pcols = participant_columns(trial, blinded)
    cols = [c.var for c in pcols]
    layout = []
    weekly = weekly_timepoints(trial)
    for t in tps:
        s = tp_suffix(t.code)
        if t.id in weekly:
            # One column per week and variable: sms_tracking_pain_w01 ...
            for week in range(1, weekly[t.id] + 1):
                for code in t.instruments:
                    for v in instrument_vars(code, level, trial):
                        name = f"{v.name}_w{week:02d}"  # <= 32 characters for Stata
                        cols.append(_tp_var(v, name, f"{v.label} ({t.label}, week {week})", t.code))
                        layout.append((t.id, code, week, v))
            continue
        cols.append(
            Var(f"days_from_baseline_{s}", f"Days from enrolment, {t.label}", NUMERIC,
                timepoint=t.code)
        )
        cols.append(
            Var(f"entry_mode_{s}", f"How entered, {t.label}", STRING, labels=MODE_LABELS,
                timepoint=t.code)
        )
        for code in t.instruments:
            for v in instrument_vars(code, level, trial):
                cols.append(_tp_var(v, f"{v.name}_{s}", f"{v.label} ({t.label})", t.code))
                layout.append((t.id, code, None, v))
    return pcols, cols, layout


def wide_export(trial: Trial, level: str = "score", blinded: bool = False) -> Export:
    tps = participant_timepoints(trial)
    pcols, cols, layout = wide_columns(trial, level, blinded)
    weekly = weekly_timepoints(trial)
    tp_index = {t.id: i for i, t in enumerate(tps)}
    tz = ZoneInfo(trial.time_zone)

    def rows():
        for p, responses in _joined(trial, tps, _source(level)):
            by_key = {(r[1], r[2], r[7]): r for r in responses}
            per_tp: list[list] = [[None, None] for _ in tps]
            for r in sorted(responses, key=lambda r: r[6], reverse=True):
                # the earliest completed response of a timepoint gives its days and mode
                per_tp[tp_index[r[1]]] = [
                    (r[6].astimezone(tz).date() - p["enrolled_on"]).days,
                    r[5],
                ]
            row = [c.get(p) for c in pcols]
            pos = 0
            for t in tps:
                if t.id not in weekly:
                    row.extend(per_tp[tp_index[t.id]])
                while pos < len(layout) and layout[pos][0] == t.id:
                    _tp, code, week, var = layout[pos]
                    r = by_key.get((t.id, code, week))
                    source = r[4] if r else {}
                    row.append(_value(var, level, source or {}, var.name[len(code) + 1 :]))
                    pos += 1
            yield row

    return Export(cols, rows, Participant.objects.filter(trial=trial).count())
