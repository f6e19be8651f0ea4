"""Writes that touch clinical data go through these functions: validate, then write in
one transaction, with the user and the reason recorded in the audit history."""

from __future__ import annotations

import calendar
import logging
from datetime import date

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from . import allocation, enrol_fields
from .amendments import current_version
from .consent import record_initial as record_initial_consent
from .models import (
    Clinic,
    Cluster,
    Consent,
    Erasure,
    Participant,
    PersonalDetails,
    RandomisationList,
    RandomisationSlot,
    ScreeningRecord,
)
from .signals import (  # noqa: F401 - sent here; named here for older listeners
    contact_details_changed,
    enrolment_date_corrected,
    participant_completed,
    participant_died,
    participant_enrolled,
    participant_withdrawn,
    personal_data_erased,
)

logger = logging.getLogger(__name__)

# What an erased name reads as, in the row and in every history row.
ERASED = "[erased]"


class EnrolmentError(ValidationError):
    pass


class AlreadyEnrolled(EnrolmentError):
    """The screening was closed (enrolled or declined) by another request first."""

    def __init__(self, screening: ScreeningRecord):
        self.screening = screening
        super().__init__("This screening is already closed: only one enrolment comes of it.")


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
    participant.full_clean(exclude=["enrolled_from"])
    participant._change_reason = "enrolment"
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
    details.full_clean()
    details._change_reason = "enrolment"
    details.save()
    record = Consent(
        participant=participant,
        taken_by=consent.get("taken_by") or user,
        consented_on=consent["consented_on"],
        form_version=consent["form_version"],
    )
    record.full_clean()
    record.save()
    record_initial_consent(participant, consent, user)
    if screening is not None:
        _close_screening(screening, participant)
    # Inside the transaction: the schedule is written with the enrolment or not at all.
    participant_enrolled.send(Participant, participant=participant)
    return participant


EDITABLE_PARTICIPANT_FIELDS = (
    "clinic",
    "enrolled_on",
    "final_visit_on",
    "sex",
    "first_contact_clinician",
)
EDITABLE_PERSONAL_FIELDS = (
    "full_name",
    "national_id",
    "date_of_birth",
    "email",
    "mobile",
    "postal_address",
    "preferred_language",
    "contact_preference",
)
# The fields follow-up reaches a participant by (enrolment.signals.contact_details_changed).
CONTACT_FIELDS = ("email", "mobile", "postal_address", "preferred_language", "contact_preference")


def _apply(obj, changes: dict, allowed: tuple[str, ...], reason: str) -> list[str]:
    not_allowed = set(changes) - set(allowed)
    if not_allowed:
        raise EnrolmentError(f"These fields cannot be changed here: {sorted(not_allowed)}")
    changed = [k for k, v in changes.items() if getattr(obj, k) != v]
    if not changed:
        return []
    if not (reason or "").strip():
        raise EnrolmentError("A reason is required to change a saved value.")
    for k in changed:
        setattr(obj, k, changes[k])
    obj.full_clean()
    obj._change_reason = reason.strip()
    obj.save()
    return changed


@transaction.atomic
def update_participant(participant: Participant, changes: dict, reason: str) -> list[str]:
    """Correct enrolment data. Moving a participant never moves their condition."""
    if "clinic" in changes and changes["clinic"].cluster.trial_id != participant.trial_id:
        raise EnrolmentError("A participant cannot move to another trial's clinic.")
    asked = ("sex", "first_contact_clinician")
    if any(k in changes and changes[k] != getattr(participant, k) for k in asked):
        # Judged as at enrolment, against the condition the participant keeps.
        sex, clinician = (changes.get(k, getattr(participant, k)) for k in asked)
        if found := enrol_fields.problems(participant.trial, participant.condition, sex, clinician):
            raise EnrolmentError(" ".join(found))
    changed = _apply(participant, changes, EDITABLE_PARTICIPANT_FIELDS, reason)
    if "enrolled_on" in changed:
        enrolment_date_corrected.send(Participant, participant=participant, reason=reason.strip())
    return changed


@transaction.atomic
def update_personal_details(details: PersonalDetails, changes: dict, reason: str) -> list[str]:
    if details.is_erased:
        raise EnrolmentError("These personal details were erased: they cannot be changed.")
    changed = _apply(details, changes, EDITABLE_PERSONAL_FIELDS, reason)
    reached_by = [f for f in changed if f in CONTACT_FIELDS]
    if reached_by:
        contact_details_changed.send(
            Participant, participant=details.participant, fields=reached_by
        )
    return changed


def birth_date_kept_for_age(born: date, enrolled_on: date) -> date:
    """A date of birth that gives the same age at enrolment as ``born`` (the analysis
    covariate) and nothing more: the birthday becomes the enrolment day."""
    before_birthday = (enrolled_on.month, enrolled_on.day) < (born.month, born.day)
    year = born.year + before_birthday
    if (enrolled_on.month, enrolled_on.day) == (2, 29) and not calendar.isleap(year):
        return date(year, 2, 28)
    return enrolled_on.replace(year=year)


# The identifiers an erasure removes; the rest of the row (language, tombstone) stays.
_ERASED_VALUES = {
    "full_name": ERASED,
    "national_id": "",
    "email": "",
    "mobile": "",
    "postal_address": "",
}


@transaction.atomic
def erase_personal_data(
    participant: Participant,
    reason: str,
    user=None,
    *,
    source: str = Erasure.REQUEST,
    today: date | None = None,
) -> Erasure:
    """Erase a participant's identifiers everywhere they are stored; keep the research
    data under the study ID.

    Name, national ID, email and mobile are replaced by a tombstone in the row and in
    every history row (django-simple-history keeps old values, and the reasons given
    for corrections may quote them); the date of birth becomes one that gives the same
    age at enrolment. An active participant is withdrawn from all contact (the
    withdrawal path cancels every contact and SMS question), and the other apps scrub
    their copies (message recipients and bodies, SMS replies) when they hear of it."""
    participant = Participant.objects.select_for_update().get(pk=participant.pk)
    details = PersonalDetails.objects.select_for_update().get(participant=participant)
    reason = (reason or "").strip()
    if details.is_erased:
        raise EnrolmentError(f"The personal data of {participant.study_id} is already erased.")
    if not reason:
        raise EnrolmentError("Say why the personal data is erased (e.g. the request's date).")
    now = timezone.now()
    if participant.status == Participant.ACTIVE:
        withdraw_participant(
            participant, today or timezone.localdate(), f"personal data erased: {reason}"
        )
    history = PersonalDetails.history.filter(participant_id=participant.pk)
    identifiers = {
        value
        for row in [
            *history.values(*_ERASED_VALUES),
            {f: getattr(details, f) for f in _ERASED_VALUES},
        ]
        for value in row.values()
        if value and value != ERASED
    }
    new_birth_date = birth_date_kept_for_age(details.date_of_birth, participant.enrolled_on)
    # The history rows first: the erasure's own row (written by save) is already clean.
    scrubbed = {
        "personal_details_history": history.update(**_ERASED_VALUES, date_of_birth=new_birth_date)
    }
    # A correction's reason may quote the old value ("typo in 19800101-1234").
    history.exclude(history_change_reason="enrolment").update(history_change_reason=ERASED)
    for field, value in _ERASED_VALUES.items():
        setattr(details, field, value)
    details.date_of_birth = new_birth_date
    details.erased_at = now
    details._change_reason = f"personal data erased: {reason}"[:100]
    if user is not None:
        details._history_user = user
    details.save()
    for _receiver, answer in personal_data_erased.send(
        Participant, participant=participant, identifiers=identifiers, now=now
    ):
        scrubbed.update(answer or {})
    record = Erasure.objects.create(
        participant=participant,
        erased_at=now,
        erased_by=user,
        source=source,
        reason=reason[:300],
        scrubbed=scrubbed,
    )
    # Outside the database too (study ID only): a restore of an older backup brings the
    # identifiers back, and this line tells the operator whom to erase again.
    transaction.on_commit(
        lambda: logger.warning(
            "ERASURE %s: personal data erased (%s) at %s", participant.study_id, source, now
        )
    )
    return record


@transaction.atomic
def withdraw_participant(
    participant: Participant, on: date, reason: str, scope: str = Participant.ALL_CONTACT
) -> Participant:
    """Withdraw; the follow-up app cancels every future contact when it hears of it."""
    if participant.status == Participant.WITHDRAWN:
        raise EnrolmentError(f"{participant.study_id} is already withdrawn.")
    if not (reason or "").strip():
        raise EnrolmentError("A withdrawal needs a reason.")
    participant.status = Participant.WITHDRAWN
    participant.withdrawn_on = on
    participant.withdrawal_reason = reason.strip()
    participant.withdrawal_scope = scope
    participant.full_clean()
    # The history row keeps 100 characters; the whole reason is in withdrawal_reason.
    participant._change_reason = f"withdrawal: {reason.strip()}"[:100]
    participant.save()
    participant_withdrawn.send(Participant, participant=participant)
    return participant


@transaction.atomic
def record_death(participant: Participant, on: date, reason: str, today: date | None = None):
    """Record that a participant died; the follow-up app cancels every open contact
    when it hears of it, so no invitation or reminder reaches the family.

    ``reason`` says how the site learned of it (a relative's call, the registry): it is
    the history row's reason. Withdrawal data, if any, is kept."""
    participant = Participant.objects.select_for_update().get(pk=participant.pk)
    if participant.status == Participant.DIED:
        raise EnrolmentError(f"The death of {participant.study_id} is already recorded.")
    if not (reason or "").strip():
        raise EnrolmentError("Say how the death became known.")
    if on > (today or timezone.localdate()):
        raise EnrolmentError("The date of death cannot be in the future.")
    participant.status = Participant.DIED
    participant.died_on = on
    participant.full_clean()
    participant._change_reason = f"death recorded: {reason.strip()}"[:100]
    participant.save()
    participant_died.send(Participant, participant=participant)
    return participant


@transaction.atomic
def move_crossover(cluster: Cluster, new_date: date, reason: str, today: date) -> Cluster:
    """Set or move a cluster's crossover, only for the future and with a reason.

    Participants already enrolled keep their condition; only later enrolments follow
    the new date. A cluster that has already crossed over cannot be moved back."""
    cluster = Cluster.objects.select_for_update().get(pk=cluster.pk)
    if not cluster.trial.is_cluster_design:
        raise EnrolmentError("Only cluster designs have crossovers.")
    if new_date <= today:
        raise EnrolmentError("A crossover can only be set for the future.")
    if cluster.crossover is not None and cluster.crossover <= today:
        raise EnrolmentError(f"{cluster.name} crossed over on {cluster.crossover}: it stays.")
    if not (reason or "").strip():
        raise EnrolmentError("Say why the crossover moves.")
    cluster.crossover = new_date
    cluster._change_reason = reason.strip()
    cluster.save()
    return cluster


@transaction.atomic
def record_screening(*, trial, clinic, screened_on, user, age, answers, scores) -> ScreeningRecord:
    from .eligibility import Criterion, assess
    from .models import EligibilityCriterion

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


@transaction.atomic
def mark_final_visit(participant: Participant, on: date, reason: str = "") -> Participant:
    """Record the final clinical visit (the CRPE-tool's second timepoint)."""
    if participant.final_visit_on is None:
        participant.final_visit_on = on
        participant._change_reason = "final clinical visit recorded"
        participant.save()
        return participant
    update_participant(participant, {"final_visit_on": on}, reason)
    return participant


@transaction.atomic
def complete_participant(participant: Participant, reason: str) -> Participant:
    """The participant finished the trial: follow-up cancels what is still open when it
    hears of it (their answers stay)."""
    participant = Participant.objects.select_for_update().get(pk=participant.pk)
    if participant.status != Participant.ACTIVE:
        raise EnrolmentError(f"{participant.study_id} is not active ({participant.status}).")
    if not (reason or "").strip():
        raise EnrolmentError("Say why the participant's trial is complete.")
    participant.status = Participant.COMPLETED
    participant.full_clean()
    participant._change_reason = reason.strip()[:100]
    participant.save()
    participant_completed.send(Participant, participant=participant)
    return participant
