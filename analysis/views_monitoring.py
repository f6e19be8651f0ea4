"""The monitoring dashboard: where the trial stands and where to act.

Coordinators (every trial-wide role) see the whole trial; a physiotherapist sees their
own clinic only. Both come from :mod:`analysis.monitoring`, whose querysets start from
``Participant.objects.visible_to(user)``: access lives in the querysets, not in templates.
"""

from __future__ import annotations

from datetime import date, timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from enrolment import permissions as roles
from enrolment.models import EligibilityCriterion

from . import monitoring as mon
from .monitoring import figures
from .monitoring.drawing import Drawing

DASHBOARD_ROLES = roles.DASHBOARD


def _trial(user, code):
    trial = get_object_or_404(roles.trials_of(user), code=code)
    if not roles.has_any(user, trial, DASHBOARD_ROLES):
        raise PermissionDenied
    return trial


def _today(request, trial):
    """The day the pages show the trial as it stood: today, or ``?today=YYYY-MM-DD`` so a
    coordinator can look back. A day that is no date, or so far out that the month
    arithmetic of the figures leaves the calendar, is refused with a message."""
    today = timezone.localdate()
    raw = request.GET.get("today")
    if not raw:
        return today
    first = (trial.recruitment_start or date(2000, 1, 1)) - timedelta(days=366)
    last = today + timedelta(days=366 * 50)
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        day = None
    if day is None or not first <= day <= last:
        messages.warning(
            request,
            _(
                "“%(raw)s” is not a day to look at this trial on: give a date from %(first)s "
                "to %(last)s (YYYY-MM-DD). Showing today instead."
            )
            % {"raw": raw[:20], "first": first.isoformat(), "last": last.isoformat()},
        )
        return today
    return day


def _clusters(clinics) -> list[dict]:
    """The clusters of the clinics a user may see, in allocation order."""
    ordered = sorted(clinics, key=lambda c: c.cluster.allocation_order)
    return list(
        {c.cluster.code: {"code": c.cluster.code, "name": c.cluster.name} for c in ordered}.values()
    )


def _criteria(trial) -> dict[str, str]:
    return dict(EligibilityCriterion.objects.filter(trial=trial).values_list("code", "text"))


@login_required
def dashboard(request, code):
    try:
        trial = _trial(request.user, code)
    except PermissionDenied:  # a clinic manager, the one role without the dashboard
        return redirect("monitoring_clinics", code=code)
    today = _today(request, trial)
    # Each figure is drawn as soon as its numbers are counted, in a thread of its own
    # while the next queries run (analysis.monitoring.drawing).
    with Drawing() as drawing:
        context = _dashboard(request, trial, today, drawing)
        svgs = {k: v.result() if v else "" for k, v in context.items() if k.endswith("_svg")}
    return render(request, "analysis/monitoring/dashboard.html", {**context, **svgs})


def _dashboard(request, trial, today, drawing) -> dict:
    sc = mon.scope(request.user, trial)
    participants = sc["participants"]
    arm_labels = dict(trial.arms.values_list("code", "label"))
    rec = mon.recruitment_for(
        trial, participants, sc["clinics"], today, whole_trial=sc["trial_wide"]
    )
    rec_svg = drawing.draw(figures.recruitment_svg, rec) if rec.months else None
    schedule = None
    if trial.is_cluster_design:
        clusters = trial.clusters.all()
        if not sc["trial_wide"]:
            clusters = clusters.filter(clinics__in=sc["clinics"]).distinct()
        schedule = mon.dogleg_schedule(
            [{"code": c.code, "name": c.name, "crossover": c.crossover} for c in clusters],
            rec.months,
            trial.washout_days,
        )
    schedule_svg = (
        drawing.draw(figures.schedule_svg, schedule, rec.months)
        if schedule and rec.months
        else None
    )
    # The CONSORT flow early, so that its figure is drawn while the other counts run.
    flow = mon.consort_for(trial, participants, sc["screenings"], today)
    criteria = _criteria(trial)
    consort_svg = drawing.draw(figures.consort_svg, flow, criteria)
    timepoints = mon.patient_timepoints(trial)
    tp_codes = [t.code for t in timepoints]
    contacts = mon.followup_rows(participants, today)
    followup = None if contacts is None else mon.followup_summary(contacts, tp_codes)
    tp_labels = {t.code: t.staff_label for t in timepoints}
    for row in followup or []:  # in words: "3 months", the arm's label
        row["timepoint_label"] = tp_labels.get(row["timepoint"], row["timepoint"])
        row["arm"] = arm_labels.get(row["condition"], row["condition"])
    sms = mon.sms_for(trial, participants)
    sms_svg = drawing.draw(figures.sms_rate_svg, sms["weeks"]) if sms and sms["weeks"] else None
    quality = mon.data_quality(trial, participants, whole_trial=sc["trial_wide"])
    context = {
        "trial": trial,
        "today": today,
        "trial_wide": sc["trial_wide"],
        "arm_labels": arm_labels,
        # No list by arm for whoever is blinded to the allocation (the numbers stay).
        "blinded": roles.blinded_for(request.user, trial),
        "rec": rec,
        "rec_svg": rec_svg,
        "month_rows": [
            {
                "month": m,
                "cells": [(c["months"][i], c["flags"][i]) for c in rec.clusters],
                "total": rec.totals[i],
                "cumulative": rec.cumulative[i],
                "planned": rec.planned_cumulative[i] if rec.planned_cumulative else None,
            }
            for i, m in enumerate(rec.months)
        ],
        "schedule": schedule,
        "schedule_svg": schedule_svg,
        "followup": followup,
        "sms": sms,
        "sms_svg": sms_svg,
        "quality": quality,
        # The whole trial's completed finals per clinic and timepoint, counted in the
        # same pass as the flags, for data management's share verified.
        "sdv_forms": quality["forms"] if sc["trial_wide"] else None,
        "flow": flow,
        "flow_arms": [
            {
                "arm": arm,
                "timepoints": [
                    {
                        "code": t["code"],
                        "label": t["label"],
                        "responded": arm.responded[t["code"]],
                        "no_response": arm.no_response[t["code"]],
                        "awaiting": arm.awaiting[t["code"]],
                        "withdrawn": arm.withdrawn_before[t["code"]],
                        "not_scheduled": arm.not_scheduled[t["code"]],
                    }
                    for t in flow.timepoints
                ],
            }
            for arm in flow.arms
        ],
        # A column of its own only where an amendment added a timepoint late for some.
        "flow_not_scheduled": any(sum(arm.not_scheduled.values()) for arm in flow.arms),
        "excluded_reasons": [
            (criteria.get(k, k), n) for k, n in flow.excluded_by_reason.most_common()
        ],
        "consort_svg": consort_svg,
        "deviations": mon.deviations_for(trial, participants, _clusters(sc["clinics"])),
    }
    return context


LIST_KINDS = {
    "missing-items": gettext_lazy("Completed responses with required items unanswered"),
    "out-of-window": gettext_lazy("Responses answered outside the timepoint's window"),
    "double-entry": gettext_lazy("Paper forms entered twice, not yet resolved"),
    "crpe-missing": gettext_lazy("Final visit recorded, CRPE-tool missing"),
    "contacts": gettext_lazy("Follow-up contacts"),
    "consort": gettext_lazy("CONSORT box"),
}


@login_required
def participants(request, code, kind):
    """The participants behind one number of the dashboard."""
    if kind not in LIST_KINDS:
        raise Http404
    trial = _trial(request.user, code)
    today = _today(request, trial)
    visible = mon.scope(request.user, trial)["participants"]
    query = request.GET.copy()
    blinded = roles.blinded_for(request.user, trial)
    if blinded:
        # As on the participant list: nobody blinded to the allocation finds it by
        # filtering (the dashboard gives them no link by arm).
        query.pop("condition", None)
    get = query.get
    rows: list[dict] = []
    if kind == "missing-items":
        ids = mon.missing_items_participants(visible, get("instrument", ""))
    elif kind == "out-of-window":
        ids = mon.out_of_window(trial, visible, get("timepoint") or None, with_ids=True)
    elif kind == "double-entry":
        rows = list(mon.unresolved_double_entries(visible))
        ids = sorted({r["participant__study_id"] for r in rows})
    elif kind == "crpe-missing":
        qs = mon.crpe_missing_at_final_visit(trial, visible)
        ids = [] if qs is None else sorted(qs.values_list("study_id", flat=True))
    elif kind == "contacts":
        ids = _contact_ids(
            visible, today, get("status", ""), get("timepoint", ""), get("condition", "")
        )
    else:
        box = get("box", "")
        if box not in BOX_LABELS:
            raise Http404
        ids = mon.consort_participants(
            trial, visible, today, box, get("timepoint", ""), get("condition", "")
        )
    return render(
        request,
        "analysis/monitoring/participants.html",
        {
            "trial": trial,
            "title": LIST_KINDS[kind],
            "ids": ids,
            "rows": rows,
            "filters": _filter_labels(trial, query),
            "blinded": blinded and "condition" in request.GET,
        },
    )


FILTER_NAMES = {
    "box": gettext_lazy("Box"),
    "timepoint": gettext_lazy("Timepoint"),
    "condition": gettext_lazy("Arm"),
    "status": gettext_lazy("Status"),
    "instrument": gettext_lazy("Instrument"),
}
BOX_LABELS = {
    mon.RESPONDED: gettext_lazy("Responded"),
    mon.NO_RESPONSE: gettext_lazy("No response"),
    mon.AWAITING: gettext_lazy("Awaiting"),
    mon.WITHDRAWN: gettext_lazy("Withdrawn"),
    mon.NOT_SCHEDULED: gettext_lazy("Not scheduled"),
}
STATUS_LABELS = {
    "missed": gettext_lazy("Missed"),
    "overdue": gettext_lazy("Overdue"),
    "open": gettext_lazy("Open"),
}


def _filter_labels(trial, query) -> list[tuple[str, str]]:
    """What the list is of, in words: "Timepoint: 3 months", not "timepoint: 3m"."""
    values = {
        "box": BOX_LABELS,
        "timepoint": {t.code: t.staff_label for t in trial.timepoints.all()},
        "condition": dict(trial.arms.values_list("code", "label")),
        "status": STATUS_LABELS,
    }
    return [
        (FILTER_NAMES.get(key, key), values.get(key, {}).get(value, value))
        for key, value in query.items()
        if key != "today" and value
    ]


def _contact_ids(visible, today, status, timepoint, condition) -> list[str]:
    from django.db.models import Q

    Contact = mon.contact_model()
    if Contact is None:
        return []
    qs = Contact.objects.filter(participant__in=visible.values("pk"))
    if status == "overdue":
        qs = qs.filter(status__in=mon.OPEN_STATUSES, due_on__lt=today)
    elif status == "open":
        qs = qs.filter(status__in=mon.OPEN_STATUSES)
    elif status:
        qs = qs.filter(status=status)
    if timepoint:
        qs = qs.filter(timepoint__code=timepoint)
    if condition:
        qs = qs.filter(Q(participant__condition=condition))
    return sorted(set(qs.values_list("participant__study_id", flat=True)))


@login_required
def consort_download(request, code, fmt):
    """The trial's CONSORT diagram for the paper: trial-wide roles only (a clinic's own
    flow is on its dashboard, not in the paper)."""
    trial = _trial(request.user, code)
    if not mon.trial_wide(request.user, trial):
        raise PermissionDenied
    sc = mon.scope(request.user, trial)
    today = _today(request, trial)
    criteria = _criteria(trial)
    with translation.override("en"):  # a file for the paper: in the paper's language
        flow = mon.consort_for(trial, sc["participants"], sc["screenings"], today)
        return _consort_file(trial, flow, criteria, fmt)


def _consort_file(trial, flow, criteria, fmt) -> HttpResponse:
    if fmt == "svg":
        body = figures.consort_svg(flow, criteria)
        svg = '<?xml version="1.0" encoding="utf-8"?>\n' + body.replace(
            "<svg", '<svg width="800"', 1
        )
        response = HttpResponse(svg, content_type="image/svg+xml")
    elif fmt == "pdf":
        response = HttpResponse(figures.consort_pdf(flow, criteria), content_type="application/pdf")
    else:
        raise Http404
    response["Content-Disposition"] = f'attachment; filename="{trial.code}-consort.{fmt}"'
    return response
