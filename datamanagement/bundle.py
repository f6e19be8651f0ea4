"""The locked dataset: one zip of named parts with a SHA-256 manifest.

Parts come from a small registry so that other parts of data management (the query log)
add theirs without this module knowing them::

    from datamanagement.bundle import register_part
    register_part("query_log", lambda trial: ("query_log.csv", csv_bytes))

A part is ``fn(trial) -> (file name, bytes)`` or a list of such pairs.
"""

from __future__ import annotations

import csv
import hashlib
import io
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.utils import timezone, translation

Part = Callable[[object], "tuple[str, bytes] | list[tuple[str, bytes]]"]

_parts: dict[str, Part] = {}

MANIFEST = "MANIFEST.sha256"


def register_part(name: str, fn: Part) -> Part:
    """Add (or replace) the part called ``name``."""
    _parts[name] = fn
    return fn


def parts() -> dict[str, Part]:
    return dict(_parts)


def _files(result) -> list[tuple[str, bytes]]:
    return result if isinstance(result, list) else [result]


def build_zip(trial) -> tuple[bytes, dict[str, str]]:
    """(zip bytes, file name -> SHA-256). The manifest is inside the zip, in the format
    ``sha256sum -c`` reads."""
    files: dict[str, bytes] = {}
    for name, fn in _parts.items():
        for file_name, data in _files(fn(trial)):
            if file_name in files or file_name == MANIFEST:
                raise ValueError(f"part {name}: file name {file_name} is taken")
            files[file_name] = data
    manifest = {n: hashlib.sha256(d).hexdigest() for n, d in sorted(files.items())}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for file_name in sorted(files):
            zf.writestr(file_name, files[file_name])
        zf.writestr(MANIFEST, "".join(f"{h}  {n}\n" for n, h in manifest.items()))
    return buffer.getvalue(), manifest


def bundles_dir() -> Path:
    return Path(settings.VAR_DIR) / "locked-datasets"


def store(lock, user=None):
    """Build the bundle of ``lock``'s trial and keep it (file and record)."""
    from .locks.models import LockedDataset

    data, manifest = build_zip(lock.trial)
    now = timezone.now()
    name = f"{lock.trial.code}_locked_{now.strftime('%Y%m%dT%H%M%S')}_{lock.pk}.zip"
    folder = bundles_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(data)
    return LockedDataset.objects.create(
        lock=lock,
        trial=lock.trial,
        path=str(path),
        file_name=name,
        sha256=hashlib.sha256(data).hexdigest(),
        size=len(data),
        manifest=manifest,
        created_at=now,
        created_by=user if getattr(user, "is_authenticated", False) else None,
    )


# --- the built-in parts: every export, and the audit trail --------------------------------


def exports_part(trial) -> list[tuple[str, bytes]]:
    """The site's exports in every format, shape and level, each with its codebook;
    blinded where the trial is."""
    from analysis import exports

    out = []
    with tempfile.TemporaryDirectory() as tmp:
        for shape in exports.SHAPES:
            levels = ("score",) if shape == "analysis" else exports.LEVELS
            for level in levels:
                for fmt in exports.FORMATS:
                    stem = f"{trial.code}_{shape}" + ("" if shape == "analysis" else f"_{level}")
                    path = Path(tmp) / fmt / f"{stem}.{fmt}"
                    exports.write_export(trial, path, fmt, shape, level, trial.blinded,
                                         user_label="database lock")
        for path in sorted(Path(tmp).rglob("*")):
            if path.is_file():
                out.append((f"exports/{path.relative_to(tmp).as_posix()}", path.read_bytes()))
    return out


AUDIT_COLUMNS = ["study_id", "when_utc", "who", "record", "action", "reason", "field", "old",
                 "new"]


# Values a blinded trial's bundle leaves out: the allocation and clinical free text.
BLINDED_FIELDS = {"condition", "withdrawal_reason", "late_enrolment_reason", "description"}


def audit_trail_part(trial) -> tuple[str, bytes]:
    """Every audited change of every participant, study IDs only: changes to personal
    details are listed without their values (and, blinded, without the allocation and
    free text)."""
    from enrolment.audit import participant_history
    from enrolment.models import Participant

    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(AUDIT_COLUMNS)
    for participant in Participant.objects.filter(trial=trial).order_by("study_id"):
        for e in reversed(participant_history(participant)):
            personal = e.what == "Personal details"
            head = [participant.study_id, e.when.isoformat(), e.who, e.what, e.action, e.reason]
            if not e.changes or personal:
                writer.writerow([*head, "", "", ""])
                continue
            for field, old, new in e.changes:
                if trial.blinded and field in BLINDED_FIELDS:
                    old = new = "(blinded)" if old is not None or new is not None else None
                writer.writerow([*head, field, "" if old is None else old,
                                 "" if new is None else new])
    return "audit_trail.csv", out.getvalue().encode()


LOCK_COLUMNS = ["level", "scope", "reason", "locked_by", "locked_at_utc", "unlocked_by",
                "unlocked_at_utc", "unlock_reason"]


def locks_part(trial) -> tuple[str, bytes]:
    """Every lock of the trial, standing or lifted, with who, when and why."""
    from .locks.models import Lock

    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(LOCK_COLUMNS)
    rows = Lock.objects.filter(trial=trial).select_related(
        "participant", "timepoint", "response__timepoint", "locked_by", "unlocked_by", "trial"
    ).order_by("locked_at", "id")
    for lk in rows:
        with translation.override("en"):  # the locked dataset's words, whoever locked it
            scope = lk.scope
        writer.writerow([
            lk.level, scope, lk.reason, lk.locked_by or "", lk.locked_at.isoformat(),
            lk.unlocked_by or "", lk.unlocked_at.isoformat() if lk.unlocked_at else "",
            lk.unlock_reason,
        ])
    return "locks.csv", out.getvalue().encode()


register_part("exports", exports_part)
register_part("locks", locks_part)
register_part("audit_trail", audit_trail_part)
