"""Data quality: items missing with a reason apart from items missing without one.

:func:`analysis.monitoring.quality.missing_items` counts the required items left unanswered per
instrument; an item with a reason (``Response.missing``, questionnaires.missing) is absent
from the answers and so among them. Here each row is split: ``with_reason`` (items with a
reason code, required or not, and ``by_reason`` per code), ``without_reason`` (required
items unanswered with no reason: the ones to chase) and ``not_done`` (questionnaires
marked not done by staff). One query more, reading only the responses that have a reason.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping

from questionnaires import missing as reasons

from .queries import completed_finals, required_items


def reason_counts(
    rows: Iterable[Mapping], required: Mapping[tuple[str, int], list[str]]
) -> dict[tuple[str, int], dict]:
    """Per (instrument, version): items with a reason, those of them required, per code,
    and questionnaires not done. ``rows``: dicts with ``instrument``, ``version``,
    ``missing`` (item id -> code) and ``not_done``."""
    cells: dict[tuple[str, int], dict] = {}
    for r in rows:
        key = (r["instrument"], r["version"])
        cell = cells.setdefault(
            key,
            {"with_reason": 0, "required_with_reason": 0, "by_reason": Counter(), "not_done": 0},
        )
        needed = set(required.get(key, ()))
        for item, code in (r["missing"] or {}).items():
            if not reasons.is_reason(code):
                continue
            cell["with_reason"] += 1
            cell["by_reason"][code] += 1
            if item in needed:
                cell["required_with_reason"] += 1
        cell["not_done"] += int(bool(r["not_done"]))
    return cells


def split(
    missing_rows: list[dict],
    reason_rows: Iterable[Mapping],
    required: Mapping[tuple[str, int], list[str]],
) -> list[dict]:
    """``missing_rows`` (of :func:`analysis.monitoring.pure.missing_item_counts`) with
    ``with_reason``, ``without_reason``, ``by_reason`` (label -> count) and ``not_done``."""
    cells = reason_counts(reason_rows, required)
    out = []
    for row in missing_rows:
        cell = cells.get((row["instrument"], row["version"]), {})
        by_code = cell.get("by_reason", Counter())
        out.append(
            {
                **row,
                "with_reason": cell.get("with_reason", 0),
                "without_reason": row["missing_items"] - cell.get("required_with_reason", 0),
                "by_reason": {reasons.label(c): by_code[c] for c in reasons.REASONS if by_code[c]},
                "not_done": cell.get("not_done", 0),
            }
        )
    return out


def with_reasons(missing_rows: list[dict], participants) -> list[dict]:
    """:func:`split` of the completed final responses of ``participants``."""
    reason_rows = (
        completed_finals(participants)
        .exclude(missing={})
        .exclude(missing__isnull=True)
        .values("instrument", "version", "missing", "not_done")
    )
    return split(missing_rows, reason_rows, required_items())
