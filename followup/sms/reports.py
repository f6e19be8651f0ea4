"""Delivery reports and opt-outs after the weekly SMS went out: the gateway's reports
applied to their messages (weekly SMS and invitations by SMS; one never delivered fails
and, for an invitation, hands its contact to the next channel), and each trial's
coordinators told who stopped the SMS."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.mail import send_mail

from .. import outbox
from ..models import Message, SmsMessage, SmsOptOut, SmsPrompt, SmsStatusCallback
from ..sending.messages import fall_back
from . import twilio
from .inbound import opt_out
from .sending import OPTED_OUT

if TYPE_CHECKING:
    from .tracking import SmsStats


FAILED_STATUSES = {"failed", "undelivered"}
REPORT_DAYS = 2  # a report whose message is still unknown after this is left


def apply_status_reports(reports: list[SmsStatusCallback], now: datetime) -> int:
    """Apply delivery reports to their messages; those whose message has no recorded
    provider id yet stay for the next dispatcher run. Returns how many were applied."""
    ids = {r.provider_id for r in reports}
    messages = {
        m.provider_id: m
        for m in SmsMessage.objects.filter(provider_id__in=ids).select_related("participant")
    }
    applied = _apply_to_invitations(reports, ids, now)
    for report in reports:
        message = messages.get(report.provider_id)
        if message is None:
            continue
        applied.append(report.pk)
        if report.error_code == OPTED_OUT:
            # About the participant, whatever the message's stage.
            opt_out(message.participant, now, source="provider")
        if not twilio.moves_forward(message.provider_status, report.status):
            continue  # older than what is known: kept, not applied backwards
        message.provider_status = report.status
        if report.status in FAILED_STATUSES:
            message.status = Message.FAILED
            message.error = f"gateway: {report.status} (error {report.error_code})"
            if message.prompt_id and message.kind == SmsMessage.QUESTION:
                # Never delivered: not waiting for a reply (as a refused send).
                SmsPrompt.objects.filter(pk=message.prompt_id, status=SmsPrompt.SENT).update(
                    status=SmsPrompt.FAILED, next_action_at=None
                )
        message.save(update_fields=["provider_status", "status", "error"])
    SmsStatusCallback.objects.filter(pk__in=applied).update(applied_at=now)
    return len(applied)


def _apply_to_invitations(reports, ids: set, now: datetime) -> list[int]:
    """Delivery reports of invitations and reminders sent by SMS: one that was never
    delivered fails for good and hands its contact to the next channel."""
    invitations = {
        m.provider_id: m
        for m in Message.objects.filter(channel=Message.SMS, provider_id__in=ids).select_related(
            "contact__participant__trial",
            "contact__participant__personal_details",
            "contact__participant__sms_opt_out",
        )
    }
    applied, undelivered = [], []
    for report in reports:
        message = invitations.get(report.provider_id)
        if message is None:
            continue
        applied.append(report.pk)
        if report.status in FAILED_STATUSES and message.status == Message.SENT:
            message.status = Message.FAILED
            message.error = f"gateway: {report.status} (error {report.error_code})"
            message.save(update_fields=["status", "error"])
            undelivered.append(message)
    fall_back(undelivered, now)
    return applied


def apply_pending_reports(now: datetime, stats: SmsStats) -> None:
    pending = list(
        SmsStatusCallback.objects.filter(
            applied_at__isnull=True, received_at__gte=now - timedelta(days=REPORT_DAYS)
        )[:1000]
    )
    if pending:
        stats.reports += apply_status_reports(pending, now)


def notify_opt_outs(now: datetime, stats: SmsStats) -> None:
    """Tell each trial's coordinators who stopped the SMS (study IDs only)."""
    from enrolment import permissions as roles

    pending = list(
        SmsOptOut.objects.filter(coordinator_notified_at__isnull=True).select_related(
            "participant__trial"
        )[:500]
    )
    by_trial: dict = {}
    for record in pending:
        by_trial.setdefault(record.participant.trial, []).append(record)
    for trial, opt_outs in by_trial.items():
        recipients = roles.emails_of(trial, {roles.COORDINATOR})
        if recipients:
            ids = ", ".join(o.participant.study_id for o in opt_outs)
            with outbox.regarding(trial.pk):
                _notify(trial, ids, len(opt_outs), recipients)
        SmsOptOut.objects.filter(pk__in=[o.pk for o in opt_outs]).update(
            coordinator_notified_at=now
        )
        stats.notified += len(opt_outs)


def _notify(trial, ids: str, count: int, recipients: list[str]) -> None:
    send_mail(
        subject=f"[{trial.code}] SMS tracking stopped by {count} participant(s)",
        message=(
            f"These participants replied STOP and receive no more SMS: {ids}.\n"
            f"Their earlier answers are kept. See the SMS follow-up list:\n"
            f"{settings.FOLLOWUP_BASE_URL.rstrip('/')}/followup/{trial.code}/sms/\n"
        ),
        from_email=None,
        recipient_list=recipients,
    )
