"""Patient satisfaction with care, BetterBack protocol: one question coded very satisfied
(1), somewhat satisfied (2), neither (3), somewhat dissatisfied (4), very dissatisfied (5);
the score is the code."""

from questionnaires.instruments import registry
from questionnaires.instruments.base import CHOICE, PATIENT

SATISFACTION = registry.get("satisfaction", 1)


def test_definition():
    assert SATISFACTION.respondent == PATIENT
    item = SATISFACTION.item("q1")
    assert item.kind == CHOICE and item.required
    assert [(c.code, c.label) for c in item.choices] == [
        (1, "Very satisfied"),
        (2, "Somewhat satisfied"),
        (3, "Neither satisfied nor dissatisfied"),
        (4, "Somewhat dissatisfied"),
        (5, "Very dissatisfied"),
    ]
    score = SATISFACTION.scores[0]
    assert (score.name, score.min, score.max) == ("satisfaction", 1, 5)
    assert score.labels[1] == "Very satisfied" and score.labels[5] == "Very dissatisfied"


def test_score_is_the_code():
    assert SATISFACTION.score({"q1": 1}) == {"satisfaction": 1}
    assert SATISFACTION.score({"q1": 4}) == {"satisfaction": 4}
    assert SATISFACTION.score({}) == {"satisfaction": None}
