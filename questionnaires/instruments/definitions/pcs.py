"""Practitioner Confidence Scale (Smucker et al., Arch Fam Med 1998), as the BetterBack
trial uses it: four statements about managing patients with low back pain, each on a
5-point scale from 1 (strongly agree, most confident) to 5 (strongly disagree).

The total runs from 4 (greatest self-confidence) to 20 (lowest), as in the BetterBack
protocol's "Data collection" section; all four items point the same way, so none is
reversed.
"""

from __future__ import annotations

from django.utils.translation import gettext_noop

from ..base import PHYSIOTHERAPIST, SCALE, Answers, Instrument, Item, ScoreDef, Scores, answered
from ..registry import register

# Short paraphrases; the trial's translated wording is loaded per trial.
STATEMENTS = (
    "I feel comfortable managing patients with low back pain",
    "I know how to assess and classify patients with low back pain",
    "I am confident that I can treat patients with low back pain effectively",
    "I am confident that my patients with low back pain are satisfied with my care",
)
ITEM_IDS = tuple(f"q{n}" for n in range(1, len(STATEMENTS) + 1))


def score_pcs(answers: Answers) -> Scores:
    # No missing-item rule is published for a four-item scale: all four are needed.
    if not all(answered(answers, i) for i in ITEM_IDS):
        return {"total": None}
    return {"total": sum(answers[i] for i in ITEM_IDS)}


PCS = register(
    Instrument(
        code="pcs",
        version=1,
        name="Practitioner Confidence Scale",
        respondent=PHYSIOTHERAPIST,
        items=tuple(
            Item(
                item_id,
                text,
                SCALE,
                min=1,
                max=5,
                anchors=("Strongly agree", "Strongly disagree"),
            )
            for item_id, text in zip(ITEM_IDS, STATEMENTS, strict=True)
        ),
        scores=(
            ScoreDef(
                "total",
                "Practitioner confidence (4 most - 20 least confident)",
                min=4,
                max=20,
                rule=(
                    "Sum of four items scored 1-5, 4 = greatest and 20 = lowest "
                    "self-confidence; missing if any item is unanswered (Smucker et al. 1998; "
                    "BetterBack protocol)."
                ),
            ),
        ),
        score_fn=score_pcs,
        recall=gettext_noop("Please answer about how you work in your current practice."),
        source=(
            "Smucker DR, Konrad TR, Curtis P, Carey TS. Practitioner self-confidence and "
            "patient outcomes in acute low back pain. Arch Fam Med 1998;7:223-8; BetterBack "
            "trial protocol (Abbott et al. 2018)."
        ),
    )
)
