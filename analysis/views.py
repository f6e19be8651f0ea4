"""Analysis pages: exports, blinding codes, registry uploads, the analysis plan and the
sample size calculator. A trial the user has no role in is 404; a role that may not use a
page (physiotherapists, and others) gets 403. Querysets are filtered by trial and user."""

from __future__ import annotations

from pathlib import Path

from csp.decorators import csp_replace
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import FileResponse, Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_POST

from enrolment import permissions as roles

from . import registry, runs
from .exports import participant_vars
from .forms import AnalysisForm, ExportForm, RegistryForm, SampleSizeForm
from .jobs import exports_dir, store_registry_file
from .models import (
    AnalysisRun,
    BlindingCode,
    ExportJob,
    ExportLog,
    RegistryImport,
    RegistryUpload,
)
from .plan import sample_size as ss
from .plan.sample_size.describe import describe
from .plan.sample_size.readings import protocol_readings

ANALYSIS_ROLES = roles.ANALYSIS
REGISTRY_ROLES = roles.REGISTRY
BLINDING_ROLES = roles.BLINDING


def _trial(request, code, wanted=ANALYSIS_ROLES):
    trial = get_object_or_404(roles.trials_of(request.user), code=code)
    if not roles.has_any(request.user, trial, wanted):
        raise PermissionDenied
    return trial


def dispatch(task, *args) -> None:
    """Run eagerly where settings say so (tests, embedded demo), else after commit."""
    if settings.CELERY_TASK_ALWAYS_EAGER:
        task.apply(args=args)
    else:
        transaction.on_commit(lambda: task.delay(*args))


@login_required
def home(request, code):
    trial = _trial(request, code)
    user_roles = roles.roles_in(request.user, trial)
    return render(request, "analysis/home.html", {
        "trial": trial,
        # Blinded by default for a statistician of a blinded trial.
        "form": ExportForm(initial={"blinded": roles.blinded_for(request.user, trial)}),
        "jobs": ExportJob.objects.filter(trial=trial, user=request.user)[:20],
        "logs": ExportLog.objects.filter(trial=trial)[:20],
        "imports": RegistryImport.objects.filter(trial=trial)[:10],
        "runs": AnalysisRun.objects.filter(trial=trial)[:20],
        "may_upload": bool(user_roles & REGISTRY_ROLES),
        "may_see_blinding": bool(user_roles & BLINDING_ROLES),
        # From the export's own variables, so the list cannot drift from the file.
        "participant_columns": [v.name for v in participant_vars(trial)],
    })


@login_required
@require_POST
def export_start(request, code):
    from .tasks import export_task

    trial = _trial(request, code)
    form = ExportForm(request.POST)
    if not form.is_valid():
        messages.error(request, form.errors.as_text())
        return redirect("analysis_home", code=code)
    job = ExportJob.objects.create(trial=trial, user=request.user, **form.cleaned_data)
    dispatch(export_task, job.pk)
    return redirect("analysis_export_status", code=code, pk=job.pk)


def _job(request, code, pk):
    trial = _trial(request, code)
    return get_object_or_404(ExportJob, pk=pk, trial=trial, user=request.user)


@login_required
def export_status(request, code, pk):
    job = _job(request, code, pk)
    return render(request, "analysis/export_status.html", {"trial": job.trial, "job": job})


@login_required
def export_progress(request, code, pk):
    job = _job(request, code, pk)
    return JsonResponse({"status": job.status, "label": job.get_status_display(),
                         "progress": job.progress, "error": job.error})


@login_required
def export_download(request, code, pk, what):
    job = _job(request, code, pk)
    if job.status != ExportJob.DONE:
        raise Http404
    data = Path(job.path)
    paths = {
        "data": data,
        "codebook.csv": data.with_name(data.stem + "_codebook.csv"),
        "codebook.html": data.with_name(data.stem + "_codebook.html"),
        "script.R": data.with_suffix(".R"),
        "script.sas": data.with_suffix(".sas"),
    }
    path = paths.get(what)
    root = exports_dir().resolve()
    if path is None or not path.is_file() or root not in path.resolve().parents:
        raise Http404
    return FileResponse(path.open("rb"), as_attachment=what != "codebook.html",
                        filename=path.name)


@login_required
def blinding(request, code):
    trial = _trial(request, code, BLINDING_ROLES)
    from .exports import blinding_codes

    if request.method == "POST":
        blinding_codes(trial)
        return redirect("analysis_blinding", code=code)
    codes = BlindingCode.objects.filter(trial=trial).order_by("code")
    labels = dict(trial.arms.values_list("code", "label"))
    return render(request, "analysis/blinding.html", {
        "trial": trial, "codes": [(c.code, c.arm, labels.get(c.arm, "")) for c in codes],
    })


@login_required
def registry_upload(request, code):
    """Upload a registry extract: the request stores the file and hands it to a Celery
    task; the page shows the check's progress, then its errors or the import."""
    from .tasks import registry_upload_task

    trial = _trial(request, code, REGISTRY_ROLES)
    form = RegistryForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        file = form.cleaned_data["file"]
        upload = RegistryUpload.objects.create(
            trial=trial, user=request.user, file_name=Path(file.name).name[:300],
            note=form.cleaned_data["note"],
        )
        store_registry_file(upload, file.chunks())
        dispatch(registry_upload_task, upload.pk)
        return redirect(f"{request.path}?upload={upload.pk}")
    upload = None
    if request.GET.get("upload", "").isdigit():
        upload = get_object_or_404(
            RegistryUpload, pk=request.GET["upload"], trial=trial, user=request.user
        )
        if upload.status == RegistryUpload.DONE and upload.registry_import:
            messages.success(request, _("Imported %(rows)s rows from %(file)s.")
                             % {"rows": upload.registry_import.rows, "file": upload.file_name})
    return render(request, "analysis/registry.html", {
        "trial": trial, "form": form, "upload": upload, "columns": registry.ITEMS,
        "imports": RegistryImport.objects.filter(trial=trial).select_related(
            "uploaded_by", "replaced_by"),
        "prices": trial.prices,
    })


@login_required
def plan(request, code):
    from .tasks import analysis_task

    trial = _trial(request, code)
    form = AnalysisForm(request.POST or None, trial=trial)
    if request.method == "POST" and form.is_valid():
        run = AnalysisRun.objects.create(trial=trial, user=request.user,
                                         analysis=form.cleaned_data["analysis"],
                                         outcome=form.cleaned_data["outcome"] or "")
        dispatch(analysis_task, run.pk)
        return redirect("analysis_run", code=code, pk=run.pk)
    return render(request, "analysis/plan.html", {
        "trial": trial, "form": form, "analyses": runs.ANALYSES,
        "runs": AnalysisRun.objects.filter(trial=trial)[:20],
    })


@login_required
def run_status(request, code, pk):
    trial = _trial(request, code)
    run = get_object_or_404(AnalysisRun, pk=pk, trial=trial)
    return render(request, "analysis/run.html", {
        "trial": trial, "run": run, "has_report": runs.report_path(run) is not None,
        "title": runs.ANALYSES.get(run.analysis, run.analysis),
    })


@login_required
@xframe_options_sameorigin
@csp_replace({"frame-ancestors": ["'self'"]})
def run_report(request, code, pk):
    """The report's HTML, shown inside the run's page: so it may be framed by this site
    (and no other), while every other page may be framed by none."""
    trial = _trial(request, code)
    run = get_object_or_404(AnalysisRun, pk=pk, trial=trial)
    path = runs.report_path(run)
    if path is None or runs.runs_dir().resolve() not in path.resolve().parents:
        raise Http404
    return FileResponse(path.open("rb"), content_type="text/html; charset=utf-8")


@login_required
def sample_size(request, code):
    trial = _trial(request, code)
    initial = SampleSizeForm.initial_from(trial.sample_size)
    form = SampleSizeForm(request.GET or None, initial=initial)
    result = summary = error = None
    if request.GET and form.is_valid():
        c = form.cleaned_data
        try:
            result = ss.calculate(
                c["design"], c["d"], c["alpha"], c["power"], c["sided"],
                loss=c["loss"] or 0.0, loss_method=c["loss_method"], method=c["method"] or None,
                icc=c["icc"], cac=c["cac"], m=c["m"], layout_text=c["layout"],
                clusters=c["clusters"],
            )
            summary = describe(result)
        except ValueError as exc:
            error = str(exc)
    readings = readings_error = None
    if trial.sample_size.get("layout"):
        try:
            readings = protocol_readings(trial.sample_size)
        except ValueError as exc:  # a protocol file whose inputs the calculator refuses
            readings_error = str(exc)
    return render(request, "analysis/sample_size.html", {
        "trial": trial, "form": form, "result": result, "summary": summary, "error": error,
        "readings": readings, "readings_error": readings_error,
    })

