"""The write path of workshops and their attendance, and the workshop's days as the
anchor of the physiotherapists' own questionnaires.

Inviting a physiotherapist sets ``Physiotherapist.workshop_date`` to day 1, which plans
their questionnaires (followup's receiver); the protocol file says on which day and at
what time each is answered (``workshop_day``, ``at``). Every write keeps a history row
with who and why; changing a recorded answer needs a reason."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from enrolment import permissions as roles
from enrolment.models import Cluster, Physiotherapist

from .models import Attendance, Workshop


def check_role(user, trial) -> None:
    if not roles.has_any(user, trial, roles.IMPLEMENTATION):
        raise PermissionDenied


def workshop_days(physio: Physiotherapist) -> dict[int, date]:
    """Day number -> date of the physiotherapist's workshop. Without a recorded workshop
    the date set on the physiotherapist is day 1 and day 2 follows it."""
    attendance = Attendance.objects.filter(physiotherapist=physio).select_related("workshop")
    found = attendance.first()
    if found is not None:
        return {1: found.workshop.day1, 2: found.workshop.day2}
    if physio.workshop_date is None:
        return {}
    return {1: physio.workshop_date, 2: physio.workshop_date + timedelta(days=1)}


@transaction.atomic
def create_workshop(
    cluster: Cluster,
    *,
    day1: date,
    day2: date,
    facilitators: str,
    user,
    hours: Decimal = Decimal("13.5"),
    physiotherapists=(),
) -> Workshop:
    check_role(user, cluster.trial)
    if day2 < day1:
        raise ValidationError(_("Day 2 cannot come before day 1."))
    workshop = Workshop(
        cluster=cluster,
        day1=day1,
        day2=day2,
        hours=hours,
        facilitators=facilitators.strip(),
        created_by=user,
    )
    workshop._history_user = user
    workshop._change_reason = "workshop created"
    workshop.save()
    invite(workshop, physiotherapists, user)
    return workshop


@transaction.atomic
def invite(workshop: Workshop, physiotherapists, user) -> list[Attendance]:
    """Add physiotherapists of the workshop's cluster; each may attend one workshop."""
    check_role(user, workshop.cluster.trial)
    added = []
    for physio in physiotherapists:
        if physio.clinic.cluster_id != workshop.cluster_id:
            raise ValidationError(
                _("%(code)s works in another cluster.") % {"code": physio.study_code}
            )
        if Attendance.objects.filter(physiotherapist=physio).exists():
            raise ValidationError(
                _("%(code)s is already invited to a workshop.") % {"code": physio.study_code}
            )
        row = Attendance(workshop=workshop, physiotherapist=physio)
        row._history_user = user
        row._change_reason = "invited to the workshop"
        row.save()
        # Day 1 anchors the physiotherapist's questionnaires (followup plans them).
        physio.workshop_date = workshop.day1
        physio.save(update_fields=["workshop_date"])
        added.append(row)
    return added


RECORDED = ("day1", "day2", "diploma_on")


@transaction.atomic
def record_attendance(
    attendance: Attendance,
    *,
    day1: bool | None,
    day2: bool | None,
    diploma_on: date | None,
    user,
    reason: str = "",
) -> Attendance:
    """Presence on each day and the diploma. A diploma goes to those who completed the
    workshop (present both days); a value once recorded changes only with a reason."""
    check_role(user, attendance.workshop.cluster.trial)
    if diploma_on is not None and not (day1 and day2):
        raise ValidationError(_("A diploma is issued only to those present on both days."))
    if diploma_on is not None and diploma_on < attendance.workshop.day2:
        raise ValidationError(_("The diploma cannot be issued before day 2."))
    new = {"day1": day1, "day2": day2, "diploma_on": diploma_on}
    changed = [f for f in RECORDED if getattr(attendance, f) != new[f]]
    if not changed:
        return attendance
    overwritten = [f for f in changed if getattr(attendance, f) is not None]
    if overwritten and not reason.strip():
        raise ValidationError(_("A reason is required to change a recorded attendance."))
    for field in changed:
        setattr(attendance, field, new[field])
    attendance._history_user = user
    attendance._change_reason = (reason.strip() or "attendance recorded")[:100]
    attendance.save()
    return attendance
