"""The personal survey link: /s/<token>/ opens the visit's questionnaires, no login.

The token is looked up by its SHA-256 (the database holds nothing else). A link works
for one participant and one timepoint, from the window's first day to its last, and
stops working once the questionnaires are answered or the contact is closed. A link
that does not work says why, kindly, and whom to ask; it never shows the allocation.
"""

from __future__ import annotations

from django.conf import settings
from django.db.models import OuterRef
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.views.decorators.cache import never_cache

from enrolment.consent.reading import trial_holds
from questionnaires.models import Response
from questionnaires.services.saving import Visit
from questionnaires.views.visits import run_visit_page
from trialsite.compiled import CompiledQuery

from .amendments import instruments_for
from .dispatch import language_of
from .models import Contact, Message
from .planning import complete_contact
from .tokens import hash_token

OK = "ok"
UNKNOWN = "unknown"
USED = "used"
EXPIRED = "expired"
NOT_YET = "not_yet"
CLOSED = "closed"


def find_contact(token: str) -> Contact | None:
    """The link's contact with what its pages show, and whether its trial holds data
    collection until re-consent (in the same query: every page asks it). A
    physiotherapist's own link reads the physiotherapist when needed: joined for every
    patient's page it made the query's plan dearer than its execution."""
    return _LINK.first(token_hash=hash_token(token))


# Every survey page asks it: compiled once (trialsite.compiled), as building and compiling
# it cost as much as PostgreSQL's answer.
_LINK = CompiledQuery(
    lambda token_hash: Contact.objects.select_related(
        "timepoint__trial", "participant__personal_details"
    )
    .annotate(trial_holds=trial_holds(OuterRef("timepoint__trial_id")))
    .filter(token_hash=token_hash)
    .order_by()[:1],  # the hash is unique
    token_hash=str,
)


def link_state(contact: Contact | None, now) -> str:
    if contact is None:
        return UNKNOWN
    if contact.status == Contact.COMPLETED:
        return USED
    if contact.status == Contact.CANCELLED:
        return CLOSED
    if contact.status == Contact.MISSED or now >= contact.closes_at:
        return EXPIRED
    if now < contact.opens_at:
        return NOT_YET
    return OK


def _visit(contact: Contact) -> Visit:
    return Visit(
        timepoint=contact.timepoint,
        participant=contact.participant,
        physiotherapist=contact.physiotherapist,
        mode=Response.PATIENT_ONLINE,
        codes=instruments_for(contact),
        trial_holds=getattr(contact, "trial_holds", None),
    )


def _refuse(request, contact: Contact | None, state: str):
    language = language_of(contact) if contact else translation.get_language()
    with translation.override(language):
        return render(
            request,
            "followup/link_unavailable.html",
            {
                "state": state,
                "language": language,
                "office_email": settings.FOLLOWUP_TRIAL_OFFICE_EMAIL,
                "office_phone": settings.FOLLOWUP_TRIAL_OFFICE_PHONE,
                "window_opens": contact.window_opens if contact else None,
            },
            status=404 if state == UNKNOWN else 410 if state != NOT_YET else 403,
        )


def _open(request, token: str):
    contact = find_contact(token)
    state = link_state(contact, timezone.now())
    return contact, (None if state == OK else _refuse(request, contact, state))


@never_cache
def survey_start(request, token):
    contact, refusal = _open(request, token)
    if refusal:
        return refusal
    visit = _visit(contact)
    page = visit.first_open_page()
    if page > len(visit.instrument_codes):
        complete_contact(contact)
        return redirect("survey_done", token=token)
    return redirect("survey_page", token=token, page=page)


@never_cache
def survey_page(request, token, page):
    contact, refusal = _open(request, token)
    if refusal:
        return refusal
    done_url = reverse("survey_done", args=[token])
    return run_visit_page(
        request,
        _visit(contact),
        page,
        lambda n: reverse("survey_page", args=[token, n]),
        done_url,
    )


def _link_came_by_sms(contact) -> bool:
    """Did the latest link reach the participant by SMS (not by email)?"""
    latest = (
        Message.objects.filter(contact=contact, status=Message.SENT)
        .exclude(channel=Message.POST)
        .order_by("-sent_at", "-pk")
        .values_list("channel", flat=True)
        .first()
    )
    return latest == Message.SMS


@never_cache
def survey_done(request, token):
    contact = find_contact(token)
    if contact is None:
        return _refuse(request, None, UNKNOWN)
    visit = _visit(contact)
    finished = visit.first_open_page() > len(visit.instrument_codes)
    if finished:
        complete_contact(contact)
    elif link_state(contact, timezone.now()) != OK:
        return _refuse(request, contact, link_state(contact, timezone.now()))
    language = language_of(contact)
    with translation.override(language):
        return render(
            request,
            "followup/link_done.html",
            {
                "finished": finished,
                "language": language,
                "resume_url": reverse("survey_start", args=[token]),
                "by_sms": _link_came_by_sms(contact),
                "office_email": settings.FOLLOWUP_TRIAL_OFFICE_EMAIL,
                "office_phone": settings.FOLLOWUP_TRIAL_OFFICE_PHONE,
            },
        )
