"""Saving responses: :class:`Visit` (the instruments of one timepoint for one respondent,
answered page by page), :func:`save_answers` (validate, score and save with the user and
a reason in the audit history, refusing locked data) and :func:`correct_response` (a
saved response changed with a reason).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from enrolment.models import Participant, Physiotherapist
from trialsite.compiled import CompiledQuery

from ..instruments import base, for_trial
from ..models import Response
from ..reasons import RESPONDENT, STAFF, validate_missing
from .answers import ResponseError, clean_answers, validate_answers
from .scoring import compute_scores

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
    # Whether the trial holds data collection until re-consent, when the caller read it
    # with its own query (None: asked when the page is shown).
    trial_holds: bool | None = None

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
        started = {r.instrument: r for r in self.final_responses()}
        for response in started.values():
            # Their save reads the timepoint with its trial (locks, window flag, edit
            # checks): the visit's own, not a query each.
            response.timepoint = self.timepoint
            if self.participant is not None:
                response.participant = self.participant
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

    def final_responses(self) -> list[Response]:
        """``responses()`` read: every page of a visit asks it, so it is compiled once."""
        if self.participant is not None:
            return _FINALS_OF_PARTICIPANT.all(
                timepoint=self.timepoint.pk, respondent=self.participant.pk
            )
        return _FINALS_OF_PHYSIOTHERAPIST.all(
            timepoint=self.timepoint.pk, respondent=self.physiotherapist.pk
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
        done = {r.instrument for r in self.final_responses() if r.is_complete}
        codes = self.instrument_codes
        for number, code in enumerate(codes, start=1):
            if code not in done:
                return number
        return len(codes) + 1


def _finals(respondent_field: str):
    return CompiledQuery(
        lambda timepoint, respondent: Response.objects.filter(
            timepoint_id=timepoint, entry=Response.FINAL, **{f"{respondent_field}_id": respondent}
        ),
        timepoint=int,
        respondent=int,
    )


_FINALS_OF_PARTICIPANT = _finals("participant")
_FINALS_OF_PHYSIOTHERAPIST = _finals("physiotherapist")


def _locked_response(timepoint, code: str, entry: int, participant, physiotherapist):
    """The stored response, locked; None if there is none yet.

    A row that does not exist cannot be locked, so the respondent's row is locked
    first: the same page sent three times at once (a double tap, a retry) is then saved
    by the first request and found by the others, instead of three inserts of which two
    break the unique constraint. A response has one respondent (response_has_one_respondent)."""
    values = {"timepoint": timepoint.pk, "instrument": code, "entry": entry}
    if participant is not None:
        _LOCK_PARTICIPANT.all(respondent=participant.pk)
        return _LOCKED_OF_PARTICIPANT.first(respondent=participant.pk, **values)
    _LOCK_PHYSIOTHERAPIST.all(respondent=physiotherapist.pk)
    return _LOCKED_OF_PHYSIOTHERAPIST.first(respondent=physiotherapist.pk, **values)


def _lock(model):
    return CompiledQuery(
        lambda respondent: model.objects.select_for_update().filter(pk=respondent).only("pk"),
        respondent=int,
    )


def _locked(respondent_field: str):
    return CompiledQuery(
        lambda timepoint, instrument, entry, respondent: Response.objects.select_for_update()
        .filter(
            timepoint_id=timepoint,
            instrument=instrument,
            entry=entry,
            **{f"{respondent_field}_id": respondent},
        )
        .order_by("pk")[:1],
        timepoint=int,
        instrument=str,
        entry=int,
        respondent=int,
    )


# Every page saved asks them (compiled once: trialsite.compiled).
_LOCK_PARTICIPANT = _lock(Participant)
_LOCK_PHYSIOTHERAPIST = _lock(Physiotherapist)
_LOCKED_OF_PARTICIPANT = _locked("participant")
_LOCKED_OF_PHYSIOTHERAPIST = _locked("physiotherapist")


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
        raise ResponseError(_("%(response)s was started on version %(started)s, not %(now)s.") % {
            "response": response, "started": response.version, "now": instrument.version})
    if response.is_complete and not (reason or "").strip():
        if clean_answers(response.answers) == answers and (response.missing or {}) == missing:
            return response  # nothing changed: no reason needed
        raise ResponseError(_("A reason is required to change a completed response."))
    response.answers = answers
    response.missing = dict(missing)
    response.scores = compute_scores(instrument, answers, timepoint.trial)
    if complete and response.completed_at is None:
        response.completed_at = timezone.now()
    if resolution is not None:
        response.resolution = resolution
    if (response.participant_id is None) == (response.physiotherapist_id is None):
        raise ResponseError(_("A response has exactly one respondent."))
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
        raise ResponseError(_("A reason is required to correct a response."))
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
