"""Saltin-Grimby Physical Activity Level Scale: one question, four levels of leisure-time
physical activity during the past year (Saltin & Grimby 1968; Grimby et al. 2015)."""

from __future__ import annotations

from django.utils.translation import gettext_noop

from ..base import CHOICE, PATIENT, Answers, Choice, Instrument, Item, ScoreDef, Scores
from ..registry import register

# Short paraphrases of the four levels; the trial's licensed wording is loaded per trial.
LEVELS = (
    Choice(1, "Physically inactive: mostly sedentary (reading, TV, computer)"),
    Choice(2, "Some light physical activity at least 4 hours a week (walking, cycling)"),
    Choice(3, "Regular moderate activity or training 2-3 hours a week (running, swimming)"),
    Choice(4, "Regular hard training for competitive sport several times a week"),
)


def score_saltin_grimby(answers: Answers) -> Scores:
    # The scale is its single answer; the levels are ordinal, not summed.
    return {"level": answers.get("q1")}


SALTIN_GRIMBY = register(
    Instrument(
        code="saltin_grimby",
        version=1,
        name="Saltin-Grimby Physical Activity Level Scale",
        respondent=PATIENT,
        items=(
            Item(
                "q1",
                "How physically active have you been in your leisure time during the past year?",
                CHOICE,
                choices=LEVELS,
            ),
        ),
        scores=(
            ScoreDef(
                "level",
                "Physical activity level (1 sedentary - 4 vigorous regular training)",
                min=1,
                max=4,
                rule=(
                    "The level chosen, 1 sedentary to 4 regular hard training (Saltin & "
                    "Grimby, Circulation 1968; Grimby et al., Scand J Med Sci Sports 2015)."
                ),
                labels={c.code: c.label for c in LEVELS},
            ),
        ),
        score_fn=score_saltin_grimby,
        recall=gettext_noop("Please answer about the past year."),
        source=(
            "Saltin B, Grimby G. Circulation 1968;38:1104-15; Grimby G et al. The Saltin-Grimby "
            "Physical Activity Level Scale and its application to health research. Scand J Med "
            "Sci Sports 2015;25 Suppl 4:119-25."
        ),
    )
)
