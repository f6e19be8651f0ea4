"""Screening against a trial's eligibility criteria: a plain function of the criteria and
the answers, so the rules are testable without a database.

A criterion without a rule is a yes/no question: an inclusion criterion must be met
(answer True), an exclusion criterion must not apply (answer False). Rules check a number:
``{"age_min": 18, "age_max": 65}`` the age, ``{"instrument": "rmdq", "score": "total",
"min": 6}`` a score taken at screening.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Criterion:
    code: str
    kind: str  # "inclusion" or "exclusion"
    text: str
    rule: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Assessment:
    eligible: bool
    unmet: tuple[str, ...]  # codes of inclusion criteria not met and exclusions that apply
    missing: tuple[str, ...]  # codes left unanswered: screening is incomplete


def needs_answer(criterion: Criterion) -> bool:
    """Whether the screener answers this criterion with yes/no (rules compute theirs)."""
    return not criterion.rule


def assess(
    criteria: Iterable[Criterion],
    answers: Mapping[str, bool | None],
    *,
    age: int | None = None,
    scores: Mapping[str, float | None] | None = None,
) -> Assessment:
    scores = scores or {}
    unmet, missing = [], []
    for c in criteria:
        rule = c.rule or {}
        if "age_min" in rule or "age_max" in rule:
            if age is None:
                missing.append(c.code)
                continue
            ok = rule.get("age_min", 0) <= age <= rule.get("age_max", 200)
        elif "instrument" in rule:
            value = scores.get(f"{rule['instrument']}_{rule['score']}")
            if value is None:
                missing.append(c.code)
                continue
            ok = value >= rule.get("min", float("-inf")) and value <= rule.get("max", float("inf"))
        else:
            answer = answers.get(c.code)
            if answer is None:
                missing.append(c.code)
                continue
            ok = bool(answer)
        # ``ok``: the inclusion is met, or the exclusion applies.
        passes = ok if c.kind == "inclusion" else not ok
        if not passes:
            unmet.append(c.code)
    return Assessment(
        eligible=not unmet and not missing, unmet=tuple(unmet), missing=tuple(missing)
    )
