"""A clinic's recruitment week by week: what a clinic manager sees, in the site and in the
weekly email. Counts only (screened, enrolled, follow-up contacts whose window closed and
how many of them were answered): no study ID, no participant, no allocation.

:func:`clinic_weeks` is the pure part, tested with plain rows; :func:`clinic_recruitment`
counts in the database (four queries whatever the number of participants) for
the clinics it is given. Which clinics a user may see is decided by the caller's
queryset (:func:`enrolment.permissions.recruitment_clinic_filter`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, timedelta

from django.db.models import Count, Q

from .pure import _n, week_start

COUNTS = ("screened", "enrolled", "due", "completed")


def clinic_weeks(
    clinics: Iterable[Mapping], weeks: list[date], rows: Mapping[str, Iterable[Mapping]]
) -> list[dict]:
    """Per clinic (dicts with ``code`` and ``name``) and week (Mondays): ``screened``,
    ``enrolled``, ``due`` (follow-up contacts whose window closed that week) and
    ``completed`` (of those, answered), with totals over the weeks shown and
    ``enrolled_all`` / ``screened_all`` since the start.

    ``rows``: per count name, dicts with ``clinic`` (code), ``day`` and ``n``."""
    week_ix = {w: i for i, w in enumerate(weeks)}
    out: dict[str, dict] = {}
    for c in clinics:
        out[c["code"]] = {
            "code": c["code"],
            "name": c["name"],
            "weeks": [{"week": w, **dict.fromkeys(COUNTS, 0)} for w in weeks],
            **dict.fromkeys(COUNTS, 0),
            "screened_all": 0,
            "enrolled_all": 0,
        }
    for name in COUNTS:
        for r in rows.get(name, ()):
            clinic = out.get(r["clinic"])
            if clinic is None:
                continue
            n = _n(r)
            if name in ("screened", "enrolled"):
                clinic[f"{name}_all"] += n
            i = week_ix.get(week_start(r["day"]))
            if i is not None:
                clinic["weeks"][i][name] += n
                clinic[name] += n
    for clinic in out.values():
        for cell in (*clinic["weeks"], clinic):
            cell["rate"] = cell["completed"] / cell["due"] if cell["due"] else None
    return list(out.values())


def weeks_up_to(today: date, n_weeks: int) -> list[date]:
    """The Mondays of the last ``n_weeks`` weeks, this week last."""
    return [week_start(today) - timedelta(weeks=k) for k in range(n_weeks - 1, -1, -1)]


def _grouped(qs, clinic: str, day: str, **counts) -> list[dict]:
    rows = qs.values(clinic, day).annotate(**counts).order_by()
    return [{"clinic": r[clinic], "day": r[day], **{k: r[k] for k in counts}} for r in rows]


def clinic_recruitment(trial, clinics, today: date, n_weeks: int = 8) -> list[dict]:
    """:func:`clinic_weeks` of ``clinics`` (a queryset of ``trial``'s clinics)."""
    from enrolment.models import Participant, ScreeningRecord, Timepoint
    from followup.models import Contact

    weeks = weeks_up_to(today, n_weeks)
    clinics = list(
        clinics.order_by("cluster__allocation_order", "code").values("pk", "code", "name")
    )
    ids = [c["pk"] for c in clinics]
    screened = ScreeningRecord.objects.filter(
        trial=trial, clinic_id__in=ids, screened_on__lte=today
    )
    enrolled = Participant.objects.filter(trial=trial, clinic_id__in=ids, enrolled_on__lte=today)
    closed = Contact.objects.filter(
        participant__trial=trial,
        participant__clinic_id__in=ids,
        timepoint__respondent=Timepoint.PATIENT,
        window_closes__gte=weeks[0],
        window_closes__lt=today,
    ).exclude(status=Contact.CANCELLED)
    followup = _grouped(
        closed,
        "participant__clinic__code",
        "window_closes",
        n=Count("id"),
        completed=Count("id", filter=Q(status=Contact.COMPLETED)),
    )
    return clinic_weeks(
        clinics,
        weeks,
        {
            "screened": _grouped(screened, "clinic__code", "screened_on", n=Count("id")),
            "enrolled": _grouped(enrolled, "clinic__code", "enrolled_on", n=Count("id")),
            "due": followup,
            "completed": [{**r, "n": r["completed"]} for r in followup],
        },
    )
