"""Data management's records in a participant's audit trail (enrolment.audit): the
source-verification marks of their forms (set and cleared) and the locks on them."""

from __future__ import annotations


def participant_rows(participant):
    from django.db.models import Q

    from questionnaires.models import Response

    from .locks.models import Lock
    from .sdv.models import SourceVerification

    forms = list(Response.objects.filter(participant=participant).values_list("pk", flat=True))
    yield SourceVerification.history.filter(response_id__in=forms), "Source verification"
    yield Lock.history.filter(Q(participant_id=participant.pk) | Q(response_id__in=forms)), "Lock"
