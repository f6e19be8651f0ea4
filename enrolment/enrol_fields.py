"""What the enrol form asks beyond identity and consent, from the protocol file's
``[enrolment]`` section (stored as ``Trial.enrolment_fields``): a plain check of the
values against the trial's settings and the allocated condition.

``first_contact_clinician`` (IMPACt-LBP) belongs to clinics in the intervention
condition, where the patient chooses a chiropractor or a physiotherapist: it is required
there and refused elsewhere, so that its presence in a record never disagrees with the
condition. Like the condition, it is staff-facing only.
"""

from __future__ import annotations

from . import allocation

SEX_CODES = ("female", "male")
CLINICIAN_CODES = ("chiropractor", "physiotherapist")


def asks_sex(trial) -> bool:
    return bool((trial.enrolment_fields or {}).get("sex"))


def asks_first_contact(trial, condition: str) -> bool:
    wanted = (trial.enrolment_fields or {}).get("first_contact_clinician")
    return bool(wanted) and condition == allocation.INTERVENTION


def problems(trial, condition: str, sex: str, first_contact: str) -> list[str]:
    out = []
    if sex and sex not in SEX_CODES:
        out.append(f"Unknown sex {sex!r}; use one of {', '.join(SEX_CODES)}.")
    elif asks_sex(trial) and not sex:
        out.append("This trial records the participant's sex at enrolment: give it.")
    if first_contact and first_contact not in CLINICIAN_CODES:
        out.append(
            f"Unknown first-contact clinician {first_contact!r}; "
            f"use one of {', '.join(CLINICIAN_CODES)}."
        )
    elif asks_first_contact(trial, condition) and not first_contact:
        out.append(
            "At an intervention clinic the patient chooses the first-contact clinician "
            "(chiropractor or physiotherapist): give it."
        )
    elif first_contact and not asks_first_contact(trial, condition):
        out.append("A first-contact clinician is chosen only at intervention clinics.")
    return out
