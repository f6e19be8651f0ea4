"""Keele STarT Back Screening Tool (9-item version; Hill et al. 2008)."""

from __future__ import annotations

from django.utils.translation import gettext_noop

from ..base import (
    CHOICE,
    PATIENT,
    YESNO,
    Answers,
    Choice,
    Instrument,
    Item,
    ScoreDef,
    Scores,
    answered,
)
from ..registry import register

# Items 1-8: agree = 1 (YESNO stores agree as 1), disagree = 0. Short paraphrases; the
# licensed Keele wording and its translations are loaded per trial.
STATEMENTS = (
    ("q1", "My back pain has spread down my leg(s) at some time"),
    ("q2", "I have had pain in the shoulder or neck at some time"),
    ("q3", "I have walked only short distances because of my back pain"),
    ("q4", "I have dressed more slowly than usual because of my back pain"),
    ("q5", "It is not really safe for someone with a condition like mine to be physically active"),
    ("q6", "Worrying thoughts have been going through my mind a lot of the time"),
    ("q7", "I feel that my back pain is terrible and will never get any better"),
    ("q8", "In general I have not enjoyed all the things I used to enjoy"),
)
# Item 9, bothersomeness: codes 1-5 in the order printed; only 4 and 5 score 1.
BOTHERSOME = (
    Choice(1, "Not at all"),
    Choice(2, "Slightly"),
    Choice(3, "Moderately"),
    Choice(4, "Very much"),
    Choice(5, "Extremely"),
)
BOTHERSOME_POSITIVE = (4, 5)
ITEM_IDS = tuple(i for i, _ in STATEMENTS) + ("q9",)
PSYCHOSOCIAL_IDS = ("q5", "q6", "q7", "q8", "q9")
LOW, MEDIUM, HIGH = 1, 2, 3


def _item_score(item_id: str, value: int) -> int:
    if item_id == "q9":
        return 1 if value in BOTHERSOME_POSITIVE else 0
    return value


def risk_group(total: int, psychosocial: int) -> int:
    """Keele scoring chart: total 0-3 low; otherwise psychosocial 4-5 high, else medium."""
    if total <= 3:
        return LOW
    return HIGH if psychosocial >= 4 else MEDIUM


def score_sbst(answers: Answers) -> Scores:
    # Keele's guidance gives no rule for missing items, and one item can move a patient
    # across a cut-off, so every score needs all nine items.
    if not all(answered(answers, i) for i in ITEM_IDS):
        return {"total": None, "psychosocial": None, "risk_group": None}
    item_scores = {i: _item_score(i, answers[i]) for i in ITEM_IDS}
    total = sum(item_scores.values())
    psychosocial = sum(item_scores[i] for i in PSYCHOSOCIAL_IDS)
    return {
        "total": total,
        "psychosocial": psychosocial,
        "risk_group": risk_group(total, psychosocial),
    }


SBST = register(
    Instrument(
        code="sbst",
        version=1,
        name="Keele STarT Back Screening Tool",
        respondent=PATIENT,
        items=tuple(
            Item(i, text, YESNO, help="Agree = yes, disagree = no") for i, text in STATEMENTS
        )
        + (
            Item(
                "q9", "Overall, how bothersome has your back pain been?", CHOICE, choices=BOTHERSOME
            ),
        ),
        scores=(
            ScoreDef(
                "total",
                "STarT Back total score",
                min=0,
                max=9,
                rule=(
                    "Number of positive items: items 1-8 agree, item 9 'very much' or "
                    "'extremely'; missing if any item is unanswered (Keele University, "
                    "Using and scoring the SBST; Hill et al. 2008)."
                ),
            ),
            ScoreDef(
                "psychosocial",
                "STarT Back psychosocial (distress) subscale",
                min=0,
                max=5,
                rule="Positive items among items 5-9 (Keele University; Hill et al. 2008).",
            ),
            ScoreDef(
                "risk_group",
                "STarT Back risk group",
                min=1,
                max=3,
                rule=(
                    "Total 0-3 low risk; total 4-9 medium risk, high risk where the "
                    "psychosocial subscale is 4-5 (Keele STarT Back scoring chart)."
                ),
                labels={LOW: "Low risk", MEDIUM: "Medium risk", HIGH: "High risk"},
            ),
        ),
        score_fn=score_sbst,
        recall=gettext_noop("Please answer about the last 2 weeks."),
        source=(
            "Hill JC et al. A primary care back pain screening tool. Arthritis Rheum "
            "2008;59:632-41; Keele University, Using and scoring the Keele STarT Back Tool."
        ),
    )
)
