"""Data management's records in a participant's audit trail (enrolment.audit): the
source-verification marks of their forms (set and cleared) and the locks on them, each
named by the form, the visit or the participant it is about."""

from __future__ import annotations

from django.utils.translation import gettext as _

from enrolment.audit import SYSTEM
from questionnaires.audit import participant_forms


def participant_rows(participant):
    from django.db.models import Q

    from .locks.models import Lock
    from .sdv.models import SourceVerification

    forms = {pk: label for pk, _what, label, _mode in participant_forms(participant)}
    timepoints = {tp.pk: tp.staff_label for tp in participant.trial.timepoints.all()}

    def verified(row) -> str:
        return _("Source verification: %(form)s") % {"form": forms[row.response_id]}

    def locked(row) -> str:
        what = forms.get(row.response_id) or timepoints.get(row.timepoint_id)
        return _("Lock: %(what)s") % {"what": what or participant.study_id}

    yield (
        SourceVerification.history.filter(response_id__in=forms),
        "Source verification",
        SYSTEM,
        verified,
    )
    locks = Lock.history.filter(Q(participant_id=participant.pk) | Q(response_id__in=forms))
    yield locks, "Lock", SYSTEM, locked
