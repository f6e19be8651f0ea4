"""Pain Attitudes and Beliefs Scale for Physiotherapists (PABS-PT), 19-item two-factor
version (Ostelo et al. 2003; Houben et al., Eur J Pain 2005): statements about common low
back pain rated 1 (totally disagree) to 6 (totally agree).

Biomedical treatment orientation = 10 items (sum 10-60); biopsychosocial treatment
orientation = 9 items (sum 9-54). The BetterBack protocol prints the ranges as "0-60" and
"0-54"; with items coded 1-6 the lowest possible sums are 10 and 9.

FACTOR KEY, read before use: the key below assigns each statement to its factor by the
statement's content, following the two-factor solution of Houben et al. (2005). We could
not open the published item table through our search tools, so neither the key nor the
item ORDER (our ``q1``-``q19``) has been checked against the printed form. Before a trial
loads its licensed wording, check that each ``q`` id carries the statement paraphrased
here and that the factor of each statement matches Houben et al. (2005), Table 2.
"""

from __future__ import annotations

from django.utils.translation import gettext_noop

from ..base import PHYSIOTHERAPIST, SCALE, Answers, Instrument, Item, ScoreDef, Scores, answered
from ..registry import register

BIOMEDICAL, BIOPSYCHOSOCIAL = "biomedical", "biopsychosocial"

# (item id, factor, short paraphrase). The licensed wording is loaded per trial.
STATEMENTS = (
    ("q1", BIOMEDICAL, "Pain is a nociceptive signal that shows tissue damage"),
    (
        "q2",
        BIOPSYCHOSOCIAL,
        "Functional limitations with back pain result from psychosocial factors",
    ),
    ("q3", BIOPSYCHOSOCIAL, "Mental stress can cause back pain without any tissue damage"),
    ("q4", BIOMEDICAL, "When patients report pain during exercise, I worry about damage"),
    ("q5", BIOMEDICAL, "Patients with back pain should preferably do only pain-free movements"),
    ("q6", BIOMEDICAL, "Back pain shows that there is an organic injury"),
    ("q7", BIOMEDICAL, "How severe the tissue damage is decides how much pain there is"),
    (
        "q8",
        BIOMEDICAL,
        "If therapy does not reduce pain, severe long-term restrictions are likely",
    ),
    ("q9", BIOMEDICAL, "Less pain is needed before normal function can return"),
    ("q10", BIOPSYCHOSOCIAL, "Therapy can have succeeded even when pain remains"),
    ("q11", BIOPSYCHOSOCIAL, "More back pain from daily activities is not dangerous"),
    ("q12", BIOMEDICAL, "More pain means new tissue damage or spread of existing damage"),
    ("q13", BIOMEDICAL, "After back pain, patients should avoid activities that load the back"),
    ("q14", BIOMEDICAL, "The best advice for back pain is to take care and avoid needless moves"),
    ("q15", BIOPSYCHOSOCIAL, "Learning to cope with stress helps recovery from back pain"),
    ("q16", BIOPSYCHOSOCIAL, "Treatment can be intensified even if the pain has got worse"),
    ("q17", BIOPSYCHOSOCIAL, "A patient with severe back pain will benefit from exercise"),
    ("q18", BIOPSYCHOSOCIAL, "Knowing the tissue damage is not needed for effective therapy"),
    ("q19", BIOPSYCHOSOCIAL, "How patients view their pain affects how the symptoms develop"),
)
ITEM_IDS = tuple(i for i, _, _ in STATEMENTS)
FACTORS = {
    factor: tuple(i for i, f, _ in STATEMENTS if f == factor)
    for factor in (BIOMEDICAL, BIOPSYCHOSOCIAL)
}


def _factor_sum(answers: Answers, item_ids: tuple[str, ...]) -> int | None:
    # Neither Ostelo nor Houben publishes a missing-item rule: a factor needs all its items.
    if not all(answered(answers, i) for i in item_ids):
        return None
    return sum(answers[i] for i in item_ids)


def score_pabs_pt(answers: Answers) -> Scores:
    return {factor: _factor_sum(answers, item_ids) for factor, item_ids in FACTORS.items()}


PABS_PT = register(
    Instrument(
        code="pabs_pt",
        version=1,
        name="Pain Attitudes and Beliefs Scale for Physiotherapists",
        respondent=PHYSIOTHERAPIST,
        items=tuple(
            Item(
                item_id,
                text,
                SCALE,
                min=1,
                max=6,
                anchors=("Totally disagree", "Totally agree"),
            )
            for item_id, _, text in STATEMENTS
        ),
        scores=(
            ScoreDef(
                BIOMEDICAL,
                "Biomedical treatment orientation (10-60)",
                min=10,
                max=60,
                rule=(
                    "Sum of the 10 biomedical items scored 1-6, higher = stronger biomedical "
                    "orientation; missing if any is unanswered (Houben et al., Eur J Pain 2005)."
                ),
            ),
            ScoreDef(
                BIOPSYCHOSOCIAL,
                "Biopsychosocial treatment orientation (9-54)",
                min=9,
                max=54,
                rule=(
                    "Sum of the 9 biopsychosocial items scored 1-6, higher = stronger "
                    "biopsychosocial orientation; missing if any is unanswered (Houben et al. "
                    "2005)."
                ),
            ),
        ),
        score_fn=score_pabs_pt,
        recall=gettext_noop(
            "Please answer with your views on "
            "the management of common low back pain."
        ),
        source=(
            "Ostelo RWJG et al. Health care provider's attitudes and beliefs towards chronic "
            "low back pain: the development of a questionnaire. Man Ther 2003;8:214-22; Houben "
            "RMA et al. Health care providers' orientations towards common low back pain "
            "predict perceived harmfulness of physical activities and recommendations regarding "
            "return to normal activity. Eur J Pain 2005;9:173-83."
        ),
    )
)
