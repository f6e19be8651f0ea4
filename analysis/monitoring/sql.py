"""Database expressions of the monitoring queries, written per database (PostgreSQL and
SQLite), each tested against the pure reference (tests/analysis/test_monitoring_sql.py)."""

from __future__ import annotations

from collections.abc import Mapping
from functools import reduce
from operator import add

from django.db import NotSupportedError
from django.db.models import (
    BigIntegerField,
    BooleanField,
    Case,
    DateField,
    F,
    Func,
    Q,
    Value,
    When,
)


class ShiftedDate(Func):
    """``add_months(date, months) + days`` computed by the database, a month end clamped
    exactly as :func:`followup.schedule.add_months` does (31 Jan + 1 month = 28 Feb).

    PostgreSQL's ``date + interval`` clamps the same way; SQLite's ``date()`` rolls over
    into the next month instead, so there the day is clamped to the month's last day."""

    output_field = DateField()

    def __init__(self, expression, *, months: int = 0, days: int = 0):
        super().__init__(expression)
        self.months, self.days = int(months), int(days)

    def as_postgresql(self, compiler, connection):
        sql, params = compiler.compile(self.source_expressions[0])
        return (
            f"((({sql}) + make_interval(months => %s))::date + %s)",
            (*params, self.months, self.days),
        )

    def as_sqlite(self, compiler, connection):
        sql, params = compiler.compile(self.source_expressions[0])
        same_day = (
            f"date({sql}, 'start of month', %s, "
            f"'+' || (CAST(strftime(%s, {sql}) AS INTEGER) - 1) || ' days')"
        )
        last_day = f"date({sql}, 'start of month', %s, '-1 day')"
        return (
            f"date(min({same_day}, {last_day}), %s)",
            (
                *params,
                f"{self.months:+d} months",
                "%d",
                *params,
                *params,
                f"{self.months + 1:+d} months",
                f"{self.days:+d} days",
            ),
        )

    def as_sql(self, compiler, connection, **extra):
        raise NotSupportedError("ShiftedDate is written for PostgreSQL and SQLite")


def _offset_parts(offset: int, unit: str) -> tuple[int, int]:
    """(months, days) of a timepoint's offset, read as followup.schedule.offset_date does."""
    if unit == "months":
        return offset, 0
    if unit == "weeks":
        return 0, 7 * offset
    if unit == "days":
        return 0, offset
    raise ValueError(f"unknown unit {unit!r}")


def _window_edge(tp, days: int, enrolled_on: str = "participant__enrolled_on") -> ShiftedDate:
    """The due date of ``tp`` moved by ``days``, for each row's enrolment date."""
    months, offset_days = _offset_parts(tp.offset, tp.unit)
    return ShiftedDate(F(enrolled_on), months=months, days=offset_days + days)


class Unanswered(Func):
    """True where the required item ``item_id`` is unanswered: its key absent from the
    answers (the one way to say "missing", questionnaires.services.clean_answers) or JSON
    null (data written by other means). One key lookup per item: ``->>`` on PostgreSQL,
    ``json_extract`` on SQLite both give NULL for either (Django's key transform on
    SQLite gives the text 'null' for a JSON null, hence this expression)."""

    output_field = BooleanField()

    def __init__(self, item_id: str):
        super().__init__(F("answers"))
        self.item_id = item_id

    def as_postgresql(self, compiler, connection):
        sql, params = compiler.compile(self.source_expressions[0])
        return f"(({sql} ->> %s) IS NULL)", (*params, self.item_id)

    def as_sqlite(self, compiler, connection):
        sql, params = compiler.compile(self.source_expressions[0])
        return f"(json_extract({sql}, %s) IS NULL)", (*params, f'$."{self.item_id}"')

    def as_sql(self, compiler, connection, **extra):
        raise NotSupportedError("Unanswered is written for PostgreSQL and SQLite")


MASK_BITS = 62  # required items per bigint mask column


def _unanswered_masks(required: Mapping[tuple[str, int], list[str]]) -> dict[str, Case]:
    """Columns ``mask_<c>``: bit j set when required item ``MASK_BITS * c + j`` of the
    response's instrument version is unanswered. A row evaluates its own instrument's
    items only, and responses group by the pattern of unanswered items."""
    width = max((len(items) for items in required.values()), default=0)
    masks = {}
    for c, start in enumerate(range(0, width, MASK_BITS)):
        whens = []
        for (code, version), items in required.items():
            chunk = items[start : start + MASK_BITS]
            if chunk:
                bits = [
                    Case(When(Unanswered(item), then=Value(1 << j)), default=Value(0))
                    for j, item in enumerate(chunk)
                ]
                whens.append(When(Q(instrument=code, version=version), then=reduce(add, bits)))
        masks[f"mask_{c}"] = Case(*whens, default=Value(0), output_field=BigIntegerField())
    return masks
