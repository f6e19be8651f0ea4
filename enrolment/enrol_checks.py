"""Checks of an enrolment before it is written: the national ID (format, checksum, the
same person enrolled twice), the date of birth against the ID and the screened age, and
enrolment after the recruitment period.

Errors refuse the enrolment; warnings need the enroller's confirmation. The enrol form
(:mod:`enrolment.screening_forms`) shows both and keeps everything typed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from django.utils.translation import gettext as _

from . import national_id
from .models import PersonalDetails, ScreeningRecord, Trial
from .phone import region_of


@dataclass
class Findings:
    national_id: str = ""  # the normalised number, as stored
    errors: dict[str, list[str]] = field(default_factory=dict)  # form field -> messages
    warnings: list[str] = field(default_factory=list)

    def error(self, name: str, message: str) -> None:
        self.errors.setdefault(name, []).append(message)


def is_late(trial: Trial, enrolled_on: date) -> bool:
    """After the last day of the protocol's recruitment period."""
    return bool(trial.recruitment_end and enrolled_on > trial.recruitment_end)


def enrolled_with_id(trial: Trial, number: str, exclude=None) -> tuple[list[str], bool]:
    """(study IDs in ``trial`` enrolled with the national ID ``number``, whether someone
    in another trial has it). Stored numbers are compared in their normalised form, so
    ``811228-9874`` finds ``19811228-9874``. Erased details hold no number; ``exclude``
    is a participant whose own number is not a duplicate (when it is corrected)."""
    region = region_of(trial.time_zone)
    wanted = national_id.normalise(number, region)
    if not wanted:
        return [], False
    here, elsewhere = [], False
    rows = (
        PersonalDetails.objects.filter(erased_at=None)
        .exclude(national_id="")
        .exclude(participant=exclude)
        .values_list("national_id", "participant__trial_id", "participant__study_id")
    )
    # Read in Python: old rows may be stored as typed, and a trial holds hundreds, not
    # millions, of participants.
    for stored, trial_id, study_id in rows.iterator():
        if national_id.normalise(stored, region) != wanted:
            continue
        if trial_id == trial.pk:
            here.append(study_id)
        else:
            elsewhere = True
    return here, elsewhere


def check_enrolment(
    trial: Trial,
    *,
    number: str,
    date_of_birth: date | None,
    enrolled_on: date | None,
    screening: ScreeningRecord | None,
    today: date,
) -> Findings:
    """What to refuse and what to confirm in an enrolment's personal data."""
    id_check = national_id.check(number, region_of(trial.time_zone), today)
    found = Findings(national_id=id_check.normalised, warnings=list(id_check.warnings))
    for message in id_check.errors:
        found.error("national_id", message)
    if id_check.normalised and not id_check.errors:
        here, elsewhere = enrolled_with_id(trial, id_check.normalised)
        if here:
            found.error(
                "national_id",
                _("National ID: already enrolled in this trial as %(ids)s.")
                % {"ids": ", ".join(here)},
            )
        if elsewhere:
            found.warnings.append(
                _(
                    "National ID: a participant of another trial on this site has the same "
                    "number. Check that the patient may take part in both."
                )
            )
    if date_of_birth is not None:
        errors, warnings = national_id.birth_date_problems(
            date_of_birth,
            id_check.birth_date,
            screening.age if screening else None,
            screening.screened_on if screening else None,
        )
        for message in errors:
            found.error("date_of_birth", message)
        found.warnings.extend(warnings)
    if enrolled_on is not None and is_late(trial, enrolled_on):
        found.warnings.append(
            _(
                "Enrolment date: recruitment ended on %(end)s. Enrol only if the protocol "
                "allows it, and give the reason."
            )
            % {"end": f"{trial.recruitment_end:%Y-%m-%d}"}
        )
    return found


def check_corrected_id(participant, number: str) -> tuple[str, list[str]]:
    """(normalised number, errors) for a national ID corrected on the participant page:
    the same format checks and no other participant of the trial with it."""
    trial = participant.trial
    id_check = national_id.check(number, region_of(trial.time_zone))
    errors = list(id_check.errors)
    if id_check.normalised and not errors:
        here, _elsewhere = enrolled_with_id(trial, id_check.normalised, exclude=participant)
        if here:
            errors.append(
                _("National ID: already enrolled in this trial as %(ids)s.")
                % {"ids": ", ".join(here)}
            )
    return id_check.normalised, errors
