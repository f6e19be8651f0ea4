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
    verified = SourceVerification.history.filter(response_id__in=forms)
    for response_id in sorted(set(verified.values_list("response_id", flat=True))):
        label = _("Source verification: %(form)s") % {"form": forms[response_id]}
        yield verified.filter(response_id=response_id), "Source verification", SYSTEM, label
    locks = Lock.history.filter(Q(participant_id=participant.pk) | Q(response_id__in=forms))
    about = locks.values_list("id", "level", "response_id", "timepoint_id").distinct()
    timepoints = {tp.pk: tp for tp in participant.trial.timepoints.all()}
    for lock_id, _level, response_id, timepoint_id in sorted(set(about), key=lambda r: r[0]):
        if response_id in forms:
            what = forms[response_id]
        elif timepoint_id in timepoints:
            what = timepoints[timepoint_id].staff_label
        else:
            what = participant.study_id
        label = _("Lock: %(what)s") % {"what": what}
        yield locks.filter(id=lock_id), "Lock", SYSTEM, label
