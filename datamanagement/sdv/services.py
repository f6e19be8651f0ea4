"""Marking forms verified against source, clearing the mark when a verified value changes,
and the share verified per clinic and timepoint."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop as N_

from enrolment import permissions as roles
from enrolment.audit import VERIFIED_VALUE_CHANGED

from ..canonical import response_values, sha256_of
from .models import SourceVerification

VERIFIERS = roles.VERIFIERS


def may_verify(user, trial) -> bool:
    return roles.has_any(user, trial, VERIFIERS)


@transaction.atomic
def verify(response, user) -> SourceVerification:
    """Mark one final, completed form as verified against source (again, if it was
    cleared)."""
    if response.participant_id is None:
        raise ValidationError(_("Only a participant's forms are verified against source."))
    if user is not None and not may_verify(user, response.participant.trial):
        raise PermissionDenied
    if response.entry != response.FINAL or not response.is_complete:
        raise ValidationError(_("Only a completed final form can be verified."))
    digest = sha256_of(response_values(response))
    mark = SourceVerification.objects.select_for_update().filter(response=response).first()
    if mark is not None and mark.is_verified and mark.values_sha256 == digest:
        return mark
    if mark is None:
        mark = SourceVerification(response=response)
    mark.verified_by, mark.verified_at, mark.values_sha256 = user, timezone.now(), digest
    mark.cleared_at, mark.cleared_reason = None, ""
    mark._change_reason = N_("verified against source")
    mark.save()
    return mark


def clear_if_changed(response) -> SourceVerification | None:
    """Called after every save of a response: a verified form whose values differ from
    those verified loses its mark, with the change's own reason in the mark's history."""
    mark = SourceVerification.objects.filter(response_id=response.pk, cleared_at=None).first()
    if mark is None or mark.values_sha256 == sha256_of(response_values(response)):
        return None
    why = getattr(response, "_change_reason", None) or N_("changed")
    mark.cleared_at = timezone.now()
    # In English, as every reason the site stores; read in the reader's language
    # (enrolment.audit.reason_shown): it was stored in the language of whoever saved.
    mark.cleared_reason = VERIFIED_VALUE_CHANGED % {"why": why}
    mark._change_reason = mark.cleared_reason
    mark.save()
    return mark


def on_response_saved(sender, instance, created, raw=False, **kwargs) -> None:
    if raw or created:
        return
    clear_if_changed(instance)


def marks_for(responses) -> dict[int, SourceVerification]:
    return {
        m.response_id: m
        for m in SourceVerification.objects.filter(response__in=list(responses)).select_related(
            "verified_by"
        )
    }


@dataclass
class Share:
    clinic: str
    timepoint: str
    forms: int
    verified: int

    @property
    def percent(self) -> int:
        return round(100 * self.verified / self.forms) if self.forms else 0


def share_verified(trial, forms=None) -> list[Share]:
    """Per clinic and timepoint: completed final forms of participants, and how many carry
    a standing verification mark. Four queries, whatever the trial's size; the timepoint
    is named in the page's language where the protocol gives it one.

    The forms are counted by clinic and timepoint id, and the names looked up afterwards:
    grouping the trial's every completed response by the joined clinic's name cost most
    of this query's 0.9 s on the monitoring dashboard at 100,000 participants (issue 19).
    ``forms``: those counts, (clinic id, timepoint id, n) of the whole trial, where the
    caller has them already (the monitoring dashboard counts them in its pass over the
    completed finals, :func:`forms_of` stays the reference); three queries then."""
    from enrolment.models import Clinic, Timepoint
    from questionnaires.models import Response

    if forms is None:
        forms = forms_of(trial)
    verified = (
        SourceVerification.objects.filter(
            response__participant__trial=trial,
            response__entry=Response.FINAL,
            response__completed_at__isnull=False,
            cleared_at=None,
        )
        .values_list("response__participant__clinic_id", "response__timepoint_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    clinics = dict(Clinic.objects.filter(cluster__trial=trial).values_list("pk", "name"))
    timepoints = {t.pk: t for t in Timepoint.objects.filter(trial=trial)}
    # Summed by clinic name and timepoint, as the counts were grouped before (two clinics
    # of one name are one row).
    counted: dict[tuple, int] = defaultdict(int)
    for clinic, tp, n in forms:
        counted[(clinics[clinic], tp)] += n
    done: dict[tuple, int] = defaultdict(int)
    for clinic, tp, n in verified:
        done[(clinics[clinic], tp)] += n
    rows = sorted(
        counted,
        key=lambda k: (k[0], timepoints[k[1]].respondent != "patient", timepoints[k[1]].order),
    )
    return [
        Share(name, timepoints[tp].staff_label, counted[(name, tp)], done[(name, tp)])
        for name, tp in rows
    ]


def forms_of(trial) -> list[tuple[int, int, int]]:
    """(clinic id, timepoint id, completed final forms) of the trial's participants."""
    from questionnaires.models import Response

    return list(
        Response.objects.filter(
            participant__trial=trial, entry=Response.FINAL, completed_at__isnull=False
        )
        .values_list("participant__clinic_id", "timepoint_id")
        .annotate(n=Count("*"))
        .order_by()
    )
