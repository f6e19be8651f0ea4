"""A whole protocol file as one validated value: :class:`TrialSpec` (the trial's own
table: code, design, time zone, languages, recruitment and retention dates) and
:class:`ProtocolSpec` (the trial with its arms, clusters, timepoints and instruments), with
the checks that need more than one section at a time (unique codes, references between
sections, dates in order).
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator, model_validator

from .. import allocation, catalogue, consent_protocol, import_spec
from ..contact_spec import ContactSpec
from ..import_spec import ImportSpec
from .sections import (
    LANGUAGES,
    ArmSpec,
    ClusterSpec,
    CriterionSpec,
    DeviationTypeSpec,
    EnrolmentSpec,
    InstrumentSpec,
    PaperSpec,
    PricesSpec,
    RandomisationSpec,
    SampleSizeSpec,
    SmsSpec,
    TimepointSpec,
    _require_unique,
    _Strict,
)


class TrialSpec(_Strict):
    code: str = Field(max_length=50, pattern=r"^[a-z0-9-]+$")
    study_id_prefix: str = Field(pattern=r"^[A-Z]{1,8}$")
    name: str = Field(min_length=1, max_length=300)
    registration: str = Field(default="", max_length=40)
    design: Literal["cluster_dogleg", "cluster_parallel", "individual"]
    time_zone: str
    languages: list[str] = Field(min_length=1)
    default_language: str
    eq5d_value_set: str = Field(default="", max_length=8)
    recruitment_start: date | None = None
    recruitment_end: date | None = None
    target_sample_size: int | None = Field(default=None, ge=1)
    recruitment_target_per_cluster_month: int | None = Field(default=None, ge=1)
    recruitment_ceiling_per_cluster_month: int | None = Field(default=None, ge=1)
    washout_days: int = Field(default=14, ge=0)
    consent_form_version: str = Field(default="", max_length=40)
    # The last day personal data may be kept (the ethics approval's or the law's rule);
    # after it `manage.py retention` lists, and with --erase erases, the personal details.
    retention_until: date | None = None
    # Statisticians see neither a participant's condition nor free-text reasons in the
    # site, and export blinded by default (trialsite.roles.blinded_for).
    blinded: bool = True
    # Monitors see personal details only where the trial allows it (trialsite.roles).
    monitor_sees_personal_details: bool = False
    # Staff who may see personal details log in with a second factor (accounts app).
    two_factor_required: bool = True
    # A weekly email to clinic staff of the queries waiting for them (data management).
    query_digest: bool = False

    @field_validator("time_zone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{value!r} is not a time zone (e.g. 'Europe/Stockholm')") from None
        return value

    @field_validator("languages")
    @classmethod
    def _languages(cls, value: list[str]) -> list[str]:
        unknown = [v for v in value if v not in LANGUAGES]
        if unknown:
            raise ValueError(f"unsupported language(s) {unknown}; supported: {sorted(LANGUAGES)}")
        return value

    @model_validator(mode="after")
    def _consistent(self):
        if self.default_language not in self.languages:
            raise ValueError(f"default_language {self.default_language!r} is not in languages")
        if (
            self.recruitment_start
            and self.recruitment_end
            and self.recruitment_end < self.recruitment_start
        ):
            raise ValueError("recruitment_end is before recruitment_start")
        if (
            self.retention_until
            and self.recruitment_end
            and self.retention_until < self.recruitment_end
        ):
            raise ValueError("retention_until is before recruitment_end")
        return self


class ProtocolSpec(_Strict):
    trial: TrialSpec
    arms: list[ArmSpec] = Field(min_length=2)
    clusters: list[ClusterSpec] = Field(min_length=1)
    timepoints: list[TimepointSpec] = Field(min_length=1)
    instruments: list[InstrumentSpec] = Field(default_factory=list)
    sms: SmsSpec | None = None
    contact: ContactSpec = Field(default_factory=ContactSpec)
    eligibility: list[CriterionSpec] = Field(default_factory=list)
    randomisation: RandomisationSpec | None = None
    prices: PricesSpec | None = None
    sample_size: SampleSizeSpec | None = None
    deviation_types: list[DeviationTypeSpec] = Field(default_factory=list)
    consent: consent_protocol.ConsentSpec | None = None
    # Edit checks, validated against the timepoints and instruments by enrolment.edit_checks.
    checks: list[dict[str, Any]] = Field(default_factory=list)
    paper: PaperSpec | None = None
    enrolment: EnrolmentSpec = Field(default_factory=EnrolmentSpec)
    imports: list[ImportSpec] = Field(default_factory=list)
    # Instrument code -> the version this trial asks; unlisted instruments: the latest.
    instrument_versions: dict[str, int] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _consistent(self):
        _require_unique([a.code for a in self.arms], "arms", "code")
        _require_unique([d.code for d in self.deviation_types], "deviation_types", "code")
        _require_unique([c.code for c in self.clusters], "clusters", "code")
        _require_unique([c.allocation_order for c in self.clusters], "clusters", "allocation_order")
        _require_unique([t.code for t in self.timepoints], "timepoints", "code")
        _require_unique([i.code for i in self.instruments], "instruments", "code")
        _require_unique([e.code for e in self.eligibility], "eligibility", "code")
        arm_codes = {a.code for a in self.arms}
        design = self.trial.design
        if design in allocation.CLUSTER_DESIGNS:
            needed = {allocation.CONTROL, allocation.INTERVENTION}
            if not needed <= arm_codes:
                raise ValueError(f"a {design} trial needs arms {sorted(needed)}")
        else:
            crossing = [c.code for c in self.clusters if c.crossover]
            if crossing:
                raise ValueError(
                    f"clusters {crossing} have a crossover but the design is individual"
                )
        for c in self.clusters:
            if c.language is not None and c.language not in self.trial.languages:
                raise ValueError(f"cluster {c.code}: language {c.language!r} is not in languages")
        if design == allocation.INDIVIDUAL and self.randomisation is None:
            raise ValueError("an individually randomised trial needs a [randomisation] section")
        if design != allocation.INDIVIDUAL and self.randomisation is not None:
            raise ValueError(f"a {design} trial is allocated by cluster: remove [randomisation]")
        if self.randomisation and self.randomisation.ratio:
            if len(self.randomisation.ratio) != len(self.arms):
                raise ValueError("randomisation.ratio needs one number per arm")
        if design == allocation.CLUSTER_PARALLEL:
            for c in self.clusters:
                start = self.trial.recruitment_start
                if c.crossover and start and c.crossover > start:
                    raise ValueError(
                        f"cluster {c.code} crosses over during recruitment; "
                        "a parallel design keeps each cluster in one condition"
                    )
        if self.enrolment.first_contact_clinician and design not in allocation.CLUSTER_DESIGNS:
            raise ValueError(
                "enrolment.first_contact_clinician is asked at intervention clinics: "
                "it needs a cluster design"
            )
        self._pinned_versions()
        self._priced_answers()
        if found := import_spec.problems(self.imports, self.prices.items if self.prices else None):
            raise ValueError("; ".join(found))
        if self.eq5d_codes() and self.trial.eq5d_value_set:
            get = catalogue.get
            for code in self.eq5d_codes():
                available = get(code).options.get("value_set", ())
                if available and self.trial.eq5d_value_set not in available:
                    raise ValueError(
                        f"trial.eq5d_value_set {self.trial.eq5d_value_set!r} has no {code} "
                        f"value set; available: {sorted(available)}"
                    )
        for t in self.timepoints:
            if isinstance(t.label, dict):
                missing = set(self.trial.languages) - set(t.label)
                if set(t.label) - set(LANGUAGES):
                    raise ValueError(f"timepoint {t.code!r}: label languages not in {LANGUAGES}")
                if missing:
                    raise ValueError(f"timepoint {t.code!r} has no label in {sorted(missing)}")
        if self.sms:
            for q in self.sms.questions:
                if set(q.label) - LANGUAGES:
                    raise ValueError(
                        f"sms question {q.code!r}: label languages not in {sorted(LANGUAGES)}"
                    )
                missing = set(self.trial.languages) - set(q.wording)
                if missing:
                    raise ValueError(f"sms question {q.code!r} has no wording in {sorted(missing)}")
            holders = [t.code for t in self.timepoints if "sms_tracking" in t.instruments]
            if len(holders) != 1:
                raise ValueError(
                    "sms: exactly one timepoint must list the instrument 'sms_tracking' "
                    f"(the weekly answers are stored under it); found {holders or 'none'}"
                )
            items = {item.id for item in catalogue.get("sms_tracking").items}
            unknown = [q.code for q in self.sms.questions if q.code not in items]
            if unknown:
                raise ValueError(
                    f"sms question(s) {unknown} are not items of sms_tracking; use {sorted(items)}"
                )
        return self

    def _priced_answers(self) -> None:
        get = catalogue.get
        listed = {i for t in self.timepoints for i in t.instruments}
        for key, item in (self.prices.questionnaire if self.prices else {}).items():
            code, _, item_id = key.partition(".")
            if code not in listed:
                raise ValueError(f"prices.questionnaire: {code!r} is in no timepoint")
            ins = get(code, self.instrument_versions.get(code))
            if item_id not in ins.item_ids or ins.item(item_id).kind != "number":
                raise ValueError(f"prices.questionnaire: {key!r} is not a number item")
            if item not in self.prices.items:
                raise ValueError(f"prices.questionnaire: {item!r} is not an item of [prices]")

    def _pinned_versions(self) -> None:
        get = catalogue.get
        listed = {i for t in self.timepoints for i in t.instruments}
        for code, version in self.instrument_versions.items():
            if code not in listed:
                raise ValueError(f"instrument_versions: {code!r} is in no timepoint")
            try:
                get(code, version)
            except KeyError as exc:
                raise ValueError(f"instrument_versions: {exc.args[0]}") from None

    def eq5d_codes(self) -> set[str]:
        return {i for t in self.timepoints for i in t.instruments if i.startswith("eq5d")}
