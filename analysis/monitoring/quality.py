"""Data quality and protocol deviations, counted by the database for the dashboard and
the weekly email: missing items, answers out of their window, unresolved paper double
entries, CRPE-tools missing at the final visit, deviations per type and cluster."""

from __future__ import annotations

from functools import reduce
from operator import or_
from zoneinfo import ZoneInfo

from django.db.models import Count, Exists, OuterRef, Q
from django.db.models.functions import TruncDate

from enrolment import tags
from questionnaires.flags import MASK_BITS as FLAG_BITS

from .missing import with_reasons
from .pure import deviation_table, missing_item_counts
from .queries import completed_finals, patient_timepoints, required_items, trial_finals
from .sql import MASK_BITS, Unanswered, _unanswered_masks, _window_edge


def missing_items(participants) -> list[dict]:
    """:func:`missing_item_counts` of the completed final responses. One query: the
    responses grouped by instrument, version and pattern of unanswered required items,
    the pattern kept on each response when it is saved (``Response.unanswered``,
    questionnaires.flags) and read from the completed finals' index. Reading the required
    items from every response's JSON instead cost 0.63 s at 100,000 participants (issue
    19); that way stays for a version with more required items than the flag holds."""
    required = required_items()
    if any(len(items) > FLAG_BITS for items in required.values()):
        return missing_items_from_answers(participants, required)
    groups = (
        completed_finals(participants)
        .values("instrument", "version", "unanswered")
        .annotate(n=Count("*"))  # "*", not "id": the index alone answers
        .order_by()
    )
    return _missing_from_flags(groups, required)


def _missing_from_flags(groups, required) -> list[dict]:
    rows = []
    for g in groups:
        items = required.get((g["instrument"], g["version"]), [])
        unanswered = [item for j, item in enumerate(items) if g["unanswered"] >> j & 1]
        rows.append({**g, "unanswered": unanswered})
    return missing_item_counts(rows, required)


def _windows_from_flags(groups, tps) -> list[dict]:
    got: dict[tuple[int, int], int] = {}
    for g in groups:
        key = (g["timepoint_id"], g["outside_window"])
        got[key] = got.get(key, 0) + g["n"]
    rows = []
    for t in tps:
        early, late = got.get((t.pk, -1), 0), got.get((t.pk, 1), 0)
        rows.append(
            {
                "timepoint": t.code,
                "label": t.staff_label,
                "early": early,
                "late": late,
                "total": early + late,
            }
        )
    return rows


def flag_counts(
    trial, participants, whole_trial: bool = False
) -> tuple[list[dict], list[dict], list[tuple] | None]:
    """(:func:`missing_items`, :func:`out_of_window`, forms) from one pass over the
    completed finals grouped by clinic, timepoint and both flags, for the dashboard: each
    alone reads every completed final (issue 19). ``forms``: (clinic id, timepoint id,
    completed finals) of ``participants``, what data management's share verified counts
    of a whole trial (``datamanagement.sdv.services.share_verified``), so that the
    dashboard reads the completed finals once for the three (its own pass cost 0.36 s at
    100,000 participants); None where the flags are read from the answers instead.
    ``whole_trial``: ``participants`` are every participant of ``trial``."""
    required = required_items()
    if any(len(items) > FLAG_BITS for items in required.values()):
        return missing_items(participants), out_of_window(trial, participants), None
    finals = trial_finals(trial) if whole_trial else completed_finals(participants)
    groups = list(
        finals.values(
            "participant__clinic_id",
            "timepoint_id",
            "instrument",
            "version",
            "unanswered",
            "outside_window",
        )
        .annotate(n=Count("*"))
        .order_by()
    )
    forms: dict[tuple[int, int], int] = {}
    for g in groups:
        key = (g["participant__clinic_id"], g["timepoint_id"])
        forms[key] = forms.get(key, 0) + g["n"]
    return (
        _missing_from_flags(groups, required),
        _windows_from_flags(groups, patient_timepoints(trial)),
        [(clinic, tp, n) for (clinic, tp), n in forms.items()],
    )


def missing_items_from_answers(participants, required) -> list[dict]:
    """:func:`missing_items` with the required items read from each response's answers."""
    masks = _unanswered_masks(required)
    groups = (
        completed_finals(participants)
        .annotate(**masks)
        .values("instrument", "version", *masks)
        .annotate(n=Count("id"))
        .order_by()
    )
    rows = []
    for g in groups:
        items = required.get((g["instrument"], g["version"]), [])
        unanswered = [
            item
            for j, item in enumerate(items)
            if g[f"mask_{j // MASK_BITS}"] >> (j % MASK_BITS) & 1
        ]
        rows.append({**g, "unanswered": unanswered})
    return missing_item_counts(rows, required)


def missing_items_participants(participants, instrument: str) -> list[str]:
    any_unanswered = Q(pk__in=[])
    for (_, version), items in required_items(instrument).items():
        if items:
            any_unanswered |= Q(version=version) & reduce(or_, map(Unanswered, items))
    finals = completed_finals(participants).filter(Q(instrument=instrument) & any_unanswered)
    return sorted(set(finals.values_list("participant__study_id", flat=True)))


def out_of_window(trial, participants, timepoint: str | None = None, with_ids: bool = False):
    """:func:`window_counts` of the completed final responses at the patient timepoints
    (or at ``timepoint``); ``with_ids``: the study IDs behind them. One query over the
    window flag each response keeps (``Response.outside_window``, questionnaires.flags:
    its date against the window computed by the database from the participant's
    enrolment date, kept right when that date, the timepoints or the time zone change),
    read from the completed finals' index. Computing every window per query instead cost
    0.93 s at 100,000 participants (issue 19); :func:`out_of_window_computed` does that
    and the tests hold the two equal."""
    tps = [t for t in patient_timepoints(trial) if not timepoint or t.code == timepoint]
    if not tps:
        return []
    outside = completed_finals(participants).filter(timepoint__in=tps).exclude(outside_window=0)
    if with_ids:
        return sorted(set(outside.values_list("participant__study_id", flat=True)))
    groups = outside.values("timepoint_id", "outside_window").annotate(n=Count("*"))
    return _windows_from_flags(groups, tps)


def out_of_window_computed(trial, participants, timepoint: str | None = None, with_ids=False):
    """:func:`out_of_window` with every window computed in the query (the reference for
    the stored flags). The window edges are computed by the database from each
    participant's enrolment date."""
    tps = [t for t in patient_timepoints(trial) if not timepoint or t.code == timepoint]
    if not tps:
        return []
    finals = (
        completed_finals(participants)
        .filter(timepoint__in=tps)
        .alias(day=TruncDate("completed_at", tzinfo=ZoneInfo(trial.time_zone)))
    )
    # The timepoint first: a row is compared with its own timepoint's window only.
    # Windows never have a negative width (PositiveIntegerField), so early and late
    # exclude each other.
    early = [Q(timepoint=t) & Q(day__lt=_window_edge(t, -t.window_before_days)) for t in tps]
    late = [Q(timepoint=t) & Q(day__gt=_window_edge(t, t.window_after_days)) for t in tps]
    if with_ids:
        outside = finals.filter(reduce(or_, early + late))
        return sorted(set(outside.values_list("participant__study_id", flat=True)))
    got = finals.aggregate(
        **{f"early_{k}": Count("id", filter=q) for k, q in enumerate(early)},
        **{f"late_{k}": Count("id", filter=q) for k, q in enumerate(late)},
    )
    return [
        {
            "timepoint": t.code,
            "label": t.staff_label,
            "early": got[f"early_{k}"],
            "late": got[f"late_{k}"],
            "total": got[f"early_{k}"] + got[f"late_{k}"],
        }
        for k, t in enumerate(tps)
    ]


def unresolved_double_entries(participants):
    """(participant, timepoint, instrument) with both paper entries and no final."""
    from questionnaires.models import Response

    # Only paper entries without a final beside them can make such a group, so the
    # grouping runs over those few rows rather than over every response.
    final = Response.objects.filter(
        participant_id=OuterRef("participant_id"),
        timepoint__code=OuterRef("timepoint__code"),
        instrument=OuterRef("instrument"),
        entry=Response.FINAL,
    )
    return (
        Response.objects.filter(
            participant__in=participants.values("pk"),
            entry__in=[Response.FIRST_ENTRY, Response.SECOND_ENTRY],
        )
        .exclude(Exists(final))
        .values("participant__study_id", "timepoint__code", "instrument")
        .annotate(paper=Count("id"))
        .filter(paper=2)
        .order_by("participant__study_id")
    )


def crpe_missing_at_final_visit(trial, participants):
    """Participants with a final visit recorded but no completed CRPE-tool at
    the timepoint tagged ``final-visit``; None where the trial has no such timepoint."""
    from questionnaires.models import Response

    tp = tags.timepoint(trial, "final-visit")
    if tp is None:
        return None
    done = Response.objects.filter(
        participant=OuterRef("pk"),
        timepoint=tp,
        instrument="crpe",
        entry=Response.FINAL,
        completed_at__isnull=False,
    )
    return participants.filter(final_visit_on__isnull=False).exclude(Exists(done))


def data_quality(trial, participants, whole_trial: bool = False) -> dict:
    """``whole_trial``: ``participants`` are every participant of ``trial``."""
    double = unresolved_double_entries(participants)
    crpe = crpe_missing_at_final_visit(trial, participants)
    missing, windows, forms = flag_counts(trial, participants, whole_trial)
    return {
        # Split into missing with a reason and without (.missing).
        "missing_items": with_reasons(missing, participants),
        "out_of_window": windows,
        "forms": forms,
        "double_entries": double.count(),
        "crpe_missing": None if crpe is None else crpe.count(),
    }


def deviations_for(trial, participants, clusters) -> dict:
    """The deviation table of the participants the user may see (``scope``), plus how
    many participants are out of the per-protocol set."""
    from enrolment.models import Deviation, DeviationType

    qs = Deviation.objects.filter(participant__in=participants)
    rows = (
        qs.values("type__code", "participant__clinic__cluster__code")
        .annotate(n=Count("id"), excluding=Count("id", filter=Q(excludes_per_protocol=True)))
        .order_by()
    )
    table = deviation_table(
        [
            {
                "type": r["type__code"],
                "cluster": r["participant__clinic__cluster__code"],
                "n": r["n"],
                "excluding": r["excluding"],
            }
            for r in rows
        ],
        list(DeviationType.objects.filter(trial=trial).values("code", "label")),
        clusters,
    )
    table["participants_excluded"] = (
        qs.filter(excludes_per_protocol=True).values("participant_id").distinct().count()
    )
    return table
