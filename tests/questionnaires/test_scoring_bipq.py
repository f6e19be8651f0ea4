"""Brief Illness Perception Questionnaire (Broadbent et al., J Psychosom Res 2006, and the
B-IPQ scoring sheet): items 1-8 on 0-10; total = items 1, 2, 5, 6, 8 plus (10 - x) for
items 3, 4, 7 (0-80, higher = more threatening view); item 9 (causes) not scored. The
scoring sheet gives no missing-item rule, so the total needs all eight items."""

from questionnaires.instruments import registry
from questionnaires.instruments.base import PATIENT, SCALE, TEXT

BIPQ = registry.get("bipq", 1)
ITEMS = [f"q{n}" for n in range(1, 9)]
DIMENSIONS = [
    "consequences",
    "timeline",
    "personal_control",
    "treatment_control",
    "identity",
    "concern",
    "understanding",
    "emotional_response",
]


def _answers(values):
    return dict(zip(ITEMS, values, strict=True))


def test_definition():
    assert BIPQ.respondent == PATIENT
    assert list(BIPQ.item_ids) == ITEMS + ["q9"]
    for item in BIPQ.items[:8]:
        assert item.kind == SCALE and item.required
        assert (item.min, item.max) == (0, 10) and item.anchors
    q9 = BIPQ.item("q9")
    assert q9.kind == TEXT and not q9.required
    assert [s.name for s in BIPQ.scores] == ["total"] + DIMENSIONS


def test_worked_example_total_and_raw_dimensions():
    # 8 + 7 + (10-2) + (10-3) + 6 + 9 + (10-4) + 7 = 58
    scores = BIPQ.score(_answers([8, 7, 2, 3, 6, 9, 4, 7]))
    assert scores["total"] == 58
    # Dimension scores are the raw answers, items 3, 4, 7 not reversed.
    assert [scores[d] for d in DIMENSIONS] == [8, 7, 2, 3, 6, 9, 4, 7]


def test_midpoint_and_range_ends():
    assert BIPQ.score(_answers([5] * 8))["total"] == 40
    # Most threatening: 10 on the plain items, 0 on the reversed ones.
    assert BIPQ.score(_answers([10, 10, 0, 0, 10, 10, 0, 10]))["total"] == 80
    assert BIPQ.score(_answers([0, 0, 10, 10, 0, 0, 10, 0]))["total"] == 0


def test_causes_text_is_not_scored():
    answers = _answers([8, 7, 2, 3, 6, 9, 4, 7])
    with_causes = dict(answers, q9="lifting at work\nstress\nposture")
    assert BIPQ.score(with_causes) == BIPQ.score(answers)


def test_missing_item_gives_no_total_but_keeps_other_dimensions():
    answers = _answers([8, 7, 2, 3, 6, 9, 4, 7])
    del answers["q5"]
    scores = BIPQ.score(answers)
    assert scores["total"] is None
    assert scores["identity"] is None
    assert scores["consequences"] == 8 and scores["understanding"] == 4
    answers = _answers([8, 7, 2, 3, 6, 9, 4, 7])
    answers["q7"] = None  # a reversed item missing must not count as 10
    assert BIPQ.score(answers)["total"] is None
