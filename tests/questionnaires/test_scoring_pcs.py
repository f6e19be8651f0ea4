"""Practitioner Confidence Scale (Smucker et al. 1998) as the BetterBack protocol ("Data
collection") uses it: four items on 5-point scales, total 4 (greatest self-confidence) to
20 (lowest); no published missing-item rule, so all four items are needed."""

from questionnaires.instruments import registry
from questionnaires.instruments.base import PHYSIOTHERAPIST, SCALE

PCS = registry.get("pcs", 1)
ITEMS = ["q1", "q2", "q3", "q4"]


def _answers(values):
    return dict(zip(ITEMS, values, strict=True))


def test_definition():
    assert PCS.respondent == PHYSIOTHERAPIST
    assert list(PCS.item_ids) == ITEMS
    for item in PCS.items:
        assert item.kind == SCALE and item.required
        assert (item.min, item.max) == (1, 5)
    assert [(s.name, s.min, s.max) for s in PCS.scores] == [("total", 4, 20)]


def test_range_ends_match_the_protocol():
    assert PCS.score(_answers([1, 1, 1, 1])) == {"total": 4}  # greatest self-confidence
    assert PCS.score(_answers([5, 5, 5, 5])) == {"total": 20}  # lowest self-confidence


def test_worked_example():
    assert PCS.score(_answers([1, 2, 3, 2])) == {"total": 8}


def test_missing_item_gives_no_total():
    answers = _answers([1, 2, 3, 2])
    del answers["q3"]
    assert PCS.score(answers) == {"total": None}
