"""Electronic consent: a link started by staff (only its hash is stored), found by its token,
signed by the patient with the items shown to them, confirmed by staff into a consent
record, and the personal data of unfinished ones scrubbed.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import date, datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_noop as N_

from ..models import ConsentRecord, ElectronicConsent, Participant
from .reading import ConsentError, policy_of
from .writing import _document, clean_answers, record_reconsent

# --- electronic consent --------------------------------------------------------------------


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_electronic(
    participant, user, language: str | None = None
) -> tuple[ElectronicConsent, str]:
    """Open an electronic consent to the required version; the token is shown once (the
    tablet's page or the link), only its hash is kept."""
    policy = policy_of(participant.trial)
    if policy is None or not policy.electronic:
        raise ConsentError("This trial does not offer electronic consent.")
    if participant.status != Participant.ACTIVE:
        raise ConsentError(f"{participant.study_id} is not active.")
    doc = _document(participant.trial, policy.required_version)
    details = getattr(participant, "personal_details", None)
    wanted = language or (details.preferred_language if details else "")
    language = wanted if wanted in doc.languages else doc.languages[0]
    kind = (
        ConsentRecord.RECONSENT
        if ConsentRecord.objects.filter(participant=participant).exists()
        else ConsentRecord.INITIAL
    )
    token = secrets.token_urlsafe(24)
    ec = ElectronicConsent.objects.create(
        participant=participant,
        document=doc,
        language=language,
        kind=kind,
        token_hash=_hash(token),
        started_by=user,
    )
    return ec, token


def find_electronic(token: str) -> ElectronicConsent | None:
    return (
        ElectronicConsent.objects.select_related("document", "participant__trial")
        .filter(token_hash=_hash(token))
        .first()
    )


def items_shown(ec: ElectronicConsent) -> list[tuple[str, str]]:
    """(code, label in the consent's language) of the items the document asks."""
    policy = policy_of(ec.participant.trial)
    out = []
    for code in ec.document.items:
        labels = (policy.item(code) or {}).get("label", {}) if policy else {}
        out.append((code, labels.get(ec.language) or next(iter(labels.values()), code)))
    return out


@transaction.atomic
def sign_electronic(
    ec: ElectronicConsent, signed_name: str, answers: dict, now: datetime | None = None
) -> ElectronicConsent:
    """Keep exactly what was shown and answered as a PDF with its SHA-256."""
    from ..consent_pdf import render_consent_pdf

    ec = ElectronicConsent.objects.select_for_update().get(pk=ec.pk)
    if ec.signed_at is not None:
        raise ConsentError("This consent is already signed.")
    name = " ".join((signed_name or "").split())
    if len(name) < 2:
        raise ConsentError("Type your full name to sign.")
    ec.signed_name = name
    ec.answers = clean_answers(ec.document, answers)
    ec.signed_at = now or timezone.now()
    pdf = render_consent_pdf(ec, items_shown(ec))
    ec.pdf, ec.sha256 = pdf, hashlib.sha256(pdf).hexdigest()
    ec.save()
    return ec


@transaction.atomic
def confirm_electronic(ec: ElectronicConsent, user, today: date | None = None) -> ConsentRecord:
    """The coordinator confirms the signer's identity; then the consent counts."""
    ec = ElectronicConsent.objects.select_for_update().select_related("document").get(pk=ec.pk)
    if ec.signed_at is None:
        raise ConsentError("The participant has not signed yet.")
    if ec.record_id:
        raise ConsentError("This consent is already confirmed.")
    signed_on = timezone.localdate(ec.signed_at)
    note = f"electronic consent {ec.pk}, PDF SHA-256 {ec.sha256}"
    if ec.kind == ConsentRecord.RECONSENT:
        record = record_reconsent(
            ec.participant,
            version=ec.document.version,
            given_on=signed_on,
            answers=ec.answers,
            user=user,
            method=ConsentRecord.ELECTRONIC,
            note=note,
            today=today or max(timezone.localdate(), signed_on),
        )
    else:
        record = ConsentRecord(
            participant=ec.participant,
            document=ec.document,
            version=ec.document.version,
            kind=ConsentRecord.INITIAL,
            given_on=signed_on,
            answers=ec.answers,
            method=ConsentRecord.ELECTRONIC,
            note=note,
            recorded_by=user,
        )
        record._change_reason = N_("electronic consent")
        record.save()
    ec.confirmed_by, ec.confirmed_at, ec.record = user, timezone.now(), record
    ec.save(update_fields=["confirmed_by", "confirmed_at", "record"])
    return record


def scrub_electronic_consents(sender, participant, **kwargs) -> dict:
    """On erasure: the typed name and the PDF (which shows it) go; the hash stays, the
    proof that a consent was signed and what its file was."""
    from ..actions.erasure import ERASED

    n = (
        ElectronicConsent.objects.filter(participant=participant)
        .exclude(signed_name="")
        .update(signed_name=ERASED, pdf=None)
    )
    return {"electronic_consents": n}
