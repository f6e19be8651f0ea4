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
    F,
    Func,
    Q,
    Value,
    When,
)

# The window edges live with the timepoints (the responses' window flags use them too).
from enrolment.windows import ShiftedDate, offset_parts, window_edge  # noqa: F401 (re-exported)

_offset_parts, _window_edge = offset_parts, window_edge


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
