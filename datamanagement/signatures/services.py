"""Investigator signatures: the signed values' digest, signing, and whether a signature
still holds (hashing the values again on read)."""

from __future__ import annotations

import json

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from enrolment import permissions as roles

from ..canonical import canonical_json, response_values, sha256_of
from .models import Signature

SIGNERS = roles.SIGNERS


def meaning_statement(timepoint=None) -> str:
    if timepoint is None:
        return _(
            "I, the investigator, have reviewed this participant's casebook and confirm that "
            "the data in it are, to the best of my knowledge, complete, accurate and "
            "attributable."
        )
    return _(
        "I, the investigator, have reviewed this participant's data of %(timepoint)s and "
        "confirm that they are, to the best of my knowledge, complete, accurate and "
        "attributable."
    ) % {"timepoint": timepoint.staff_label}  # the statement's language


def may_sign(user, trial) -> bool:
    return roles.has_any(user, trial, SIGNERS)


PARTICIPANT_FIELDS = ("study_id", "enrolled_on", "status", "final_visit_on", "withdrawn_on",
                      "withdrawal_scope", "died_on")


FIELD_LABELS = {
    "study_id": gettext_lazy("Study ID"),
    "enrolled_on": gettext_lazy("Enrolled"),
    "status": gettext_lazy("Status"),
    "final_visit_on": gettext_lazy("Final visit"),
    "withdrawn_on": gettext_lazy("Date of withdrawal"),
    "withdrawal_scope": gettext_lazy("Withdrawal scope"),
    "died_on": gettext_lazy("Date of death"),
}


def enrolment_record(participant) -> list[tuple[str, str]]:
    """(label, value) of the enrolment fields a casebook signature covers, as the signer
    reads them before signing."""
    rows = []
    for name in PARTICIPANT_FIELDS:
        field = participant._meta.get_field(name)
        value = (getattr(participant, f"get_{name}_display")() if field.choices
                 else getattr(participant, name))
        rows.append((str(FIELD_LABELS[name]), "" if value in (None, "") else str(value)))
    return rows


def signed_values(participant, timepoint=None) -> list:
    """The values a signature covers, in a canonical order: the participant's enrolment
    fields (casebook only) and every form's answers and missing-data reasons."""
    from enrolment.models import Participant
    from questionnaires.models import Response

    values: list = []
    if timepoint is None:
        row = Participant.objects.filter(pk=participant.pk).values(*PARTICIPANT_FIELDS).first()
        values.append({"participant": row})
    forms = Response.objects.filter(participant=participant, entry=Response.FINAL)
    if timepoint is not None:
        forms = forms.filter(timepoint=timepoint)
    for r in forms.select_related("timepoint").order_by("timepoint__code", "instrument", "week"):
        values.append({
            "timepoint": r.timepoint.code,
            "instrument": r.instrument,
            "version": r.version,
            "week": r.week,
            "completed_at": r.completed_at,
            **response_values(r),
        })
    # Through JSON and back, so stored and recomputed values compare equal.
    return json.loads(canonical_json(values))


@transaction.atomic
def sign(participant, user, password: str, *, timepoint=None, confirmed: bool) -> Signature:
    """Sign after re-entering the password and confirming the meaning statement."""
    if not may_sign(user, participant.trial):
        raise PermissionDenied
    if not confirmed:
        raise ValidationError(_("Confirm the meaning of the signature."))
    if not user.check_password(password or ""):
        raise ValidationError(_("The password is not correct."))
    if timepoint is not None and timepoint.trial_id != participant.trial_id:
        raise ValidationError(_("The timepoint is not of this trial."))
    values = signed_values(participant, timepoint)
    return Signature.objects.create(
        trial=participant.trial,
        participant=participant,
        timepoint=timepoint,
        signed_by=user,
        signed_at=timezone.now(),
        meaning=meaning_statement(timepoint),
        values_sha256=sha256_of(values),
        values=values,
    )


def is_broken(signature: Signature) -> bool:
    """Whether any signed value has changed since (by any path)."""
    return sha256_of(signed_values(signature.participant, signature.timepoint)) != (
        signature.values_sha256
    )


def signatures_of(participant) -> list[tuple[Signature, bool]]:
    """(signature, broken) for each signature of the participant, newest first."""
    rows = Signature.objects.filter(participant=participant).select_related(
        "signed_by", "timepoint", "participant"
    )
    return [(s, is_broken(s)) for s in rows]
