"""Pain Self-Efficacy Questionnaire (Nicholas, Eur J Pain 2007): ten items rated 0 (not at
all confident) to 6 (completely confident) that one can do something despite the pain."""

from __future__ import annotations

from django.utils.translation import gettext_noop

from ..base import PATIENT, SCALE, Answers, Instrument, Item, ScoreDef, Scores, answered
from ..registry import register

# Short paraphrases; the licensed wording and its translations are loaded per trial.
STATEMENTS = (
    "I can enjoy things even though I have pain",
    "I can do most of the household chores even though I have pain",
    "I can see friends or family as often as I used to even though I have pain",
    "I can handle my pain in most situations",
    "I can do some kind of work even though I have pain",
    "I can still do many things I enjoy, such as hobbies, even though I have pain",
    "I can handle my pain without medication",
    "I can still reach most of my goals in life even though I have pain",
    "I can live a normal life even though I have pain",
    "I can gradually become more active even though I have pain",
)
ITEM_IDS = tuple(f"q{n}" for n in range(1, len(STATEMENTS) + 1))


def score_pseq(answers: Answers) -> Scores:
    """Sum of the ten items, 0-60, higher = more confident despite pain. We found no
    missing-item rule published by Nicholas (a prorating rule for up to two missing items
    is sometimes quoted, but we could not trace it to the author), so the total needs all
    ten items."""
    if not all(answered(answers, i) for i in ITEM_IDS):
        return {"total": None}
    return {"total": sum(answers[i] for i in ITEM_IDS)}


PSEQ = register(
    Instrument(
        code="pseq",
        version=1,
        name="Pain Self-Efficacy Questionnaire",
        respondent=PATIENT,
        items=tuple(
            Item(
                item_id,
                text,
                SCALE,
                min=0,
                max=6,
                anchors=("Not at all confident", "Completely confident"),
            )
            for item_id, text in zip(ITEM_IDS, STATEMENTS, strict=True)
        ),
        scores=(
            ScoreDef(
                "total",
                "Pain self-efficacy (0-60)",
                min=0,
                max=60,
                rule=(
                    "Sum of ten items scored 0-6, 0-60, higher = greater self-efficacy; missing "
                    "if any item is unanswered (Nicholas, Eur J Pain 2007)."
                ),
            ),
        ),
        score_fn=score_pseq,
        recall=gettext_noop("Please answer about how you feel now, taking your pain into account."),
        source=(
            "Nicholas MK. The pain self-efficacy questionnaire: taking pain into account. Eur J "
            "Pain 2007;11:153-63."
        ),
    )
)
