"""Imports declared by the protocol file (``[[imports]]``, enrolment.import_spec): the
registry import's checks, made generic. The columns, their types and limits come from
the trial's declaration, not from code.

A file (CSV or .xlsx) has a ``study_id`` (or ``national_id``, as declared) column, a
``week`` column for per-week imports, and the declared columns. Every row is checked;
each problem is reported with its line (the header is line 1): an unknown study ID, a
value of the wrong type or out of range, a participant (and week) given twice, a
missing column. Nothing is written unless the whole file is valid; a new import of the
same declaration replaces the current one, which is kept inactive with who replaced it
and when. Participants whose consent refuses the declared ``consent`` effect are left
out and listed.

``participant_columns`` gives the analysis dataset its ``<import>_<column>`` columns
(per-week imports: the sum over weeks of each numeric column, and the number of weeks).
"""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path

import pandas as pd
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from enrolment.consent.reading import without_consent_to
from enrolment.models import Participant, PersonalDetails, Trial

from .import_models import DataImport, ImportedRow
from .registry import RegistryError, _Errors, read_table


def declaration(trial: Trial, code: str) -> dict:
    for spec in trial.imports or []:
        if spec["code"] == code:
            return spec
    known = ", ".join(s["code"] for s in trial.imports or []) or "none"
    raise KeyError(f"{trial.code} declares no import {code!r} (declared: {known})")


def _convert(column: dict, raw: str):
    """(value, error) for one cell; an empty optional cell is (None, None)."""
    if raw == "":
        return (None, None) if not column.get("required", True) else (None, _("is empty"))
    kind = column["type"]
    if kind == "date":
        try:
            return date.fromisoformat(raw).isoformat(), None
        except ValueError:
            return None, _("%(raw)r is not a date YYYY-MM-DD") % {"raw": raw}
    if kind == "boolean":
        if raw in ("0", "1"):
            return int(raw), None
        return None, _("%(raw)r is not 0 or 1") % {"raw": raw}
    try:
        number = float(raw.replace(",", ".") if kind == "number" else raw)
    except ValueError:
        number = None
    if number is None or number != number or (kind == "integer" and not number.is_integer()):
        if kind == "integer":
            return None, _("%(raw)r is not a whole number") % {"raw": raw}
        return None, _("%(raw)r is not a number") % {"raw": raw}
    low, high = column.get("min"), column.get("max")
    if (low is not None and number < low) or (high is not None and number > high):
        return None, _("%(raw)r is outside %(low)s..%(high)s") % {
            "raw": raw,
            "low": _fmt(low),
            "high": _fmt(high),
        }
    return (int(number) if kind == "integer" else number), None


def _fmt(limit) -> str:
    if limit is None:
        return ""
    return str(int(limit)) if float(limit).is_integer() else str(limit)


def _lookup(trial: Trial, match: str) -> dict[str, int]:
    if match == "study_id":
        return dict(Participant.objects.filter(trial=trial).values_list("study_id", "id"))
    return dict(
        PersonalDetails.objects.filter(participant__trial=trial)
        .exclude(national_id="")
        .values_list("national_id", "participant_id")
    )


def validate(trial: Trial, spec: dict, df: pd.DataFrame) -> list[tuple]:
    """(participant id, line, week, values) per row; raise RegistryError (the registry
    import's error type) with every (line, reason) found."""
    df.columns = [str(c).strip().lower() for c in df.columns]
    match, weekly = spec.get("match", "study_id"), spec["per"] == "participant_week"
    columns = spec["columns"]
    errors = _Errors()
    needed = [match] + (["week"] if weekly else []) + [c["name"] for c in columns]
    missing = [c for c in needed if c not in df.columns]
    if missing:
        errors.append((1, _("missing columns: %(columns)s") % {"columns": ", ".join(missing)}))
        raise RegistryError(list(errors), errors.total)
    lookup = _lookup(trial, match)
    seen: dict[tuple, int] = {}
    rows = []
    for i, rec in enumerate(df.fillna("").to_dict("records")):
        line = i + 2
        ident = str(rec[match]).strip()
        # never echo a national ID
        shown = ident if match == "study_id" else _("this national_id")
        pid = lookup.get(ident) if ident else None
        if not ident:
            errors.append((line, _("%(column)s is empty") % {"column": match}))
        elif pid is None:
            errors.append(
                (
                    line,
                    _("%(who)s is not a participant of %(trial)s")
                    % {"who": shown, "trial": trial.code},
                )
            )
        week = None
        if weekly:
            raw = str(rec["week"]).strip()
            if raw.isdigit() and 1 <= int(raw) <= spec.get("max_week", 260):
                week = int(raw)
            else:
                errors.append(
                    (
                        line,
                        _("week: %(raw)r is not a week 1-%(last)s")
                        % {"raw": raw, "last": spec.get("max_week", 260)},
                    )
                )
        if pid is not None and (week is not None or not weekly):
            key = (pid, week)
            if key in seen:
                what = (
                    _("%(who)s week %(week)s") % {"who": shown, "week": week} if weekly else shown
                )
                errors.append(
                    (
                        line,
                        _("%(what)s already on line %(line)s") % {"what": what, "line": seen[key]},
                    )
                )
            else:
                seen[key] = line
        values, ok = {}, True
        for column in columns:
            value, problem = _convert(column, str(rec[column["name"]]).strip())
            if problem:
                errors.append((line, f"{column['name']}: {problem}"))
                ok = False
            values[column["name"]] = value
        if ok and pid is not None and (week is not None or not weekly):
            rows.append((pid, line, week, values))
    if df.empty:
        errors.append((2, _("no data rows")))
    if errors:
        raise RegistryError(list(errors), errors.total)
    return rows


def import_file(
    trial: Trial, code: str, name: str, content: bytes, user=None, note: str = ""
) -> DataImport:
    """Validate the whole file against the trial's declaration ``code``, then
    (atomically) make it the current import of that declaration."""
    spec = declaration(trial, code)
    rows = validate(trial, spec, read_table(name, content))
    refused = (
        without_consent_to(trial, spec["consent"], [r[0] for r in rows])
        if spec.get("consent")
        else set()
    )
    rows = [r for r in rows if r[0] not in refused]
    skipped = sorted(Participant.objects.filter(pk__in=refused).values_list("study_id", flat=True))
    with transaction.atomic():
        new = DataImport(
            trial=trial,
            code=code,
            uploaded_by=user if getattr(user, "is_authenticated", False) else None,
            file_name=Path(name).name,
            sha256=hashlib.sha256(content).hexdigest(),
            rows=len(rows),
            spec=spec,
            active=False,
            note=note,
            skipped_without_consent=skipped,
        )
        new._change_reason = f"import of {Path(name).name}"
        new.save()
        for old in DataImport.objects.select_for_update().filter(
            trial=trial, code=code, active=True
        ):
            old.active, old.replaced_by, old.replaced_at = False, new, timezone.now()
            old._change_reason = f"replaced by import {new.pk}"
            old.save()
        ImportedRow.objects.bulk_create(
            [
                ImportedRow(data_import=new, participant_id=pid, line=line, week=week, values=v)
                for pid, line, week, v in rows
            ]
        )
        new.active = True
        new._change_reason = "validated and stored"
        new.save()
    return new


def current(trial: Trial, code: str) -> DataImport | None:
    return DataImport.objects.filter(trial=trial, code=code, active=True).first()


def column_names(spec: dict) -> list[tuple[str, dict | None]]:
    """(analysis column, its declared column or None for the week count), in order."""
    out = []
    weekly = spec["per"] == "participant_week"
    if weekly:
        out.append((f"{spec['code']}_weeks", None))
    for col in spec["columns"]:
        if weekly and col["type"] not in ("integer", "number", "boolean"):
            continue  # dates do not sum
        out.append((f"{spec['code']}_{col['name']}" + ("_total" if weekly else ""), col))
    return out


def participant_columns(trial: Trial) -> dict[int, dict]:
    """Participant id -> {analysis column: value} from the current import of each
    declaration; a participant with no row has no entry (missing in the dataset)."""
    out: dict[int, dict] = {}
    for spec in trial.imports or []:
        imp = current(trial, spec["code"])
        if imp is None:
            continue
        names = column_names(spec)
        for pid, week, values in imp.records.values_list("participant_id", "week", "values"):
            rec = out.setdefault(pid, {})
            for name, col in names:
                if col is None:
                    rec[name] = rec.get(name, 0) + 1
                elif week is None:
                    rec[name] = values.get(col["name"])
                elif values.get(col["name"]) is not None:
                    rec[name] = (rec.get(name) or 0) + values[col["name"]]
    return out


def costs(trial: Trial) -> dict[int, float]:
    """Participant id -> the cost of their imported, priced columns (quantity x the
    protocol's [prices] item named by the column's ``price``)."""
    prices = {k: float(v) for k, v in (trial.prices or {}).get("items", {}).items()}
    out: dict[int, float] = {}
    for pid, rec in participant_columns(trial).items():
        for spec in trial.imports or []:
            for name, col in column_names(spec):
                if col and col.get("price") and rec.get(name) is not None:
                    out[pid] = out.get(pid, 0.0) + rec[name] * prices[col["price"]]
    return out


def utilisation(trial: Trial) -> pd.DataFrame:
    """The cost-effectiveness utilisation table (study_id, item, quantity; see
    analysis.plan.cea) of the imported columns that name a [prices] item."""
    ids = dict(Participant.objects.filter(trial=trial).values_list("id", "study_id"))
    rows = []
    for pid, rec in participant_columns(trial).items():
        for spec in trial.imports or []:
            for name, col in column_names(spec):
                if col and col.get("price") and rec.get(name) is not None:
                    rows.append((ids[pid], col["price"], rec[name]))
    return pd.DataFrame(rows, columns=["study_id", "item", "quantity"])
