"""The menu's way to the queries for a physiotherapist: data managers and monitors reach
them from the data-management page; a physiotherapist, who answers their clinic's, has no
such page, so the menu names the trial's queries with how many wait for their clinic."""

from __future__ import annotations

from django.db.models import Count

from enrolment import permissions as roles
from enrolment.models import Trial

from .models import Query
from .permissions import READERS


def nav(request) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    ids = roles.trial_ids_where(user, roles.PHYSIOTHERAPIST)
    if not ids:
        return {}
    trials = [t for t in Trial.objects.filter(pk__in=ids).order_by("code")
              if not roles.has_any(user, t, READERS)]
    if not trials:
        return {}
    waiting = dict(
        Query.objects.visible_to(user)
        .filter(participant__trial__in=trials, state__in=Query.WAITING_FOR_CLINIC)
        .values("participant__trial")
        .annotate(n=Count("pk"))
        .values_list("participant__trial", "n")
    )
    return {"query_trials": [(t.code, t.study_id_prefix, waiting.get(t.pk, 0)) for t in trials]}
