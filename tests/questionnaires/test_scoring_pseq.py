"""Pain Self-Efficacy Questionnaire (Nicholas, Eur J Pain 2007): ten items 0-6, total
0-60, higher = more confident despite pain. We found no missing-item rule from the author
(a prorating rule is sometimes quoted but could not be traced), so the total needs all ten
items."""

from questionnaires.instruments import registry
from questionnaires.instruments.base import PATIENT, SCALE

PSEQ = registry.get("pseq", 1)
ITEMS = [f"q{n}" for n in range(1, 11)]


def _answers(values):
    return dict(zip(ITEMS, values, strict=True))


def test_definition():
    assert PSEQ.respondent == PATIENT
    assert list(PSEQ.item_ids) == ITEMS
    assert len({i.text for i in PSEQ.items}) == 10
    for item in PSEQ.items:
        assert item.kind == SCALE and item.required
        assert (item.min, item.max) == (0, 6)
    assert [(s.name, s.min, s.max) for s in PSEQ.scores] == [("total", 0, 60)]


def test_range_ends():
    assert PSEQ.score(_answers([0] * 10)) == {"total": 0}
    assert PSEQ.score(_answers([6] * 10)) == {"total": 60}


def test_worked_example():
    # 4 + 3 + 5 + 2 + 6 + 1 + 0 + 3 + 4 + 5 = 33
    assert PSEQ.score(_answers([4, 3, 5, 2, 6, 1, 0, 3, 4, 5])) == {"total": 33}


def test_missing_item_gives_no_total():
    answers = _answers([4, 3, 5, 2, 6, 1, 0, 3, 4, 5])
    del answers["q7"]  # a missing item must not count as 0
    assert PSEQ.score(answers) == {"total": None}
    assert PSEQ.score(dict(_answers([6] * 10), q10=None)) == {"total": None}
