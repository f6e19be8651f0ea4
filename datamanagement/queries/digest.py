"""The weekly email to clinic staff of the queries waiting for them (open or re-opened),
for trials whose protocol file sets ``query_digest = true`` (off by default).

Physiotherapists get their clinic's queries; coordinators get the trial's. One email per
person, trial and week: a second run in the same week sends nothing again (QueryDigest).
Messages carry study IDs and the value's name only, never personal details.
"""

from __future__ import annotations

from datetime import date, timedelta

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation

from enrolment import permissions as roles
from enrolment.models import Physiotherapist, Trial
from followup import outbox

from .models import Query, QueryDigest


def _recipients(trial: Trial, waiting) -> dict:
    """user -> the waiting queries they may answer."""
    by_clinic: dict[int, list[Query]] = {}
    for q in waiting:
        by_clinic.setdefault(q.participant.clinic_id, []).append(q)
    out: dict = {}
    physios = (
        Physiotherapist.objects.filter(
            active=True, clinic_id__in=list(by_clinic), user__is_active=True
        )
        .exclude(user__email="")
        .select_related("user")
    )
    for p in physios:
        out.setdefault(p.user, []).extend(by_clinic[p.clinic_id])
    for user in roles.users_of(trial, {roles.COORDINATOR}):
        out[user] = list(waiting)
    return out


def digests_for(trial: Trial) -> list[tuple[object, list[Query]]]:
    waiting = list(
        Query.objects.filter(participant__trial=trial, state__in=Query.WAITING_FOR_CLINIC)
        .select_related("participant__clinic")
        .order_by("raised_at")
    )
    if not waiting:
        return []
    return sorted(_recipients(trial, waiting).items(), key=lambda kv: kv[0].username)


def send_weekly_digests(today: date | None = None) -> int:
    """Send this week's digests of every trial that asks for them; returns emails sent."""
    today = today or timezone.localdate()
    week = today - timedelta(days=today.weekday())
    sent = 0
    for trial in Trial.objects.filter(query_digest=True):
        for user, queries in digests_for(trial):
            sent += _send_once(trial, user, queries, week)
    return sent


def _send_once(trial: Trial, user, queries: list[Query], week: date) -> int:
    try:
        with transaction.atomic():
            QueryDigest.objects.create(
                trial=trial, user=user, week=week, queries=len(queries), sent_at=timezone.now()
            )
            context = {
                "trial": trial,
                "user": user,
                "queries": queries,
                "base_url": settings.FOLLOWUP_BASE_URL.rstrip("/"),
            }
            with translation.override(trial.default_language):
                subject = render_to_string(
                    "datamanagement/queries/email/digest_subject.txt", context
                ).strip()
                body = render_to_string("datamanagement/queries/email/digest.txt", context)
            with outbox.regarding(trial.pk):
                # Inside the transaction: a send that fails leaves no record, so the
                # next run (or next week) tries again.
                EmailMessage(subject, body, to=[user.email]).send()
    except IntegrityError:
        return 0  # sent already this week
    return 1
