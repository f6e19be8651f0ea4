"""Pages of locks, freezes, the database lock, source verification and signatures.

Thin: each page asks :mod:`trialsite.roles` who may act and calls one service function;
a refusal (a lock, a wrong password) comes back as a message, never a 500."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from enrolment import permissions as roles
from enrolment.models import Participant, Timepoint, Trial
from questionnaires.models import Response
from questionnaires.readable import instrument_name

from .access import DATASET_READERS, READERS
from .casebooks import ALL, SHOWN, casebooks, mark_broken
from .locks import services as locks
from .locks.models import Lock, LockedDataset
from .sdv import services as sdv
from .sdv.values import item_values
from .signatures import services as signatures


def _trial_for(user, code: str, wanted=READERS) -> Trial:
    trial = get_object_or_404(Trial, code=code)
    if not roles.has_any(user, trial, wanted):
        raise PermissionDenied
    return trial


def _participant_for(user, study_id: str) -> Participant:
    participant = get_object_or_404(
        Participant.objects.visible_to(user).select_related("trial", "clinic"), study_id=study_id
    )
    if not roles.has_any(user, participant.trial, READERS):
        raise PermissionDenied
    return participant


def _timepoint_order(tp) -> tuple:
    """The patient's timepoints first, in order, then the clinician's and the
    physiotherapists' own (as the participant page lists them)."""
    return (tp.respondent != Timepoint.PATIENT, tp.respondent, tp.order)


def _timepoints(trial) -> list[Timepoint]:
    return sorted(Timepoint.objects.filter(trial=trial), key=_timepoint_order)


def _say(request, exc: ValidationError) -> None:
    messages.error(request, " ".join(exc.messages))


# --- one participant ---------------------------------------------------------------------


def _protocol_order(response) -> tuple[int, str]:
    """A form's place in its timepoint as the protocol file lists the instruments (one it
    no longer lists last)."""
    listed = list(response.timepoint.instruments or [])
    place = listed.index(response.instrument) if response.instrument in listed else len(listed)
    return place, response.instrument


def _forms_by_timepoint(participant, timepoint=None) -> list[dict]:
    """The participant's final forms by timepoint, in the participant page's order, each
    with its values item by item (a monitor verifies them against source, an
    investigator signs them: both read them here)."""
    forms = Response.objects.filter(participant=participant, entry=Response.FINAL)
    if timepoint is not None:
        forms = forms.filter(timepoint=timepoint)
    forms = sorted(
        forms.select_related("timepoint"),
        key=lambda r: (*_timepoint_order(r.timepoint), *_protocol_order(r), r.week or 0),
    )
    marks = sdv.marks_for(forms)
    timepoints: dict[int, dict] = {}
    for r in forms:
        row = timepoints.setdefault(r.timepoint_id, {"timepoint": r.timepoint, "forms": []})
        row["forms"].append({"response": r, "mark": marks.get(r.pk), "values": item_values(r),
                             "name": instrument_name(r.instrument, r.version)})
    return list(timepoints.values())


@login_required
def participant_page(request, study_id):
    participant = _participant_for(request.user, study_id)
    trial = participant.trial
    opened = request.GET.get("open", "")
    return render(request, "datamanagement/participant.html", {
        "participant": participant,
        "trial": trial,
        "opened": int(opened) if opened.isdigit() else None,
        "timepoints": _forms_by_timepoint(participant),
        # A participant's own visits: the physiotherapists' workshop timepoints are not
        # theirs to lock.
        "all_timepoints": [t for t in _timepoints(trial)
                           if t.respondent != Timepoint.PHYSIOTHERAPIST],
        "locks": locks.locks_of_participant(participant),
        "signatures": signatures.signatures_of(participant),
        "may_lock": locks.may_lock(request.user, trial),
        "may_verify": sdv.may_verify(request.user, trial),
        "may_sign": signatures.may_sign(request.user, trial),
    })


@login_required
@require_POST
def lock_participant_data(request, study_id):
    participant = _participant_for(request.user, study_id)
    level = request.POST.get("level", "")
    kwargs = {"participant": participant}
    if level == Lock.RESPONSE:
        kwargs["response"] = get_object_or_404(
            Response, pk=request.POST.get("response") or 0, participant=participant
        )
    elif level == Lock.PARTICIPANT_TIMEPOINT:
        kwargs["timepoint"] = get_object_or_404(
            Timepoint, trial=participant.trial, code=request.POST.get("timepoint", "")
        )
    elif level != Lock.PARTICIPANT:
        raise Http404
    try:
        row = locks.lock(level, trial=participant.trial, user=request.user,
                         reason=request.POST.get("reason", ""), **kwargs)
    except ValidationError as exc:
        _say(request, exc)
    else:
        messages.success(request, _("Locked: %(scope)s.") % {"scope": row.scope})
    return redirect("datamanagement:participant", study_id=study_id)


@login_required
@require_POST
def unlock(request, pk):
    row = get_object_or_404(Lock.objects.select_related("trial"), pk=pk)
    try:
        locks.unlock(row, user=request.user, reason=request.POST.get("reason", ""))
    except ValidationError as exc:
        _say(request, exc)
    else:
        messages.success(request, _("Unlocked: %(scope)s.") % {"scope": row.scope})
    back = request.POST.get("next", "")
    if back.startswith("/") and not back.startswith("//"):
        return redirect(back)
    return redirect("datamanagement:trial", trial=row.trial.code)


@login_required
@require_POST
def verify(request, study_id):
    participant = _participant_for(request.user, study_id)
    if not sdv.may_verify(request.user, participant.trial):
        raise PermissionDenied
    forms = Response.objects.filter(
        participant=participant, entry=Response.FINAL, completed_at__isnull=False
    )
    pk = request.POST.get("response", "")
    if pk:
        if not pk.isdigit():
            raise Http404
        forms = forms.filter(pk=pk)
    elif request.POST.get("timepoint"):
        forms = forms.filter(timepoint__code=request.POST["timepoint"])
    else:
        raise Http404
    done = 0
    # Forms verified already and unchanged since are not counted again.
    verified = {pk for pk, mark in sdv.marks_for(forms).items() if mark.is_verified}
    for response in forms:
        if response.pk in verified:
            continue
        try:
            sdv.verify(response, request.user)
            done += 1
        except ValidationError as exc:
            _say(request, exc)
    messages.success(request, _("%(n)s form(s) marked verified against source.") % {"n": done})
    # Back where the monitor was: the form verified, its values still open.
    page = reverse("datamanagement:participant", args=[study_id])
    if pk:
        return redirect(f"{page}?open={pk}#form-{pk}")
    return redirect(f"{page}#timepoint-{quote(request.POST['timepoint'])}")


@login_required
def sign(request, study_id):
    participant = _participant_for(request.user, study_id)
    if not signatures.may_sign(request.user, participant.trial):
        raise PermissionDenied
    code = request.GET.get("timepoint") or request.POST.get("timepoint") or ""
    timepoint = (
        get_object_or_404(Timepoint, trial=participant.trial, code=code) if code else None
    )
    errors: list[str] = []
    if request.method == "POST":
        try:
            signatures.sign(
                participant,
                request.user,
                request.POST.get("password", ""),
                timepoint=timepoint,
                confirmed=bool(request.POST.get("confirm")),
            )
        except ValidationError as exc:
            errors = exc.messages
        else:
            messages.success(request, _("Signed."))
            return redirect("datamanagement:participant", study_id=study_id)
    return render(request, "datamanagement/sign.html", {
        "participant": participant,
        "timepoint": timepoint,
        "meaning": signatures.meaning_statement(timepoint),
        "values": signatures.signed_values(participant, timepoint),
        "timepoints": _forms_by_timepoint(participant, timepoint),
        "enrolment": signatures.enrolment_record(participant) if timepoint is None else [],
        "errors": errors,
        # A wrong password should not make the signer tick the statement again.
        "confirmed": bool(request.POST.get("confirm")),
    }, status=400 if errors else 200)


# --- one trial -----------------------------------------------------------------------------


@login_required
def trial_page(request, trial):
    # Statisticians come here from the monitoring dashboard for the locked dataset they may
    # download; the participants' data-management pages stay closed to them.
    trial = _trial_for(request.user, trial, DATASET_READERS)
    freezes = list(Lock.objects.active().filter(trial=trial, level=Lock.TIMEPOINT)
                   .select_related("timepoint", "locked_by"))
    frozen = {f.timepoint_id for f in freezes}
    may_open = roles.has_any(request.user, trial, READERS)
    shown = request.GET.get("show") if request.GET.get("show") in SHOWN else ALL
    participants = None
    if may_open:
        visible = Participant.objects.visible_to(request.user).filter(trial=trial)
        participants = Paginator(casebooks(visible.select_related("clinic"), shown), 50).get_page(
            request.GET.get("page")
        )
        participants.object_list = list(participants.object_list)
        mark_broken(participants.object_list)
    return render(request, "datamanagement/trial.html", {
        "trial": trial,
        "freezes": freezes,
        "database_lock": locks.database_lock(trial),
        "other_locks": Lock.objects.active().filter(
            trial=trial, level__in=[Lock.RESPONSE, Lock.PARTICIPANT, Lock.PARTICIPANT_TIMEPOINT]
        ).select_related("participant", "timepoint", "response__timepoint", "locked_by"),
        "timepoints": [t for t in _timepoints(trial) if t.pk not in frozen],  # to freeze
        "datasets": LockedDataset.objects.filter(trial=trial),
        "may_lock": locks.may_lock(request.user, trial),
        "may_download": roles.has_any(request.user, trial, DATASET_READERS),
        "may_open": may_open,
        "participants": participants,
        "shown": shown,
    })


@login_required
@require_POST
def freeze(request, trial):
    trial = _trial_for(request.user, trial)
    timepoint = get_object_or_404(Timepoint, trial=trial, code=request.POST.get("timepoint", ""))
    already = Lock.objects.active().filter(level=Lock.TIMEPOINT, timepoint=timepoint).first()
    if already is not None:
        messages.info(request, _("%(timepoint)s is already frozen (%(reason)s).") % {
            "timepoint": timepoint.staff_label, "reason": already.reason})
        return redirect("datamanagement:trial", trial=trial.code)
    try:
        row = locks.lock(Lock.TIMEPOINT, trial=trial, timepoint=timepoint, user=request.user,
                         reason=request.POST.get("reason", ""))
    except ValidationError as exc:
        _say(request, exc)
    else:
        messages.success(request, _("Frozen: %(scope)s.") % {"scope": row.scope})
    return redirect("datamanagement:trial", trial=trial.code)


@login_required
@require_POST
def database_lock(request, trial):
    """Lock at once; the locked dataset is built in the background (every export in
    every format takes a while for a large trial) and listed when ready."""
    from analysis.views import dispatch

    from .tasks import locked_dataset_task

    trial = _trial_for(request.user, trial)
    if request.POST.get("confirm") != "1":
        messages.error(request, _("Tick the box to confirm that the whole database is to be "
                                  "locked."))
        return redirect("datamanagement:trial", trial=trial.code)
    try:
        row = locks.lock(Lock.TRIAL, trial=trial, user=request.user,
                         reason=request.POST.get("reason", ""))
    except ValidationError as exc:
        _say(request, exc)
    else:
        dispatch(locked_dataset_task, row.pk, request.user.pk)
        messages.success(
            request,
            _("The database of %(trial)s is locked; the locked dataset is being built and "
              "is listed below when ready.") % {"trial": trial.code},
        )
    return redirect("datamanagement:trial", trial=trial.code)


@login_required
def dataset_download(request, pk):
    dataset = get_object_or_404(LockedDataset.objects.select_related("trial"), pk=pk)
    _trial_for(request.user, dataset.trial.code, DATASET_READERS)
    path = Path(dataset.path)
    if not path.is_file():
        raise Http404
    return FileResponse(path.open("rb"), as_attachment=True, filename=dataset.file_name)


@login_required
def sdv_share(request, trial):
    trial = _trial_for(request.user, trial, roles.DATASET_READERS)
    return render(request, "datamanagement/sdv_share.html", {
        "trial": trial,
        "rows": sdv.share_verified(trial),
        "back": reverse("datamanagement:trial", args=[trial.code]),
    })
