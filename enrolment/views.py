"""Staff pages: trial overview, participants, corrections with reasons, audit history.

Every participant is fetched through ``Participant.objects.visible_to(user)``, so a
physiotherapist asking for another clinic's participant gets 404.
"""

from __future__ import annotations

from collections import Counter

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from enrolment import permissions as roles
from trialsite.models import SchedulerHeartbeat

from . import allocation, enrol_fields, hooks, views_death, views_deviations
from .actions.changes import update_participant, update_personal_details
from .actions.status import mark_final_visit, withdraw_participant
from .audit import participant_history
from .forms import FinalVisitForm, ParticipantForm, PersonalDetailsForm, WithdrawForm
from .models import Clinic, Cluster, Participant, PersonalDetails, Trial, TrialRole


def _trial_for(user, code: str) -> Trial:
    trial = get_object_or_404(roles.trials_of(user), code=code)
    return trial


def _participant_for(user, study_id: str) -> Participant:
    return get_object_or_404(
        Participant.objects.visible_to(user).select_related("trial", "clinic__cluster"),
        study_id=study_id,
    )


@login_required
def home(request):
    trials = list(roles.trials_of(request.user))
    if len(trials) == 1:
        return redirect("trial_overview", code=trials[0].code)
    return render(request, "enrolment/home.html", {"trials": trials})


@login_required
def trial_overview(request, code):
    trial = _trial_for(request.user, code)
    if roles.roles_in(request.user, trial) == {roles.CLINIC_MANAGER}:
        # Counts of their clinics only, on the monitoring's page for them.
        return redirect("monitoring_clinics", code=trial.code)
    visible = Participant.objects.visible_to(request.user).filter(trial=trial)
    today = timezone.localdate()
    counts = {
        (row["clinic__cluster_id"], row["condition"]): row["n"]
        for row in visible.values("clinic__cluster_id", "condition").annotate(n=Count("id"))
    }
    per_clinic = dict(
        visible.values_list("clinic_id").annotate(n=Count("id")).values_list("clinic_id", "n")
    )
    arms = list(trial.arms.all())
    arm_labels = {arm.code: arm.label for arm in arms}
    clusters = []
    for cluster in Cluster.objects.filter(trial=trial).prefetch_related("clinics"):
        clusters.append(
            {
                "cluster": cluster,
                "condition_today": cluster.condition_on(today) if trial.is_cluster_design else "",
                "condition_today_label": _condition_label(
                    cluster.condition_on(today) if trial.is_cluster_design else "", arm_labels
                ),
                "by_condition": [counts.get((cluster.pk, arm.code), 0) for arm in arms],
                "total": sum(counts.get((cluster.pk, arm.code), 0) for arm in arms),
                "clinics": [
                    {"clinic": c, "participants": per_clinic.get(c.pk, 0)}
                    for c in cluster.clinics.all()
                ],
            }
        )
    totals = [sum(c["by_condition"][i] for c in clusters) for i in range(len(arms))]
    status_counts = Counter(visible.values_list("status", flat=True))
    heartbeat = SchedulerHeartbeat.objects.filter(name="beat").first()
    return render(
        request,
        "enrolment/trial_overview.html",
        {
            "trial": trial,
            "arms": arms,
            "clusters": clusters,
            "totals": totals,
            "total": sum(totals),
            "status_counts": dict(status_counts),
            "heartbeat": heartbeat,
            "my_roles": sorted(roles.roles_in(request.user, trial)),
            "my_role_labels": _role_labels(roles.roles_in(request.user, trial)),
            "can_enrol": roles.has_any(request.user, trial, roles.ENROL),
            "can_move_crossover": roles.has_any(request.user, trial, roles.MANAGE),
            # scanned paper questionnaires (the paper app) are read by data managers
            "can_read_scans": roles.has_any(request.user, trial, roles.SCAN),
            "is_cluster_design": trial.is_cluster_design,
            "intervention": allocation.INTERVENTION,
        },
    )


def _role_labels(codes) -> list[str]:
    """The user's roles in their language, as the staff pages name them."""
    names = {**dict(TrialRole.ROLES), roles.PHYSIOTHERAPIST: _("Physiotherapist")}
    return sorted(str(names.get(code, code)) for code in codes)


def _condition_label(condition: str, arm_labels: dict[str, str]) -> str:
    """A cluster's condition today by its arm's label (the protocol's words), not the code."""
    return arm_labels.get(condition, condition)


@login_required
def participant_list(request, code):
    trial = _trial_for(request.user, code)
    if not roles.has_any(request.user, trial, roles.PARTICIPANT_LISTS):
        raise PermissionDenied  # e.g. a clinic manager: their clinics' counts, no list
    qs = (
        Participant.objects.visible_to(request.user)
        .filter(trial=trial)
        .select_related("clinic__cluster")
    )
    query = request.GET.get("q", "").strip()
    if query:
        qs = qs.filter(Q(study_id__icontains=query) | Q(clinic__name__icontains=query))
    filters = {
        "status": request.GET.get("status", ""),
        "cluster": request.GET.get("cluster", ""),
        "clinic": request.GET.get("clinic", ""),
        "condition": request.GET.get("condition", ""),
    }
    if filters["status"]:
        qs = qs.filter(status=filters["status"])
    if filters["cluster"]:
        qs = qs.filter(clinic__cluster__code=filters["cluster"])
    if filters["clinic"]:
        qs = qs.filter(clinic__code=filters["clinic"])
    blinded = roles.blinded_for(request.user, trial)
    if blinded:
        filters["condition"] = ""  # nor found by filtering
    if filters["condition"]:
        qs = qs.filter(condition=filters["condition"])
    filters["overdue"] = request.GET.get("overdue", "")
    if filters["overdue"] and "overdue" in hooks.PARTICIPANT_FILTERS:
        # Follow-up owns contacts and their statuses: it registers the filter.
        qs = qs.filter(hooks.PARTICIPANT_FILTERS["overdue"]()).distinct()
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    clinics = Clinic.objects.filter(cluster__trial=trial).filter(roles.clinic_filter(request.user))
    querystring = request.GET.copy()
    querystring.pop("page", None)
    return render(
        request,
        "enrolment/participant_list.html",
        {
            "trial": trial,
            "page": page,
            "query": query,
            "filters": filters,
            "querystring": querystring.urlencode(),
            "statuses": Participant.STATUSES,
            # The filters offer only what the user sees: a physiotherapist their clinic.
            "clusters": trial.clusters.filter(clinics__in=clinics).distinct(),
            "clinics": clinics,
            "arm_labels": {} if blinded else dict(trial.arms.values_list("code", "label")),
            "blinded": blinded,
        },
    )


@login_required
def participant_detail(request, study_id):
    participant = _participant_for(request.user, study_id)
    user = request.user
    death_form = None
    if request.method == "POST":
        # The page's one form: recording a death (views_death).
        outcome = views_death.record_death(request, participant)
        if not isinstance(outcome, views_death.DeathForm):
            return outcome
        death_form = outcome
    elif views_death.may_record_death(user, participant):
        death_form = views_death.death_form()
    # The first-contact clinician reveals the condition: shown where the condition is.
    blinded = roles.blinded_for(user, participant.trial)
    asks_first_contact = enrol_fields.asks_first_contact(participant.trial, participant.condition)
    details = None
    if roles.can_see_personal_details(user, participant):
        details = PersonalDetails.objects.filter(participant=participant).first()
    return render(
        request,
        "enrolment/participant_detail.html",
        {
            "participant": participant,
            "trial": participant.trial,
            "details": details,
            "condition_label": participant.trial.arms.get(code=participant.condition).label,
            "blinded": blinded,
            "shows_sex": enrol_fields.asks_sex(participant.trial) or participant.sex,
            "shows_first_contact": not blinded
            and (asks_first_contact or participant.first_contact_clinician),
            "can_edit": roles.can_edit(user, participant),
            "can_read_history": roles.has_any(user, participant.trial, roles.HISTORY),
            "death_form": death_form,
            **views_deviations.page_context(user, participant),
        },
        status=400 if death_form is not None and death_form.is_bound else 200,
    )


def _require_edit(user, participant):
    if not roles.can_edit(user, participant):
        raise PermissionDenied


def _correct(request, participant, form, update, title: str):
    """A correction form: the action gets the saved row (the form has already written its
    values onto ``form.instance``) so that it sees old and new values and asks for a reason."""
    if request.method == "POST" and form.is_valid():
        fresh = type(form.instance).objects.get(pk=form.instance.pk)
        changes = {f: form.cleaned_data[f] for f in form.Meta.fields if f in form.fields}
        try:
            changed = update(fresh, changes, form.cleaned_data["reason"])
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            _saved_message(request, changed)
            return redirect("participant_detail", study_id=participant.study_id)
    return render(
        request, "enrolment/edit.html", {"participant": participant, "form": form, "title": title}
    )


@login_required
def participant_edit(request, study_id):
    participant = _participant_for(request.user, study_id)
    _require_edit(request.user, participant)
    form = ParticipantForm(request.POST or None, instance=participant)
    return _correct(request, participant, form, update_participant, _("Enrolment data"))


@login_required
def personal_details_edit(request, study_id):
    participant = _participant_for(request.user, study_id)
    _require_edit(request.user, participant)
    if not roles.can_see_personal_details(request.user, participant):
        raise Http404
    details = get_object_or_404(PersonalDetails, participant=participant)
    form = PersonalDetailsForm(request.POST or None, instance=details)
    return _correct(
        request, participant, form, update_personal_details, _("Personal details")
    )


@login_required
def participant_withdraw(request, study_id):
    participant = _participant_for(request.user, study_id)
    _require_edit(request.user, participant)
    form = WithdrawForm(request.POST or None, initial={"withdrawn_on": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        try:
            withdraw_participant(
                participant,
                form.cleaned_data["withdrawn_on"],
                form.cleaned_data["reason"],
                scope=form.cleaned_data["scope"],
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(
                request, _("%(study_id)s was withdrawn.") % {"study_id": participant.study_id}
            )
            return redirect("participant_detail", study_id=participant.study_id)
    return render(
        request,
        "enrolment/edit.html",
        {"participant": participant, "form": form, "title": _("Withdraw from the trial")},
    )


@login_required
def participant_final_visit(request, study_id):
    participant = _participant_for(request.user, study_id)
    _require_edit(request.user, participant)
    form = FinalVisitForm(request.POST or None, participant=participant)
    if request.method == "POST" and form.is_valid():
        try:
            mark_final_visit(
                Participant.objects.get(pk=participant.pk),
                form.cleaned_data["final_visit_on"],
                form.cleaned_data.get("reason", ""),
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Final clinical visit recorded."))
            return redirect("participant_detail", study_id=participant.study_id)
    return render(
        request,
        "enrolment/edit.html",
        {"participant": participant, "form": form, "title": _("Final clinical visit")},
    )


@login_required
def participant_history_view(request, study_id):
    participant = _participant_for(request.user, study_id)
    if not roles.has_any(request.user, participant.trial, roles.HISTORY):
        raise PermissionDenied
    return render(
        request,
        "enrolment/history.html",
        {"participant": participant, "entries": participant_history(participant)},
    )


def _saved_message(request, changed: list[str]) -> None:
    if changed:
        messages.success(request, _("Saved: %(fields)s.") % {"fields": ", ".join(changed)})
    else:
        messages.info(request, _("Nothing changed."))
