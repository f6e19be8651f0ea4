"""EQ-5D-3L and EQ-5D-5L (EuroQol): five dimensions, one level each, and the EQ VAS.

The index comes from a country value set. Value sets are data, not code: one JSON file
each in ``questionnaires/valuesets/`` (``eq5d3l_se.json``...), naming its source and how it
treats full health (11111). This module only applies the additive model the files describe.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from django.utils.translation import gettext_noop

from ..base import CHOICE, PATIENT, SCALE, Answers, Choice, Instrument, Item, ScoreDef, Scores
from ..registry import register

VALUESET_DIR = Path(__file__).resolve().parents[2] / "valuesets"
DEFAULT_VALUE_SET = "SE"  # BetterBack uses the Swedish sets (protocol, EQ-5D outcome)
DIMENSIONS = ("mo", "sc", "ua", "pd", "ad")
LEVELS = {"eq5d3l": 3, "eq5d5l": 5}


@cache
def _value_sets(code: str) -> dict[str, dict[str, Any]]:
    """The value sets of ``code`` keyed by country code, read once from the data files."""
    if code not in LEVELS:
        raise KeyError(f"{code!r} has no EQ-5D value sets")
    sets = {}
    for path in sorted(VALUESET_DIR.glob(f"{code}_*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        _check_value_set(data, code, path)
        sets[data["code"]] = data
    return sets


def _check_value_set(data: dict[str, Any], code: str, path: Path) -> None:
    # A malformed file must fail loudly, not score every response wrongly.
    if data.get("instrument") != code or not data.get("source"):
        raise ValueError(f"{path.name}: instrument must be {code!r} and a source named")
    if not isinstance(data.get("full_health_is_one"), bool):
        raise ValueError(f"{path.name}: say whether full health (11111) is 1")
    decrements = data.get("decrements", {})
    if set(decrements) != set(DIMENSIONS):
        raise ValueError(f"{path.name}: decrements for {DIMENSIONS} needed")
    for dimension, values in decrements.items():
        if len(values) != LEVELS[code] or values[0] != 0:
            raise ValueError(f"{path.name}: {dimension} needs {LEVELS[code]} levels, level 1 = 0")


def value_sets(code: str) -> list[str]:
    """Country codes of the value sets available for ``code`` ("eq5d3l" or "eq5d5l"),
    so that a protocol file naming a value set can be validated."""
    return sorted(_value_sets(code))


def index_value(code: str, profile: dict[str, int], value_set: str) -> float:
    """The index of a complete profile under a value set's additive model.

    Rounded to 6 decimals: the coefficients have at most 4, so this changes no value and
    only removes the binary noise of the float sums (-0.012, not -0.01200000000000001,
    in exports and the codebook's ranges)."""
    try:
        vs = _value_sets(code)[value_set]
    except KeyError:
        raise ValueError(
            f"{code}: unknown value set {value_set!r}; available: {value_sets(code)}"
        ) from None
    levels = [profile[d] for d in DIMENSIONS]
    if all(level == 1 for level in levels) and vs["full_health_is_one"]:
        return 1.0
    index = vs["start"]
    if any(level > 1 for level in levels):
        index -= vs["constant"]
    index -= sum(vs["decrements"][d][profile[d] - 1] for d in DIMENSIONS)
    for level, decrement in vs["any_at_level"].items():
        if int(level) in levels:
            index -= decrement
    return round(index, 6)


def _score(code: str, answers: Answers, value_set: str) -> Scores:
    vas = answers.get("vas")
    levels = {d: answers.get(d) for d in DIMENSIONS}
    if any(level is None for level in levels.values()):
        # The index and the profile describe all five dimensions; none is imputed.
        return {"index": None, "profile": None, "vas": vas}
    return {
        "index": index_value(code, levels, value_set),
        "profile": "".join(str(levels[d]) for d in DIMENSIONS),
        "vas": vas,
    }


def score_eq5d3l(answers: Answers, value_set: str = DEFAULT_VALUE_SET) -> Scores:
    return _score("eq5d3l", answers, value_set)


def score_eq5d5l(answers: Answers, value_set: str = DEFAULT_VALUE_SET) -> Scores:
    return _score("eq5d5l", answers, value_set)


# Short paraphrases; the licensed EuroQol wording is loaded per trial.
_DIMENSION_TEXT = {
    "mo": "Mobility: walking about",
    "sc": "Self-care: washing or dressing yourself",
    "ua": "Usual activities (work, study, housework, family or leisure)",
    "pd": "Pain or discomfort",
    "ad": "Anxiety or depression",
}
_WORST_3L = {
    "mo": "Confined to bed",
    "sc": "Unable to wash or dress myself",
    "ua": "Unable to do my usual activities",
    "pd": "Extreme pain or discomfort",
    "ad": "Extremely anxious or depressed",
}
_WORST_5L = {
    "mo": "Unable to walk about",
    "sc": "Unable to wash or dress myself",
    "ua": "Unable to do my usual activities",
    "pd": "Extreme pain or discomfort",
    "ad": "Extremely anxious or depressed",
}


def _choices_3l(dimension: str) -> tuple[Choice, ...]:
    return (Choice(1, "No problems"), Choice(2, "Some problems"), Choice(3, _WORST_3L[dimension]))


def _choices_5l(dimension: str) -> tuple[Choice, ...]:
    return (
        Choice(1, "No problems"),
        Choice(2, "Slight problems"),
        Choice(3, "Moderate problems"),
        Choice(4, "Severe problems"),
        Choice(5, _WORST_5L[dimension]),
    )


VAS_ITEM = Item(
    "vas",
    "Your health today on a scale from 0 to 100",
    SCALE,
    min=0,
    max=100,
    anchors=("The worst health you can imagine", "The best health you can imagine"),
)


def _scores(code: str, label: str, worst: str) -> tuple[ScoreDef, ...]:
    return (
        ScoreDef(
            "index",
            f"{label} index",
            rule=(
                "Additive model of the chosen country value set (data file in "
                f"questionnaires/valuesets/{code}_*.json; default {DEFAULT_VALUE_SET}); "
                "missing if any dimension is unanswered (a value set needs all five levels; "
                "nothing is imputed)."
            ),
        ),
        ScoreDef("vas", "EQ VAS", min=0, max=100, rule="The EQ VAS value as marked (EuroQol)."),
        ScoreDef(
            "profile",
            f"{label} health profile",
            rule=(
                "The five levels in the order MO SC UA PD AD, e.g. '11223' "
                f"(full health 11111, worst {worst}); missing if any dimension is unanswered."
            ),
        ),
    )


EQ5D3L = register(
    Instrument(
        code="eq5d3l",
        version=1,
        name="EQ-5D-3L",
        respondent=PATIENT,
        items=tuple(Item(d, _DIMENSION_TEXT[d], CHOICE, choices=_choices_3l(d)) for d in DIMENSIONS)
        + (VAS_ITEM,),
        scores=_scores("eq5d3l", "EQ-5D-3L", "33333"),
        score_fn=score_eq5d3l,
        recall=gettext_noop("Please answer about how things are today."),
        source="EuroQol EQ-5D-3L user guide; value sets as named in each data file.",
        options={"value_set": tuple(value_sets("eq5d3l")), "default_value_set": DEFAULT_VALUE_SET},
    )
)

EQ5D5L = register(
    Instrument(
        code="eq5d5l",
        version=1,
        name="EQ-5D-5L",
        respondent=PATIENT,
        items=tuple(Item(d, _DIMENSION_TEXT[d], CHOICE, choices=_choices_5l(d)) for d in DIMENSIONS)
        + (VAS_ITEM,),
        scores=_scores("eq5d5l", "EQ-5D-5L", "55555"),
        score_fn=score_eq5d5l,
        recall=gettext_noop("Please answer about how things are today."),
        source="EuroQol EQ-5D-5L user guide; value sets as named in each data file.",
        options={"value_set": tuple(value_sets("eq5d5l")), "default_value_set": DEFAULT_VALUE_SET},
    )
)
