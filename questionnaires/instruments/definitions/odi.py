"""Oswestry Disability Index version 2.1: ten sections, each six statements scored 0-5."""

from __future__ import annotations

from django.utils.translation import gettext_noop

from ..base import CHOICE, PATIENT, Answers, Choice, Instrument, Item, ScoreDef, Scores, answered
from ..registry import register

# Short paraphrases of the six statements of each section, least (0) to most (5) disability.
# The licensed ODI 2.1 wording and its translations are loaded per trial.
SECTIONS = (
    (
        "q1",
        "Pain intensity",
        (
            "No pain at the moment",
            "Very mild pain at the moment",
            "Moderate pain at the moment",
            "Fairly severe pain at the moment",
            "Very severe pain at the moment",
            "The worst pain imaginable at the moment",
        ),
    ),
    (
        "q2",
        "Personal care (washing, dressing)",
        (
            "I look after myself normally without extra pain",
            "I look after myself normally but it is very painful",
            "Looking after myself is painful, so I am slow and careful",
            "I need some help but manage most of my personal care",
            "I need help every day with most of my personal care",
            "I do not get dressed, wash with difficulty and stay in bed",
        ),
    ),
    (
        "q3",
        "Lifting",
        (
            "I can lift heavy things without extra pain",
            "I can lift heavy things but it gives extra pain",
            "Pain stops me lifting heavy things off the floor, but I manage if they "
            "are placed conveniently, e.g. on a table",
            "Pain stops me lifting heavy things, but I manage light or medium things "
            "if they are placed conveniently",
            "I can lift only very light things",
            "I cannot lift or carry anything",
        ),
    ),
    (
        "q4",
        "Walking",
        (
            "Pain does not stop me walking any distance",
            "Pain stops me walking more than about 1.5 km (1 mile)",
            "Pain stops me walking more than about 800 m (half a mile)",
            "Pain stops me walking more than about 100 m (100 yards)",
            "I can walk only with a stick or crutches",
            "I am in bed most of the time",
        ),
    ),
    (
        "q5",
        "Sitting",
        (
            "I can sit in any chair for as long as I like",
            "I can sit in my favourite chair for as long as I like",
            "Pain stops me sitting for more than 1 hour",
            "Pain stops me sitting for more than 30 minutes",
            "Pain stops me sitting for more than 10 minutes",
            "Pain stops me sitting at all",
        ),
    ),
    (
        "q6",
        "Standing",
        (
            "I can stand for as long as I want without extra pain",
            "I can stand for as long as I want but it gives extra pain",
            "Pain stops me standing for more than 1 hour",
            "Pain stops me standing for more than 30 minutes",
            "Pain stops me standing for more than 10 minutes",
            "Pain stops me standing at all",
        ),
    ),
    (
        "q7",
        "Sleeping",
        (
            "Pain never disturbs my sleep",
            "Pain sometimes disturbs my sleep",
            "Because of pain I sleep less than 6 hours",
            "Because of pain I sleep less than 4 hours",
            "Because of pain I sleep less than 2 hours",
            "Pain stops me sleeping at all",
        ),
    ),
    (
        "q8",
        "Sex life (if applicable)",
        (
            "My sex life is normal and gives no extra pain",
            "My sex life is normal but gives some extra pain",
            "My sex life is nearly normal but very painful",
            "My sex life is severely restricted by pain",
            "My sex life is nearly absent because of pain",
            "Pain prevents any sex life at all",
        ),
    ),
    (
        "q9",
        "Social life",
        (
            "My social life is normal and gives no extra pain",
            "My social life is normal but increases my pain",
            "Pain only limits my more energetic interests, e.g. sport",
            "Pain has restricted my social life and I go out less often",
            "Pain has restricted my social life to my home",
            "I have no social life because of pain",
        ),
    ),
    (
        "q10",
        "Travelling",
        (
            "I can travel anywhere without pain",
            "I can travel anywhere but it gives extra pain",
            "Pain is bad but I manage journeys of over 2 hours",
            "Pain restricts me to journeys of less than 1 hour",
            "Pain restricts me to short necessary journeys under 30 minutes",
            "Pain prevents me travelling except to receive treatment",
        ),
    ),
)
SECTION_IDS = tuple(section_id for section_id, _, _ in SECTIONS)
MAX_UNANSWERED = 1  # AO Foundation Stata `odi`, after Fairbank & Pynsent 2000


def score_odi(answers: Answers) -> Scores:
    """Index (%) = sum / (5 x sections answered) x 100, stored unrounded; with more than
    one section unanswered the index is missing (Fairbank & Pynsent 2000)."""
    values = [answers[s] for s in SECTION_IDS if answered(answers, s)]
    n = len(values)
    if n == 0 or len(SECTION_IDS) - n > MAX_UNANSWERED:
        return {"odi": None, "sections_answered": n}
    return {"odi": sum(values) / (5 * n) * 100, "sections_answered": n}


ODI = register(
    Instrument(
        code="odi",
        version=1,
        name="Oswestry Disability Index 2.1",
        respondent=PATIENT,
        items=tuple(
            Item(
                section_id,
                title,
                CHOICE,
                choices=tuple(Choice(code, label) for code, label in enumerate(labels)),
                # Sex life is often left blank; the one-unanswered rule covers it.
                required=section_id != "q8",
            )
            for section_id, title, labels in SECTIONS
        ),
        scores=(
            ScoreDef(
                "odi",
                "Oswestry Disability Index (%)",
                min=0,
                max=100,
                rule=(
                    "Sum of the section scores / (5 x sections answered) x 100, unrounded; "
                    "missing with more than one section unanswered (Fairbank & Pynsent, "
                    "Spine 2000; AO Foundation Stata odi)."
                ),
            ),
            ScoreDef(
                "sections_answered",
                "ODI sections answered",
                min=0,
                max=10,
                rule="Number of the ten sections with an answer (Fairbank & Pynsent 2000).",
            ),
        ),
        score_fn=score_odi,
        recall=gettext_noop("Please answer about how things are today."),
        source="Fairbank JCT, Pynsent PB. The Oswestry Disability Index. Spine 2000;25:2940-53.",
    )
)
