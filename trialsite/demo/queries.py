"""Queries for the demo: the edit checks run over every trial (the nightly batch), and
BetterBack's data manager raises a few queries on ODI items at the clinic of the printed
physiotherapist that then go through every state: one open, one answered, one corrected
and closed, one closed and re-opened."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db.models import Count

from datamanagement.queries import actions
from datamanagement.queries.checks import run_checks
from datamanagement.queries.models import Query
from enrolment.models import Physiotherapist, Trial
from questionnaires.models import Response
from questionnaires.services.saving import correct_response


def build_queries(trials: list[Trial]) -> dict[str, int]:
    """Idempotent: queries raised by people are made once; the checks change nothing on
    a second run."""
    betterback = trials[0]
    if Query.objects.filter(participant__trial=betterback, check_code="").exists():
        for trial in trials:
            run_checks(trial)
        return {"open edit-check queries": _open_from_checks(trials)}
    _paper_slip(betterback)
    for trial in trials:
        run_checks(trial)  # the nightly batch: anything a save did not catch
    User = get_user_model()
    manager = User.objects.filter(username="datamanager").first()
    coordinator = User.objects.filter(username="coordinator").first()
    if manager is None or coordinator is None:
        return {"open edit-check queries": _open_from_checks(trials)}
    baselines = Response.objects.filter(
        participant__trial=betterback,
        instrument="odi",
        entry=Response.FINAL,
        completed_at__isnull=False,
        timepoint__code="baseline",
    ).select_related("participant", "timepoint")
    # At the printed physiotherapist's clinic: their first login shows a query waiting.
    odis = list(
        baselines.filter(participant__clinic_id=busiest_clinic_id(betterback))
        .order_by("participant__study_id")[:4]
    )
    if len(odis) < 4:
        odis = list(baselines.order_by("participant__study_id")[:4])
    stories = [_stay_open, _answered, _corrected_and_closed, _reopened]
    for response, story in zip(odis, stories, strict=False):
        physio = (
            Physiotherapist.objects.filter(clinic=response.participant.clinic, user__isnull=False)
            .order_by("pk")
            .first()
        )
        query = actions.raise_query(
            response.participant, f"baseline.odi.{story.item}", story.text, manager
        )
        story(query, manager, physio.user if physio else coordinator, response)
    return {
        "open edit-check queries": _open_from_checks(trials),
        "queries raised by the data manager": len(odis),
    }


def busiest_clinic_id(trial: Trial) -> int | None:
    """The clinic with the most participants: the demo prints a physiotherapist of it."""
    busiest = (
        trial.participants.values("clinic").annotate(n=Count("id")).order_by("-n", "clinic")
    ).first()
    return busiest["clinic"] if busiest else None


def _open_from_checks(trials: list[Trial]) -> int:
    return (
        Query.objects.filter(participant__trial__in=trials, state__in=Query.UNRESOLVED)
        .exclude(check_code="")
        .count()
    )


def _paper_slip(trial: Trial) -> None:
    """A baseline pain score typed as 0 from a paper form: the edit check
    "baseline-back-pain" opens a query on it by itself, on save."""
    response = (
        Response.objects.filter(
            participant__trial=trial,
            instrument="nrs",
            entry=Response.FINAL,
            timepoint__code="baseline",
            completed_at__isnull=False,
        )
        .order_by("-participant__study_id")
        .first()
    )
    if response is not None and response.answers.get("back") != 0:
        correct_response(
            response, {**response.answers, "back": 0}, "typed from the paper form"
        )


def _story(item: str, text: str):
    def wrap(fn):
        fn.item, fn.text = item, text
        return fn

    return wrap


@_story("q4", "Two boxes are ticked for walking on the paper form: which one did the patient mean?")
def _stay_open(query, manager, clinic_user, response):
    pass


@_story("q6", "Standing: the answer looks inconsistent with sitting and walking. Please confirm.")
def _answered(query, manager, clinic_user, response):
    actions.answer_query(query, "Confirmed with the patient at the visit: as entered.", clinic_user)


@_story("q2", "Personal care: the scan shows a different box from the value entered.")
def _corrected_and_closed(query, manager, clinic_user, response):
    current = response.answers.get("q2")
    new = 0 if current != 0 else 1
    actions.correct_from_query(
        query, new, "Entered from the wrong row; the form says so.", clinic_user
    )
    actions.close_query(query, "", manager)


@_story("q8", "Sex life: left blank on paper but entered as answered?")
def _reopened(query, manager, clinic_user, response):
    actions.answer_query(query, "The patient answered it on the back of the page.", clinic_user)
    actions.close_query(query, "Accepted.", manager)
    actions.reopen_query(
        query,
        "The monitor cannot find the answer on the back of the page: please send a copy.",
        manager,
    )
