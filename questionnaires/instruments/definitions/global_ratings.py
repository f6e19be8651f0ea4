"""Single-item patient ratings: global impression of change (PGIC, BetterBack), global
perceived effect (GPE, selfBACK) and satisfaction with care (BetterBack).

Each score is the answer as given; a rating left unanswered has no score.
"""

from __future__ import annotations

from django.utils.translation import gettext_noop

from ..base import CHOICE, PATIENT, SCALE, Answers, Choice, Instrument, Item, ScoreDef, Scores
from ..registry import register


def _single(score_name: str):
    def score(answers: Answers) -> Scores:
        return {score_name: answers.get("q1")}

    return score


# --- PGIC: the BetterBack protocol's balanced 11-point numerical scale. -----------------
PGIC = register(
    Instrument(
        code="pgic",
        version=1,
        name="Patient Global Impression of Change",
        respondent=PATIENT,
        items=(
            Item(
                "q1",
                "How has your back or leg pain problem changed since your treatment began?",
                SCALE,
                min=-5,
                max=5,
                anchors=("Much worse", "Much better"),
                help="0 means unchanged.",
            ),
        ),
        scores=(
            ScoreDef(
                "pgic",
                "Global impression of change (-5 to +5)",
                min=-5,
                max=5,
                rule=(
                    "The answer on the balanced 11-point scale, -5 much worse, 0 unchanged, "
                    "+5 much better (BetterBack trial protocol, Abbott et al. 2018)."
                ),
            ),
        ),
        score_fn=_single("pgic"),
        recall=gettext_noop("Please answer about the time since your treatment started."),
        source="BetterBack trial protocol (PGIC, balanced 11-point numerical scale).",
    )
)


# --- GPE as selfBACK used it. ------------------------------------------------------------
# The 11-point GPE of Kamper et al. (J Clin Epidemiol 2010;63:760-6): -5 "vastly worse",
# 0 "no change", +5 "completely recovered". We could not read the selfBACK protocol's
# exact wording through our search tools; a trial using the 7-point GPE ("completely
# recovered" .. "worse than ever") needs a version 2 rather than a change here.
GPE = register(
    Instrument(
        code="gpe",
        version=1,
        name="Global Perceived Effect",
        respondent=PATIENT,
        items=(
            Item(
                "q1",
                "Compared with when this episode started, how would you describe your back "
                "pain now?",
                SCALE,
                min=-5,
                max=5,
                anchors=("Vastly worse", "Completely recovered"),
                help="0 means no change.",
            ),
        ),
        scores=(
            ScoreDef(
                "gpe",
                "Global perceived effect (-5 to +5)",
                min=-5,
                max=5,
                rule=(
                    "The answer on the 11-point scale, -5 vastly worse, 0 no change, +5 "
                    "completely recovered (Kamper et al., J Clin Epidemiol 2010)."
                ),
            ),
        ),
        score_fn=_single("gpe"),
        recall=gettext_noop(
            "Please answer about the time since "
            "this episode of back pain started."
        ),
        source=(
            "Kamper SJ et al. Global Perceived Effect scales provided reliable assessments of "
            "health transition. J Clin Epidemiol 2010;63:760-6; selfBACK trial (Sandal et al., "
            "JAMA Intern Med 2021)."
        ),
    )
)


# --- Satisfaction with care: the BetterBack protocol's single question, coded 1-5. ------
SATISFACTION_CHOICES = (
    Choice(1, "Very satisfied"),
    Choice(2, "Somewhat satisfied"),
    Choice(3, "Neither satisfied nor dissatisfied"),
    Choice(4, "Somewhat dissatisfied"),
    Choice(5, "Very dissatisfied"),
)

SATISFACTION = register(
    Instrument(
        code="satisfaction",
        version=1,
        name="Patient satisfaction with care",
        respondent=PATIENT,
        items=(
            Item(
                "q1",
                "Over the course of treatment for this episode of low back or leg pain, how "
                "satisfied were you with the care from your health-care provider?",
                CHOICE,
                choices=SATISFACTION_CHOICES,
            ),
        ),
        scores=(
            ScoreDef(
                "satisfaction",
                "Satisfaction with care (1 very satisfied - 5 very dissatisfied)",
                min=1,
                max=5,
                rule=(
                    "The code of the answer, 1 very satisfied to 5 very dissatisfied "
                    "(BetterBack trial protocol, patient satisfaction)."
                ),
                labels={c.code: c.label for c in SATISFACTION_CHOICES},
            ),
        ),
        score_fn=_single("satisfaction"),
        recall=gettext_noop("Please answer about the whole course of your treatment."),
        source="BetterBack trial protocol (patient satisfaction, single question coded 1-5).",
    )
)
