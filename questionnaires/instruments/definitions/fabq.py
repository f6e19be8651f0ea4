"""Fear-Avoidance Beliefs Questionnaire (Waddell et al., Pain 1993): 16 statements rated
0 (completely disagree) to 6 (completely agree); two subscales.

Physical activity subscale (FABQ-PA) = items 2-5, 0-24; work subscale (FABQ-W) = items 6,
7, 9, 10, 11, 12 and 15, 0-42 (Waddell et al. 1993; the same key is printed in the JOSPT
low back pain guideline, Delitto et al. 2012, table of outcome measures). Items 1, 8, 13,
14 and 16 are asked but belong to neither subscale.
"""

from __future__ import annotations

from django.utils.translation import gettext_noop

from ..base import PATIENT, SCALE, Answers, Instrument, Item, ScoreDef, Scores, answered
from ..registry import register

# Short paraphrases; the licensed wording and its translations are loaded per trial.
STATEMENTS = (
    "My pain was caused by physical activity",
    "Physical activity makes my pain worse",
    "Physical activity might harm my back",
    "I should not do physical activities that (might) make my pain worse",
    "I cannot do physical activities that (might) make my pain worse",
    "My pain was caused by my work or by an accident at work",
    "My work made my pain worse",
    "I have a claim for compensation for my pain",
    "My work is too heavy for me",
    "My work makes or would make my pain worse",
    "My work might harm my back",
    "I should not do my usual work with my present pain",
    "I cannot do my usual work with my present pain",
    "I cannot do my usual work until my pain is treated",
    "I do not think I will be back at my usual work within 3 months",
    "I do not think I will ever be able to go back to that work",
)
ITEM_IDS = tuple(f"q{n}" for n in range(1, len(STATEMENTS) + 1))
PHYSICAL_ACTIVITY = ("q2", "q3", "q4", "q5")
WORK = ("q6", "q7", "q9", "q10", "q11", "q12", "q15")


def _subscale(answers: Answers, item_ids: tuple[str, ...]) -> int | None:
    # Waddell et al. give no rule for missing items: a subscale needs all its items.
    if not all(answered(answers, i) for i in item_ids):
        return None
    return sum(answers[i] for i in item_ids)


def score_fabq(answers: Answers) -> Scores:
    return {
        "fabq_pa": _subscale(answers, PHYSICAL_ACTIVITY),
        "fabq_w": _subscale(answers, WORK),
    }


FABQ = register(
    Instrument(
        code="fabq",
        version=1,
        name="Fear-Avoidance Beliefs Questionnaire",
        respondent=PATIENT,
        items=tuple(
            Item(
                item_id,
                text,
                SCALE,
                min=0,
                max=6,
                anchors=("Completely disagree", "Completely agree"),
                # Only the physical activity items are required: the work part does not
                # apply to everyone (not working, retired), and items outside both
                # subscales are not scored.
                required=item_id in PHYSICAL_ACTIVITY,
                section="Physical activity" if n <= 5 else "Work",
            )
            for n, (item_id, text) in enumerate(zip(ITEM_IDS, STATEMENTS, strict=True), 1)
        ),
        scores=(
            ScoreDef(
                "fabq_pa",
                "Fear-avoidance beliefs about physical activity (0-24)",
                min=0,
                max=24,
                rule=(
                    "Sum of items 2, 3, 4, 5 (each 0-6), 0-24; missing if any of them is "
                    "unanswered (Waddell et al., Pain 1993)."
                ),
            ),
            ScoreDef(
                "fabq_w",
                "Fear-avoidance beliefs about work (0-42)",
                min=0,
                max=42,
                rule=(
                    "Sum of items 6, 7, 9, 10, 11, 12, 15 (each 0-6), 0-42; missing if any "
                    "of them is unanswered (Waddell et al., Pain 1993)."
                ),
            ),
        ),
        score_fn=score_fabq,
        recall=gettext_noop(
            "Please answer about how physical activity and your "
            "normal work affect or would affect your pain."
        ),
        source=(
            "Waddell G, Newton M, Henderson I, Somerville D, Main CJ. A Fear-Avoidance Beliefs "
            "Questionnaire (FABQ) and the role of fear-avoidance beliefs in chronic low back "
            "pain and disability. Pain 1993;52:157-68."
        ),
    )
)
