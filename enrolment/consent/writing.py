"""The one write path for consent records given on paper or at the clinic: the consent at
enrolment, a re-consent to a later document version and a refusal (which withdraws the
participant where the document requires it), each answer to an optional item checked
against the document.
"""

from __future__ import annotations

from datetime import date

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_noop as N_

from ..audit import RECONSENT, REFUSED_RECONSENT
from ..models import ConsentDocument, ConsentRecord, Participant
from .reading import ConsentError, documents_of

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
    # The participant was saved and the document read in this transaction: not asked again.
    record.full_clean(exclude=["participant", "document", "recorded_by"])
    record._change_reason = N_("consent at enrolment")
    record._history_user = record.recorded_by
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
    record._change_reason = RECONSENT % {"version": doc.version}
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
    from ..actions.status import withdraw_participant

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
    record._change_reason = REFUSED_RECONSENT % {"version": doc.version}
    record.save()
    if outcome != ConsentRecord.CONTINUE:
        withdraw_participant(
            participant, refused_on, REFUSED_RECONSENT % {"version": doc.version}, outcome
        )
    return record
