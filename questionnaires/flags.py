"""Flags kept on a stored response when it is saved, so that the monitoring counts them
over an index instead of reading every response's JSON and computing every response's
window (issue 19: 0.63 s and 0.93 s of the dashboard at 100,000 participants).

``Response.unanswered``: bit ``j`` set when required item ``j`` of the response's
instrument version (in the definition's item order) is unanswered: its key absent from
the answers or JSON null, as ``analysis.monitoring.sql.Unanswered`` reads them. It is a
function of (instrument, version, answers) only: a version's definition never changes
(an amendment that changes an item makes a new version), so the flag changes only when
the answers do, and every write of answers goes through ``Response.save``
(questionnaires.services.save_answers). Rows written around it (``bulk_create``, a data
migration) get theirs from :func:`refresh_unanswered`.

``Response.outside_window``: for a completed final response of a participant, -1 when it
was completed (on the trial's local day) before its timepoint's window opened, +1 after
it closed, else 0; the window computed from the participant's enrolment date by
:mod:`enrolment.windows`, as the monitoring did per query before. It depends on more than
the row, so it is recomputed (:func:`refresh_windows`) where any of that changes:

* the response is saved with its completion time, timepoint, respondent or entry
  (``Response.save``, so every write path of questionnaires.services);
* an enrolment date is corrected (``enrolment.signals.enrolment_date_corrected``);
* an applied protocol version changed the timepoints or the trial's time zone
  (``enrolment.amendments.protocol_amended``; the load has rewritten the rows by then).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Case, OuterRef, Q, Subquery, Value, When
from django.db.models.functions import TruncDate
from django.db.models.lookups import GreaterThan, LessThan

from enrolment.dates import offset_date
from enrolment.windows import ShiftedDate, offset_parts

MASK_BITS = 62  # required items one bigint flag holds (a signed 64-bit column)


def required_of(instrument: str, version: int) -> list[str] | None:
    """Required item ids of a registered instrument version; None if it is unknown."""
    from .instruments import get

    try:
        definition = get(instrument, version)
    except KeyError:
        return None
    return [i.id for i in definition.items if i.required]


def unanswered_mask(required: list[str] | None, answers: Mapping | None) -> int:
    """The flag for ``answers`` given the version's required item ids. 0 for an unknown
    version (it has no required items the monitoring knows of) and for a version with
    more required items than the flag holds (the monitoring reads those from the JSON)."""
    if not required or len(required) > MASK_BITS:
        return 0
    answers = answers or {}
    return sum(1 << j for j, item in enumerate(required) if answers.get(item) is None)


def refresh_unanswered(responses, batch_size: int = 2000) -> int:
    """Recompute the flag of ``responses`` (a queryset); returns how many changed."""
    required: dict[tuple[str, int], list[str] | None] = {}
    changed = []
    rows = responses.order_by().values_list("pk", "instrument", "version", "answers", "unanswered")
    for pk, instrument, version, answers, stored in rows.iterator(chunk_size=batch_size):
        key = (instrument, version)
        if key not in required:
            required[key] = required_of(instrument, version)
        mask = unanswered_mask(required[key], answers)
        if mask != stored:
            changed.append((pk, mask))
    model = responses.model
    for start in range(0, len(changed), batch_size):
        chunk = changed[start : start + batch_size]
        model._base_manager.bulk_update(
            [model(pk=pk, unanswered=mask) for pk, mask in chunk], ["unanswered"]
        )
    return len(changed)


# The fields a response's window flag depends on (Response.save refreshes it after them).
WINDOW_INPUTS = {"participant", "timepoint", "entry", "completed_at"}


def refresh_windows(responses, timepoint=None) -> None:
    """Recompute ``outside_window`` of ``responses`` (a queryset): one UPDATE per
    timepoint among them (``timepoint``: the one timepoint they all have, already read)."""
    # From the queryset's model: a data migration passes its historical one.
    Participant = responses.model._meta.get_field("participant").related_model
    Timepoint = responses.model._meta.get_field("timepoint").related_model
    if timepoint is not None:
        timepoints = [timepoint]
    else:
        timepoints = Timepoint.objects.filter(
            pk__in=responses.order_by().values("timepoint_id")
        ).select_related("trial")
    enrolled_on = Subquery(
        Participant.objects.filter(pk=OuterRef("participant_id")).values("enrolled_on")[:1]
    )
    counted = Q(entry=0, completed_at__isnull=False, participant__isnull=False)
    for tp in timepoints:
        months, days = offset_parts(tp.offset, tp.unit)
        day = TruncDate("completed_at", tzinfo=ZoneInfo(tp.trial.time_zone))
        opens = ShiftedDate(enrolled_on, months=months, days=days - tp.window_before_days)
        closes = ShiftedDate(enrolled_on, months=months, days=days + tp.window_after_days)
        side = Case(
            When(LessThan(day, opens), then=Value(-1)),
            When(GreaterThan(day, closes), then=Value(1)),
            default=Value(0),
        )
        responses.filter(timepoint=tp).update(
            outside_window=Case(When(counted, then=side), default=Value(0))
        )


def window_side(completed_at: datetime, enrolled_on: date, timepoint, time_zone: str) -> int:
    """The window flag of one completed final response, computed in Python exactly as
    :func:`refresh_windows` computes it in SQL (every anchor read from the enrolment
    date, the completion's day in the trial's time zone): -1 early, 1 late, else 0."""
    due = offset_date(enrolled_on, timepoint.offset, timepoint.unit)
    day = completed_at.astimezone(ZoneInfo(time_zone)).date()
    if day < due - timedelta(days=timepoint.window_before_days):
        return -1
    if day > due + timedelta(days=timepoint.window_after_days):
        return 1
    return 0


def window_inputs_in_hand(response):
    """(enrolled_on, timepoint, time zone) of ``response`` when its participant and its
    timepoint with the trial are already loaded, else None: then the save refreshes the
    flag in SQL rather than spend queries reading them here."""
    model = type(response)
    if not (
        model.participant.is_cached(response)
        and model.timepoint.is_cached(response)
        and type(response.timepoint).trial.is_cached(response.timepoint)
    ):
        return None
    participant, timepoint = response.participant, response.timepoint
    if participant is None or participant.enrolled_on is None:
        return None
    return participant.enrolled_on, timepoint, timepoint.trial.time_zone


def refresh(responses) -> None:
    """Both flags of ``responses`` and the answered timepoints of their participants
    (questionnaires.answered): for rows written around ``Response.save``."""
    from enrolment.models import Participant

    from .answered import refresh_answered

    refresh_unanswered(responses)
    refresh_windows(responses)
    refresh_answered(Participant.objects.filter(pk__in=responses.values("participant_id")))


def windows_of_trial_changed(previous_spec, new_spec) -> bool:
    """Whether a protocol version changed what the window flags are computed from."""
    previous_spec, new_spec = previous_spec or {}, new_spec or {}
    return previous_spec.get("timepoints") != new_spec.get("timepoints") or (
        (previous_spec.get("trial") or {}).get("time_zone")
        != (new_spec.get("trial") or {}).get("time_zone")
    )


def on_protocol_amended(sender, trial, apply=False, previous_spec=None, new_spec=None, **kw):
    """Receiver of ``enrolment.amendments.protocol_amended``: counts nothing."""
    if apply and windows_of_trial_changed(previous_spec, new_spec):
        from .models import Response

        refresh_windows(Response.objects.filter(participant__trial=trial))
    return []


def on_enrolment_date_corrected(sender, participant, **kw) -> None:
    from .models import Response

    refresh_windows(Response.objects.filter(participant=participant))
