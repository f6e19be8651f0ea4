"""Each participant's casebook at a glance, for the monitor choosing whom to verify and the
investigator choosing whom to sign: forms completed, forms verified against source (a
mark a later change cleared does not count) and when the whole casebook was last signed.
One query for a page of participants, whatever their number."""

from __future__ import annotations

from django.db.models import Count, F, IntegerField, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce

from questionnaires.models import Response

from .sdv.models import SourceVerification
from .signatures.models import Signature

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
    ``completed``, ``verified``, ``to_verify`` and ``signed_at``, in study ID order; ``shown`` keeps
    those with a completed form not verified (``TO_VERIFY``) or without a casebook
    signature (``NOT_SIGNED``)."""
    completed = Response.objects.filter(entry=Response.FINAL, completed_at__isnull=False)
    verified = SourceVerification.objects.filter(
        cleared_at=None, response__entry=Response.FINAL, response__completed_at__isnull=False
    )
    signed = Signature.objects.filter(participant=OuterRef("pk"), timepoint=None).order_by(
        "-signed_at"
    )
    rows = participants.annotate(
        completed=_count(completed, "participant"),
        verified=_count(verified, "response__participant"),
        signed_at=Subquery(signed.values("signed_at")[:1]),
    ).annotate(to_verify=F("completed") - F("verified")).order_by("study_id")
    if shown == TO_VERIFY:
        rows = rows.filter(to_verify__gt=0)
    elif shown == NOT_SIGNED:
        rows = rows.filter(signed_at__isnull=True)
    return rows
