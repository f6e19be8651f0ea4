"""The edit checks' rules: pure functions of a participant's facts (:mod:`.facts`),
no database."""

from __future__ import annotations

import operator
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from enrolment import national_id
from enrolment.edit_checks import COMPLETED, message_in
from enrolment.models import Timepoint, Trial
from enrolment.phone import region_of
from questionnaires.due import visit_window
from trialsite.compiled import CompiledQuery

from .facts import Facts

OPS = {
    "<": operator.lt,
    "<=": operator.le,
    "==": operator.eq,
    "!=": operator.ne,
    ">=": operator.ge,
    ">": operator.gt,
}


@dataclass(frozen=True)
class Failure:
    check_code: str
    participant_id: int
    response_id: int | None
    field: str
    instrument: str
    timepoint_code: str
    message: str

    @property
    def key(self) -> tuple:
        return (self.check_code, self.participant_id, self.response_id, self.field)



_ABSENT = object()


def _value(ref: str, facts: Facts):
    """(value, (response id, field, instrument, timepoint)) or (_ABSENT, None)."""
    parts = ref.split(".")
    if parts[0] == "enrolment":
        value = facts.enrolment.get(parts[1])
        where = (None, parts[1], "enrolment", "")
        return (_ABSENT, None) if value is None else (value, where)
    found = facts.responses.get((parts[0], parts[1]))
    if found is None:
        return _ABSENT, None
    response_id, answers, _missing, completed = found
    where = (response_id, parts[2], parts[1], parts[0])
    if parts[2] == COMPLETED:
        return completed, where
    value = answers.get(parts[2])
    if value is None:
        return _ABSENT, where
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value)
        except ValueError:
            return _ABSENT, where
    return value, where


def _range(check, facts, context):
    value, where = _value(check["value"], facts)
    if value is _ABSENT or isinstance(value, list):
        return None
    low, high = check.get("min"), check.get("max")
    if (low is not None and value < low) or (high is not None and value > high):
        return where
    return None


def _required_if(check, facts, context):
    when, _w = _value(check["when"], facts)
    if when is _ABSENT:
        return None
    equals = check.get("equals")
    if equals is not None and when not in equals:
        return None
    value, where = _value(check["value"], facts)
    if value is not _ABSENT or where is None:
        return None
    # An item left unanswered with a missing-data reason is not missing without one.
    tp, instrument, item = check["value"].split(".")
    if item in facts.responses[(tp, instrument)][2]:
        return None
    return where


def _compare(check, facts, context):
    left, where = _value(check["left"], facts)
    right, _w = _value(check["right"], facts)
    if left is _ABSENT or right is _ABSENT:
        return None
    return None if OPS[check["op"]](left, right) else where


def _window(check, facts, context):
    found = facts.responses.get((check["timepoint"], check["instrument"]))
    timepoint = context["timepoints"].get(check["timepoint"])
    enrolled = facts.enrolment.get("enrolled_on")
    if found is None or timepoint is None or enrolled is None:
        return None
    window = visit_window(timepoint, enrolled)
    completed = found[3]
    if window is None or window.opens <= completed <= window.closes:
        return None
    return (found[0], COMPLETED, check["instrument"], check["timepoint"])


def _birth_date(check, facts, context):
    born = facts.enrolment.get("date_of_birth")
    if born is None or not facts.national_id:
        return None
    carried = national_id.check(facts.national_id, context["region"]).birth_date
    if carried is None or carried == born:
        return None
    return (None, "date_of_birth", "enrolment", "")


RULES = {
    "range": _range,
    "required_if": _required_if,
    "compare": _compare,
    "window": _window,
    "birth_date_matches_national_id": _birth_date,
}


def context_of(trial: Trial, checks: list[dict] | None = None) -> dict:
    """What the rules read besides the facts (the timepoints only for window checks)."""
    windows = checks is None or any(c["kind"] == "window" for c in checks)
    timepoints = _TIMEPOINTS.all(trial=trial.pk) if windows else []
    return {
        "timepoints": {t.code: t for t in timepoints},
        "region": region_of(trial.time_zone),
    }


# A saved response's window check asks it (compiled once: trialsite.compiled).
_TIMEPOINTS = CompiledQuery(lambda trial: Timepoint.objects.filter(trial_id=trial), trial=int)


def evaluate(checks: list[dict], facts: Iterable[Facts], context: dict) -> dict[tuple, Failure]:
    """Every failure of ``checks`` over ``facts``, by (check, participant, response, field).
    Pure: no database."""
    failures = {}
    for f in facts:
        for check in checks:
            where = RULES[check["kind"]](check, f, context)
            if where is None:
                continue
            failure = Failure(check["code"], f.participant_id, *where,
                              message=message_in(check, "en"))
            failures[failure.key] = failure
    return failures
