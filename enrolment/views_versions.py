"""The trial's protocol versions: the list, and each version's diff, consequences and file."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, render

from .amendments import consequence_text
from .views import _trial_for


@login_required
def protocol_versions(request, code):
    trial = _trial_for(request.user, code)
    versions = trial.protocol_versions.select_related("loaded_by").order_by("-number")
    return render(
        request, "enrolment/protocol_versions.html", {"trial": trial, "versions": versions}
    )


@login_required
def protocol_version(request, code, number):
    trial = _trial_for(request.user, code)
    version = get_object_or_404(
        trial.protocol_versions.select_related("loaded_by"), number=number
    )
    return render(
        request,
        "enrolment/protocol_version.html",
        {
            "trial": trial,
            "version": version,
            "consequences": [consequence_text(c) for c in version.consequences],
            "participants": trial.participants.filter(protocol_version=version).count(),
            "removed_timepoints": trial.timepoints.filter(removed_in=version),
        },
    )
