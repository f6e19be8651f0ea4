"""PABS-PT, 19-item two-factor version (Ostelo et al. 2003; Houben et al., Eur J Pain
2005): items 1-6; biomedical factor 10 items (sum 10-60), biopsychosocial factor 9 items
(sum 9-54; the BetterBack protocol prints "0-60"/"0-54", but with items coded 1-6 the
sums cannot go below 10 and 9). No published missing-item rule: a factor with an
unanswered item is missing.

The factor key is the module's (by statement content, after Houben et al. 2005); it could
not be checked against the printed item table (see the module docstring). These tests
check that scoring follows that key."""

from questionnaires.instruments import registry
from questionnaires.instruments.base import PHYSIOTHERAPIST, SCALE
from questionnaires.instruments.definitions.pabs_pt import FACTORS

PABS = registry.get("pabs_pt", 1)
ITEMS = [f"q{n}" for n in range(1, 20)]
BIOMEDICAL = ("q1", "q4", "q5", "q6", "q7", "q8", "q9", "q12", "q13", "q14")
BIOPSYCHOSOCIAL = ("q2", "q3", "q10", "q11", "q15", "q16", "q17", "q18", "q19")


def _answers(values):
    return dict(zip(ITEMS, values, strict=True))


def test_definition():
    assert PABS.respondent == PHYSIOTHERAPIST
    assert list(PABS.item_ids) == ITEMS
    for item in PABS.items:
        assert item.kind == SCALE and item.required
        assert (item.min, item.max) == (1, 6)
        assert item.anchors == ("Totally disagree", "Totally agree")
    assert [(s.name, s.min, s.max) for s in PABS.scores] == [
        ("biomedical", 10, 60),
        ("biopsychosocial", 9, 54),
    ]


def test_key_is_10_plus_9_and_covers_every_item_once():
    assert FACTORS["biomedical"] == BIOMEDICAL
    assert FACTORS["biopsychosocial"] == BIOPSYCHOSOCIAL
    assert sorted(BIOMEDICAL + BIOPSYCHOSOCIAL, key=lambda i: int(i[1:])) == ITEMS


def test_range_ends():
    assert PABS.score(_answers([1] * 19)) == {"biomedical": 10, "biopsychosocial": 9}
    assert PABS.score(_answers([6] * 19)) == {"biomedical": 60, "biopsychosocial": 54}


def test_worked_example():
    # q_n answered ((n - 1) % 6) + 1: q1=1 q2=2 ... q6=6 q7=1 ... q18=6 q19=1
    # biomedical: q1 1 + q4 4 + q5 5 + q6 6 + q7 1 + q8 2 + q9 3 + q12 6 + q13 1 + q14 2 = 31
    # biopsychosocial: q2 2 + q3 3 + q10 4 + q11 5 + q15 3 + q16 4 + q17 5 + q18 6 + q19 1 = 33
    answers = _answers([(n - 1) % 6 + 1 for n in range(1, 20)])
    assert PABS.score(answers) == {"biomedical": 31, "biopsychosocial": 33}


def test_missing_item_removes_only_its_factor():
    answers = _answers([(n - 1) % 6 + 1 for n in range(1, 20)])
    del answers["q12"]
    assert PABS.score(answers) == {"biomedical": None, "biopsychosocial": 33}
    answers = _answers([(n - 1) % 6 + 1 for n in range(1, 20)])
    answers["q19"] = None
    assert PABS.score(answers) == {"biomedical": 31, "biopsychosocial": None}
