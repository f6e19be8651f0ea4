"""CONSORT counts from the screening log: every screened patient lands in exactly one box."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field


@dataclass
class ScreeningFlow:
    assessed: int = 0
    excluded: int = 0  # not eligible
    excluded_by_reason: Counter = field(default_factory=Counter)  # a patient may have several
    declined: int = 0
    awaiting: int = 0  # eligible, not yet enrolled or declined
    enrolled: int = 0
    allocated: Counter = field(default_factory=Counter)  # by condition

    @property
    def adds_up(self) -> bool:
        boxes = self.excluded + self.declined + self.awaiting + self.enrolled
        return boxes == self.assessed and sum(self.allocated.values()) == self.enrolled


def screening_flow(rows: Iterable[Mapping]) -> ScreeningFlow:
    """``rows``: dicts with ``outcome``, ``unmet_criteria`` and (when enrolled) ``condition``."""
    flow = ScreeningFlow()
    for row in rows:
        flow.assessed += 1
        outcome = row["outcome"]
        if outcome == "ineligible":
            flow.excluded += 1
            flow.excluded_by_reason.update(row.get("unmet_criteria") or ["unspecified"])
        elif outcome == "declined":
            flow.declined += 1
        elif outcome == "eligible":
            flow.awaiting += 1
        elif outcome == "enrolled":
            flow.enrolled += 1
            flow.allocated[row.get("condition") or "unknown"] += 1
        else:
            raise ValueError(f"unknown screening outcome {outcome!r}")
    return flow
