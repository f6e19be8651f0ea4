"""Protocol files: a trial described as data (TOML), validated strictly, loaded atomically.

``read_protocol(path)`` parses and validates without touching the database and raises
:class:`ProtocolError` naming the file, the key and what is wrong. ``load_protocol(path)``
writes the trial in one transaction and only saves rows whose values changed, so loading
the same file twice changes nothing (and adds no audit history).
"""

from __future__ import annotations

import hashlib
import tomllib
from datetime import date, time, timedelta
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.db import transaction
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from . import allocation, catalogue, consent_protocol, edit_checks, import_spec, tags
from .contact_spec import ContactSpec
from .import_spec import ImportSpec

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


def _require_unique(values: list, where: str, key: str) -> None:
    seen, dupes = set(), []
    for v in values:
        if v in seen:
            dupes.append(v)
        seen.add(v)
    if dupes:
        raise ValueError(f"{where}: duplicate {key} {sorted(set(dupes))}")


def _format_location(loc: tuple) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "(top level)"


def read_protocol(path: Path | str) -> ProtocolSpec:
    """Parse and validate a protocol file; nothing is written."""
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ProtocolError(path, ["file not found"]) from None
    except IsADirectoryError:
        raise ProtocolError(path, ["is a directory, not a protocol file"]) from None
    except UnicodeDecodeError as exc:
        raise ProtocolError(
            path, [f"not a text file in UTF-8 (byte {exc.start}): is it a protocol file?"]
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise ProtocolError(path, [f"not valid TOML: {exc}"]) from None
    except RecursionError:
        raise ProtocolError(path, ["nested too deeply to be a protocol file"]) from None
    _register_declared(path, raw)
    try:
        spec = ProtocolSpec.model_validate(raw)
    except RecursionError:
        raise ProtocolError(path, ["nested too deeply to be a protocol file"]) from None
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            msg = err["msg"].removeprefix("Value error, ")
            if err["type"] == "extra_forbidden":
                msg = "unknown key (check its spelling)"
            problems.append(f"{_format_location(err['loc'])}: {msg}")
        raise ProtocolError(path, problems) from None
    problems = consent_protocol.check(spec.consent, path) + edit_checks.problems(spec)
    if problems := problems + tags.problems(spec):
        raise ProtocolError(path, problems)
    return spec


def _register_declared(path: Path, raw: dict) -> None:
    try:
        catalogue.declare(raw.get("instruments", []))
    except ValidationError as exc:
        raise ProtocolError(
            path,
            [
                f"instruments.{_format_location(e['loc'])}: "
                f"{e['msg'].removeprefix('Value error, ')}"
                for e in exc.errors()
            ],
        ) from None
    except (ValueError, TypeError, AttributeError) as exc:
        raise ProtocolError(path, [f"instruments: {exc}"]) from None


def shifted(spec: ProtocolSpec, days: int) -> ProtocolSpec:
    """The same protocol with every calendar date moved by ``days`` (for the demo)."""
    if not days:
        return spec
    delta = timedelta(days=days)

    def move(d: date | None) -> date | None:
        return d + delta if d else d

    trial = spec.trial.model_copy(
        update={
            "recruitment_start": move(spec.trial.recruitment_start),
            "recruitment_end": move(spec.trial.recruitment_end),
            "retention_until": move(spec.trial.retention_until),
        }
    )
    clusters = [c.model_copy(update={"crossover": move(c.crossover)}) for c in spec.clusters]
    consent = consent_protocol.shifted(spec.consent, days)
    return spec.model_copy(update={"trial": trial, "clusters": clusters, "consent": consent})


class LoadReport:
    def __init__(self) -> None:
        self.created: list[str] = []
        self.updated: list[str] = []
        self.unchanged = 0

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated)

    def __str__(self) -> str:
        return (
            f"{len(self.created)} created, {len(self.updated)} updated, {self.unchanged} unchanged"
        )


def _upsert(model, report: LoadReport, reason: str, lookup: dict, values: dict):
    """Create or update one row, saving only when a value differs."""
    obj = model.objects.filter(**lookup).first()
    if obj is None:
        obj = model.objects.create(**lookup, **values)
        report.created.append(f"{model.__name__} {obj}")
        return obj
    changed = [k for k, v in values.items() if getattr(obj, k) != v]
    if not changed:
        report.unchanged += 1
        return obj
    for k in changed:
        setattr(obj, k, values[k])
    obj._change_reason = reason
    obj.save()
    report.updated.append(f"{model.__name__} {obj}: {', '.join(changed)}")
    return obj


def load_protocol(
    path: Path | str, shift_days: int = 0, *, amendment: str = "", loaded_by=None
) -> tuple[object, LoadReport]:
    """Create or update the trial described by ``path``; one transaction. A changed file
    becomes a new protocol version and re-plans enrolled participants
    (:mod:`enrolment.amendments`)."""
    from .amendments import load_versioned

    result = load_versioned(path, shift_days, amendment=amendment, loaded_by=loaded_by)
    return result.trial, result.report


@transaction.atomic
def write_trial(path: Path, spec: ProtocolSpec, reason: str = "") -> tuple[object, LoadReport]:
    """Write the trial rows of a validated ``spec``, saving only what changed."""
    from .models import (
        Arm,
        Clinic,
        Cluster,
        DeviationType,
        EligibilityCriterion,
        SmsSchedule,
        Timepoint,
        Trial,
    )

    report = LoadReport()
    reason = reason or f"protocol file {path.name}"
    t = spec.trial
    trial = _upsert(
        Trial,
        report,
        reason,
        {"code": t.code},
        {
            "study_id_prefix": t.study_id_prefix,
            "name": t.name,
            "registration": t.registration,
            "design": t.design,
            "time_zone": t.time_zone,
            "languages": t.languages,
            "default_language": t.default_language,
            "eq5d_value_set": t.eq5d_value_set,
            "recruitment_start": t.recruitment_start,
            "recruitment_end": t.recruitment_end,
            "target_sample_size": t.target_sample_size,
            "recruitment_target_per_cluster_month": t.recruitment_target_per_cluster_month,
            "recruitment_ceiling_per_cluster_month": t.recruitment_ceiling_per_cluster_month,
            "washout_days": t.washout_days,
            "consent_form_version": t.consent_form_version,
            "retention_until": t.retention_until,
            "blinded": t.blinded,
            "monitor_sees_personal_details": t.monitor_sees_personal_details,
            "two_factor_required": t.two_factor_required,
            "query_digest": t.query_digest,
            "edit_checks": edit_checks.stored(spec),
            "contact": spec.contact.stored(),
            "randomisation": spec.randomisation.model_dump() if spec.randomisation else {},
            "prices": spec.prices.model_dump() if spec.prices else {},
            "sample_size": spec.sample_size.model_dump() if spec.sample_size else {},
            "paper": spec.paper.model_dump() if spec.paper else {},
            "instrument_tags": tags.stored(spec),
            "enrolment_fields": spec.enrolment.model_dump(),
            "instrument_versions": dict(spec.instrument_versions),
            "imports": [i.model_dump() for i in spec.imports],
            "protocol_file": path.name,
            "protocol_sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
        },
    )
    for arm in spec.arms:
        _upsert(Arm, report, reason, {"trial": trial, "code": arm.code}, {"label": arm.label})
    _remove_missing(Arm.objects.filter(trial=trial), {a.code for a in spec.arms}, path, "arms")

    # Allocation orders may be permuted by an edit: clear them first so that the unique
    # constraint on (trial, allocation_order) never trips half-way.
    orders = {c.code: c.allocation_order for c in spec.clusters}
    for cluster in Cluster.objects.filter(trial=trial):
        if cluster.code in orders and cluster.allocation_order != orders[cluster.code]:
            Cluster.objects.filter(pk=cluster.pk).update(allocation_order=10_000 + cluster.pk)
    for c in spec.clusters:
        cluster = _upsert(
            Cluster,
            report,
            reason,
            {"trial": trial, "code": c.code},
            {
                "name": c.name,
                "allocation_order": c.allocation_order,
                "crossover": c.crossover,
                "language": c.language or "",
            },
        )
        for clinic in c.clinics:
            _upsert(
                Clinic,
                report,
                reason,
                {"cluster": cluster, "code": clinic.code},
                {"name": clinic.name, "planned_physiotherapists": clinic.physiotherapists},
            )
        _remove_missing(
            Clinic.objects.filter(cluster=cluster),
            {x.code for x in c.clinics},
            path,
            f"clusters {c.code} clinics",
        )
    _remove_missing(
        Cluster.objects.filter(trial=trial), {c.code for c in spec.clusters}, path, "clusters"
    )
    for order, tp in enumerate(spec.timepoints, start=1):
        _upsert(
            Timepoint,
            report,
            reason,
            {"trial": trial, "code": tp.code},
            {
                "label": tp.label
                if isinstance(tp.label, str)
                else tp.label.get("en") or tp.label[spec.trial.default_language],
                "labels": tp.label if isinstance(tp.label, dict) else {},
                "order": order,
                "respondent": tp.respondent,
                "anchor": tp.anchor,
                "offset": tp.offset,
                "unit": tp.unit,
                "window_before_days": tp.window_before_days,
                "window_after_days": tp.window_after_days,
                "workshop_day": tp.workshop_day,
                "at": tp.at,
                "instruments": tp.instruments,
                "tags": tp.tags,
            },
        )
    _remove_missing(
        # A timepoint an amendment dropped stays for the contacts that refer to it.
        Timepoint.objects.filter(trial=trial, removed_in__isnull=True),
        {t.code for t in spec.timepoints},
        path,
        "timepoints",
    )
    for order, crit in enumerate(spec.eligibility, start=1):
        _upsert(
            EligibilityCriterion,
            report,
            reason,
            {"trial": trial, "code": crit.code},
            {"kind": crit.kind, "text": crit.text, "rule": crit.rule, "order": order},
        )
    _remove_missing(
        EligibilityCriterion.objects.filter(trial=trial),
        {c.code for c in spec.eligibility},
        path,
        "eligibility",
    )
    for order, dt in enumerate(spec.deviation_types, start=1):
        _upsert(
            DeviationType,
            report,
            reason,
            {"trial": trial, "code": dt.code},
            {"label": dt.label, "per_protocol": dt.per_protocol, "order": order},
        )
    _remove_missing(
        DeviationType.objects.filter(trial=trial),
        {d.code for d in spec.deviation_types},
        path,
        "deviation_types",
    )
    if spec.sms:
        _upsert(
            SmsSchedule,
            report,
            reason,
            {"trial": trial},
            {
                "weeks": spec.sms.weeks,
                "weekday": WEEKDAYS.index(spec.sms.weekday),
                "send_time": spec.sms.time,
                "reminder_after_hours": spec.sms.reminder_after_hours,
                "questions": [q.model_dump() for q in spec.sms.questions],
            },
        )
    else:
        SmsSchedule.objects.filter(trial=trial).delete()
    consent_protocol.load(trial, spec.consent, path, report, reason)
    return trial, report


def _remove_missing(queryset, keep: set[str], path: Path, where: str) -> None:
    """Delete rows the file no longer lists; refuse where data already hangs on them."""
    from django.db.models import ProtectedError

    for obj in queryset.exclude(code__in=keep):
        try:
            with transaction.atomic():
                obj.delete()
        except ProtectedError:
            raise ProtocolError(
                path, [f"{where}: {obj.code!r} is missing from the file but has data; keep it"]
            ) from None
