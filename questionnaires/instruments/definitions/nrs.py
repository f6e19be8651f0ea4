"""Numeric rating scales (0-10) for low back pain and leg pain during the latest week,
as in the BetterBack protocol (NRS-LBP: 0 "No pain", 10 "Worst imaginable pain")."""

from __future__ import annotations

from django.utils.translation import gettext_noop

from ..base import PATIENT, SCALE, Answers, Instrument, Item, ScoreDef, Scores
from ..registry import register

ANCHORS = ("No pain", "Worst imaginable pain")
RULE = "The item value, 0-10; missing if unanswered (11-point NRS, BetterBack trial protocol)."


def score_nrs(answers: Answers) -> Scores:
    # Each scale is its own score: the item value as answered, None if unanswered.
    return {"back": answers.get("back"), "leg": answers.get("leg")}


NRS = register(
    Instrument(
        code="nrs",
        version=1,
        name="Numeric rating scale for low back pain and leg pain",
        respondent=PATIENT,
        items=(
            Item(
                "back",
                "How intense has your low back pain been during the latest week?",
                SCALE,
                min=0,
                max=10,
                anchors=ANCHORS,
            ),
            Item(
                "leg",
                "How intense has your leg pain been during the latest week?",
                SCALE,
                min=0,
                max=10,
                anchors=ANCHORS,
            ),
        ),
        scores=(
            ScoreDef(
                "back",
                "Low back pain intensity (NRS 0-10)",
                min=0,
                max=10,
                rule=RULE,
            ),
            ScoreDef(
                "leg",
                "Leg pain intensity (NRS 0-10)",
                min=0,
                max=10,
                rule=RULE,
            ),
        ),
        score_fn=score_nrs,
        recall=gettext_noop("Please answer about the latest week."),
        source="BetterBack trial protocol: NRS 0-10 for pain intensity during the latest week.",
    )
)
