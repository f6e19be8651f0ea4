"""Screening, consent and enrolment in the browser; the crossover and the randomisation
list for coordinators. Thin views over enrolment.actions."""

from __future__ import annotations

import csv
import io
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from enrolment import permissions as roles

from . import randomisation_store
from .actions.enrol import enrol_participant, record_decline, record_screening
from .actions.errors import AlreadyEnrolled
from .actions.status import move_crossover
from .consent_forms import consent_answers
from .consort import screening_flow
from .models import Clinic, Cluster, RandomisationList, RandomisationSlot, ScreeningRecord
from .randomisation.upload import ListError
from .screening_forms import (
    CrossoverForm,
    DeclineForm,
    EnrolForm,
    ScreeningForm,
    UploadListForm,
)
from .views import _trial_for

ENROLLING = roles.ENROL


def trial_today(trial):
    return timezone.now().astimezone(ZoneInfo(trial.time_zone)).date()


def clinics_for(user, trial):
    """Coordinators enrol at any clinic of the trial; physiotherapists at their own."""
    clinics = Clinic.objects.filter(cluster__trial=trial).select_related("cluster")
    if roles.has_any(user, trial, roles.MANAGE):
        return clinics
    return clinics.filter(physiotherapists__user=user, physiotherapists__active=True)


def screenings_for(user, trial):
    return ScreeningRecord.objects.filter(trial=trial, clinic__in=_log_clinics(user, trial))


def _log_clinics(user, trial):
    if roles.has_any(user, trial, roles.TRIAL_WIDE):
        return Clinic.objects.filter(cluster__trial=trial)
    return clinics_for(user, trial)


def _require(user, trial, wanted):
    if not roles.has_any(user, trial, wanted):
        raise PermissionDenied


@login_required
def screen(request, code):
    trial = _trial_for(request.user, code)
    _require(request.user, trial, ENROLLING)
    form = ScreeningForm(
        request.POST or None, trial=trial, clinics=clinics_for(request.user, trial)
    )
    if request.method == "POST" and form.is_valid():
        try:
            record = record_screening(
                trial=trial,
                clinic=form.cleaned_data["clinic"],
                screened_on=form.cleaned_data["screened_on"],
                user=request.user,
                age=form.cleaned_data["age"],
                answers=form.answers(),
                scores=form.scores(),
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            if record.outcome == ScreeningRecord.ELIGIBLE:
                return redirect("enrol", code=trial.code, screening=record.pk)
            texts = dict(trial.eligibility.values_list("code", "text"))
            messages.warning(
                request,
                _("Not eligible: %(criteria)s. The screening is in the log.")
                % {"criteria": "; ".join(texts.get(c, c) for c in record.unmet_criteria)},
            )
            return redirect("screening_log", code=trial.code)
    return render(request, "enrolment/screen.html", {"trial": trial, "form": form})


@login_required
def enrol(request, code, screening):
    trial = _trial_for(request.user, code)
    _require(request.user, trial, ENROLLING)
    record = get_object_or_404(
        screenings_for(request.user, trial).filter(clinic__in=clinics_for(request.user, trial)),
        pk=screening,
    )
    if record.outcome != ScreeningRecord.ELIGIBLE:
        return _already_closed(request, trial, record)
    form = EnrolForm(request.POST or None, trial=trial, screening=record)
    decline = DeclineForm(request.POST or None, prefix="decline")
    if request.method == "POST" and "decline" in request.POST:
        if decline.is_valid():
            record_decline(record, decline.cleaned_data["decline_reason"])
            messages.info(request, _("Recorded as declined in the screening log."))
            return redirect("screening_log", code=trial.code)
    elif request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            participant = enrol_participant(
                clinic=record.clinic,
                enrolled_on=data["enrolled_on"],
                personal=form.personal(),
                consent={
                    "consented_on": data["consented_on"],
                    "form_version": data["form_version"],
                    "taken_by": request.user,
                    "answers": consent_answers(data),
                },
                user=request.user,
                stratum_values={"sbst_risk_group": data.get("sbst_risk_group")},
                screening=record,
                late_reason=data["late_reason"],
                **form.enrolment_fields(),
            )
        except AlreadyEnrolled:
            # A double click or a second tab: the first submit enrolled the patient.
            record.refresh_from_db()
            return _already_closed(request, trial, record)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(
                request,
                _(
                    "Enrolled as %(study_id)s. Hand the tablet to the patient for the "
                    "baseline questionnaires."
                )
                % {"study_id": participant.study_id},
            )
            return redirect("participant_detail", study_id=participant.study_id)
    return render(
        request,
        "enrolment/enrol.html",
        {"trial": trial, "form": form, "decline": decline, "screening": record},
    )


def _already_closed(request, trial, record):
    """Where a second submit of a closed screening lands: the participant it enrolled."""
    if record.outcome == ScreeningRecord.ENROLLED and record.participant_id:
        study_id = record.participant.study_id
        messages.info(
            request,
            _(
                "This patient was already enrolled as %(study_id)s from this screening; "
                "nothing was enrolled a second time."
            )
            % {"study_id": study_id},
        )
        return redirect("participant_detail", study_id=study_id)
    messages.info(request, _("This screening is already closed."))
    return redirect("screening_log", code=trial.code)


@login_required
def screening_log(request, code):
    trial = _trial_for(request.user, code)
    _require(request.user, trial, roles.DASHBOARD)
    records = screenings_for(request.user, trial).select_related("clinic", "participant")
    flow = screening_flow(
        {
            "outcome": r.outcome,
            "unmet_criteria": r.unmet_criteria,
            "condition": r.participant.condition if r.participant else None,
        }
        for r in records
    )
    texts = dict(trial.eligibility.values_list("code", "text"))
    reasons = [(texts.get(c, c), n) for c, n in flow.excluded_by_reason.most_common()]
    return render(
        request,
        "enrolment/screening_log.html",
        {
            "trial": trial,
            "records": records[:200],
            "flow": flow,
            "reasons": reasons,
            "blinded": roles.blinded_for(request.user, trial),
            "can_screen": roles.has_any(request.user, trial, ENROLLING),
        },
    )


@login_required
def crossover(request, code, cluster):
    trial = _trial_for(request.user, code)
    _require(request.user, trial, roles.MANAGE)
    cluster = get_object_or_404(Cluster, trial=trial, code=cluster)
    today = trial_today(trial)
    form = CrossoverForm(
        request.POST or None, today=today, initial={"crossover": cluster.crossover}
    )
    if request.method == "POST" and form.is_valid():
        try:
            move_crossover(
                cluster, form.cleaned_data["crossover"], form.cleaned_data["reason"], today
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(
                request,
                _("%(cluster)s now crosses over on %(day)s.")
                % {"cluster": cluster.name, "day": cluster.crossover},
            )
            return redirect("trial_overview", code=trial.code)
    return render(
        request, "enrolment/crossover.html", {"trial": trial, "cluster": cluster, "form": form}
    )


def _text_of(upload) -> str:
    try:
        return upload.read().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValueError(
            f"The file is not text in UTF-8 (byte {exc.start}): save the list as CSV UTF-8."
        ) from None


@login_required
def randomisation_list(request, code):
    """The list's status for coordinators: never the order of the arms."""
    trial = _trial_for(request.user, code)
    _require(request.user, trial, roles.MANAGE)
    if not trial.randomisation:
        raise PermissionDenied("This trial is allocated by cluster.")
    upload_form = UploadListForm(request.POST or None, request.FILES or None)
    problems, unbalanced = [], []
    if request.method == "POST":
        try:
            if "generate" in request.POST:
                randomisation_store.generate(trial, request.user)
                messages.success(request, _("A new list was generated from a random seed."))
                return redirect("randomisation_list", code=trial.code)
            if upload_form.is_valid():
                text = _text_of(upload_form.cleaned_data["file"])
                randomisation_store.upload(
                    trial,
                    request.user,
                    csv.DictReader(io.StringIO(text)),
                    accept_imbalance=upload_form.cleaned_data["accept_imbalance"],
                )
                messages.success(request, _("The uploaded list is stored and active."))
                return redirect("randomisation_list", code=trial.code)
        except ListError as exc:
            problems = exc.errors
        except randomisation_store.Unbalanced as exc:
            unbalanced = exc.findings
        except ValueError as exc:
            messages.error(request, str(exc))
    rlist = RandomisationList.objects.filter(trial=trial, active=True).first()
    strata = []
    if rlist:
        strata = (
            RandomisationSlot.objects.filter(rlist=rlist)
            .values("stratum")
            .annotate(slots=Count("id"), used=Count("participant"))
            .order_by("stratum")
        )
    return render(
        request,
        "enrolment/randomisation.html",
        {
            "trial": trial,
            "rlist": rlist,
            "strata": strata,
            "upload_form": upload_form,
            "problems": problems,
            "unbalanced": unbalanced,
            "overview_url": reverse("trial_overview", args=[trial.code]),
        },
    )
