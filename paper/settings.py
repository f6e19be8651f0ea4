"""A trial's paper settings, from the ``[paper]`` section of its protocol file (stored on
``Trial.paper`` by the protocol loader)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PaperSettings:
    return_address: tuple[str, ...] = ()
    # True where the protocol says scan + verification replaces double data entry: the
    # verified entry is then the final response instead of the first of two entries.
    scan_replaces_double_entry: bool = False


def paper_settings(trial) -> PaperSettings:
    raw = getattr(trial, "paper", None) or {}
    return PaperSettings(
        return_address=tuple(raw.get("return_address", ())),
        scan_replaces_double_entry=bool(raw.get("scan_replaces_double_entry", False)),
    )
