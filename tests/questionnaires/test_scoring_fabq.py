"""Fear-Avoidance Beliefs Questionnaire (Waddell et al., Pain 1993; key also printed in the
JOSPT low back pain guideline, Delitto et al. 2012): 16 items 0-6. FABQ-PA = items 2-5
(0-24); FABQ-W = items 6, 7, 9, 10, 11, 12, 15 (0-42); items 1, 8, 13, 14, 16 are not
scored. No missing-item rule is published, so a subscale with an unanswered item is
missing."""

from questionnaires.instruments import registry
from questionnaires.instruments.base import PATIENT, SCALE

FABQ = registry.get("fabq", 1)
ITEMS = [f"q{n}" for n in range(1, 17)]
EXAMPLE = [6, 5, 4, 3, 2, 1, 0, 6, 5, 4, 3, 2, 1, 0, 6, 5]  # q1..q16


def _answers(values):
    return dict(zip(ITEMS, values, strict=True))


def test_definition():
    assert FABQ.respondent == PATIENT
    assert list(FABQ.item_ids) == ITEMS
    for item in FABQ.items:
        assert item.kind == SCALE and (item.min, item.max) == (0, 6)
    # Only the physical activity subscale items are required; every required item is scored.
    assert [i.id for i in FABQ.items if i.required] == ["q2", "q3", "q4", "q5"]
    assert [(s.name, s.min, s.max) for s in FABQ.scores] == [
        ("fabq_pa", 0, 24),
        ("fabq_w", 0, 42),
    ]


def test_worked_example():
    # PA: q2..q5 = 5 + 4 + 3 + 2 = 14
    # W:  q6 1 + q7 0 + q9 5 + q10 4 + q11 3 + q12 2 + q15 6 = 21
    assert FABQ.score(_answers(EXAMPLE)) == {"fabq_pa": 14, "fabq_w": 21}


def test_range_ends():
    assert FABQ.score(_answers([6] * 16)) == {"fabq_pa": 24, "fabq_w": 42}
    assert FABQ.score(_answers([0] * 16)) == {"fabq_pa": 0, "fabq_w": 0}


def test_unscored_items_do_not_count():
    answers = _answers(EXAMPLE)
    for item_id in ("q1", "q8", "q13", "q14", "q16"):
        answers[item_id] = 0 if answers[item_id] else 6
    assert FABQ.score(answers) == {"fabq_pa": 14, "fabq_w": 21}
    for item_id in ("q1", "q8", "q13", "q14", "q16"):
        del answers[item_id]
    assert FABQ.score(answers) == {"fabq_pa": 14, "fabq_w": 21}


def test_missing_subscale_item_gives_no_subscale():
    answers = _answers(EXAMPLE)
    del answers["q15"]
    assert FABQ.score(answers) == {"fabq_pa": 14, "fabq_w": None}
    answers = _answers(EXAMPLE)
    answers["q2"] = None
    assert FABQ.score(answers) == {"fabq_pa": None, "fabq_w": 21}


def test_physical_activity_part_alone():
    # Not working: only items 1-5 answered.
    answers = _answers(EXAMPLE[:5] + [None] * 11)
    assert FABQ.score(answers) == {"fabq_pa": 14, "fabq_w": None}
