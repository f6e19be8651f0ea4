"""The weekly recruitment email, sent on Mondays by Celery beat
(``monitoring-weekly-summary`` in settings.CELERY_BEAT_SCHEDULE, task
analysis.tasks.send_weekly_summaries).

Recipients come from the trial's roles: coordinators get the whole trial, each clinic
manager their clinics (:class:`enrolment.models.TrialRole` with its ``clinics``).
settings.MONITORING_CLUSTER_EMAILS adds addresses per cluster for people without an
account. Counts only: no personal data, no study ID, no allocation per patient.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta

from django.conf import settings
from django.core.mail import EmailMessage

from enrolment import permissions as roles
from followup import outbox

from .clinics import clinic_recruitment
from .pure import Recruitment, month_start, week_start
from .quality import data_quality
from .queries import recruitment_for


def weekly_email_enabled() -> bool:
    return bool(settings.MONITORING_WEEKLY_EMAIL)


def cluster_recipients() -> dict[str, list[str]]:
    """Extra addresses per cluster, keyed "<trial>:<cluster>"."""
    return dict(settings.MONITORING_CLUSTER_EMAILS or {})


def _summary_lines(rec: Recruitment, rows: list[dict], today: date) -> list[str]:
    this_month = month_start(today)
    week = week_start(today) - timedelta(weeks=1)
    lines = []
    for r in rows:
        m = rec.months.index(this_month) if this_month in rec.months else None
        w = rec.weeks.index(week) if week in rec.weeks else None
        month_n = r["months"][m] if m is not None else 0
        week_n = r["weeks"][w] if w is not None else 0
        target = f" (target {rec.target}, at most {rec.ceiling})" if rec.target else ""
        lines.append(
            f"- {r['name']}: {week_n} last week, {month_n} this month{target}, {r['total']} in all"
        )
    return lines


def _clinic_lines(rows: list[dict]) -> list[str]:
    """Last week's line of each clinic of :func:`.clinics.clinic_recruitment`."""
    lines = []
    for c in rows:
        week = c["weeks"][-2]
        followup = (
            f"follow-up {week['completed']} of {week['due']} answered"
            if week["due"]
            else "no follow-up due"
        )
        lines.append(
            f"- {c['name']}: last week {week['screened']} screened, {week['enrolled']} enrolled, "
            f"{followup}; {c['enrolled_all']} enrolled in all"
        )
    return lines


def _manager_messages(trial, today: date, subject: str) -> list[EmailMessage]:
    """One email per clinic manager with an email address, about their clinics only."""
    from enrolment.models import Clinic, TrialRole

    managers = (
        TrialRole.objects.filter(trial=trial, role=roles.CLINIC_MANAGER, user__is_active=True)
        .exclude(user__email="")
        .select_related("user")
        .prefetch_related("clinics")
    )
    managers = [m for m in managers if m.clinics.all()]
    if not managers:
        return []
    # Two weeks: the one that ended and the one under way (which the email leaves out).
    rows = clinic_recruitment(trial, Clinic.objects.filter(cluster__trial=trial), today, 2)
    by_code = {r["code"]: r for r in rows}
    messages = []
    for m in managers:
        theirs = [by_code[c.code] for c in m.clinics.all() if c.code in by_code]
        week = week_start(today) - timedelta(weeks=1)
        body = "\n".join(
            [
                f"{trial.name}: recruitment at your clinics, week of {week:%Y-%m-%d}.",
                "",
                *_clinic_lines(theirs),
            ]
        )
        messages.append(EmailMessage(subject, body, to=[m.user.email]))
    return messages


def weekly_summaries(trial, today: date, recipients: Mapping[str, list[str]] | None = None):
    """The weekly emails of one trial: the whole trial to its coordinators, their clinics
    to clinic managers, each cluster to ``recipients`` keyed "<trial>:<cluster>"."""
    from enrolment.models import Clinic, Participant

    participants = Participant.objects.filter(trial=trial)
    clinics = Clinic.objects.filter(cluster__trial=trial).select_related("cluster")
    rec = recruitment_for(trial, participants, clinics, today)
    dq = data_quality(trial, participants, whole_trial=True)
    quality = [
        f"Unresolved double entries: {dq['double_entries']}",
        f"Responses out of window: {sum(r['total'] for r in dq['out_of_window'])}",
        f"Responses with missing items: {sum(r['incomplete'] for r in dq['missing_items'])}",
        "Items missing without a reason: "
        f"{sum(r['without_reason'] for r in dq['missing_items'])}, "
        f"with a reason: {sum(r['with_reason'] for r in dq['missing_items'])}",
    ]
    if dq["crpe_missing"] is not None:
        quality.append(f"CRPE-tools missing at the final visit: {dq['crpe_missing']}")
    subject = f"{trial.study_id_prefix} weekly recruitment {today:%Y-%m-%d}"
    messages = []
    coordinators = roles.emails_of(trial, {roles.COORDINATOR})
    total = f"{rec.total} enrolled" + (f" of {rec.sample_size} planned" if rec.sample_size else "")
    if coordinators:
        body = "\n".join(
            [f"{trial.name}: {total}.", "", *_summary_lines(rec, rec.clusters, today), "", *quality]
        )
        messages.append(EmailMessage(subject, body, to=coordinators))
    messages += _manager_messages(trial, today, subject)
    for r in rec.clusters:
        to = list((recipients or {}).get(f"{trial.code}:{r['code']}", []))
        if not to:
            continue
        clinic_rows = [c for c in rec.clinics if c["cluster"] == r["code"]]
        body = "\n".join(
            [
                f"{trial.name}, cluster {r['name']}.",
                "",
                *_summary_lines(rec, [r], today),
                "",
                "Clinics:",
                *_summary_lines(rec, clinic_rows, today),
            ]
        )
        messages.append(EmailMessage(f"{subject} ({r['name']})", body, to=to))
    return messages


def send_weekly_summaries_now(today: date | None = None) -> int:
    """Send every trial's weekly summary when enabled; returns the number of emails."""
    from django.utils import timezone

    from enrolment.models import Trial

    if not weekly_email_enabled():
        return 0
    today = today or timezone.localdate()
    recipients = cluster_recipients()
    sent = 0
    for trial in Trial.objects.all():
        with outbox.regarding(trial.pk):
            for message in weekly_summaries(trial, today, recipients):
                sent += message.send()
    return sent
