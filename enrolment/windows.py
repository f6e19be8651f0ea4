"""A timepoint's window as a database expression: the due date ``add_months(enrolled_on,
months) + days`` computed per row by the database, exactly as
:func:`followup.schedule.offset_date` computes it in Python (tested against it in
tests/analysis/test_monitoring_sql.py). Used by the monitoring's window counts and by
the responses' window flags (questionnaires.flags)."""

from __future__ import annotations

from django.db import NotSupportedError
from django.db.models import DateField, F, Func

__all__ = ["ShiftedDate", "offset_parts", "window_edge"]


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


def offset_parts(offset: int, unit: str) -> tuple[int, int]:
    """(months, days) of a timepoint's offset, read as followup.schedule.offset_date does."""
    if unit == "months":
        return offset, 0
    if unit == "weeks":
        return 0, 7 * offset
    if unit == "days":
        return 0, offset
    raise ValueError(f"unknown unit {unit!r}")


def window_edge(tp, days: int, enrolled_on: str = "participant__enrolled_on") -> ShiftedDate:
    """The due date of ``tp`` moved by ``days``, for each row's enrolment date."""
    months, offset_days = offset_parts(tp.offset, tp.unit)
    return ShiftedDate(F(enrolled_on), months=months, days=offset_days + days)
