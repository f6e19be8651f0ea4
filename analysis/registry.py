"""Registry extracts: health care use over 12 months, per participant.

The file (CSV, or Excel .xlsx which needs openpyxl) has one row per participant and the
columns

    study_id or national_id   how the row is matched (national_id through PersonalDetails;
                              the number itself is never stored here)
    lbp_visit_primary_care, multimodal_pain_team, specialist_pain_clinic_referral,
    orthopaedic_or_neurosurgical_visit, spine_surgery, sick_leave_day
                              whole numbers >= 0 (counts; sick-leave benefit days)

These are the item names of the protocol file's ``[prices]``, so a cost is the sum of
quantity times price. Every row is validated; nothing is written unless the whole file is
valid; a new import of a trial replaces the current one (the old one is kept, inactive,
with who replaced it and when). A participant whose consent does not allow registry
linkage (:func:`enrolment.consent.reading.consented_to_effect`) is left out, and the import lists
their study IDs in ``skipped_without_consent``.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from django.db import transaction
from django.utils import timezone

from enrolment.consent.reading import REGISTRY_LINKAGE, without_consent_to
from enrolment.models import Participant, PersonalDetails, Trial

from .models import RegistryImport, RegistryRecord

ITEMS = [
    "lbp_visit_primary_care",
    "multimodal_pain_team",
    "specialist_pain_clinic_referral",
    "orthopaedic_or_neurosurgical_visit",
    "spine_surgery",
    "sick_leave_day",
]
MAX = {"sick_leave_day": 366}  # over 12 months
SPECIALIST = (
    "multimodal_pain_team",
    "specialist_pain_clinic_referral",
    "orthopaedic_or_neurosurgical_visit",
    "spine_surgery",
)


# Of a wrong file the first errors are enough to see what is wrong with it; the rest
# are counted. (A 37 MB extract in the wrong layout had 1.5 million.)
MAX_ERRORS = 200


class RegistryError(Exception):
    def __init__(self, errors: list[tuple[int, str]], total: int | None = None):
        self.errors = errors[:MAX_ERRORS]
        self.total = max(total or 0, len(errors))
        super().__init__("; ".join(f"line {n}: {msg}" for n, msg in self.errors))


class _Errors(list):
    """(line, reason) pairs, keeping the first MAX_ERRORS and counting all."""

    total = 0

    def append(self, item) -> None:
        self.total += 1
        if len(self) < MAX_ERRORS:
            super().append(item)


@dataclass
class Parsed:
    matched_on: str
    rows: list[tuple[int, dict]]  # (participant id, quantities)


def read_table(name: str, content: bytes) -> pd.DataFrame:
    suffix = Path(name).suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        try:
            import openpyxl  # noqa: F401
        except ImportError as exc:
            raise RegistryError([(0, "Excel files need openpyxl, which is not installed; "
                                     "upload CSV")]) from exc
        try:
            return pd.read_excel(io.BytesIO(content), dtype=str)
        except (zipfile.BadZipFile, ValueError, KeyError, OSError) as exc:
            raise RegistryError([(0, "not an Excel workbook (.xlsx) that can be read: "
                                     f"{type(exc).__name__}; save it again from Excel, "
                                     "or upload CSV")]) from None
    if suffix == ".csv" or not suffix:
        try:
            text = content.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise RegistryError([(0, f"not a text file in UTF-8 (byte {exc.start}): save the "
                                     "extract as CSV UTF-8, or upload .xlsx")]) from None
        head = text.split("\n", 1)[0]
        sep = ";" if head.count(";") > head.count(",") else ","
        try:
            return pd.read_csv(io.StringIO(text), dtype=str, sep=sep, keep_default_na=False)
        except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
            raise RegistryError([(0, f"not a readable CSV table: {exc}")]) from None
    raise RegistryError([(0, f"unsupported file type {suffix!r}: use .csv or .xlsx")])


def validate(trial: Trial, df: pd.DataFrame, progress=None) -> Parsed:
    """Check every row; raise RegistryError listing (line, reason) for the problems (the
    first MAX_ERRORS, with the total). Line numbers are the file's: the header is line 1.
    ``progress(percent)`` is called as the rows are checked."""
    df.columns = [str(c).strip().lower() for c in df.columns]
    keys = [k for k in ("study_id", "national_id") if k in df.columns]
    errors = _Errors()
    if len(keys) != 1:
        errors.append((1, "the header needs exactly one of study_id or national_id"))
    missing = [c for c in ITEMS if c not in df.columns]
    if missing:
        errors.append((1, f"missing columns: {', '.join(missing)}"))
    if errors:
        raise RegistryError(errors)
    key = keys[0]
    if key == "study_id":
        lookup = dict(
            Participant.objects.filter(trial=trial).values_list("study_id", "id")
        )
    else:
        lookup = dict(
            PersonalDetails.objects.filter(participant__trial=trial)
            .exclude(national_id="")
            .values_list("national_id", "participant_id")
        )
    seen: dict[int, int] = {}
    rows = []
    step = max(len(df) // 100, 1000)
    for i, rec in enumerate(df.fillna("").to_dict("records")):
        line = i + 2
        if progress is not None and i % step == 0:
            progress(int(100 * i / len(df)))
        ident = str(rec[key]).strip()
        # never echo a national ID back into an error list that may be shared
        shown = ident if key == "study_id" else "this national_id"
        if not ident:
            errors.append((line, f"{key} is empty"))
            continue
        pid = lookup.get(ident)
        if pid is None:
            errors.append((line, f"{shown} is not a participant of {trial.code}"))
        elif pid in seen:
            errors.append((line, f"{shown} already on line {seen[pid]}"))
        else:
            seen[pid] = line
        values = {}
        for col in ITEMS:
            raw = str(rec[col]).strip()
            try:
                number = float(raw)
                ok = number.is_integer() and 0 <= number <= MAX.get(col, 10000)
            except ValueError:
                ok = False
            if not ok:
                limit = MAX.get(col, 10000)
                errors.append((line, f"{col}: {raw!r} is not a whole number 0-{limit}"))
            else:
                values[col] = int(number)
        if pid is not None and len(values) == len(ITEMS):
            rows.append((pid, values))
    if df.empty:
        errors.append((2, "no data rows"))
    if errors:
        raise RegistryError(list(errors), errors.total)
    return Parsed(key, rows)


def import_file(
    trial: Trial, name: str, content: bytes, user=None, note: str = "", progress=None
) -> RegistryImport:
    """Validate the whole file, then (atomically) replace the current import with it."""
    parsed = validate(trial, read_table(name, content), progress)
    # Matched and valid, but not to be linked: the participant's consent says no.
    refused = without_consent_to(
        trial, REGISTRY_LINKAGE, [pid for pid, _q in parsed.rows]
    )
    parsed.rows = [(pid, q) for pid, q in parsed.rows if pid not in refused]
    skipped = sorted(
        Participant.objects.filter(pk__in=refused).values_list("study_id", flat=True)
    )
    with transaction.atomic():
        new = RegistryImport.objects.create(
            trial=trial,
            uploaded_by=user if user is not None and user.is_authenticated else None,
            file_name=Path(name).name,
            sha256=hashlib.sha256(content).hexdigest(),
            rows=len(parsed.rows),
            matched_on=parsed.matched_on,
            active=False,
            note=note,
            skipped_without_consent=skipped,
        )
        old = list(RegistryImport.objects.select_for_update().filter(trial=trial, active=True))
        for o in old:
            o.active, o.replaced_by, o.replaced_at = False, new, timezone.now()
            o.save(update_fields=["active", "replaced_by", "replaced_at"])
        RegistryRecord.objects.bulk_create(
            [RegistryRecord(registry_import=new, participant_id=pid, **q) for pid, q in parsed.rows]
        )
        new.active = True
        new.save(update_fields=["active"])
    return new


def current_import(trial: Trial) -> RegistryImport | None:
    return RegistryImport.objects.filter(trial=trial, active=True).first()


def prices_of(trial: Trial) -> dict[str, float]:
    return {k: float(v) for k, v in (trial.prices or {}).get("items", {}).items()}


def participant_costs(imp: RegistryImport) -> dict[int, dict]:
    """Participant id -> {"cost": float, "specialist_care": bool} from one import."""
    prices = prices_of(imp.trial)
    missing = [i for i in ITEMS if i not in prices]
    if missing:
        raise ValueError(f"the protocol file's [prices] lacks {', '.join(missing)}")
    out = {}
    for rec in imp.records.values("participant_id", *ITEMS):
        out[rec["participant_id"]] = {
            "cost": sum(rec[i] * prices[i] for i in ITEMS),
            "specialist_care": any(rec[i] > 0 for i in SPECIALIST),
        }
    return out


def utilisation(imp: RegistryImport) -> pd.DataFrame:
    """The CEA utilisation table: study_id, item, quantity (see analysis.plan.cea)."""
    rows = []
    for rec in imp.records.values("participant__study_id", *ITEMS):
        for item in ITEMS:
            rows.append((rec["participant__study_id"], item, rec[item]))
    return pd.DataFrame(rows, columns=["study_id", "item", "quantity"])
