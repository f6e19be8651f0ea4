"""Synthetic data for the demo trial: staff for every role and ~60 participants spread
over the dog-leg schedule. Deterministic (seeded) so every demo looks the same."""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

import time_machine
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import transaction

from . import allocation, enrol_fields
from .actions.enrol import enrol_participant, record_decline, record_screening
from .deviations import record_deviation
from .models import (
    Deviation,
    DeviationType,
    EligibilityCriterion,
    Participant,
    Physiotherapist,
    ScreeningRecord,
    Trial,
    TrialRole,
)
from .protocol.reading import read_protocol
from .protocol.writing import load_protocol

DEMO_PASSWORD = "demo-pass-2017"  # noqa: S105 - printed for the demo's logins
PROTOCOL = Path(settings.BASE_DIR) / "protocols" / "betterback.toml"


@cache
def demo_password_hash() -> str:
    """The demo password hashed once a process: every demo trial's staff share it, and
    a hash costs a million PBKDF2 rounds (2.4% of the demo's build)."""
    return make_password(DEMO_PASSWORD)


FIRST_NAMES = [
    "Anna",
    "Erik",
    "Maria",
    "Lars",
    "Karin",
    "Johan",
    "Eva",
    "Anders",
    "Sara",
    "Per",
    "Lena",
    "Nils",
    "Ingrid",
    "Olof",
    "Emma",
    "Karl",
    "Elin",
    "Gustav",
]
LAST_NAMES = [
    "Andersson",
    "Johansson",
    "Karlsson",
    "Nilsson",
    "Eriksson",
    "Larsson",
    "Olsson",
    "Persson",
    "Svensson",
    "Gustafsson",
    "Lindqvist",
    "Berg",
]


SAFE_PROTOCOL = Path(settings.BASE_DIR) / "protocols" / "safe.toml"


def demo_shift_days(today: date, protocol: Path = PROTOCOL, ended_days_ago: int = 365) -> int:
    """Move the real calendar so that recruitment ended a year ago: the demo then has
    3 and 6 months complete, the last 12-month questionnaires under way (enough for every
    cell of the analysis plan's models) and SAFE's longer follow-up still running."""
    spec = read_protocol(protocol)
    return (today - timedelta(days=ended_days_ago) - spec.trial.recruitment_end).days


def _luhn_digit(digits: str) -> int:
    total = 0
    for i, ch in enumerate(digits):
        n = int(ch) * (2 if i % 2 == 0 else 1)
        total += n - 9 if n > 9 else n
    return (10 - total % 10) % 10


def synthetic_personnummer(rng: random.Random, born: date) -> str:
    """A well-formed but made-up Swedish personal identity number (YYYYMMDD-NNNC)."""
    serial = f"{rng.randint(0, 999):03d}"
    core = born.strftime("%y%m%d") + serial
    return f"{born:%Y%m%d}-{serial}{_luhn_digit(core)}"


STAFF = [
    ("coordinator", TrialRole.COORDINATOR),
    ("datamanager", TrialRole.DATA_MANAGER),
    ("statistician", TrialRole.STATISTICIAN),
    ("monitor", TrialRole.MONITOR),
    ("investigator", TrialRole.INVESTIGATOR),
]


def _user(username: str, password: str, **extra):
    User = get_user_model()
    obj, created = User.objects.get_or_create(username=username, defaults=extra)
    if created:
        obj.password = password
        obj.save(update_fields=["password"])
    return obj


@transaction.atomic
def create_staff(trial: Trial) -> dict[str, str]:
    """One login per role (username -> what it is, as the site names it) plus every
    planned physiotherapist; the same coordinator, data manager and statistician serve
    every demo trial."""
    password = demo_password_hash()  # 112 physiotherapists follow
    logins = {}
    admin = _user("admin", password, is_staff=True, is_superuser=True, email="admin@example.com")
    logins[admin.username] = "administrator (superuser)"
    for username, role in STAFF:
        user = _user(username, password, email=f"{username}@example.org")
        TrialRole.objects.get_or_create(user=user, trial=trial, role=role)
        logins[username] = str(TrialRole(role=role).get_role_display()).lower()
    for cluster in trial.clusters.all():
        for clinic in cluster.clinics.all():
            for n in range(1, clinic.planned_physiotherapists + 1):
                code = f"{trial.study_id_prefix}-{cluster.code}-{clinic.code}-PT{n:02d}"
                username = f"pt-{clinic.code.lower()}-{n:02d}"
                Physiotherapist.objects.get_or_create(
                    study_code=code,
                    # An address: the physiotherapists' own questionnaires go by email.
                    defaults={
                        "user": _user(username, password, email=f"{username}@example.org"),
                        "clinic": clinic,
                    },
                )
    first = Physiotherapist.objects.filter(clinic__cluster__trial=trial).order_by("pk").first()
    if first is not None:
        logins[first.user.username] = f"physiotherapist at {first.clinic.name}"
    return logins


def _contact_details(
    rng: random.Random, trial: Trial, born: date, i: int, language: str = ""
) -> dict:
    """Made-up but well-formed identifiers for the trial's country (its time zone)."""
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    details = {
        "full_name": f"{first} {last}",
        "national_id": "",
        "date_of_birth": born,
        "email": f"{first.lower()}.{last.lower()}.{trial.code}{i}@example.com",
        "preferred_language": rng.choice([language or trial.default_language] * 3 + ["en"]),
    }
    zone = trial.time_zone
    if zone == "Europe/Stockholm":
        details["national_id"] = synthetic_personnummer(rng, born)
        details["mobile"] = f"+4670{rng.randint(1000000, 9999999)}"
    elif zone == "Europe/Copenhagen":
        # Danish mobile numbers begin with 2, 3, 4, 5, 6, 7 or 9 (8 digits).
        details["mobile"] = f"+452{rng.randint(0, 9_999_999):07d}"
    else:
        details["mobile"] = f"+1617{rng.randint(2_000_000, 9_999_999)}"
    return details


def screening_answers(trial: Trial, eligible: bool, rng: random.Random) -> tuple[dict, dict]:
    """Yes/no answers and screening scores that meet every criterion of the trial's
    protocol, or (``eligible`` False) with one exclusion that applies."""
    answers, scores = {}, {}
    criteria = list(EligibilityCriterion.objects.filter(trial=trial))
    for c in criteria:
        rule = c.rule or {}
        if "instrument" in rule:
            low, high = rule.get("min", 0), rule.get("max", rule.get("min", 0) + 10)
            scores[f"{rule['instrument']}_{rule['score']}"] = rng.randint(int(low), int(high))
        elif not rule:
            answers[c.code] = c.kind == EligibilityCriterion.INCLUSION
    exclusions = [c for c in criteria if not c.rule and c.kind != EligibilityCriterion.INCLUSION]
    if not eligible and exclusions:
        answers[rng.choice(exclusions).code] = True
    return answers, scores


def _screen(trial, clinic, day, user, age, rng, eligible=True) -> ScreeningRecord:
    answers, scores = screening_answers(trial, eligible, rng)
    return record_screening(
        trial=trial, clinic=clinic, screened_on=day, user=user, age=age, answers=answers,
        scores=scores,
    )  # fmt: skip


@transaction.atomic
def enrol_participants(trial: Trial, count: int, seed: int = 2017) -> int:
    """Enrol ``count`` synthetic participants spread evenly over the recruitment period,
    through the real enrolment action (allocation, consent, personal details)."""
    if Participant.objects.filter(trial=trial).exists():
        return 0
    rng = random.Random(seed)
    clinics = [c for cl in trial.clusters.all() for c in cl.clinics.all()]
    start, end = trial.recruitment_start, trial.recruitment_end
    span = (end - start).days
    physios = {c.pk: list(c.physiotherapists.select_related("user")) for c in clinics}
    coordinator = get_user_model().objects.get(username="coordinator")
    ages = [18, 65]
    for c in EligibilityCriterion.objects.filter(trial=trial, rule__has_key="age_min"):
        ages = [max(ages[0], c.rule["age_min"]), min(ages[1], c.rule.get("age_max", 200))]
    for i in range(count):
        enrolled_on = start + timedelta(days=round(span * (i + rng.random()) / count))
        clinic = rng.choice(clinics)
        age = rng.randint(*ages)
        born = enrolled_on - timedelta(days=round(365.25 * age) + rng.randint(1, 360))
        staff = physios[clinic.pk]
        physio = rng.choice(staff).user if staff else coordinator
        # The screening log fills as at a real clinic: a few not eligible, a few decline.
        if i % 6 == 5:
            _screen(trial, clinic, enrolled_on, physio, age, rng, eligible=False)
        if i % 9 == 8:
            declined = _screen(trial, clinic, enrolled_on, physio, age, rng)
            record_decline(declined, "demo: no time for the questionnaires")
        screening = _screen(trial, clinic, enrolled_on, physio, age, rng)
        # Enrolled that morning, as the audit trail then reads, not when the demo was built.
        morning = datetime.combine(enrolled_on, time(9), tzinfo=ZoneInfo(trial.time_zone))
        with time_machine.travel(morning, tick=False):
            _enrol_one(trial, clinic, enrolled_on, physio, screening, rng, born, i)
    return count


def _enrol_one(trial, clinic, enrolled_on, physio, screening, rng, born, i) -> None:
    enrol_participant(
        screening=screening,
        clinic=clinic,
        enrolled_on=enrolled_on,
        user=physio,
        consent={
            "consented_on": enrolled_on,
            "form_version": trial.consent_form_version or "1.0",
            "taken_by": physio,
        },
        personal=_contact_details(rng, trial, born, i, clinic.cluster.language),
        **_enrolment_fields(trial, clinic, enrolled_on, rng),
    )


def _enrolment_fields(trial: Trial, clinic, enrolled_on: date, rng) -> dict:
    """Sex and first-contact clinician where the protocol's [enrolment] asks them."""
    out = {}
    if enrol_fields.asks_sex(trial):
        out["sex"] = rng.choice(enrol_fields.SEX_CODES)
    if trial.is_cluster_design:
        condition = allocation.cluster_condition(clinic.cluster.crossover, enrolled_on)
        if enrol_fields.asks_first_contact(trial, condition):
            out["first_contact_clinician"] = rng.choice(enrol_fields.CLINICIAN_CODES)
    return out


@transaction.atomic
def record_demo_deviations(trial: Trial, today: date, every: int = 15) -> int:
    """A few protocol deviations (one of each per-protocol rule, in turn) so that the
    deviation log, monitoring and ``per_protocol`` have something to show."""
    if Deviation.objects.filter(participant__trial=trial).exists():
        return 0
    by_rule = {}
    for dtype in DeviationType.objects.filter(trial=trial):
        by_rule.setdefault(dtype.per_protocol, dtype)
    kinds = [
        by_rule[r]
        for r in (DeviationType.EXCLUDED, DeviationType.KEPT, DeviationType.JUDGED)
        if r in by_rule
    ]
    coordinator = get_user_model().objects.get(username="coordinator")
    participants = list(Participant.objects.filter(trial=trial).order_by("enrolled_on", "id"))
    chosen = participants[every - 1 :: every]
    for i, participant in enumerate(chosen if kinds else []):
        dtype = kinds[i % len(kinds)]
        record_deviation(
            participant,
            user=coordinator,
            type=dtype,
            occurred_on=participant.enrolled_on,
            description="Demo deviation (synthetic).",
            excludes=False if dtype.per_protocol == DeviationType.JUDGED else None,
            today=today,
        )
    return len(chosen) if kinds else 0


def without_second_factor(trial: Trial) -> Trial:
    """The demo's logins work with the printed password alone: its trials do not ask
    for a second factor (the protocol files do; see the README)."""
    Trial.objects.filter(pk=trial.pk).update(two_factor_required=False)
    trial.two_factor_required = False
    return trial


def load_trial(
    protocol: Path, today: date, participants: int, seed: int, ended_days_ago: int = 365
) -> Trial:
    """A seed trial moved in time so that its recruitment ended a month ago, with the
    demo's staff and ``participants`` enrolled (once: a second call adds nobody)."""
    from . import randomisation_store

    shift = demo_shift_days(today, protocol, ended_days_ago)
    trial = Trial.objects.filter(code=read_protocol(protocol).trial.code).first()
    # A second build must not load the shipped file over an amendment made since.
    if trial is None or not trial.protocol_versions.filter(number__gt=1).exists():
        trial, _ = load_protocol(protocol, shift_days=shift)
    without_second_factor(trial)
    create_staff(trial)
    coordinator = get_user_model().objects.get(username="coordinator")
    if trial.randomisation and not trial.randomisation_lists.exists():
        randomisation_store.generate(trial, coordinator, seed=seed)
    enrol_participants(trial, participants, seed=seed)
    return trial


def build_demo(today: date, participants: int = 60) -> tuple[Trial, dict[str, str]]:
    trial, _ = load_protocol(PROTOCOL, shift_days=demo_shift_days(today))
    without_second_factor(trial)
    logins = create_staff(trial)
    enrol_participants(trial, participants)
    record_demo_deviations(trial, today)
    return trial, logins


def build_safe_demo(today: date, participants: int = 12, seed: int = 2021) -> Trial:
    """SAFE beside BetterBack: individually randomised, with weekly SMS tracking. Its
    recruitment ended seven months ago: a year of weekly SMS is still running for some."""
    return load_trial(SAFE_PROTOCOL, today, participants, seed, ended_days_ago=210)
