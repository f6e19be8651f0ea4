"""The upload page of a trial's declared imports (``[[imports]]`` of its protocol file):
what each declares, its current import and history, and a form that hands the file to
analysis.imports.import_file, the one write path. The file is small (one row per
participant, or per participant and week) and checked in the request: a file with any
error writes nothing and every error is shown with its line."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from . import imports
from .forms import ImportForm
from .import_models import DataImport
from .registry import RegistryError
from .views import REGISTRY_ROLES, _trial

# Whoever uploads the registry extract uploads the other imports too.
IMPORT_ROLES = REGISTRY_ROLES


@login_required
def imports_upload(request, code):
    trial = _trial(request, code, IMPORT_ROLES)
    if not trial.imports:
        raise Http404("this trial declares no imports")
    form = ImportForm(trial, request.POST or None, request.FILES or None)
    errors = None
    if request.method == "POST" and form.is_valid():
        file, chosen = form.cleaned_data["file"], form.cleaned_data["code"]
        try:
            new = imports.import_file(
                trial, chosen, file.name, file.read(), request.user, form.cleaned_data["note"]
            )
        except RegistryError as exc:
            errors = exc
        else:
            messages.success(
                request,
                _("Imported %(rows)s rows from %(file)s.")
                % {"rows": new.rows, "file": new.file_name},
            )
            return redirect("analysis_imports", code=code)
    history = DataImport.objects.filter(trial=trial).select_related("uploaded_by")
    declared = [
        {
            "spec": spec,
            "weekly": spec["per"] == "participant_week",
            "current": next((i for i in history if i.code == spec["code"] and i.active), None),
            "history": [i for i in history if i.code == spec["code"]],
        }
        for spec in trial.imports
    ]
    return render(
        request,
        "analysis/imports.html",
        {
            "trial": trial,
            "form": form,
            "errors": errors,
            "declared": declared,
        },
    )
