"""Edit checks on save: a saved enrolment record re-runs the trial's checks for its
participant, a saved response the checks that read it. A new participant is checked once,
when their enrolment is whole (:data:`enrolment.signals.participant_enrolled`), not at
each of the three rows it writes. Connected in the app's ``ready()``: the apps below
never import data management."""

from __future__ import annotations

from django.db.models.signals import post_save

from enrolment.models import Consent, Participant, PersonalDetails
from enrolment.signals import participant_enrolled
from questionnaires.models import Response

from .checks import run_for_participant, run_for_response


def _participant_saved(sender, instance, raw=False, created=False, **kwargs):
    if not raw and not created:
        run_for_participant(instance.pk)


def _related_saved(sender, instance, raw=False, created=False, **kwargs):
    if not raw and not created and instance.participant_id is not None:
        run_for_participant(instance.participant_id)


def _enrolled(sender, participant, **kwargs):
    run_for_participant(participant.pk)


def _response_saved(sender, instance, raw=False, **kwargs):
    if raw or instance.participant_id is None:
        return
    if instance.entry != Response.FINAL or instance.week is not None:
        return
    run_for_response(instance)


def connect() -> None:
    post_save.connect(_participant_saved, sender=Participant, dispatch_uid="dm_checks_participant")
    for model in (PersonalDetails, Consent):
        post_save.connect(_related_saved, sender=model, dispatch_uid=f"dm_checks_{model.__name__}")
    post_save.connect(_response_saved, sender=Response, dispatch_uid="dm_checks_Response")
    participant_enrolled.connect(_enrolled, dispatch_uid="dm_checks_enrolled")
