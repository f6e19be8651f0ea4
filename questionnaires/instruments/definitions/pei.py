"""Patient Enablement Instrument (Howie et al., Fam Pract 1998): six items, each answered
"much better (more)", "better (more)", "same or less" or "not applicable"."""

from __future__ import annotations

from django.utils.translation import gettext_noop

from ..base import CHOICE, PATIENT, Answers, Choice, Instrument, Item, ScoreDef, Scores, answered
from ..registry import register

NOT_APPLICABLE = 9  # stored code of "not applicable"; it scores 0 (see score_pei)
CHOICES = (
    Choice(2, "Much better / much more"),
    Choice(1, "Better / more"),
    Choice(0, "Same or less"),
    Choice(NOT_APPLICABLE, "Not applicable"),
)
POINTS = {2: 2, 1: 1, 0: 0, NOT_APPLICABLE: 0}

# Short paraphrases after the stem "As a result of the care you received, do you feel you
# are ..."; the licensed wording and its translations are loaded per trial.
STATEMENTS = (
    ("q1", "able to cope with life"),
    ("q2", "able to understand your back problem"),
    ("q3", "able to cope with your back problem"),
    ("q4", "able to keep yourself healthy"),
    ("q5", "confident about your health"),
    ("q6", "able to help yourself"),
)
ITEM_IDS = tuple(i for i, _ in STATEMENTS)


def score_pei(answers: Answers) -> Scores:
    """Sum of the item points, 0-12. "Not applicable" scores 0 like "same or less", the
    usual PEI scoring after Howie et al. An item left blank is not an answer of "not
    applicable"; no published rule fills it in, so the total then needs all six."""
    if not all(answered(answers, i) for i in ITEM_IDS):
        return {"total": None}
    return {"total": sum(POINTS[answers[i]] for i in ITEM_IDS)}


PEI = register(
    Instrument(
        code="pei",
        version=1,
        name="Patient Enablement Instrument",
        respondent=PATIENT,
        items=tuple(
            Item(
                item_id,
                f"As a result of the care you received, do you feel you are {text}?",
                CHOICE,
                choices=CHOICES,
            )
            for item_id, text in STATEMENTS
        ),
        scores=(
            ScoreDef(
                "total",
                "Patient enablement (0-12)",
                min=0,
                max=12,
                rule=(
                    "Much better/more 2, better/more 1, same or less 0, not applicable 0, "
                    "summed over six items, 0-12; missing if an item is blank (Howie et al., "
                    "Fam Pract 1998)."
                ),
            ),
        ),
        score_fn=score_pei,
        recall=gettext_noop("Please answer about the time since your care started."),
        source=(
            "Howie JGR, Heaney DJ, Maxwell M, Walker JJ. A comparison of a Patient Enablement "
            "Instrument (PEI) against two established satisfaction scales as an outcome measure "
            "of primary care consultations. Fam Pract 1998;15:165-71."
        ),
    )
)
