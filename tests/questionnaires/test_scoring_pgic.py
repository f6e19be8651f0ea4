"""Patient Global Impression of Change as the BetterBack protocol describes it: one item on
a balanced 11-point scale, -5 much worse, 0 unchanged, +5 much better; the score is the
answer."""

from questionnaires.instruments import registry
from questionnaires.instruments.base import PATIENT, SCALE

PGIC = registry.get("pgic", 1)


def test_definition():
    assert PGIC.respondent == PATIENT
    assert PGIC.item_ids == ("q1",)
    item = PGIC.item("q1")
    assert item.kind == SCALE and item.required
    assert item.allowed_codes() == tuple(range(-5, 6))
    assert item.anchors == ("Much worse", "Much better")
    assert [(s.name, s.min, s.max) for s in PGIC.scores] == [("pgic", -5, 5)]


def test_score_is_the_answer_including_negative_and_zero():
    assert PGIC.score({"q1": -5}) == {"pgic": -5}
    assert PGIC.score({"q1": 0}) == {"pgic": 0}
    assert PGIC.score({"q1": 3}) == {"pgic": 3}
    assert PGIC.score({"q1": 5}) == {"pgic": 5}


def test_unanswered_gives_none():
    assert PGIC.score({}) == {"pgic": None}
    assert PGIC.score({"q1": None}) == {"pgic": None}
