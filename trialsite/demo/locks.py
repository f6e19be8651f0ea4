"""Source verification, a frozen timepoint and a signed casebook in the demo, so a newcomer
sees data management at work: the monitor has verified the first participants' baseline
forms, the data manager has frozen BetterBack's 3-month data for an interim look, and the
investigator has signed one participant's casebook."""

from __future__ import annotations

from django.contrib.auth import get_user_model

from datamanagement.locks import services as locks
from datamanagement.locks.models import Lock
from datamanagement.sdv import services as sdv
from datamanagement.signatures import services as signatures
from enrolment.demo import DEMO_PASSWORD
from enrolment.models import Timepoint, Trial
from questionnaires.models import Response

VERIFIED_PARTICIPANTS = 5
FROZEN_TIMEPOINT = "3m"


def add_data_management(trial: Trial) -> dict[str, int]:
    """Idempotent: nothing is added to a trial that has a lock already."""
    if Lock.objects.filter(trial=trial).exists():
        return {}
    users = get_user_model().objects
    monitor = users.get(username="monitor")
    manager = users.get(username="datamanager")
    investigator = users.get(username="investigator")
    participants = list(
        trial.participants.filter(responses__completed_at__isnull=False)
        .distinct()
        .order_by("study_id")[:VERIFIED_PARTICIPANTS]
    )
    verified = 0
    for participant in participants:
        for response in Response.objects.filter(
            participant=participant,
            entry=Response.FINAL,
            completed_at__isnull=False,
            timepoint__code="baseline",
        ):
            sdv.verify(response, monitor)
            verified += 1
    signed = 0
    if participants:
        signatures.sign(participants[0], investigator, DEMO_PASSWORD, confirmed=True)
        signed = 1
    frozen = Timepoint.objects.filter(trial=trial, code=FROZEN_TIMEPOINT).first()
    if frozen is not None:
        locks.lock(Lock.TIMEPOINT, trial=trial, timepoint=frozen, user=manager,
                   reason="3-month interim analysis")
    return {"forms verified against source": verified, "casebooks signed": signed,
            "timepoints frozen": int(frozen is not None)}
