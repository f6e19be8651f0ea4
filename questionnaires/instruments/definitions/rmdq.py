"""Roland-Morris Disability Questionnaire, 24 items (Roland & Morris 1983)."""

from __future__ import annotations

from django.utils.translation import gettext_noop

from ..base import PATIENT, YESNO, Answers, Instrument, Item, ScoreDef, Scores, answered
from ..registry import register

# Short paraphrases, yes = the statement describes me today. The licensed wording and its
# translations are loaded per trial.
STATEMENTS = (
    "I stay at home most of the time because of my back",
    "I change position often to get my back comfortable",
    "I walk more slowly than usual because of my back",
    "Because of my back I am not doing any of my usual jobs around the house",
    "Because of my back I use a handrail to get upstairs",
    "Because of my back I lie down to rest more often",
    "Because of my back I have to hold on to something to get out of an easy chair",
    "Because of my back I try to get other people to do things for me",
    "I get dressed more slowly than usual because of my back",
    "I stand only for short periods because of my back",
    "Because of my back I try not to bend or kneel down",
    "I find it hard to get out of a chair because of my back",
    "My back is painful almost all the time",
    "I find it hard to turn over in bed because of my back",
    "My appetite is not very good because of my back pain",
    "I have trouble putting on socks or stockings because of my back pain",
    "I walk only short distances because of my back",
    "I sleep less well because of my back",
    "Because of my back pain I get dressed with help from someone else",
    "I sit down for most of the day because of my back",
    "I avoid heavy jobs around the house because of my back",
    "Because of my back pain I am more irritable and bad-tempered with people than usual",
    "Because of my back I go upstairs more slowly than usual",
    "I stay in bed most of the time because of my back",
)
ITEM_IDS = tuple(f"q{n}" for n in range(1, len(STATEMENTS) + 1))


def score_rmdq(answers: Answers) -> Scores:
    """Number of "yes" (0-24). Roland & Fairbank (2000) count ticked statements and score
    an item marked not applicable as "no", but give no rule for an item left unanswered
    on a yes/no form; we do not guess, so the total needs all 24 answers."""
    if not all(answered(answers, i) for i in ITEM_IDS):
        return {"total": None}
    return {"total": sum(answers[i] for i in ITEM_IDS)}


RMDQ = register(
    Instrument(
        code="rmdq",
        version=1,
        name="Roland-Morris Disability Questionnaire",
        respondent=PATIENT,
        items=tuple(
            Item(
                item_id,
                text,
                YESNO,
                help="Yes if the statement describes you today. Not applicable counts as no.",
            )
            for item_id, text in zip(ITEM_IDS, STATEMENTS, strict=True)
        ),
        scores=(
            ScoreDef(
                "total",
                "Roland-Morris disability score",
                min=0,
                max=24,
                rule=(
                    "Number of yes answers, 0-24; not applicable is entered as no; missing "
                    "if any item is unanswered (Roland & Fairbank, Spine 2000)."
                ),
            ),
        ),
        score_fn=score_rmdq,
        recall=gettext_noop("Please answer about how things are today."),
        source=(
            "Roland M, Morris R. Spine 1983;8:141-4; Roland M, Fairbank J. The Roland-Morris "
            "Disability Questionnaire and the Oswestry Disability Questionnaire. Spine "
            "2000;25:3115-24."
        ),
    )
)
