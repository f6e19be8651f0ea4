"""A participant's own data, gathered for a subject access request (GDPR art. 15).

:func:`collect` returns plain data (the JSON file is exactly this; the page and the PDF
render it): personal details, participation, consent, every answer with its question in
the participant's language where the trial has it (the trial's licensed wording, else our
translated paraphrase), scores, contacts, email and SMS sent to them and their SMS
replies.

Never the allocation: invariant 2 says nothing a patient is given reveals it, and this
output is handed to the patient. So no arm, no cluster, no crossover washout flag, no
randomisation stratum; only what the participant experienced (their clinic, their dates).
"""

from __future__ import annotations

from django.utils import timezone, translation
from django.utils.translation import gettext

from enrolment.consent.reading import history as consent_history
from enrolment.models import Consent, Participant, PersonalDetails
from followup.models import Contact, InboundSms, SmsMessage, SmsOptOut, SmsPrompt
from followup.sms import tracking
from questionnaires.instruments import base, get
from questionnaires.models import Response
from questionnaires.services.answers import wording_for

FORMAT_VERSION = 1


def language_of(participant: Participant) -> str:
    details = PersonalDetails.objects.filter(participant=participant).first()
    return (details and details.preferred_language) or participant.trial.default_language


def _when(value) -> str | None:
    return value.isoformat() if value else None


def collect(participant: Participant) -> dict:
    """Everything the site holds about ``participant`` that is theirs, in their language."""
    language = language_of(participant)
    with translation.override(language):
        return {
            "format": "trialsite subject access",
            "format_version": FORMAT_VERSION,
            "produced_at": _when(timezone.now()),
            "language": language,
            "study_id": participant.study_id,
            "trial": {
                "name": participant.trial.name,
                "registration": participant.trial.registration,
            },
            "personal_details": _personal_details(participant),
            "participation": _participation(participant),
            "consent": _consent(participant),
            "questionnaires": _questionnaires(participant, language),
            "contacts": _contacts(participant, language),
            "sms": _sms(participant),
        }


def _personal_details(participant: Participant) -> dict | None:
    d = PersonalDetails.objects.filter(participant=participant).first()
    if d is None:
        return None
    return {
        "name": d.full_name,
        "national_id": d.national_id,
        "date_of_birth": _when(d.date_of_birth),
        "email": d.email,
        "mobile": d.mobile,
        "preferred_language": d.preferred_language,
        "erased_at": _when(d.erased_at),
    }


def _participation(p: Participant) -> dict:
    return {
        "clinic": p.clinic.name,
        "enrolled_on": _when(p.enrolled_on),
        "status": str(p.get_status_display()),
        "final_visit_on": _when(p.final_visit_on),
        "withdrawn_on": _when(p.withdrawn_on),
        "withdrawal_scope": str(p.get_withdrawal_scope_display()) if p.withdrawal_scope else "",
        "withdrawal_reason": p.withdrawal_reason,
        "died_on": _when(p.died_on),
    }


def _consent(p: Participant) -> dict | None:
    c = Consent.objects.filter(participant=p).first()
    if c is None:
        return None
    return {
        "consented_on": _when(c.consented_on),
        "form_version": c.form_version,
        # Every consent given or refused since, with the optional items' answers.
        "history": [
            {
                "date": _when(r.given_on),
                "kind": r.kind,
                "version": r.version,
                "answers": r.answers,
                "method": r.method,
            }
            for r in consent_history(p)
        ],
    }


def _answer_text(item: base.Item, value, wording) -> str:
    """The answer as the participant saw it: the label of a choice, yes/no, or the value."""
    own = (wording.choices.get(item.id) or {}) if wording else {}
    labels = {c.code: own.get(str(c.code)) or gettext(c.label) for c in item.choices}
    if item.kind == base.CHOICE:
        return labels.get(value, str(value))
    if item.kind == base.MULTI:
        return "; ".join(labels.get(v, str(v)) for v in value or [])
    if item.kind == base.YESNO:
        return gettext("Yes") if value else gettext("No")
    return str(value)


def _sms_questions(participant: Participant, language: str) -> dict[str, str]:
    """The weekly SMS questions as the protocol file words them in ``language``: the text
    the participant was sent, better than the instrument's English paraphrase."""
    schedule = tracking.schedule_of(participant.trial)
    if schedule is None:
        return {}
    return {q["code"]: tracking.wording(q, language) for q in schedule.questions}


def _questionnaires(participant: Participant, language: str) -> list[dict]:
    sms_questions = _sms_questions(participant, language)
    responses = (
        Response.objects.filter(participant=participant, entry=Response.FINAL)
        .select_related("timepoint")
        .order_by("timepoint__order", "week", "instrument", "id")
    )
    wordings: dict = {}
    out = []
    for r in responses:
        definition = get(r.instrument, r.version)
        key = (r.instrument, r.version)
        if key not in wordings:
            wordings[key] = wording_for(participant.trial, definition, language)
        wording = wordings[key]
        items = []
        for item in definition.items:
            if not base.answered(r.answers, item.id):
                continue
            text = (
                (wording.items.get(item.id) if wording else "")
                or (sms_questions.get(item.id) if r.instrument == tracking.INSTRUMENT else "")
                or gettext(item.text)
            )
            value = r.answers[item.id]
            items.append(
                {
                    "item": item.id,
                    "question": text,
                    "answer": value,
                    "answer_text": _answer_text(item, value, wording),
                }
            )
        scores = [
            {
                "score": s.name,
                "label": gettext(s.label),
                "value": r.scores.get(s.name),
                "value_text": gettext(str(s.labels[r.scores[s.name]]))
                if r.scores[s.name] in s.labels
                else "",
            }
            for s in definition.scores
            if r.scores.get(s.name) is not None
        ]
        out.append(
            {
                "timepoint": r.timepoint.label_in(language),
                "week": r.week,
                "instrument": (wording.title if wording and wording.title else "")
                or gettext(definition.name),
                "instrument_code": r.instrument,
                "version": r.version,
                "how": str(r.get_mode_display()),
                "started_at": _when(r.started_at),
                "completed_at": _when(r.completed_at),
                "answers": items,
                "scores": scores,
            }
        )
    return out


def _contacts(participant: Participant, language: str) -> list[dict]:
    contacts = (
        Contact.objects.filter(participant=participant)
        .select_related("timepoint")
        .prefetch_related("messages")
        .order_by("due_at", "id")
    )
    return [
        {
            "timepoint": c.timepoint.label_in(language),
            "due_on": _when(c.due_on),
            "window": [_when(c.window_opens), _when(c.window_closes)],
            "status": str(c.get_status_display()),
            # What was sent, to whom, when; never the link itself (it may still work).
            "emails": [
                {
                    "kind": str(m.get_kind_display()),
                    "to": m.recipient,
                    "status": str(m.get_status_display()),
                    "sent_at": _when(m.sent_at),
                }
                for m in sorted(c.messages.all(), key=lambda m: (m.created, m.pk))
            ],
        }
        for c in contacts
    ]


def _sms(participant: Participant) -> dict:
    sent = SmsMessage.objects.filter(participant=participant).order_by("created", "id")
    replies = InboundSms.objects.filter(participant=participant).order_by("received_at", "id")
    prompts = SmsPrompt.objects.filter(participant=participant, status=SmsPrompt.ANSWERED)
    opt_out = SmsOptOut.objects.filter(participant=participant).first()
    return {
        "sent": [
            {
                "kind": str(m.get_kind_display()),
                "to": m.recipient,
                "text": m.body,
                "status": str(m.get_status_display()),
                "sent_at": _when(m.sent_at),
            }
            for m in sent
        ],
        "replies": [
            {
                "received_at": _when(r.received_at),
                "text": r.body,
                "understood_as": str(r.get_outcome_display()),
                "value": r.value,
            }
            for r in replies
        ],
        "weekly_answers": [
            {
                "week": p.week,
                "question": p.question,
                "value": p.value,
                "answered_at": _when(p.answered_at),
            }
            for p in prompts.order_by("week", "position")
        ],
        "stopped_at": _when(opt_out.at) if opt_out else None,
    }
