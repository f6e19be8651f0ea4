"""Consent versions, re-consent and the optional consent items: the one write path for
consent records, and the questions other apps ask.

Questions other apps ask (they may import enrolment; enrolment imports none of them):

- :func:`is_held` / :func:`held_ids`: data collection waits for a re-consent (follow-up
  sends no invitation, reminder or SMS question; the questionnaire pages say "not
  available now", never why).
- :func:`consented_to` (an item code) and :func:`consented_to_effect` (an effect such as
  ``"registry_linkage"``): the participant's answer under their current consent.
- :func:`interview_candidates`: the participants who may be contacted for an interview
  (the base of BetterBack's interview selection).

A participant's *current* consent is their latest record that is not a refusal. They
*await re-consent* when the trial's required document asks earlier consenters to
re-consent (``reconsent = true``), their current consent is to an earlier version, they
are active, and they have not refused that version.
"""

from __future__ import annotations

import hashlib
import secrets
from collections import defaultdict
from datetime import date, datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from .models import (
    ConsentDocument,
    ConsentPolicy,
    ConsentRecord,
    ElectronicConsent,
    Participant,
)

REGISTRY_LINKAGE = "registry_linkage"
INTERVIEW_CONTACT = "interview_contact"


class ConsentError(ValidationError):
    pass


# --- reading -----------------------------------------------------------------------------


def policy_of(trial) -> ConsentPolicy | None:
    return ConsentPolicy.objects.filter(trial=trial).first()


def documents_of(trial) -> list[ConsentDocument]:
    return list(ConsentDocument.objects.filter(trial=trial))


def required_document(trial) -> ConsentDocument | None:
    policy = policy_of(trial)
    if policy is None:
        return None
    return ConsentDocument.objects.filter(trial=trial, version=policy.required_version).first()


def history(participant) -> list[ConsentRecord]:
    return list(
        ConsentRecord.objects.filter(participant=participant).select_related(
            "document", "recorded_by"
        )
    )


def current(participant) -> ConsentRecord | None:
    return (
        ConsentRecord.objects.filter(participant=participant)
        .exclude(kind=ConsentRecord.REFUSAL)
        .select_related("document")
        .order_by("given_on", "id")
        .last()
    )


def _awaiting(participants: list[Participant]) -> dict[int, bool]:
    """Participant id -> awaits re-consent; a few queries whatever the number."""
    trial_ids = {p.trial_id for p in participants}
    policies = {p.trial_id: p for p in ConsentPolicy.objects.filter(trial_id__in=trial_ids)}
    orders = {
        (d.trial_id, d.version): (d.order, d.reconsent)
        for d in ConsentDocument.objects.filter(trial_id__in=policies)
    }
    ids = [p.pk for p in participants if p.trial_id in policies]
    latest, refused = {}, defaultdict(set)
    for row in ConsentRecord.objects.filter(participant_id__in=ids).order_by("given_on", "id"):
        if row.kind == ConsentRecord.REFUSAL:
            refused[row.participant_id].add(row.version)
        else:
            latest[row.participant_id] = row.version
    out = {}
    for p in participants:
        policy = policies.get(p.trial_id)
        if policy is None or p.status != Participant.ACTIVE:
            out[p.pk] = False
            continue
        required = policy.required_version
        order, reconsent = orders.get((p.trial_id, required), (0, False))
        mine = latest.get(p.pk)
        mine_order = orders.get((p.trial_id, mine), (0, False))[0] if mine else 0
        out[p.pk] = bool(
            reconsent and mine is not None and mine_order < order and required not in refused[p.pk]
        )
    return out


def awaiting_under(trial, spec) -> list[int]:
    """The active participants of ``trial`` who would await re-consent under ``spec`` (a
    protocol file's ``[consent]`` section, not yet loaded): what an amendment's dry run
    counts, by the same rule as :func:`awaiting_reconsent`."""
    if spec is None:
        return []
    orders = {d.version: (n, d.reconsent) for n, d in enumerate(spec.documents, start=1)}
    order, reconsent = orders.get(spec.required, (0, False))
    if not reconsent:
        return []
    active = Participant.objects.filter(trial=trial, status=Participant.ACTIVE)
    latest, refused = {}, defaultdict(set)
    rows = ConsentRecord.objects.filter(participant__in=active).order_by("given_on", "id")
    for row in rows.values("participant_id", "kind", "version"):
        if row["kind"] == ConsentRecord.REFUSAL:
            refused[row["participant_id"]].add(row["version"])
        else:
            latest[row["participant_id"]] = row["version"]
    return sorted(
        pid
        for pid, mine in latest.items()
        if orders.get(mine, (0, False))[0] < order and spec.required not in refused[pid]
    )


def awaits_reconsent(participant) -> bool:
    return _awaiting([participant])[participant.pk]


def awaiting_reconsent(trial, queryset=None) -> list[Participant]:
    """The trial's participants listed for re-consent (``queryset``: who the user sees)."""
    qs = (queryset if queryset is not None else Participant.objects).filter(
        trial=trial, status=Participant.ACTIVE
    )
    participants = list(qs.select_related("clinic__cluster").order_by("study_id"))
    flags = _awaiting(participants)
    return [p for p in participants if flags[p.pk]]


def is_held(participant) -> bool:
    """Data collection waits: the trial holds it until re-consent and this one awaits it."""
    if participant is None:
        return False
    # held_ids asks one query in the usual case (no hold); every survey page asks this.
    return participant.pk in held_ids([participant])


def held_ids(participants) -> set[int]:
    """Of these participants, the ids whose data collection is held (for the dispatchers)."""
    participants = [p for p in participants if p is not None]
    # One query in the usual case: a trial holds only while it requires a later version
    # than its first one, with re-consent.
    holding = set(
        ConsentDocument.objects.filter(
            trial_id__in={p.trial_id for p in participants},
            trial__consent_policy__hold_until_reconsent=True,
            trial__consent_policy__required_version=F("version"),
            reconsent=True,
            order__gt=1,
        ).values_list("trial_id", flat=True)
    )
    candidates = [p for p in participants if p.trial_id in holding]
    if not candidates:
        return set()
    return {pid for pid, waiting in _awaiting(candidates).items() if waiting}


def consented_to(participant, item_code: str) -> bool:
    """The participant's answer to an optional item under their current consent. An item
    their document did not ask takes the protocol file's ``when_not_asked``; an item the
    trial does not declare, or a participant without consent, is False."""
    policy = policy_of(participant.trial)
    item = policy.item(item_code) if policy else None
    record = current(participant)
    if item is None or record is None:
        return False
    asked = record.document.items if record.document else []
    if item_code not in asked:
        return bool(item.get("when_not_asked"))
    return record.answers.get(item_code) is True


def item_for_effect(trial, effect: str) -> str | None:
    policy = policy_of(trial)
    if policy is None:
        return None
    return next((i["code"] for i in policy.items if i.get("effect") == effect), None)


def consented_to_effect(participant, effect: str) -> bool:
    """Whether the current consent allows ``effect``. A trial whose consent has no item
    for it covers it with the consent itself (True)."""
    code = item_for_effect(participant.trial, effect)
    return True if code is None else consented_to(participant, code)


def without_consent_to(trial, effect: str, participant_ids) -> set[int]:
    """Of these participants of ``trial``, those whose consent does not allow ``effect``."""
    if item_for_effect(trial, effect) is None:
        return set()
    participants = Participant.objects.filter(trial=trial, pk__in=list(participant_ids))
    return {p.pk for p in participants if not consented_to_effect(p, effect)}


def interview_candidates(trial, queryset=None) -> list[Participant]:
    """Active participants who consented to be contacted for an interview, by study ID.
    A trial whose consent has no interview item has no candidates: nobody was asked."""
    code = item_for_effect(trial, INTERVIEW_CONTACT)
    if code is None:
        return []
    qs = (queryset if queryset is not None else Participant.objects).filter(
        trial=trial, status=Participant.ACTIVE
    )
    return [p for p in qs.select_related("clinic").order_by("study_id") if consented_to(p, code)]


# --- writing -----------------------------------------------------------------------------


def _document(trial, version: str) -> ConsentDocument:
    doc = ConsentDocument.objects.filter(trial=trial, version=version).first()
    if doc is None:
        known = [d.version for d in documents_of(trial)]
        raise ConsentError(f"{version!r} is not a consent version of this trial; known: {known}")
    return doc


def clean_answers(document: ConsentDocument | None, answers: dict | None) -> dict:
    """One yes/no per item the document asks; nothing else."""
    answers = dict(answers or {})
    asked = document.items if document else []
    unknown = sorted(set(answers) - set(asked))
    if unknown:
        raise ConsentError(f"Version {document and document.version} does not ask {unknown}.")
    return {code: bool(answers.get(code, False)) for code in asked}


def record_initial(participant, consent: dict, user) -> ConsentRecord:
    """The consent at enrolment (called by :func:`enrolment.actions.enrol.enrol_participant`).
    A version the protocol file does not list is kept as written (older trials)."""
    doc = ConsentDocument.objects.filter(
        trial_id=participant.trial_id, version=consent["form_version"]
    ).first()
    answers = consent.get("answers")
    record = ConsentRecord(
        participant=participant,
        document=doc,
        version=consent["form_version"],
        kind=ConsentRecord.INITIAL,
        given_on=consent["consented_on"],
        # Only what the signed version asks: the form's boxes are the required version's.
        answers=clean_answers(doc, {k: v for k, v in answers.items() if k in doc.items})
        if doc and answers is not None
        else {},
        method=consent.get("method") or ConsentRecord.PAPER,
        recorded_by=consent.get("taken_by") or user,
    )
    record.full_clean()
    record._change_reason = "consent at enrolment"
    record.save()
    return record


@transaction.atomic
def record_reconsent(
    participant,
    *,
    version: str,
    given_on: date,
    answers: dict,
    user,
    method: str = ConsentRecord.PAPER,
    note: str = "",
    today: date | None = None,
) -> ConsentRecord:
    """Record a re-consent; held data collection resumes with the dispatchers' next run."""
    participant = Participant.objects.select_for_update().get(pk=participant.pk)
    if participant.status != Participant.ACTIVE:
        raise ConsentError(f"{participant.study_id} is not active.")
    doc = _document(participant.trial, version)
    today = today or timezone.localdate()
    if given_on > today:
        raise ConsentError("A consent cannot be given in the future.")
    if given_on < participant.enrolled_on:
        raise ConsentError("A re-consent comes on or after the enrolment.")
    record = ConsentRecord(
        participant=participant,
        document=doc,
        version=doc.version,
        kind=ConsentRecord.RECONSENT,
        given_on=given_on,
        answers=clean_answers(doc, answers),
        method=method,
        note=(note or "").strip(),
        recorded_by=user,
    )
    record.full_clean()
    record._change_reason = f"re-consent to version {doc.version}"
    record.save()
    return record


@transaction.atomic
def record_refusal(
    participant,
    *,
    version: str,
    refused_on: date,
    outcome: str,
    reason: str,
    user,
    today: date | None = None,
) -> ConsentRecord:
    """Record that the participant refused to re-consent, and do what it means: continue
    under the consent given, or withdraw (from follow-up, or from all contact)."""
    from .actions.status import withdraw_participant

    participant = Participant.objects.select_for_update().get(pk=participant.pk)
    doc = _document(participant.trial, version)
    if outcome not in dict(ConsentRecord.OUTCOMES):
        raise ConsentError(f"Unknown outcome {outcome!r}.")
    if not (reason or "").strip():
        raise ConsentError("A refusal needs a reason (what the participant said).")
    if refused_on > (today or timezone.localdate()):
        raise ConsentError("A refusal cannot be dated in the future.")
    record = ConsentRecord(
        participant=participant,
        document=doc,
        version=doc.version,
        kind=ConsentRecord.REFUSAL,
        given_on=refused_on,
        refusal_outcome=outcome,
        note=reason.strip(),
        recorded_by=user,
    )
    record.full_clean()
    record._change_reason = f"refused re-consent to version {doc.version}"
    record.save()
    if outcome != ConsentRecord.CONTINUE:
        withdraw_participant(
            participant, refused_on, f"refused re-consent to version {doc.version}", outcome
        )
    return record


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
    from .consent_pdf import render_consent_pdf

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
        record._change_reason = "electronic consent"
        record.save()
    ec.confirmed_by, ec.confirmed_at, ec.record = user, timezone.now(), record
    ec.save(update_fields=["confirmed_by", "confirmed_at", "record"])
    return record


def scrub_electronic_consents(sender, participant, **kwargs) -> dict:
    """On erasure: the typed name and the PDF (which shows it) go; the hash stays, the
    proof that a consent was signed and what its file was."""
    from .actions.erasure import ERASED

    n = (
        ElectronicConsent.objects.filter(participant=participant)
        .exclude(signed_name="")
        .update(signed_name=ERASED, pdf=None)
    )
    return {"electronic_consents": n}
