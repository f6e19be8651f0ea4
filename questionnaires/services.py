"""Writes of responses: validate, score, save with the user and a reason in the audit
history. Views and management commands call these; nothing else writes a Response."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from enrolment import guards

from . import missing as reasons
from .instruments import base, for_trial
from .models import InstrumentWording, Response
from .reasons import RESPONDENT, STAFF, validate_missing


class ResponseError(ValidationError):
    pass


# --- scoring -------------------------------------------------------------------------


def score_options(instrument: base.Instrument, trial=None, value_set: str | None = None) -> dict:
    """Keyword options for ``instrument.score``: the EQ-5D value set of the trial (or the
    one asked for), checked against the sets the definition offers."""
    if "value_set" not in instrument.options:
        if value_set:
            raise ResponseError(f"{instrument.code} has no value sets.")
        return {}
    available = tuple(instrument.options["value_set"])
    chosen = (
        value_set
        or (trial.eq5d_value_set if trial is not None else "")
        or instrument.options.get("default_value_set")
    )
    if chosen not in available:
        raise ResponseError(
            f"{instrument.code}: unknown value set {chosen!r}; available: {', '.join(available)}"
        )
    return {"value_set": chosen}


def compute_scores(instrument: base.Instrument, answers: dict, trial=None) -> dict:
    return instrument.score(answers, **score_options(instrument, trial))


# --- validation of answers given as data (commands, corrections, resolution) ----------


def _check_value(item: base.Item, value) -> str | None:
    """An error message for one answer, or None if it is valid for its item."""
    if value is None:
        return None
    if item.kind == base.MULTI:
        if not isinstance(value, list) or not all(
            isinstance(v, int) and not isinstance(v, bool) for v in value
        ):
            return "expected a list of whole numbers"
        bad = [v for v in value if v not in item.allowed_codes()]
        return f"not allowed: {bad}" if bad else None
    if item.kind == base.TEXT:
        if not isinstance(value, str):
            return "expected text"
        if len(value) > base.TEXT_MAX_LENGTH:
            return f"longer than {base.TEXT_MAX_LENGTH} characters"
        return None
    if item.kind == base.DATE:
        try:
            dt.date.fromisoformat(value)
        except (TypeError, ValueError):
            return "expected a date YYYY-MM-DD"
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        return "expected a whole number"
    allowed = item.allowed_codes()
    if value not in allowed:
        if item.kind in (base.SCALE, base.NUMBER):
            return f"out of range {item.min}-{item.max}"
        return f"not one of {list(allowed)}"
    return None


def validate_answers(instrument: base.Instrument, answers: dict) -> dict[str, str]:
    """Item id -> error for answers that do not fit the definition (unknown items too)."""
    errors = {}
    for item_id, value in answers.items():
        try:
            item = instrument.item(item_id)
        except KeyError:
            errors[item_id] = f"unknown item of {instrument.code} v{instrument.version}"
            continue
        message = _check_value(item, value)
        if message:
            errors[item_id] = message
    return errors


def entered(response: Response | None) -> dict:
    """What was entered per item: the answer, or the reason code standing in for it (the
    codes cannot collide with a real value). Used to compare paper entries."""
    if response is None:
        return {}
    return {**clean_answers(response.answers), **(response.missing or {})}


def clean_answers(answers: dict) -> dict:
    """Drop unanswered items: an absent key is the one way to say 'missing'."""
    return {k: v for k, v in answers.items() if base.answered(answers, k)}


# --- respondents and visits ----------------------------------------------------------


@dataclass
class Visit:
    """The instruments of one timepoint for one respondent, answered page by page.

    Built by a staff view today; a token link (no login) can build the same object and
    call the same view logic (:func:`questionnaires.views.visits.run_visit_page`).
    """

    timepoint: object
    participant: object = None
    physiotherapist: object = None
    mode: str = Response.STAFF_CLINIC
    user: object = None  # who is logged in (entered_by); None for a token link
    # The instrument codes asked, when not the timepoint's current list: a contact sent
    # under an earlier protocol version keeps that version's list (followup.amendments).
    codes: list[str] | None = None

    @property
    def instrument_codes(self) -> list[str]:
        return list(self.timepoint.instruments) if self.codes is None else list(self.codes)

    @property
    def trial(self):
        return self.timepoint.trial

    @property
    def instruments(self) -> list[base.Instrument]:
        """Latest versions of the timepoint's instruments, or the version already
        started for this respondent."""
        started = {r.instrument: r for r in self.responses()}
        self._started = started
        result = []
        for code in self.instrument_codes:
            if code in started:
                result.append(started[code].definition())
            else:
                result.append(for_trial(self.trial, code))
        return result

    def respondent_filter(self) -> dict:
        if self.participant is not None:
            return {"participant": self.participant}
        return {"physiotherapist": self.physiotherapist}

    def responses(self):
        return Response.objects.filter(
            timepoint=self.timepoint, entry=Response.FINAL, **self.respondent_filter()
        )

    def response_for(self, instrument: base.Instrument) -> Response | None:
        # The responses just read for ``instruments`` (the same request) save a query.
        started = getattr(self, "_started", None)
        if started is not None:
            return started.get(instrument.code)
        return self.responses().filter(instrument=instrument.code).first()

    @property
    def language(self) -> str:
        if self.participant is not None:
            details = getattr(self.participant, "personal_details", None)
            if details is not None and details.preferred_language:
                return details.preferred_language
        return self.trial.default_language

    def first_open_page(self) -> int:
        """1-based page of the first instrument not yet completed (len+1 when all are)."""
        done = {r.instrument for r in self.responses() if r.is_complete}
        codes = self.instrument_codes
        for number, code in enumerate(codes, start=1):
            if code not in done:
                return number
        return len(codes) + 1


def _locked_response(timepoint, code: str, entry: int, participant, physiotherapist):
    """The stored response, locked; None if there is none yet.

    A row that does not exist cannot be locked, so the respondent's row is locked
    first: the same page sent three times at once (a double tap, a retry) is then saved
    by the first request and found by the others, instead of three inserts of which two
    break the unique constraint."""
    respondent = participant if participant is not None else physiotherapist
    type(respondent).objects.select_for_update().filter(pk=respondent.pk).exists()
    return (
        Response.objects.select_for_update()
        .filter(
            timepoint=timepoint,
            instrument=code,
            entry=entry,
            participant=participant,
            physiotherapist=physiotherapist,
        )
        .first()
    )


_READ_BY_THE_CALLER = ["participant", "physiotherapist", "timepoint", "entered_by"]


@transaction.atomic
def save_answers(
    *,
    instrument: base.Instrument,
    timepoint,
    answers: dict,
    complete: bool,
    mode: str,
    user=None,
    participant=None,
    physiotherapist=None,
    entry: int = Response.FINAL,
    language: str = "",
    reason: str = "",
    response: Response | None = None,
    resolution: dict | None = None,
    missing: dict | None = None,
) -> Response:
    """Create or update one response: the given answers replace the stored ones, scores
    are recomputed, and ``complete`` stamps completed_at (the first time).

    ``missing`` (item id -> reason code) replaces the stored reasons; without it the
    stored reasons stay, except for items now answered.
    A completed response only changes with a reason (a staff correction)."""
    errors = validate_answers(instrument, answers)
    if errors:
        raise ResponseError({k: [v] for k, v in errors.items()})
    answers = clean_answers(answers)
    if response is None:
        response = _locked_response(
            timepoint, instrument.code, entry, participant, physiotherapist
        )
    if missing is None:
        stored = response.missing if response is not None else {}
        missing = {k: v for k, v in (stored or {}).items() if k not in answers}
    # Without a login (a survey link, an SMS reply) the respondent is writing.
    who = STAFF if getattr(user, "is_authenticated", False) else RESPONDENT
    stored = response.missing if response is not None else {}
    errors = validate_missing(instrument, answers, missing, who, stored)
    if errors:
        raise ResponseError({k: [v] for k, v in errors.items()})
    if response is None:
        response = Response(
            participant=participant,
            physiotherapist=physiotherapist,
            timepoint=timepoint,
            instrument=instrument.code,
            version=instrument.version,
            entry=entry,
            mode=mode,
            entered_by=user if getattr(user, "is_authenticated", False) else None,
            language=language,
            started_at=timezone.now(),
        )
    elif response.version != instrument.version:
        raise ResponseError(
            f"{response} was started on version {response.version}, not {instrument.version}."
        )
    if response.is_complete and not (reason or "").strip():
        if clean_answers(response.answers) == answers and (response.missing or {}) == missing:
            return response  # nothing changed: no reason needed
        raise ResponseError("A reason is required to change a completed response.")
    response.answers = answers
    response.missing = dict(missing)
    response.scores = compute_scores(instrument, answers, timepoint.trial)
    if complete and response.completed_at is None:
        response.completed_at = timezone.now()
    if resolution is not None:
        response.resolution = resolution
    if (response.participant_id is None) == (response.physiotherapist_id is None):
        raise ResponseError("A response has exactly one respondent.")
    # The respondent's row is locked (_locked_response), so no other request inserts this
    # response meanwhile: the unique constraints hold without the query each would cost,
    # and the related rows were read by the caller (a query each to check them again).
    response.full_clean(exclude=_READ_BY_THE_CALLER, validate_constraints=False)
    response._change_reason = (reason or "").strip() or None
    if getattr(user, "is_authenticated", False):
        # Who, also outside a request (commands, the demo, tasks): the history middleware
        # knows only the request's user.
        response._history_user = user
    response.save()
    return response


@transaction.atomic
def correct_response(
    response: Response, answers: dict, reason: str, user=None, missing: dict | None = None
) -> Response:
    """A staff correction of a saved response: new answers (and reasons for missing items,
    if given), rescored, with a reason."""
    if not (reason or "").strip():
        raise ResponseError("A reason is required to correct a response.")
    response = Response.objects.select_for_update().get(pk=response.pk)
    return save_answers(
        instrument=response.definition(),
        timepoint=response.timepoint,
        answers=answers,
        complete=response.is_complete,
        mode=response.mode,
        user=user,
        entry=response.entry,
        reason=reason,
        response=response,
        missing=missing,
    )


# --- double data entry ---------------------------------------------------------------


@dataclass
class Difference:
    """``first`` and ``second`` are what was entered: a value, a reason code, or None."""

    item: base.Item
    first: object
    second: object


def paper_entries(participant, timepoint, code: str) -> dict[int, Response]:
    rows = Response.objects.filter(
        participant=participant,
        timepoint=timepoint,
        instrument=code,
        entry__in=[Response.FIRST_ENTRY, Response.SECOND_ENTRY],
    )
    return {r.entry: r for r in rows}


def next_entry_for(participant, timepoint, code: str, user) -> tuple[int, Response | None]:
    """Which paper entry ``user`` makes now: their own unfinished one, else the first, else
    the second (by another user). Raises when the user cannot make another entry."""
    entries = paper_entries(participant, timepoint, code)
    for number, response in entries.items():
        if response.entered_by_id == user.pk:
            if response.is_complete:
                raise ResponseError(
                    "You have entered this form already; the second entry must be made by "
                    "another person."
                )
            return number, response
    if Response.FIRST_ENTRY not in entries:
        return Response.FIRST_ENTRY, None
    if Response.SECOND_ENTRY not in entries:
        return Response.SECOND_ENTRY, None
    raise ResponseError("This form has been entered twice already.")


def compare_entries(first: Response, second: Response) -> list[Difference]:
    """Item by item, where the two entries differ (an unanswered item counts as None; a
    reason for missing in one entry and a value in the other is a difference)."""
    instrument = first.definition()
    a, b = entered(first), entered(second)
    return [
        Difference(item, a.get(item.id), b.get(item.id))
        for item in instrument.items
        if a.get(item.id) != b.get(item.id)
    ]


@transaction.atomic
def resolve_double_entry(
    first: Response, second: Response, decisions: dict[str, tuple[object, str]], user
) -> Response:
    """The final response from two agreeing-or-resolved paper entries.

    ``decisions``: item id -> (final value, reason) for every item where they differ.
    The decisions are kept on the final response and its history row says who resolved
    them and why."""
    if not (first.is_complete and second.is_complete):
        raise ResponseError("Both entries must be complete before they are compared.")
    if first.entered_by_id == second.entered_by_id:
        raise ResponseError("The two entries must be made by different people.")
    if first.version != second.version:
        raise ResponseError("The two entries were made on different versions.")
    differences = compare_entries(first, second)
    missing = [d.item.id for d in differences if d.item.id not in decisions]
    if missing:
        raise ResponseError(f"Resolve every difference: {', '.join(missing)}.")
    unreasoned = [k for k, (_, why) in decisions.items() if not (why or "").strip()]
    if unreasoned:
        raise ResponseError(f"A reason is needed for {', '.join(unreasoned)}.")
    answers = dict(clean_answers(first.answers))
    missing = dict(first.missing or {})
    resolution = {}
    for d in differences:
        value, why = decisions[d.item.id]
        answers.pop(d.item.id, None)
        missing.pop(d.item.id, None)
        if reasons.is_reason(value):
            missing[d.item.id] = value
        elif value is not None:
            answers[d.item.id] = value
        resolution[d.item.id] = {
            "first": d.first,
            "second": d.second,
            "final": value,
            "reason": why.strip(),
        }
    instrument = first.definition()
    if Response.objects.filter(
        participant=first.participant,
        timepoint=first.timepoint,
        instrument=first.instrument,
        entry=Response.FINAL,
    ).exists():
        raise ResponseError("A final response of this form exists already.")
    final = save_answers(
        instrument=instrument,
        timepoint=first.timepoint,
        answers=answers,
        complete=True,
        mode=Response.STAFF_PAPER,
        user=user,
        participant=first.participant,
        language=first.language,
        reason=_resolution_reason(resolution, first, second),
        resolution=resolution,
        missing=missing,
    )
    return final


def _resolution_reason(resolution: dict, first: Response, second: Response) -> str:
    if not resolution:
        return f"double data entry: entries {first.pk} and {second.pk} agree"
    parts = [f"{k}: {v['reason']}" for k, v in resolution.items()]
    return f"double data entry of {first.pk} and {second.pk} resolved; " + "; ".join(parts)


# --- rescoring -------------------------------------------------------------------------


@dataclass
class ScoreChange:
    response: Response
    score: str
    old: object
    new: object
    refused: str = ""  # why the change was not saved (locked data)


def rescore(dry_run: bool = False) -> list[ScoreChange]:
    """Recompute every stored score with the definition version it was answered on."""
    changes: list[ScoreChange] = []
    rows = Response.objects.select_related(
        "participant", "physiotherapist", "timepoint__trial"
    ).order_by("pk")
    for response in rows:
        instrument = response.definition()
        new = compute_scores(instrument, response.answers, response.timepoint.trial)
        old = response.scores or {}
        changed = [
            ScoreChange(response, name, old.get(name), new.get(name))
            for name in sorted(set(old) | set(new))
            if old.get(name) != new.get(name)
        ]
        if not changed:
            continue
        if not dry_run:
            try:
                with transaction.atomic():
                    response.scores = new
                    response._change_reason = "rescore"
                    response.save(update_fields=["scores"])
            except guards.WriteRefused as exc:
                # Locked data keeps its scores; the report says so and why.
                for c in changed:
                    c.refused = " ".join(exc.messages)
        changes.extend(changed)
    return changes


# --- wording -------------------------------------------------------------------------


def wording_for(trial, instrument: base.Instrument, language: str) -> InstrumentWording | None:
    if trial is None:
        return None
    loaded = InstrumentWording.objects.filter(
        trial=trial, instrument=instrument.code, version=instrument.version, language=language
    ).first()
    declared = (instrument.options.get("wording") or {}).get(language)
    if loaded is None and declared:
        # An instrument the protocol file declares carries its wording: used, unsaved.
        return InstrumentWording(
            trial=trial,
            instrument=instrument.code,
            version=instrument.version,
            language=language,
            **declared,
        )
    return loaded
