"""``{% participant_contacts participant %}``: the participant's follow-up timeline."""

from django import template
from django.db.models import Count, Min, Q

from enrolment import permissions as roles
from followup import reach
from followup.access import may_reschedule
from followup.models import Contact, Message
from followup.planning import NOT_TO_BE_CONTACTED, RESCHEDULABLE
from followup.sms.prompts import question_labels
from trialsite.redaction import redact

register = template.Library()


@register.filter
def channel_note(note: str) -> str:
    """A contact's channel note (stored in English) in the reader's language."""
    return reach.describe(note or "")


@register.filter
def channel_name(channel: str) -> str:
    return str(reach.CHANNEL_NAMES.get(channel, channel))


@register.inclusion_tag("followup/_participant_contacts.html", takes_context=True)
def participant_contacts(context, participant):
    # The caller (the participant page) has already checked that the user sees this
    # participant; the reschedule link still asks the roles.
    request = context.get("request")
    user = getattr(request, "user", None) or context.get("user")
    rows = list(
        Contact.objects.filter(participant=participant)
        .select_related("timepoint")
        .annotate(
            invitation_sent=Min(
                "messages__sent_at",
                filter=Q(messages__kind=Message.INVITATION, messages__status=Message.SENT),
            ),
            failed_messages=Count("messages", filter=Q(messages__status=Message.FAILED)),
        )
        .order_by("due_at", "id")
    )
    contactable = participant.status not in NOT_TO_BE_CONTACTED
    for row in rows:
        row.reschedulable = contactable and row.status in RESCHEDULABLE
    details = getattr(participant, "personal_details", None)
    return {
        "rows": rows,
        "preference": details.get_contact_preference_display() if details else "",
        # codes: the template names them in the reader's language (channel_name)
        "fallback": reach.settings_of(participant.trial)["fallback"],
        "may_reschedule": bool(user) and may_reschedule(user, participant.trial),
        # A withdrawal's reason is in the closing reason of the contacts it cancelled.
        "blinded": bool(user) and roles.blinded_for(user, participant.trial),
    }


@register.inclusion_tag("followup/_participant_sms.html")
def participant_sms(participant):
    """The weekly SMS tracking of one participant: each week's answers, and whether the
    participant stopped the SMS. Nothing for a trial without SMS tracking."""
    from followup.models import SmsOptOut, SmsPrompt

    prompts = list(SmsPrompt.objects.filter(participant=participant).order_by("week", "position"))
    labels = question_labels(participant.trial)
    weeks: dict[int, dict] = {}
    for p in prompts:
        p.question_label = labels.get(p.question, p.question)
        week = weeks.setdefault(p.week, {"week": p.week, "due_at": p.due_at, "answers": []})
        week["answers"].append(p)
    opt_out = SmsOptOut.objects.filter(participant=participant).first()
    closed = [w for w in weeks.values() if w["answers"][0].sent_at is not None]
    return {
        "has_sms": bool(prompts),
        "weeks": closed[-12:],
        "answered": sum(w["answers"][0].status == SmsPrompt.ANSWERED for w in closed),
        "asked": len(closed),
        "planned": len(weeks),
        "opt_out": opt_out,
    }


@register.filter
def hide_links(text: str) -> str:
    """A stored message body as staff see it: any survey link hidden (the outbox stores
    them hidden already; an SMS body is shown as stored, so it is hidden here)."""
    return redact(text or "")
