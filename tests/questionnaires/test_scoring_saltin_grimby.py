"""Saltin-Grimby Physical Activity Level Scale (Saltin & Grimby 1968; Grimby et al. 2015):
one question, four ordinal levels from 1 (sedentary) to 4 (regular hard training); the
score is the level chosen."""

from questionnaires.instruments import registry
from questionnaires.instruments.base import CHOICE, PATIENT

SG = registry.get("saltin_grimby", 1)


def test_definition():
    assert SG.respondent == PATIENT
    item = SG.item("q1")
    assert item.kind == CHOICE and item.required
    assert item.allowed_codes() == (1, 2, 3, 4)
    assert [(s.name, s.min, s.max) for s in SG.scores] == [("level", 1, 4)]
    assert set(SG.scores[0].labels) == {1, 2, 3, 4}


def test_level_is_the_answer():
    assert SG.score({"q1": 1}) == {"level": 1}
    assert SG.score({"q1": 4}) == {"level": 4}
    assert SG.score({}) == {"level": None}
