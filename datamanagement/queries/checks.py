"""Running the protocol's edit checks (``Trial.edit_checks``, validated by
:mod:`enrolment.edit_checks`) and keeping their queries in step.

A failing check opens one query on its value with the check's message; when the value is
corrected the check passes and closes the query itself; if it fails again later the same
query is re-opened (a unique constraint keeps one query per check and value).

The nightly batch reads a whole trial with a fixed number of SQL queries whatever the
number of participants (one per table, plus the writes of what changed); the run on
save (:mod:`.signals`) is the same code for one participant.
"""

from __future__ import annotations

import operator
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_noop

from enrolment import national_id
from enrolment.edit_checks import COMPLETED, message_in
from enrolment.models import Consent, Participant, PersonalDetails, Timepoint, Trial
from enrolment.phone import region_of
from questionnaires.due import visit_window
from questionnaires.models import Response

from .models import Query, QueryMessage

OPS = {
    "<": operator.lt,
    "<=": operator.le,
    "==": operator.eq,
    "!=": operator.ne,
    ">=": operator.ge,
    ">": operator.gt,
}
# Stored in English (the query log); shown translated (:func:`.texts.shown`).
PASSES_NOW = gettext_noop("The edit check passes now: closed automatically.")
FAILS_AGAIN = gettext_noop("The edit check fails again: re-opened automatically.")


@dataclass
class Facts:
    """What the checks read of one participant."""

    participant_id: int
    enrolment: dict = field(default_factory=dict)  # field -> date | None
    national_id: str = ""
    # Personal details erased: the date of birth cannot be checked any more (its query,
    # if any, stays as it is rather than being closed as if corrected).
    erased: bool = False
    # (timepoint code, instrument) -> (response id, answers, missing, completed day)
    responses: dict = field(default_factory=dict)


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


# --- reading ------------------------------------------------------------------------------


def _referenced(checks: list[dict]) -> tuple[set[str], set[str]]:
    timepoints, instruments = set(), set()
    for check in checks:
        refs = [check.get(k) for k in ("value", "when", "left", "right")]
        for ref in filter(None, refs):
            parts = ref.split(".")
            if len(parts) == 3:
                timepoints.add(parts[0])
                instruments.add(parts[1])
        if check["kind"] == "window":
            timepoints.add(check["timepoint"])
            instruments.add(check["instrument"])
    return timepoints, instruments


def load_facts(trial: Trial, checks: list[dict], participant_ids=None) -> dict[int, Facts]:
    """Facts of the trial's participants (or of ``participant_ids``): four SQL queries."""

    def scoped(qs, prefix=""):
        if participant_ids is None:
            return qs.filter(**{f"{prefix}trial": trial})
        return qs.filter(**{"participant_id__in" if prefix else "pk__in": participant_ids})

    facts: dict[int, Facts] = {}
    for row in scoped(Participant.objects).values("pk", "enrolled_on", "final_visit_on"):
        facts[row["pk"]] = Facts(
            row["pk"],
            {"enrolled_on": row["enrolled_on"], "final_visit_on": row["final_visit_on"]},
        )
    for row in scoped(PersonalDetails.objects, "participant__").values(
        "participant_id", "date_of_birth", "national_id", "erased_at"
    ):
        found = facts.get(row["participant_id"])
        if found is None:
            continue
        if row["erased_at"] is not None:
            found.erased = True
            continue
        found.enrolment["date_of_birth"] = row["date_of_birth"]
        found.national_id = row["national_id"]
    for row in scoped(Consent.objects, "participant__").values("participant_id", "consented_on"):
        if row["participant_id"] in facts:
            facts[row["participant_id"]].enrolment["consented_on"] = row["consented_on"]
    timepoints, instruments = _referenced(checks)
    if timepoints:
        zone = ZoneInfo(trial.time_zone)
        rows = (
            scoped(Response.objects, "participant__")
            .filter(
                entry=Response.FINAL,
                week__isnull=True,
                completed_at__isnull=False,
                timepoint__code__in=timepoints,
                instrument__in=instruments,
            )
            .values(
                "pk",
                "participant_id",
                "timepoint__code",
                "instrument",
                "answers",
                "missing",
                "completed_at",
            )
        )
        for row in rows:
            if row["participant_id"] in facts:
                facts[row["participant_id"]].responses[
                    (row["timepoint__code"], row["instrument"])
                ] = (
                    row["pk"],
                    row["answers"] or {},
                    row["missing"] or {},
                    row["completed_at"].astimezone(zone).date(),
                )
    return facts


# --- evaluating ---------------------------------------------------------------------------


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


def context_of(trial: Trial) -> dict:
    return {
        "timepoints": {t.code: t for t in Timepoint.objects.filter(trial=trial)},
        "region": region_of(trial.time_zone),
    }


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


# --- syncing queries ----------------------------------------------------------------------


@dataclass
class RunReport:
    participants: int = 0
    failing: int = 0
    opened: int = 0
    reopened: int = 0
    closed: int = 0

    def __str__(self) -> str:
        return (
            f"{self.participants} participants checked: {self.failing} failing; "
            f"{self.opened} queries opened, {self.reopened} re-opened, {self.closed} closed"
        )


def _messages(ids: list[int], kind: str, text: str, now) -> list[QueryMessage]:
    return [QueryMessage(query_id=i, kind=kind, at=now, text=text) for i in ids]


@transaction.atomic
def run_checks(trial: Trial, participant_ids=None) -> RunReport:
    """Run the trial's checks over all its participants (or ``participant_ids``) and open,
    re-open and close their queries. Running it twice changes nothing the second time."""
    checks = trial.edit_checks or []
    report = RunReport()
    if not checks:
        return report
    facts = load_facts(trial, checks, participant_ids)
    report.participants = len(facts)
    failures = evaluate(checks, facts.values(), context_of(trial))
    report.failing = len(failures)
    existing = Query.objects.filter(check_code__in=[c["code"] for c in checks])
    existing = (
        existing.filter(participant__trial=trial)
        if participant_ids is None
        else existing.filter(participant_id__in=participant_ids)
    )
    known = {
        (q["check_code"], q["participant_id"], q["response_id"], q["field"]): q
        for q in existing.values(
            "pk", "check_code", "participant_id", "response_id", "field", "state"
        )
    }
    now = timezone.now()
    new = [f for key, f in failures.items() if key not in known]
    again = [q["pk"] for key, q in known.items() if key in failures and q["state"] == Query.CLOSED]
    passing = [
        q["pk"]
        for key, q in known.items()
        if key not in failures
        and q["state"] in Query.UNRESOLVED
        and not _undecidable(q, facts.get(q["participant_id"]))
    ]
    if new:
        Query.objects.bulk_create(
            [
                Query(
                    participant_id=f.participant_id,
                    response_id=f.response_id,
                    field=f.field,
                    check_code=f.check_code,
                    instrument=f.instrument,
                    timepoint_code=f.timepoint_code,
                    raised_at=now,
                )
                for f in new
            ],
            batch_size=1000,
            # A save and the nightly batch at the same moment: the second insert of the
            # same query is skipped by the unique constraint instead of failing the run.
            ignore_conflicts=True,
        )
        unannounced = existing.filter(messages__isnull=True).values_list(
            "pk", "check_code", "participant_id", "response_id", "field"
        )
        QueryMessage.objects.bulk_create(
            [
                QueryMessage(
                    query_id=pk, kind=QueryMessage.RAISED, at=now, text=failures[tuple(key)].message
                )
                for pk, *key in unannounced
                if tuple(key) in failures
            ],
            batch_size=1000,
        )
        report.opened = len(new)
    if again:
        Query.objects.filter(pk__in=again).update(state=Query.REOPENED, closed_at=None)
        QueryMessage.objects.bulk_create(
            _messages(again, QueryMessage.REOPENED, FAILS_AGAIN, now), batch_size=1000
        )
        report.reopened = len(again)
    if passing:
        Query.objects.filter(pk__in=passing).update(state=Query.CLOSED, closed_at=now)
        QueryMessage.objects.bulk_create(
            _messages(passing, QueryMessage.CLOSED, PASSES_NOW, now), batch_size=1000
        )
        report.closed = len(passing)
    return report


def _undecidable(query: dict, facts: Facts | None) -> bool:
    return (
        facts is not None
        and facts.erased
        and query["response_id"] is None
        and query["field"] == "date_of_birth"
    )


def run_for_participant(participant_id: int) -> RunReport:
    trial = Trial.objects.filter(participants__pk=participant_id).first()
    if trial is None or not trial.edit_checks:
        return RunReport()
    return run_checks(trial, [participant_id])


def run_all() -> dict[str, RunReport]:
    """The nightly batch: every trial with checks."""
    return {t.code: run_checks(t) for t in Trial.objects.all() if t.edit_checks}
