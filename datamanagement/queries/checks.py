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

from dataclasses import dataclass
from functools import lru_cache

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_noop

from enrolment.models import Trial
from trialsite.compiled import CompiledQuery

from .facts import Facts, checks_reading, facts_of_saved, load_facts
from .models import Query, QueryMessage
from .rules import context_of, evaluate

# Stored in English (the query log); shown translated (:func:`.texts.shown`).
PASSES_NOW = gettext_noop("The edit check passes now: closed automatically.")
FAILS_AGAIN = gettext_noop("The edit check fails again: re-opened automatically.")


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


_QUERY_COLUMNS = ("pk", "check_code", "participant_id", "response_id", "field", "state")


@lru_cache(maxsize=64)
def _queries_of_one(codes: tuple[str, ...]) -> CompiledQuery:
    """One participant's queries of these checks (a saved page runs the same few checks
    every time: compiled once per set of checks)."""
    return CompiledQuery(
        lambda participant: Query.objects.filter(
            check_code__in=codes, participant_id=participant
        ).only(*_QUERY_COLUMNS),
        participant=int,
    )


@transaction.atomic
def run_checks(
    trial: Trial,
    participant_ids=None,
    checks: list[dict] | None = None,
    facts: dict[int, Facts] | None = None,
) -> RunReport:
    """Run the trial's checks (or ``checks`` of them) over all its participants (or
    ``participant_ids``) and open, re-open and close their queries. Running it twice
    changes nothing the second time. ``facts``: those of ``participant_ids``, when the
    caller has them (:func:`.facts.facts_of_saved`)."""
    checks = trial.edit_checks or [] if checks is None else checks
    report = RunReport()
    if not checks:
        return report
    if facts is None:
        facts = load_facts(trial, checks, participant_ids)
    report.participants = len(facts)
    failures = evaluate(checks, facts.values(), context_of(trial, checks))
    report.failing = len(failures)
    codes = [c["code"] for c in checks]

    def existing():
        found = Query.objects.filter(check_code__in=codes)
        if participant_ids is None:
            return found.filter(participant__trial=trial)
        return found.filter(participant_id__in=participant_ids)

    if participant_ids is not None and len(participant_ids) == 1:
        rows = _queries_of_one(tuple(codes)).all(participant=next(iter(participant_ids)))
        rows = [{name: getattr(q, name) for name in _QUERY_COLUMNS} for q in rows]
    else:
        rows = existing().values(*_QUERY_COLUMNS)
    known = {(q["check_code"], q["participant_id"], q["response_id"], q["field"]): q for q in rows}
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
        unannounced = existing().filter(messages__isnull=True).values_list(
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


def run_for_response(response) -> RunReport:
    """A saved final response of a participant: the checks that read it, for them. The
    timepoint and its trial are the save's own (loaded already on the patient's page)."""
    timepoint = response.timepoint
    checks = checks_reading(timepoint.trial.edit_checks or [], timepoint.code, response.instrument)
    if not checks:
        return RunReport()
    known = facts_of_saved(response, checks)
    return run_checks(
        timepoint.trial,
        [response.participant_id],
        checks,
        None if known is None else {response.participant_id: known},
    )


def run_all() -> dict[str, RunReport]:
    """The nightly batch: every trial with checks."""
    return {t.code: run_checks(t) for t in Trial.objects.all() if t.edit_checks}
