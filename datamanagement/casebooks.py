"""Each participant's casebook at a glance, for the monitor choosing whom to verify and the
investigator choosing whom to sign: forms completed, forms verified against source (a
mark a later change cleared does not count) and when the whole casebook was last signed,
and whether that signature still holds. One query for a page of participants, whatever
their number, and two more for each signature something was written under since it was
made (the only ones that can be broken: their values are hashed again, as the
participant's page does)."""

from __future__ import annotations

from django.db.models import Count, Exists, F, IntegerField, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce

from enrolment.models import Participant
from questionnaires.models import Response

from .sdv.models import SourceVerification
from .signatures.models import Signature
from .signatures.services import is_broken

ALL, TO_VERIFY, NOT_SIGNED = "all", "to_verify", "not_signed"
SHOWN = (ALL, TO_VERIFY, NOT_SIGNED)


def _count(queryset, participant_field: str):
    counted = (
        queryset.filter(**{participant_field: OuterRef("pk")})
        .order_by()
        .values(participant_field)
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def casebooks(participants, shown: str = ALL):
    """``participants`` (already limited to what the user may see) annotated with
    ``completed``, ``verified``, ``to_verify``, ``signed_at`` and ``written_since`` (a
    change to the participant or a form after the last casebook signature), in study ID
    order; ``shown`` keeps those with a completed form not verified (``TO_VERIFY``) or
    without a casebook signature that holds (``NOT_SIGNED``). :func:`mark_broken` tells
    the rows of a page whose signature no longer holds."""
    completed = Response.objects.filter(entry=Response.FINAL, completed_at__isnull=False)
    verified = SourceVerification.objects.filter(
        cleared_at=None, response__entry=Response.FINAL, response__completed_at__isnull=False
    )
    signed = Signature.objects.filter(participant=OuterRef("pk"), timepoint=None).order_by(
        "-signed_at", "-id"
    )
    rows = participants.annotate(
        completed=_count(completed, "participant"),
        verified=_count(verified, "response__participant"),
        signed_at=Subquery(signed.values("signed_at")[:1]),
        signature_id=Subquery(signed.values("pk")[:1]),
    ).annotate(
        to_verify=F("completed") - F("verified"),
        # Every write of a form or the participant leaves a history row (audited saves
        # and deletes): none after the signature, nothing it covers has changed.
        written_since=Exists(Response.history.filter(
            participant_id=OuterRef("pk"), history_date__gt=OuterRef("signed_at")
        )) | Exists(Participant.history.filter(
            id=OuterRef("pk"), history_date__gt=OuterRef("signed_at")
        )),
    ).order_by("study_id")
    if shown == TO_VERIFY:
        rows = rows.filter(to_verify__gt=0)
    elif shown == NOT_SIGNED:
        broken = _broken(rows.filter(written_since=True).values_list("signature_id", flat=True))
        rows = rows.filter(Q(signed_at__isnull=True) | Q(signature_id__in=broken))
    return rows


def _broken(signature_ids) -> set[int]:
    """Of these signatures, the ones whose values have changed since (hashed again)."""
    signatures = Signature.objects.filter(pk__in=list(signature_ids)).select_related(
        "participant", "timepoint"
    )
    return {s.pk for s in signatures if is_broken(s)}


def mark_broken(rows) -> None:
    """Set ``signature_broken`` on each row of a page from :func:`casebooks`."""
    rows = list(rows)
    broken = _broken(p.signature_id for p in rows if p.signed_at and p.written_since)
    for p in rows:
        p.signature_broken = p.signature_id in broken
