"""Monitoring numbers as pure functions of plain rows (dicts), tested with plain data:
recruitment, the dog-leg schedule, follow-up and SMS rates, missing items, answers out of
window, deviations. The database side that feeds them is :mod:`.queries`.

A row may stand for a group of records: its ``n`` (default 1) says how many.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from followup.schedule import add_months, offset_date

# Contact statuses of followup.models.Contact ("sent" accepted as an alias of invited).
OPEN_STATUSES = ("scheduled", "invited", "sent")


def _n(row: Mapping) -> int:
    return int(row.get("n", 1))


def month_start(day: date) -> date:
    return day.replace(day=1)


def week_start(day: date) -> date:
    """The Monday of ``day``'s ISO week."""
    return day - timedelta(days=day.weekday())


def month_range(first: date, last: date) -> list[date]:
    """First days of every month from ``first``'s month to ``last``'s, inclusive."""
    months, m = [], month_start(first)
    while m <= last:
        months.append(m)
        m = add_months(m, 1)
    return months


# --- recruitment ---------------------------------------------------------------------


@dataclass
class Recruitment:
    months: list[date]
    weeks: list[date]
    clusters: list[dict]  # code, name, months [n...], weeks [n...], total, flags [...]
    clinics: list[dict]  # cluster, code, name, months [n...], weeks [n...], total
    totals: list[int]  # per month, all clusters
    cumulative: list[int]
    # target per cluster-month x clusters, month by month, up to the sample size
    planned_cumulative: list[int]
    target: int | None
    ceiling: int | None
    sample_size: int | None

    @property
    def total(self) -> int:
        return sum(self.totals)


def recruitment(
    rows: Iterable[Mapping],
    clusters: list[Mapping],
    *,
    months: list[date],
    weeks: list[date],
    today: date,
    target: int | None = None,
    ceiling: int | None = None,
    sample_size: int | None = None,
) -> Recruitment:
    """Enrolments per cluster and clinic per month and per week.

    ``rows``: dicts with ``clinic`` (code), ``day`` (enrolment date) and ``n``.
    ``clusters``: dicts with ``code``, ``name`` and ``clinics`` (dicts with code, name).
    A completed month below ``target`` is flagged "below"; any month above ``ceiling``
    is flagged "above" (BetterBack: 14 per cluster-month balanced, at most 20).
    """
    month_ix = {m: i for i, m in enumerate(months)}
    week_ix = {w: i for i, w in enumerate(weeks)}
    by_clinic: dict[str, dict] = {}
    out_clusters, out_clinics = [], []
    for cl in clusters:
        crow = {
            "code": cl["code"],
            "name": cl["name"],
            "months": [0] * len(months),
            "weeks": [0] * len(weeks),
            "total": 0,
        }
        out_clusters.append(crow)
        for c in cl["clinics"]:
            row = {
                "cluster": cl["code"],
                "code": c["code"],
                "name": c["name"],
                "months": [0] * len(months),
                "weeks": [0] * len(weeks),
                "total": 0,
                "_cluster": crow,
            }
            by_clinic[c["code"]] = row
            out_clinics.append(row)
    for r in rows:
        row = by_clinic.get(r["clinic"])
        if row is None:
            continue
        n = _n(r)
        for target_row in (row, row["_cluster"]):
            target_row["total"] += n
            mi = month_ix.get(month_start(r["day"]))
            if mi is not None:
                target_row["months"][mi] += n
            wi = week_ix.get(week_start(r["day"]))
            if wi is not None:
                target_row["weeks"][wi] += n
    for row in out_clinics:
        del row["_cluster"]
    for crow in out_clusters:
        flags = []
        for m, n in zip(months, crow["months"], strict=True):
            complete = add_months(m, 1) <= today
            if ceiling is not None and n > ceiling:
                flags.append("above")
            elif target is not None and complete and n < target:
                flags.append("below")
            else:
                flags.append("")
        crow["flags"] = flags
    totals = [sum(c["months"][i] for c in out_clusters) for i in range(len(months))]
    cumulative, running = [], 0
    for n in totals:
        running += n
        cumulative.append(running)
    planned = [target * len(clusters) * (i + 1) for i in range(len(months))] if target else []
    if sample_size:
        # The plan stops at the sample size: recruitment ends there, whatever months remain.
        planned = [min(p, sample_size) for p in planned]
    return Recruitment(
        months,
        weeks,
        out_clusters,
        out_clinics,
        totals,
        cumulative,
        planned,
        target,
        ceiling,
        sample_size,
    )


def dogleg_schedule(
    clusters: Iterable[Mapping], months: list[date], washout_days: int = 14
) -> list[dict]:
    """The protocol's Table 2: clusters by month, 0 = control, 1 = intervention.

    ``clusters``: dicts with ``code``, ``name``, ``crossover`` (date or None). The month
    in which a cluster crosses over (after the first month shown) is marked; it is
    "crossover" (half and half) unless the crossover is on the first of the month.
    """
    rows = []
    for cl in clusters:
        xo = cl.get("crossover")
        cells = []
        for m in months:
            nxt = add_months(m, 1)
            if xo is None or xo >= nxt:
                state = "control"
            elif xo <= m:
                state = "intervention"
            else:
                state = "crossover"
            marked = xo is not None and m <= xo < nxt and xo > months[0]
            cells.append(
                {
                    "month": m,
                    "state": state,
                    "crossover": marked,
                    "label": {"control": "0", "intervention": "1", "crossover": "0|1"}[state],
                }
            )
        rows.append(
            {
                "code": cl["code"],
                "name": cl["name"],
                "crossover": xo,
                "washout_days": washout_days,
                "cells": cells,
            }
        )
    return rows


# --- follow-up and SMS -----------------------------------------------------------------


def followup_summary(
    contacts: Iterable[Mapping], timepoints: list[str] | None = None
) -> list[dict]:
    """Response rate per timepoint and condition.

    ``contacts``: dicts with ``timepoint``, ``condition``, ``status`` (scheduled, invited
    or sent, completed, missed, cancelled), ``reminders_sent`` and optionally ``overdue``
    (bool, or a count for a group row) and ``n`` (how many contacts the row stands for).
    The response rate is completed / (completed + missed): open and cancelled contacts
    are not counted against it. Overdue = open past its due date.
    """
    cells: dict[tuple[str, str], Counter] = defaultdict(Counter)
    for c in contacts:
        n = _n(c)
        cell = cells[(c["timepoint"], c["condition"])]
        status = c["status"]
        key = "open" if status in OPEN_STATUSES else status
        cell[key] += n
        cell["contacts"] += n
        cell["reminders"] += int(c.get("reminders_sent") or 0)
        cell["overdue"] += int(c.get("overdue") or 0)
    order = {tp: i for i, tp in enumerate(timepoints or [])}
    out = []
    for (tp, cond), cell in sorted(cells.items(), key=lambda kv: (order.get(kv[0][0], 99), kv[0])):
        closed = cell["completed"] + cell["missed"]
        out.append(
            {
                "timepoint": tp,
                "condition": cond,
                "contacts": cell["contacts"],
                "completed": cell["completed"],
                "missed": cell["missed"],
                "open": cell["open"],
                "overdue": cell["overdue"],
                "cancelled": cell["cancelled"],
                "reminders": cell["reminders"],
                "rate": cell["completed"] / closed if closed else None,
            }
        )
    return out


def sms_weekly_rates(rows: Iterable[Mapping]) -> list[dict]:
    """``rows``: one per SMS question sent: ``participant``, ``week``, ``answered``."""
    weeks: dict[int, Counter] = defaultdict(Counter)
    for r in rows:
        weeks[r["week"]]["sent"] += 1
        weeks[r["week"]]["answered"] += bool(r["answered"])
    return [
        {"week": w, "sent": c["sent"], "answered": c["answered"], "rate": c["answered"] / c["sent"]}
        for w, c in sorted(weeks.items())
    ]


def sms_summary(rows: Iterable[Mapping], opted_out: Iterable[str] = (), run: int = 3) -> dict:
    """The SMS section from one row per participant and closed week (the reference the
    database counts of :func:`sms_for` are tested against)."""
    from followup.sms.tracking import missed_in_a_row

    rows = list(rows)
    stopped = set(opted_out)
    return {
        "weeks": sms_weekly_rates(rows),
        # Who asked for no more SMS is counted apart, not as someone to chase.
        "missed_in_a_row": [s for s in missed_in_a_row(rows, run) if s not in stopped],
        "run": run,
        "opt_outs": sorted(stopped),
    }


def missing_item_counts(
    rows: Iterable[Mapping], required: Mapping[tuple[str, int], list[str]]
) -> list[dict]:
    """Per instrument and version: completed final responses, those with a required item
    unanswered, and the number of unanswered required items (in all and per item).

    ``rows``: dicts with ``instrument``, ``version``, ``unanswered`` (the required item
    ids left unanswered) and ``n``; ``required``: item ids by (instrument, version)."""
    cells: dict[tuple[str, int], dict] = {}
    for r in rows:
        n = _n(r)
        cell = cells.setdefault(
            (r["instrument"], r["version"]),
            {"responses": 0, "incomplete": 0, "per_item": Counter()},
        )
        cell["responses"] += n
        if r["unanswered"]:
            cell["incomplete"] += n
        for item in r["unanswered"]:
            cell["per_item"][item] += n
    out = []
    for (code, version), cell in sorted(cells.items()):
        counted = cell["per_item"]
        per_item = {i: counted[i] for i in required.get((code, version), ()) if counted[i]}
        out.append(
            {
                "instrument": code,
                "version": version,
                "responses": cell["responses"],
                "incomplete": cell["incomplete"],
                "missing_items": sum(per_item.values()),
                "per_item": per_item,
            }
        )
    return out


def window_of(enrolled_on: date, tp) -> tuple[date, date]:
    due = offset_date(enrolled_on, tp.offset, tp.unit)
    return due - timedelta(days=tp.window_before_days), due + timedelta(days=tp.window_after_days)


def window_counts(rows: Iterable[Mapping], timepoints: list) -> list[dict]:
    """Responses answered before or after their timepoint's window, per timepoint.

    ``rows``: dicts with ``timepoint`` (code), ``enrolled_on``, ``day`` (the answer's date
    in the trial's time zone) and ``n``; ``timepoints``: objects with code, label, offset,
    unit, window_before_days and window_after_days (the due date is enrolment + offset)."""
    tps = {t.code: t for t in timepoints}
    counts = {
        t.code: {"timepoint": t.code, "label": t.label, "early": 0, "late": 0} for t in tps.values()
    }
    windows: dict = {}  # many rows share an enrolment date: compute each window once
    for r in rows:
        tp = tps.get(r["timepoint"])
        if tp is None:
            continue
        key = (r["enrolled_on"], tp.code)
        if key not in windows:
            windows[key] = window_of(r["enrolled_on"], tp)
        lo, hi = windows[key]
        if r["day"] < lo:
            counts[tp.code]["early"] += _n(r)
        elif r["day"] > hi:
            counts[tp.code]["late"] += _n(r)
    out = list(counts.values())
    for c in out:
        c["total"] = c["early"] + c["late"]
    return out


# --- protocol deviations --------------------------------------------------------------


def deviation_table(rows: Iterable[Mapping], types: list[Mapping], clusters: list[Mapping]) -> dict:
    """Deviations counted per type (rows) and cluster (columns), with totals; every
    declared type and cluster appears, with 0 where nothing was recorded.

    ``rows``: ``type``, ``cluster`` (codes), ``n`` deviations, ``excluding`` of those
    that exclude from per-protocol. ``types``/``clusters``: ``code``, ``label``/``name``."""
    cells: dict[tuple[str, str], int] = Counter()
    excluding: dict[str, int] = Counter()
    for r in rows:
        cells[(r["type"], r["cluster"])] += r["n"]
        excluding[r["type"]] += r["excluding"]
    codes = [c["code"] for c in clusters]
    table = [
        {
            "code": t["code"],
            "label": t["label"],
            "counts": [cells[(t["code"], c)] for c in codes],
            "total": sum(cells[(t["code"], c)] for c in codes),
            "excluding": excluding[t["code"]],
        }
        for t in types
    ]
    return {
        "clusters": clusters,
        "types": table,
        "totals": [sum(row["counts"][i] for row in table) for i in range(len(codes))],
        "total": sum(row["total"] for row in table),
        "excluding": sum(row["excluding"] for row in table),
    }
