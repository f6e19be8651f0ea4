"""Synthetic answers with a simulated treatment effect (seeded, so every demo is the same).

A respondent's "burden" (0 = no trouble, 1 = the worst) places every answer on its
item's scale; pain and disability items then move with it. Participants improve over
time and those in the intervention somewhat more, so the analysis plan has an effect to
find. Items whose best answer is the highest (the EQ-5D health scale, self-efficacy)
are turned round by their anchors.
"""

from __future__ import annotations

import math
import random

from questionnaires.instruments import base

GOOD_ANCHORS = ("best", "confident", "recovered", "better")


def months_of(timepoint) -> float:
    if timepoint.unit == "days":
        return timepoint.offset / 30.4
    if timepoint.unit == "weeks":
        return timepoint.offset * 7 / 30.4
    return float(timepoint.offset)


def patient_burden(start: float, months: float, intervention: bool, rng: random.Random) -> float:
    """Everyone recovers a good part within months; the intervention adds a little."""
    if months <= 0:
        return start
    recovery = 0.4 * (1 - math.exp(-months / 2))
    if intervention:
        recovery += 0.15 * (1 - math.exp(-months / 3))
    return min(1.0, max(0.0, start * (1 - recovery) + rng.gauss(0, 0.05)))


def _high_is_good(item: base.Item) -> bool:
    return bool(item.anchors) and any(w in item.anchors[1].lower() for w in GOOD_ANCHORS)


def synthetic_answers(instrument: base.Instrument, burden: float, rng: random.Random) -> dict:
    answers = {}
    for item in instrument.items:
        codes = item.allowed_codes()
        if not codes:
            continue  # free text and dates stay unanswered, as most people leave them
        # Yes/no and short scales vary more from item to item than long ones.
        spread = 0.12 if len(codes) > 4 else 0.25
        position = min(1.0, max(0.0, burden + rng.gauss(0, spread)))
        if _high_is_good(item):
            position = 1 - position
        value = codes[round(position * (len(codes) - 1))]
        answers[item.id] = [value] if item.kind == base.MULTI else value
    return answers
