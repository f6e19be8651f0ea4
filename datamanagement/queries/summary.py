"""Reading queries: the list's filters and counts, open queries per clinic and their
median age. Plain functions over querysets already limited to what the user may see."""

from __future__ import annotations

import statistics
from datetime import timedelta

from django.db.models import Count
from django.utils import timezone

from .models import Query

# Age of a query since it was raised: the list's filter.
AGES = {
    "week": (None, 7),
    "month": (7, 30),
    "older": (30, None),
}


def filtered(queries, params: dict):
    """``queries`` narrowed by the list's filters (state, clinic, instrument, age, raised
    by: a username, or "checks" for the edit checks' own)."""
    if params.get("state"):
        queries = queries.filter(state=params["state"])
    if params.get("clinic"):
        queries = queries.filter(participant__clinic__code=params["clinic"])
    if params.get("instrument"):
        queries = queries.filter(instrument=params["instrument"])
    if params.get("raised_by") == "checks":
        queries = queries.exclude(check_code="")
    elif params.get("raised_by"):
        queries = queries.filter(raised_by__username=params["raised_by"])
    if params.get("age") in AGES:
        now = timezone.now()
        low, high = AGES[params["age"]]
        if low is not None:
            queries = queries.filter(raised_at__lte=now - timedelta(days=low))
        if high is not None:
            queries = queries.filter(raised_at__gt=now - timedelta(days=high))
    return queries


def counts_by_state(queries) -> dict[str, int]:
    counts = dict(queries.order_by().values_list("state").annotate(n=Count("pk")))
    return {code: counts.get(code, 0) for code, _label in Query.STATES}


def open_by_clinic(queries, now=None) -> list[dict]:
    """Per clinic: unresolved queries (open, answered, re-opened) and their median age in
    days, oldest first."""
    now = now or timezone.now()
    rows = (
        queries.filter(state__in=Query.UNRESOLVED)
        .order_by()
        .values_list("participant__clinic__code", "participant__clinic__name", "raised_at")
    )
    ages: dict[tuple, list[float]] = {}
    for code, name, raised in rows:
        ages.setdefault((code, name), []).append((now - raised).total_seconds() / 86400)
    out = [
        {
            "code": code,
            "name": name,
            "open": len(days),
            "median_days": round(statistics.median(days), 1),
        }
        for (code, name), days in ages.items()
    ]
    return sorted(out, key=lambda r: (-r["median_days"], r["code"]))
