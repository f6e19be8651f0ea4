"""What changed between two versions of a protocol file, section by section.

Plain functions of the parsed protocols (``ProtocolSpec.model_dump(mode="json")``): no
database. The diff is generic over sections and keys, so a section added to the file
format later (checks, consent documents, ...) is diffed without code here. Lists of
tables with a ``code`` (timepoints, clusters, clinics, eligibility, SMS questions) are
compared entry by entry by their code; any other value is compared as a whole.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

ADDED, REMOVED, CHANGED = "added", "removed", "changed"


@dataclass(frozen=True)
class Change:
    section: str  # "timepoints", "trial", "sms", "instrument definitions", ...
    key: str  # the entry's code in a coded list ("6m", "C"); "" for the section itself
    change: str  # ADDED, REMOVED or CHANGED
    field: str = ""  # dotted path inside the entry ("window_after_days", "clinics.MOT.name")
    old: Any = None
    new: Any = None

    @property
    def where(self) -> str:
        return " ".join(p for p in (self.section, self.key) if p)

    def text(self) -> str:
        if self.change == ADDED and not self.field:
            return f"{self.where}: added {_brief(self.new)}".rstrip()
        if self.change == REMOVED and not self.field:
            return f"{self.where}: removed"
        if isinstance(self.old, list) and isinstance(self.new, list):
            plus = [x for x in self.new if x not in self.old]
            minus = [x for x in self.old if x not in self.new]
            if plus or minus:
                parts = [f"+{_show(x)}" for x in plus] + [f"-{_show(x)}" for x in minus]
                return f"{self.where}: {self.field} {' '.join(parts)}"
        return f"{self.where}: {self.field} {_show(self.old)} -> {_show(self.new)}"

    def as_dict(self) -> dict:
        return {**asdict(self), "text": self.text()}


def diff(old: dict, new: dict) -> list[Change]:
    """Every change from ``old`` to ``new`` (two dumped protocols), in the file's order."""
    changes: list[Change] = []
    for section in _ordered_keys(old, new):
        a, b = old.get(section), new.get(section)
        if a == b:
            continue
        if a in (None, [], {}):
            changes.append(Change(section, "", ADDED, new=b))
        elif b in (None, [], {}):
            changes.append(Change(section, "", REMOVED, old=a))
        elif _coded(a) and _coded(b):
            changes.extend(_diff_entries(section, a, b))
        else:
            changes.extend(_diff_fields(section, "", a, b))
    return changes


def _diff_entries(section: str, a: list[dict], b: list[dict]) -> list[Change]:
    before, after = _by_code(a), _by_code(b)
    out = []
    for code in _ordered_keys(before, after):
        if code not in before:
            out.append(Change(section, code, ADDED, new=after[code]))
        elif code not in after:
            out.append(Change(section, code, REMOVED, old=before[code]))
        else:
            out.extend(_diff_fields(section, code, before[code], after[code]))
    return out


def _diff_fields(section: str, key: str, a: Any, b: Any) -> list[Change]:
    flat_a, flat_b = flatten(a), flatten(b)
    out = []
    for path in _ordered_keys(flat_a, flat_b):
        va, vb = flat_a.get(path), flat_b.get(path)
        if va != vb:
            # A field appearing or going reads as "(none) -> value" and back.
            out.append(Change(section, key, CHANGED, path or section, va, vb))
    return out


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """{dotted path: leaf}: dicts by key, lists of coded tables by code, anything else a leaf."""
    if isinstance(value, dict) and value and not _is_labels(value):
        out = {}
        for k, v in value.items():
            out.update(flatten(v, f"{prefix}.{k}" if prefix else str(k)))
        return out
    if _coded(value):
        out = {}
        for code, entry in _by_code(value).items():
            out.update(flatten(entry, f"{prefix}.{code}" if prefix else str(code)))
        return out
    return {prefix: value}


def _is_labels(value: dict) -> bool:
    # A label or wording per language reads better as one value than as three fields.
    return all(len(k) == 2 and isinstance(v, str) for k, v in value.items())


def _coded(value: Any) -> bool:
    return (
        isinstance(value, list)
        and bool(value)
        and all(isinstance(x, dict) and "code" in x for x in value)
    )


def _by_code(entries: list[dict]) -> dict[str, dict]:
    return {str(e["code"]): {k: v for k, v in e.items() if k != "code"} for e in entries}


def _ordered_keys(a: dict, b: dict) -> list:
    # The new file's order first, then what only the old one had.
    return list(b) + [k for k in a if k not in b]


def _show(value: Any) -> str:
    if value is None:
        return "(none)"
    if isinstance(value, list):
        return "[" + ", ".join(_show(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_show(v)}" for k, v in value.items()) + "}"
    return str(value)


def _brief(entry: Any) -> str:
    if not isinstance(entry, dict):
        return _show(entry)
    scalars = [f"{k}={_show(v)}" for k, v in entry.items() if not isinstance(v, dict | list)]
    lists = [f"{k}={_show(v)}" for k, v in entry.items() if isinstance(v, list) and len(v) < 10]
    text = ", ".join(scalars + lists)
    return f"({text[:300]})" if text else ""
