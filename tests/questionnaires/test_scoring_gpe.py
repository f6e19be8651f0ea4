"""Global Perceived Effect, 11-point version (Kamper et al., J Clin Epidemiol 2010):
-5 vastly worse, 0 no change, +5 completely recovered; the score is the answer. (Which
GPE version selfBACK used could not be read from its protocol through our sources; see
the module.)"""

from questionnaires.instruments import registry
from questionnaires.instruments.base import PATIENT, SCALE

GPE = registry.get("gpe", 1)


def test_definition():
    assert GPE.respondent == PATIENT
    assert GPE.item_ids == ("q1",)
    item = GPE.item("q1")
    assert item.kind == SCALE and item.required
    assert item.allowed_codes() == tuple(range(-5, 6))
    assert item.anchors == ("Vastly worse", "Completely recovered")
    assert [(s.name, s.min, s.max) for s in GPE.scores] == [("gpe", -5, 5)]


def test_score_is_the_answer():
    assert GPE.score({"q1": -5}) == {"gpe": -5}
    assert GPE.score({"q1": 0}) == {"gpe": 0}
    assert GPE.score({"q1": 4}) == {"gpe": 4}


def test_unanswered_gives_none():
    assert GPE.score({}) == {"gpe": None}
