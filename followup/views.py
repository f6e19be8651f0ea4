"""Staff pages of follow-up: the outbox, the overdue list, the message log, and
rescheduling one contact. Patient pages (the survey link) are in :mod:`followup.survey`."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Exists, OuterRef, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from enrolment import permissions as roles
from enrolment.models import Trial

from . import access, reach
from .forms import NewLinkForm, RescheduleForm
from .links import NewLinkError, send_new_link
from .models import Contact, Message, OutboxMessage
from .planning import RESCHEDULABLE, RescheduleError, reschedule_contact

OUTBOX_PAGE = 25


@login_required
def outbox(request):
    """What the embedded installation would have sent, newest first, for the user's own
    trials (:func:`access.outbox_visible_to`; survey links are stored hidden). Filter by
    trial and channel, search by study ID, 25 to a page."""
    if not access.may_read_outbox(request.user):
        raise PermissionDenied
    rows = access.outbox_visible_to(request.user).select_related("trial", "participant")
    trials = [
        t for t in roles.trials_of(request.user) if access.may_read_outbox_of(request.user, t)
    ]
    chosen = {
        "trial": request.GET.get("trial", ""),
        "channel": request.GET.get("channel", ""),
        "q": request.GET.get("q", "").strip()[:40],
    }
    if chosen["trial"]:
        rows = rows.filter(trial__code=chosen["trial"])
    if chosen["channel"] in dict(OutboxMessage._meta.get_field("channel").choices):
        rows = rows.filter(channel=chosen["channel"])
    if chosen["q"]:
        rows = rows.filter(participant__study_id__icontains=chosen["q"])
    page = Paginator(rows.order_by("-created", "-id"), OUTBOX_PAGE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "followup/outbox.html",
        {
            "page": page,
            "trials": trials,
            "chosen": chosen,
            "query": urlencode({k: v for k, v in chosen.items() if v}),
        },
    )


def _trial_for(user, code: str) -> Trial:
    return get_object_or_404(roles.trials_of(user), code=code)


@login_required
def overdue(request, code):
    """Missed contacts and contacts whose message could not be delivered."""
    trial = _trial_for(request.user, code)
    if not roles.has_any(request.user, trial, roles.PARTICIPANT_LISTS):
        raise PermissionDenied  # e.g. a clinic manager, who sees counts and no participant
    failed = Message.objects.filter(contact=OuterRef("pk"), status=Message.FAILED)
    contacts = (
        access.contacts_visible_to(request.user, trial)
        .annotate(delivery_failed=Exists(failed))
        .filter(
            Q(status=Contact.MISSED)
            | Q(delivery_failed=True, status=Contact.INVITED)
            # Reachable by no channel: listed from the day of enrolment (followup.reach).
            | Q(channel_note__startswith="unreachable", status__in=Contact.OPEN)
        )
        .select_related("participant__clinic", "timepoint")
        .order_by("due_at", "id")
    )
    page = Paginator(contacts, 100).get_page(request.GET.get("page"))
    return render(
        request,
        "followup/overdue.html",
        {
            "trial": trial,
            "page": page,
            "may_reschedule": access.may_reschedule(request.user, trial),
        },
    )


def quiet_hours_held(user, trial) -> dict:
    """Invitations and reminders the trial's quiet hours held back: sent at the next
    allowed time, or still waiting for it."""
    held = access.messages_visible_to(user, trial).filter(held_at__isnull=False)
    return {
        "sent": held.filter(status=Message.SENT).count(),
        "waiting": held.filter(status__in=[Message.PENDING, Message.RETRY]).count(),
    }


@login_required
def message_log(request, code):
    trial = _trial_for(request.user, code)
    if not roles.has_any(request.user, trial, access.MESSAGE_LOG):
        raise PermissionDenied
    channel = "sms" if request.GET.get("channel") == "sms" else "email"
    if channel == "sms":
        rows = (
            access.sms_messages_visible_to(request.user, trial)
            .select_related("participant", "prompt")
            .order_by("-created", "-id")
        )
    else:
        rows = (
            access.messages_visible_to(request.user, trial)
            .select_related(
                "contact__participant", "contact__physiotherapist", "contact__timepoint"
            )
            .order_by("-created", "-id")
        )
    status = request.GET.get("status")
    if status in dict(Message.STATUSES):
        rows = rows.filter(status=status)
    query = request.GET.get("q", "").strip()[:40]
    if query:
        study_id = "participant__study_id" if channel == "sms" else "contact__participant__study_id"
        rows = rows.filter(**{f"{study_id}__icontains": query})
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "followup/message_log.html",
        {
            "trial": trial,
            "page": page,
            "status": status or "",
            "channel": channel,
            "q": query,
            "query": urlencode({"channel": channel, "status": status or "", "q": query}),
            "has_sms": tracking_enabled(trial),
            "statuses": Message.STATUSES,
            "quiet": quiet_hours_held(request.user, trial),
            "quiet_rule": reach.settings_of(trial),
            "show_recipients": access.may_see_recipients(request.user, trial),
        },
    )


def tracking_enabled(trial) -> bool:
    from .sms.tracking import schedule_of

    return schedule_of(trial) is not None


@login_required
def contact_reschedule(request, pk):
    contact = access.contact_or_404(request.user, pk)
    trial = contact.timepoint.trial
    if not access.may_reschedule(request.user, trial):
        raise PermissionDenied
    form = RescheduleForm(request.POST or None, initial={"due_on": contact.due_on})
    if request.method == "POST" and form.is_valid():
        try:
            reschedule_contact(
                contact, form.cleaned_data["due_on"], form.cleaned_data["reason"], request.user
            )
        except RescheduleError as exc:
            form.add_error(None, exc.messages)
        else:
            messages.success(request, _("The contact was rescheduled."))
            return redirect("participant_detail", study_id=contact.participant.study_id)
    return render(
        request,
        "followup/reschedule.html",
        {
            "contact": contact,
            "participant": contact.participant,
            "form": form,
            "reschedulable": contact.status in RESCHEDULABLE,
            "history": contact.history.select_related("history_user").order_by("-history_date")[
                :20
            ],
        },
    )


@login_required
def contact_new_link(request, pk):
    """Send the patient a new personal link (the old one stops working), with a reason."""
    contact = access.contact_or_404(request.user, pk)
    if not access.may_reschedule(request.user, contact.timepoint.trial):
        raise PermissionDenied
    form = NewLinkForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            send_new_link(contact, form.cleaned_data["reason"], request.user)
        except NewLinkError as exc:
            form.add_error(None, exc.messages)
        else:
            messages.success(
                request,
                _(
                    "A new link goes to the patient by email within a minute; "
                    "the old one no longer works."
                ),
            )
            return redirect("participant_detail", study_id=contact.participant.study_id)
    return render(
        request,
        "followup/new_link.html",
        {
            "contact": contact,
            "participant": contact.participant,
            "form": form,
            "open": contact.status == Contact.INVITED,
        },
    )


@login_required
def sms_followup(request, code):
    """Weekly SMS tracking: who missed 3 weeks in a row (to be phoned), who opted out,
    undelivered questions, and the latest replies. Physiotherapists see their clinic."""
    from enrolment.models import Participant

    from .models import InboundSms, SmsMessage, SmsOptOut
    from .sms import prompts, tracking

    trial = _trial_for(request.user, code)
    participants = Participant.objects.visible_to(request.user).filter(trial=trial)
    weeks = tracking.weekly_rates(participants)
    opt_outs = (
        SmsOptOut.objects.filter(participant__in=participants)
        .select_related("participant")
        .order_by("-at")
    )
    # Who asked for no more SMS is listed apart, not as someone to chase.
    stopped = {o.participant.study_id for o in opt_outs}
    missed = [s for s in tracking.missed_weeks_in_a_row(participants) if s not in stopped]
    undelivered = (
        SmsMessage.objects.filter(participant__in=participants, status=Message.FAILED)
        .select_related("participant", "prompt")
        .order_by("-created")[:100]
    )
    show_text = access.may_see_recipients(request.user, trial)
    replies = list(
        InboundSms.objects.filter(participant__in=participants)
        .select_related("participant", "prompt")
        .order_by("-received_at")[:50]
    )
    labels = prompts.question_labels(trial)
    for reply in replies:
        code = reply.prompt.question if reply.prompt_id else ""
        reply.question_label = labels.get(code, code)
    return render(
        request,
        "followup/sms.html",
        {
            "trial": trial,
            "missed": missed,
            "opt_outs": opt_outs,
            "undelivered": undelivered,
            "replies": replies,
            "show_text": show_text,
            "weeks_closed": sum(w["sent"] for w in weeks),
            "weeks_answered": sum(w["answered"] for w in weeks),
            "quiet": tracking.quiet_hours_counts(participants),
            "quiet_rule": reach.settings_of(trial),
        },
    )
