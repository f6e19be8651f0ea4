"""Oswestry Disability Index 2.1. Rules: Fairbank & Pynsent, Spine 2000 (section scores
0-5; index = sum / (5 x sections answered) x 100) and the AO Foundation's Stata `odi`
(one section unanswered allowed, more than one: missing). The worked examples 16/50 = 32%
and, with one section missed, 16/45 = 35.5...% are those printed on the ODI form."""

import pytest

from questionnaires.instruments import registry
from questionnaires.instruments.base import CHOICE, PATIENT

ODI = registry.get("odi", 1)
SECTIONS = [f"q{n}" for n in range(1, 11)]


def _answers(values):
    return dict(zip(SECTIONS, values, strict=True))


def test_definition():
    assert ODI.respondent == PATIENT
    assert list(ODI.item_ids) == SECTIONS
    for item in ODI.items:
        assert item.kind == CHOICE
        assert item.allowed_codes() == (0, 1, 2, 3, 4, 5)
        assert len({c.label for c in item.choices}) == 6
    # Sex life is commonly skipped; every other section is required.
    assert [i.id for i in ODI.items if not i.required] == ["q8"]
    assert [s.name for s in ODI.scores] == ["odi", "sections_answered"]


def test_all_sections_answered():
    # Form example: 16 points of a possible 50 -> 32%.
    scores = ODI.score(_answers([3, 2, 2, 1, 2, 1, 2, 0, 2, 1]))
    assert scores["odi"] == pytest.approx(32.0)
    assert scores["sections_answered"] == 10


def test_one_section_unanswered_uses_45_as_denominator():
    # Form example: 16 points of a possible 45 -> 35.555...% (stored unrounded).
    answers = _answers([3, 2, 2, 1, 2, 1, 2, 0, 2, 1])
    answers["q8"] = None  # q8 was 0: the nine answered sections still sum to 16
    scores = ODI.score(answers)
    assert scores["odi"] == pytest.approx(16 / 45 * 100)
    assert scores["odi"] == pytest.approx(35.5555555556)
    assert scores["sections_answered"] == 9


def test_the_unanswered_section_need_not_be_sex_life():
    answers = _answers([5] * 10)
    del answers["q3"]
    assert ODI.score(answers) == {"odi": pytest.approx(100.0), "sections_answered": 9}


def test_two_sections_unanswered_gives_no_index():
    answers = _answers([4] * 10)
    del answers["q8"]
    answers["q10"] = None
    assert ODI.score(answers) == {"odi": None, "sections_answered": 8}


def test_nothing_answered():
    assert ODI.score({}) == {"odi": None, "sections_answered": 0}


def test_range_ends():
    assert ODI.score(_answers([0] * 10))["odi"] == 0
    assert ODI.score(_answers([5] * 10))["odi"] == pytest.approx(100.0)


def test_every_required_section_counts():
    full = _answers([1] * 10)
    for item in ODI.items:
        reduced = {k: v for k, v in full.items() if k != item.id}
        assert ODI.score(reduced) != ODI.score(full), item.id
