"""Brief Illness Perception Questionnaire (Broadbent et al. 2006), worded for back pain."""

from __future__ import annotations

from ..base import PATIENT, SCALE, TEXT, Answers, Instrument, Item, ScoreDef, Scores, answered
from ..registry import register

# (item id, dimension score name, short paraphrase, anchors 0 and 10). The licensed
# B-IPQ wording is loaded per trial; "illness" may be replaced by the condition's name.
DIMENSIONS = (
    (
        "q1",
        "consequences",
        "How much does your back pain affect your life?",
        ("No effect at all", "Affects my life severely"),
    ),
    (
        "q2",
        "timeline",
        "How long do you think your back pain will last?",
        ("A very short time", "For ever"),
    ),
    (
        "q3",
        "personal_control",
        "How much control do you feel you have over your back pain?",
        ("No control at all", "A great deal of control"),
    ),
    (
        "q4",
        "treatment_control",
        "How much do you think treatment can help your back pain?",
        ("Not at all", "Extremely helpful"),
    ),
    (
        "q5",
        "identity",
        "How much do you have symptoms from your back pain?",
        ("No symptoms at all", "Many severe symptoms"),
    ),
    (
        "q6",
        "concern",
        "How worried are you about your back pain?",
        ("Not at all worried", "Extremely worried"),
    ),
    (
        "q7",
        "understanding",
        "How well do you feel you understand your back pain?",
        ("Do not understand it at all", "Understand it very clearly"),
    ),
    (
        "q8",
        "emotional_response",
        "How much does your back pain affect you emotionally (e.g. angry, scared, upset, low)?",
        ("Not at all affected emotionally", "Extremely affected emotionally"),
    ),
)
ITEM_IDS = tuple(item_id for item_id, _, _, _ in DIMENSIONS)
REVERSED = ("q3", "q4", "q7")  # more control or understanding = a less threatening view


def score_bipq(answers: Answers) -> Scores:
    """Per-dimension raw values, and the total 0-80 with items 3, 4, 7 reversed (10 - x).
    The scoring sheet gives no rule for missing items, so the total needs all eight."""
    scores: Scores = {name: answers.get(item_id) for item_id, name, _, _ in DIMENSIONS}
    if all(answered(answers, i) for i in ITEM_IDS):
        scores["total"] = sum(10 - answers[i] if i in REVERSED else answers[i] for i in ITEM_IDS)
    else:
        scores["total"] = None
    return scores


_DIMENSION_RULE = "The item value 0-10 as answered, not reversed (Broadbent et al. 2006)."

BIPQ = register(
    Instrument(
        code="bipq",
        version=1,
        name="Brief Illness Perception Questionnaire",
        respondent=PATIENT,
        items=tuple(
            Item(item_id, text, SCALE, min=0, max=10, anchors=anchors)
            for item_id, _, text, anchors in DIMENSIONS
        )
        + (
            Item(
                "q9",
                "List in order the three most important causes of your back pain.",
                TEXT,
                required=False,
                help="One cause per line, the most important first.",
            ),
        ),
        scores=(
            ScoreDef(
                "total",
                "B-IPQ total (threatening view of the illness)",
                min=0,
                max=80,
                rule=(
                    "Items 3, 4 and 7 reversed (10 - x) plus items 1, 2, 5, 6 and 8, 0-80; "
                    "missing unless all eight are answered (Broadbent's B-IPQ scoring "
                    "sheet gives no missing-item rule); item 9 is not scored."
                ),
            ),
        )
        + tuple(
            ScoreDef(name, name.replace("_", " ").capitalize(), min=0, max=10, rule=_DIMENSION_RULE)
            for _, name, _, _ in DIMENSIONS
        ),
        score_fn=score_bipq,
        source=(
            "Broadbent E, Petrie KJ, Main J, Weinman J. The Brief Illness Perception "
            "Questionnaire. J Psychosom Res 2006;60:631-7; B-IPQ scoring sheet."
        ),
    )
)
