"""Numeric rating scales (0-10) for low back pain and leg pain during the latest week,
as in the BetterBack protocol (NRS-LBP: 0 "No pain", 10 "Worst imaginable pain").

Version 2 adds the selfBACK trial's secondary outcomes "average and worst LBP intensity
in the preceding week" (Sandal et al., JAMA Intern Med 2021) as two more items; the
items of version 1 are unchanged, so answers given on version 1 keep their meaning. A
trial asks version 2 by naming it in its protocol file (``[instrument_versions] nrs = 2``).
"""

from __future__ import annotations

from django.utils.translation import gettext_noop

from ..base import PATIENT, SCALE, Answers, Instrument, Item, ScoreDef, Scores
from ..registry import register

ANCHORS = ("No pain", "Worst imaginable pain")
RULE = "The item value, 0-10; missing if unanswered (11-point NRS, BetterBack trial protocol)."
RULE_V2 = "The item value, 0-10; missing if unanswered (11-point NRS, selfBACK trial)."


def score_nrs(answers: Answers) -> Scores:
    # Each scale is its own score: the item value as answered, None if unanswered.
    return {"back": answers.get("back"), "leg": answers.get("leg")}


def score_nrs_v2(answers: Answers) -> Scores:
    return {i: answers.get(i) for i in ("back", "leg", "back_average", "back_worst")}


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


NRS_V2 = register(
    Instrument(
        code="nrs",
        version=2,
        name="Numeric rating scale for low back pain and leg pain (with the preceding "
        "week's average and worst low back pain)",
        respondent=PATIENT,
        items=(
            *NRS.items,
            Item(
                "back_average",
                "What was your average low back pain intensity in the preceding week?",
                SCALE,
                min=0,
                max=10,
                anchors=ANCHORS,
            ),
            Item(
                "back_worst",
                "What was your worst low back pain intensity in the preceding week?",
                SCALE,
                min=0,
                max=10,
                anchors=ANCHORS,
            ),
        ),
        scores=(
            *NRS.scores,
            ScoreDef(
                "back_average",
                "Average low back pain intensity in the preceding week (NRS 0-10)",
                min=0,
                max=10,
                rule=RULE_V2,
            ),
            ScoreDef(
                "back_worst",
                "Worst low back pain intensity in the preceding week (NRS 0-10)",
                min=0,
                max=10,
                rule=RULE_V2,
            ),
        ),
        score_fn=score_nrs_v2,
        recall=NRS.recall,
        source=NRS.source + " Version 2 adds average and worst low back pain in the preceding "
        "week (selfBACK trial, Sandal et al., JAMA Intern Med 2021;181:1288-96).",
    )
)
