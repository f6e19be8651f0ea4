"""Object identifiers of the ODM file: stable, derived from the protocol's codes, so that
two exports of one trial name everything alike."""

from __future__ import annotations

import re

_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")


def _safe(code: str) -> str:
    return _UNSAFE.sub("_", code).upper()


def study(trial_code: str) -> str:
    return f"ST.{_safe(trial_code)}"


def metadata_version(trial_code: str) -> str:
    return f"MDV.{_safe(trial_code)}.1"


def event(timepoint_code: str) -> str:
    return f"SE.{_safe(timepoint_code)}"


def form(instrument: str, version: int) -> str:
    return f"F.{_safe(instrument)}.V{version}"


def item_group(instrument: str, version: int) -> str:
    return f"IG.{_safe(instrument)}.V{version}"


def item(instrument: str, version: int, item_id: str) -> str:
    return f"I.{_safe(instrument)}.V{version}.{_safe(item_id)}"


def code_list(instrument: str, version: int, item_id: str) -> str:
    return f"CL.{_safe(instrument)}.V{version}.{_safe(item_id)}"


def location(clinic_code: str) -> str:
    return f"LOC.{_safe(clinic_code)}"


def user(pk: int | None) -> str:
    # Staff appear by number only: the file carries no names.
    return f"USR.{pk}" if pk is not None else "USR.SYSTEM"


ENROLMENT_EVENT = "SE.ENROLMENT"
ENROLMENT_FORM = "F.ENROLMENT"
ENROLMENT_GROUP = "IG.ENROLMENT"
MISSING_CODES = "CL.MISSING_REASON"
CONDITION_CODES = "CL.CONDITION"
CLUSTER_CODES = "CL.CLUSTER"
STATUS_CODES = "CL.STATUS"
