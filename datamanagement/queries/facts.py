"""What the edit checks read of the participants (:mod:`.checks` runs them): one SQL
query per table whatever the number of participants, and only the tables the checks
being run read (a response's save runs only the checks reading that response)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from enrolment.models import Consent, Participant, PersonalDetails, Trial
from questionnaires.models import Response
from trialsite.compiled import CompiledQuery


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



def _referenced(checks: list[dict]) -> tuple[set[str], set[str]]:
    timepoints, instruments = set(), set()
    for check in checks:
        for timepoint, instrument in _responses_read(check):
            timepoints.add(timepoint)
            instruments.add(instrument)
    return timepoints, instruments


def _responses_read(check: dict) -> set[tuple[str, str]]:
    """The (timepoint, instrument) pairs whose responses ``check`` reads."""
    read = set()
    for ref in filter(None, (check.get(k) for k in ("value", "when", "left", "right"))):
        parts = ref.split(".")
        if len(parts) == 3:
            read.add((parts[0], parts[1]))
    if check["kind"] == "window":
        read.add((check["timepoint"], check["instrument"]))
    return read


def _enrolment_read(checks: list[dict]) -> set[str]:
    """The enrolment fields ``checks`` read (the national ID check reads both its own)."""
    read = set()
    for check in checks:
        for ref in filter(None, (check.get(k) for k in ("value", "when", "left", "right"))):
            parts = ref.split(".")
            if parts[0] == "enrolment":
                read.add(parts[1])
        if check["kind"] == "birth_date_matches_national_id":
            read.update(("date_of_birth", "national_id"))
    return read


def checks_reading(checks: list[dict], timepoint_code: str, instrument: str) -> list[dict]:
    """Of ``checks``, those a response at this timepoint of this instrument can change:
    a saved response re-runs only these (every other check reads nothing it changed)."""
    return [c for c in checks if (timepoint_code, instrument) in _responses_read(c)]


# The participant's own columns the checks read (the rest of enrolment is other tables).
_PARTICIPANT_FIELDS = ("enrolled_on", "final_visit_on")


def facts_of_saved(response, checks: list[dict]) -> Facts | None:
    """The facts ``checks`` read, taken from a response just saved and its participant as
    they are in memory, when the checks read nothing else (most checks a page's save runs
    read only that page and the enrolment date): what :func:`load_facts` would read back
    in the same transaction, without its queries. None when they read more, or when the
    participant is not loaded."""
    timepoint = response.timepoint
    if _referenced(checks) != ({timepoint.code}, {response.instrument}) or not (
        _enrolment_read(checks) <= set(_PARTICIPANT_FIELDS)
    ):
        return None
    if not type(response).participant.is_cached(response):
        return None
    participant = response.participant
    facts = Facts(
        participant.pk,
        {name: getattr(participant, name) for name in _PARTICIPANT_FIELDS},
    )
    if response.completed_at is not None:
        # As the database gives them back: JSON, so a tuple comes back a list.
        facts.responses[(timepoint.code, response.instrument)] = (
            response.pk,
            json.loads(json.dumps(response.answers or {})),
            json.loads(json.dumps(response.missing or {})),
            response.completed_at.astimezone(ZoneInfo(timepoint.trial.time_zone)).date(),
        )
    return facts


_ONE_PARTICIPANT = CompiledQuery(
    lambda pk: Participant.objects.filter(pk=pk).only("pk", *_PARTICIPANT_FIELDS),
    pk=int,
)


def load_facts(trial: Trial, checks: list[dict], participant_ids=None) -> dict[int, Facts]:
    """Facts of the trial's participants (or of ``participant_ids``): four SQL queries."""

    def scoped(qs, prefix=""):
        if participant_ids is None:
            return qs.filter(**{f"{prefix}trial": trial})
        return qs.filter(**{"participant_id__in" if prefix else "pk__in": participant_ids})

    facts: dict[int, Facts] = {}
    if participant_ids is not None and len(participant_ids) == 1:
        # A saved response's checks: one participant, compiled once (0.35 ms a save).
        people = [
            (p.pk, *(getattr(p, name) for name in _PARTICIPANT_FIELDS))
            for p in _ONE_PARTICIPANT.all(pk=next(iter(participant_ids)))
        ]
    else:
        people = scoped(Participant.objects).values_list("pk", *_PARTICIPANT_FIELDS)
    for pk, *values in people:
        facts[pk] = Facts(pk, dict(zip(_PARTICIPANT_FIELDS, values, strict=True)))
    # The personal details and the consent only when a check reads them: a response's
    # save runs only the checks reading that response (checks_reading), most of them none.
    # Not even built otherwise: building the two querysets cost a saved page 0.6 ms.
    enrolment = _enrolment_read(checks)
    details = (
        scoped(PersonalDetails.objects, "participant__").values(
            "participant_id", "date_of_birth", "national_id", "erased_at"
        )
        if {"date_of_birth", "national_id"} & enrolment
        else []
    )
    for row in details:
        found = facts.get(row["participant_id"])
        if found is None:
            continue
        if row["erased_at"] is not None:
            found.erased = True
            continue
        found.enrolment["date_of_birth"] = row["date_of_birth"]
        found.national_id = row["national_id"]
    consents = (
        scoped(Consent.objects, "participant__").values("participant_id", "consented_on")
        if "consented_on" in enrolment
        else []
    )
    for row in consents:
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
