"""Weekly SMS tracking of the SAFE trial: back pain intensity and days of sick leave in the
past week, sent by text message each week during the first 12 months.

A reply may carry one answer without the other, so neither item is required and each
score stands on its own.
"""

from __future__ import annotations

from django.utils.translation import gettext_noop

from ..base import NUMBER, PATIENT, SCALE, Answers, Instrument, Item, ScoreDef, Scores
from ..registry import register


def score_sms_tracking(answers: Answers) -> Scores:
    return {"pain": answers.get("pain"), "sick_leave_days": answers.get("sick_leave_days")}


SMS_TRACKING = register(
    Instrument(
        code="sms_tracking",
        version=1,
        name="Weekly SMS tracking: pain and sick leave",
        respondent=PATIENT,
        items=(
            Item(
                "pain",
                "How bad has your back pain been in the past week (0-10)?",
                SCALE,
                min=0,
                max=10,
                anchors=("No pain", "Worst imaginable pain"),
                required=False,
            ),
            Item(
                "sick_leave_days",
                "On how many days in the past week were you on sick leave because of your "
                "back pain (0-7)?",
                NUMBER,
                min=0,
                max=7,
                required=False,
            ),
        ),
        scores=(
            ScoreDef(
                "pain",
                "Back pain intensity in the past week (0-10)",
                min=0,
                max=10,
                rule="The value replied, 0-10; missing if not replied (SAFE trial SMS tracking).",
            ),
            ScoreDef(
                "sick_leave_days",
                "Days of sick leave in the past week (0-7)",
                min=0,
                max=7,
                rule="The number of days replied, 0-7; missing if not replied (SAFE trial).",
            ),
        ),
        score_fn=score_sms_tracking,
        recall=gettext_noop("Please answer about the past week."),
        source="SAFE trial (Denmark): weekly SMS tracking of pain and sick leave, months 0-12.",
    )
)
