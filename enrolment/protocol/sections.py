"""The parts of a protocol file, each a strict pydantic model: clinics, clusters, arms,
timepoints, instruments, SMS questions, eligibility criteria, deviation types, randomisation,
prices, paper, enrolment and sample size, with the limits they share (languages, the longest
offset, weekdays) and :class:`ProtocolError`, which names the file, the key and what is wrong.
The whole file and its cross-checks are in :mod:`enrolment.protocol.spec`.
"""

from __future__ import annotations

from datetime import date, time
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from .. import catalogue

LANGUAGES = {"en", "sv", "da", "nb"}
MAX_DAYS = 366 * 20  # offsets and windows: beyond this the file has a typing error
WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]


class ProtocolError(Exception):
    def __init__(self, path: Path | str, problems: list[str]):
        self.path, self.problems = str(path), problems
        super().__init__("\n".join(f"{self.path}: {p}" for p in problems))


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ClinicSpec(_Strict):
    code: str = Field(min_length=1, max_length=16)
    name: str = Field(min_length=1, max_length=200)
    physiotherapists: int = Field(default=0, ge=0)


class ClusterSpec(_Strict):
    code: str = Field(min_length=1, max_length=8, pattern=r"^[A-Z0-9]+$")
    name: str = Field(min_length=1, max_length=100)
    allocation_order: int = Field(ge=1)
    crossover: date | None = None
    language: str | None = None  # default language of its participants (one of the trial's)
    clinics: list[ClinicSpec] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_clinics(self):
        _require_unique([c.code for c in self.clinics], "clinics", "code")
        return self


class ArmSpec(_Strict):
    code: str = Field(max_length=50, pattern=r"^[a-z0-9_-]+$")
    label: str = Field(min_length=1, max_length=200)


class TimepointSpec(_Strict):
    code: str = Field(max_length=50, pattern=r"^[a-z0-9_-]+$")
    # One label, or one per language: label = {en = "6 months", sv = "6 månader"}.
    label: str | dict[str, str] = Field(min_length=1)
    respondent: Literal["patient", "physiotherapist", "clinician"]
    anchor: Literal["enrolment", "workshop", "event"]
    offset: int = 0
    unit: Literal["days", "weeks", "months"] = "months"
    window_before_days: int = Field(default=0, ge=0, le=MAX_DAYS)
    window_after_days: int = Field(default=0, ge=0, le=MAX_DAYS)
    # Workshop timepoints only: the day of the two-day workshop the offset counts from
    # (default day 1) and the local time of day it is answered (default: the send time).
    workshop_day: int | None = Field(default=None, ge=1, le=2)
    at: time | None = None
    instruments: list[str] = Field(min_length=1)
    # Roles Python asks for by name (enrolment.tags), e.g. ["final-visit"].
    tags: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _workshop_fields(self):
        if self.anchor != "workshop" and (self.workshop_day is not None or self.at is not None):
            raise ValueError("workshop_day and at belong to timepoints anchored on the workshop")
        return self

    @model_validator(mode="after")
    def _within_the_calendar(self):
        # A patient cannot answer before enrolment, nor about an event before it happens;
        # physiotherapists can answer before their workshop (BetterBack's pt-before).
        if self.offset < 0 and self.anchor != "workshop":
            raise ValueError(
                f"offset {self.offset} is negative: a timepoint anchored at {self.anchor} "
                "comes on or after it (only workshop timepoints may come before)"
            )
        days = abs(self.offset) * {"days": 1, "weeks": 7, "months": 31}[self.unit]
        if days > MAX_DAYS:
            raise ValueError(f"offset {self.offset} {self.unit} is more than 20 years")
        return self

    @field_validator("instruments")
    @classmethod
    def _known_instruments(cls, codes: list[str]) -> list[str]:
        known = catalogue.codes()
        unknown = [c for c in codes if c not in known]
        if unknown:
            raise ValueError(f"unknown instrument(s) {unknown}; known: {sorted(known)}")
        _require_unique(codes, "instruments", "code")
        return codes


class InstrumentSpec(_Strict):
    """What the trial says of one of its instruments beyond listing it at timepoints: its
    tags and the roles of its items (enrolment.tags), and, for an instrument the trial
    words itself, its definition (``version``, ``name``, ``source``, ``[[instruments.items]]``
    ...: checked by questionnaires.instruments.declared, registered by read_protocol)."""

    model_config = ConfigDict(extra="allow")

    code: str
    tags: list[str] = Field(default_factory=list)
    item_roles: dict[str, str] = Field(default_factory=dict)

    @property
    def declares(self) -> bool:
        return bool(self.model_extra)


class SmsQuestionSpec(_Strict):
    code: str = Field(pattern=r"^[a-z0-9_]+$")
    min: int
    max: int
    wording: dict[str, str]
    # A short name for staff pages (the SMS page's replies, "Back pain (0-10)"), by
    # language; the code where the file gives none.
    label: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _range(self):
        if self.min > self.max:
            raise ValueError(f"min {self.min} is above max {self.max}")
        return self


class SmsSpec(_Strict):
    weeks: int = Field(ge=1, le=260)
    weekday: Literal[tuple(WEEKDAYS)]  # type: ignore[valid-type]
    time: time
    reminder_after_hours: int = Field(default=24, ge=1)
    questions: list[SmsQuestionSpec] = Field(min_length=1)


class CriterionSpec(_Strict):
    code: str = Field(max_length=50, pattern=r"^[a-z0-9_-]+$")
    kind: Literal["inclusion", "exclusion"]
    text: str = Field(min_length=1, max_length=300)
    rule: dict[str, Any] = Field(default_factory=dict)


class DeviationTypeSpec(_Strict):
    """A kind of protocol deviation, and what it means for the per-protocol set:
    ``excluded`` always takes the participant out of it, ``kept`` never does, ``judged``
    is decided for each deviation by whoever records it."""

    code: str = Field(pattern=r"^[a-z0-9_-]+$")
    label: str = Field(min_length=1, max_length=200)
    per_protocol: Literal["excluded", "kept", "judged"]


class RandomisationSpec(_Strict):
    """Permuted blocks with random sizes, stratified by site and optional baseline variables."""

    strata: list[Literal["site", "sbst_risk_group"]] = Field(default_factory=lambda: ["site"])
    block_sizes: list[int] = Field(min_length=1)
    ratio: list[int] | None = None
    length_per_stratum: int = Field(default=200, ge=1)

    @model_validator(mode="after")
    def _blocks(self):
        per_cycle = sum(self.ratio) if self.ratio else 2
        bad = [b for b in self.block_sizes if b <= 0 or b % per_cycle]
        if bad:
            raise ValueError(f"block sizes {bad} are not multiples of the ratio sum {per_cycle}")
        return self


class PricesSpec(_Strict):
    """Unit costs for the cost-effectiveness analysis (registry utilisation x price).
    ``questionnaire`` prices answers too: ``"<instrument>.<item>" = "<price item>"``, the
    item's value (a count) summed over the participant's timepoints."""

    currency: str = Field(pattern=r"^[A-Z]{3}$")
    year: int = Field(ge=1990, le=2100)
    items: dict[str, float]
    questionnaire: dict[str, str] = Field(default_factory=dict)

    @field_validator("items")
    @classmethod
    def _non_negative(cls, items: dict[str, float]) -> dict[str, float]:
        bad = sorted(k for k, v in items.items() if v < 0)
        if bad:
            raise ValueError(f"negative prices for {bad}")
        return items


class PaperSpec(_Strict):
    """Questionnaires by post (the paper app): where packs come back, and whether a
    verified scan stands alone or is the first of two paper entries."""

    return_address: list[str] = Field(default_factory=list, max_length=8)
    scan_replaces_double_entry: bool = False


class EnrolmentSpec(_Strict):
    """What the enrol form asks beyond identity and consent: ``sex`` (for trials that
    report by sex) and ``first_contact_clinician`` (cluster trials whose intervention
    clinics let the patient choose a chiropractor or a physiotherapist; asked only at a
    clinic in the intervention condition)."""

    sex: bool = False
    first_contact_clinician: bool = False


class SampleSizeSpec(_Strict):
    """The protocol's sample size inputs and its stated result; the analysis app's
    calculator starts from them and reads the stated figures against its own."""

    d: float = Field(gt=0)
    alpha: float = Field(gt=0, lt=1)
    sided: Literal[1, 2] = 2
    power: float = Field(gt=0, lt=1)
    icc: float = Field(default=0.0, ge=0, le=1)
    cac: float = Field(default=0.0, ge=0, le=1)
    m: int = Field(default=1, ge=1)
    layout: str = Field(default="", pattern=r"^([CI.]+(,[CI.]+)+)?$")
    method: Literal["t", "z"] = "z"
    clusters_as_run: int | None = Field(default=None, ge=1)
    stated_patients: int | None = Field(default=None, ge=1)
    stated_clusters: float | None = Field(default=None, gt=0)


def _require_unique(values: list, where: str, key: str) -> None:
    seen, dupes = set(), []
    for v in values:
        if v in seen:
            dupes.append(v)
        seen.add(v)
    if dupes:
        raise ValueError(f"{where}: duplicate {key} {sorted(set(dupes))}")
