"""Screening and enrolment: a screened patient recorded or declined, and
:func:`enrol_participant`, which checks consent and eligibility, allocates (a cluster's
condition, or the next slot of a stored randomisation list in the patient's stratum),
creates the participant with their personal details and consent in one transaction and
sends ``participant_enrolled`` once it is committed.
"""

from __future__ import annotations

from datetime import date

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext_noop as N_

from enrolment.consent.writing import record_initial as record_initial_consent

from .. import allocation, enrol_fields
from ..amendments import current_version
from ..models import (
    Clinic,
    Cluster,
    Consent,
    Participant,
    PersonalDetails,
    RandomisationList,
    RandomisationSlot,
    ScreeningRecord,
)
from ..signals import participant_enrolled
from .errors import AlreadyEnrolled, EnrolmentError


def _close_screening(screening: ScreeningRecord, participant: Participant) -> None:
    """Link the screening to its participant, once. The database decides: the update
    matches only a screening still open, so where a lock is not taken (SQLite, or a
    caller that passed a stale object) a second enrolment rolls back instead of
    relinking the screening and leaving two randomised participants behind."""
    closed = ScreeningRecord.objects.filter(
        pk=screening.pk, outcome=ScreeningRecord.ELIGIBLE, participant=None
    ).update(outcome=ScreeningRecord.ENROLLED, participant=participant)
    if not closed:
        raise AlreadyEnrolled(screening)
    screening.outcome, screening.participant = ScreeningRecord.ENROLLED, participant
    # A queryset update writes no history row: record the change as save() would have.
    screening.save(update_fields=["outcome", "participant"])


def allocate(cluster: Cluster, enrolled_on: date) -> tuple[str, bool]:
    """(condition, in crossover washout) for a patient enrolled in ``cluster`` that day."""
    trial = cluster.trial
    if not trial.is_cluster_design:
        raise EnrolmentError(
            f"{trial.name} is individually randomised: allocation comes from its "
            "randomisation list, not from the cluster."
        )
    crossover = cluster.crossover
    return (
        allocation.cluster_condition(crossover, enrolled_on),
        allocation.in_crossover_washout(crossover, enrolled_on, trial.washout_days),
    )


def stratum_key(trial, cluster: Cluster, values: dict | None) -> str:
    """The randomisation stratum of a patient, e.g. ``site=MID|sbst_risk_group=2``."""
    keys = (trial.randomisation or {}).get("strata", ["site"])
    values = {**(values or {}), "site": cluster.code}
    missing = [k for k in keys if values.get(k) in (None, "")]
    if missing:
        raise EnrolmentError(f"Randomisation is stratified by {', '.join(missing)}: give it.")
    return "|".join(f"{k}={values[k]}" for k in keys)


def next_slot(trial, stratum: str) -> RandomisationSlot:
    """The next free slot of ``stratum``. The list row is locked until the transaction
    ends, so two enrolments at once queue for it instead of reading the same slot."""
    rlist = RandomisationList.objects.select_for_update().filter(trial=trial, active=True).first()
    if rlist is None:
        raise EnrolmentError(
            "This trial has no randomisation list yet: a coordinator must generate or upload one."
        )
    slot = (
        RandomisationSlot.objects.filter(rlist=rlist, stratum=stratum, participant=None)
        .order_by("sequence")
        .first()
    )
    if slot is None:
        raise EnrolmentError(f"The randomisation list has no slot left in stratum {stratum}.")
    return slot


def take_slot(slot: RandomisationSlot, participant: Participant, user) -> None:
    """Record the reveal: once, with who and when."""
    # Conditional update: on a database without row locks (SQLite) a concurrent reveal of
    # the same slot makes this match nothing instead of handing the slot out twice.
    taken = RandomisationSlot.objects.filter(pk=slot.pk, participant=None).update(
        participant=participant, revealed_at=timezone.now(), revealed_by=user
    )
    if not taken:
        raise EnrolmentError("Another enrolment took this slot at the same moment: try again.")


# Rows this action has just read (or written) in its transaction: validating them again
# asks the database once each whether they exist (a fifth of an enrolment's queries);
# the foreign keys in the database still hold.
_READ_BY_THE_CALLER = ["trial", "clinic", "enrolled_by", "protocol_version"]


@transaction.atomic
def enrol_participant(
    *,
    clinic: Clinic,
    enrolled_on: date,
    personal: dict,
    consent: dict,
    user=None,
    stratum_values: dict | None = None,
    screening: ScreeningRecord | None = None,
    late_reason: str = "",
    sex: str = "",
    first_contact_clinician: str = "",
) -> Participant:
    """Create a participant with a new study ID, consent and personal details.

    ``sex`` and ``first_contact_clinician`` are asked where the protocol's ``[enrolment]``
    section says so (:mod:`enrolment.enrol_fields`); the clinician type only at a clinic
    in the intervention condition.

    ``late_reason`` says why a patient is enrolled after the recruitment period; the
    enrol form requires it then (:mod:`enrolment.enrol_checks`), and it is kept on the
    participant and in its history.

    In a cluster design the condition is the clinic's cluster's condition on the
    enrolment date; in an individually randomised design it is revealed from the
    concealed randomisation list, here and only here.
    """
    if not consent or not consent.get("consented_on") or not consent.get("form_version"):
        raise EnrolmentError("Enrolment needs the date and version of the signed consent form.")
    if consent["consented_on"] > enrolled_on:
        raise EnrolmentError("Consent must be given on or before the enrolment date.")
    if screening is not None:
        # Re-read under a row lock: a second submit of the same form waits here until the
        # first has committed, then sees the screening closed, before any slot is touched.
        screening = ScreeningRecord.objects.select_for_update().get(pk=screening.pk)
        if screening.outcome != ScreeningRecord.ELIGIBLE or screening.participant_id:
            raise AlreadyEnrolled(screening)
    # Lock the cluster row: two enrolments at once never get the same number, and the
    # allocation reads the crossover date as it is now, not as a cached object had it.
    cluster = Cluster.objects.select_for_update().select_related("trial").get(pk=clinic.cluster_id)
    trial = cluster.trial
    stratum, slot = "", None
    if trial.is_cluster_design:
        condition, washout = allocate(cluster, enrolled_on)
    else:
        stratum = stratum_key(trial, cluster, stratum_values)
        slot = next_slot(trial, stratum)
        condition, washout = slot.arm, False
    if found := enrol_fields.problems(trial, condition, sex, first_contact_clinician):
        raise EnrolmentError(" ".join(found))
    last = Participant.objects.filter(clinic__cluster=cluster).aggregate(n=Max("sequence"))["n"]
    sequence = (last or 0) + 1
    participant = Participant(
        trial=trial,
        clinic=clinic,
        sequence=sequence,
        study_id=allocation.study_id(trial.study_id_prefix, cluster.code, sequence),
        enrolled_on=enrolled_on,
        enrolled_by=user,
        condition=condition,
        crossover_washout=washout,
        stratum=stratum,
        enrolled_from=screening,
        late_enrolment_reason=(late_reason or "").strip(),
        protocol_version=current_version(trial),
        sex=sex,
        first_contact_clinician=first_contact_clinician,
    )
    # Whether the screening is still free is the database's to decide (its unique
    # column, below), not a read that another request can overtake.
    participant.full_clean(exclude=["enrolled_from", *_READ_BY_THE_CALLER])
    participant._change_reason = N_("enrolment")
    # Who enrolled is in the audit trail wherever it happens (a request names its user
    # anyway; the demo, an import or a task has no request).
    participant._history_user = user
    try:
        with transaction.atomic():
            participant.save()
    except IntegrityError:
        # Reached where no row lock serialised the two requests (SQLite, or a caller
        # that skipped the lock): the other enrolment from this screening won.
        if screening is not None and Participant.objects.filter(enrolled_from=screening).exists():
            raise AlreadyEnrolled(screening) from None
        raise
    if slot is not None:
        take_slot(slot, participant, user)
    details = PersonalDetails(participant=participant, **personal)
    details.preferred_language = (
        details.preferred_language or cluster.language or trial.default_language
    )
    details.full_clean(exclude=["participant"])  # saved a moment ago, in this transaction
    details._change_reason = N_("enrolment")
    details._history_user = user
    details.save()
    record = Consent(
        participant=participant,
        taken_by=consent.get("taken_by") or user,
        consented_on=consent["consented_on"],
        form_version=consent["form_version"],
    )
    record.full_clean(exclude=["participant", "taken_by"])
    record.save()
    record_initial_consent(participant, consent, user)
    if screening is not None:
        _close_screening(screening, participant)
    # Inside the transaction: the schedule is written with the enrolment or not at all.
    participant_enrolled.send(Participant, participant=participant)
    return participant


@transaction.atomic
def record_screening(*, trial, clinic, screened_on, user, age, answers, scores) -> ScreeningRecord:
    from ..eligibility import Criterion, assess
    from ..models import EligibilityCriterion

    criteria = [
        Criterion(c.code, c.kind, c.text, c.rule)
        for c in EligibilityCriterion.objects.filter(trial=trial)
    ]
    result = assess(criteria, answers, age=age, scores=scores)
    if result.missing:
        raise EnrolmentError(f"Screening is incomplete: {', '.join(result.missing)}.")
    return ScreeningRecord.objects.create(
        trial=trial,
        clinic=clinic,
        screened_on=screened_on,
        screened_by=user,
        age=age,
        answers=answers,
        scores=scores,
        unmet_criteria=list(result.unmet),
        outcome=ScreeningRecord.ELIGIBLE if result.eligible else ScreeningRecord.INELIGIBLE,
    )


@transaction.atomic
def record_decline(screening: ScreeningRecord, reason: str) -> ScreeningRecord:
    if screening.outcome != ScreeningRecord.ELIGIBLE:
        raise EnrolmentError("Only an eligible patient awaiting consent can decline.")
    screening.outcome = ScreeningRecord.DECLINED
    screening.decline_reason = (reason or "").strip()
    screening.save()
    return screening
