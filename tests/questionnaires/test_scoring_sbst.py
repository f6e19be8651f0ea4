"""Keele STarT Back Screening Tool, 9 items. Rules (Keele University, "Using and scoring
the Keele STarT Back Screening Tool"; Hill et al., Arthritis Rheum 2008): items 1-8
agree = 1; item 9 scores 1 only for "very much" or "extremely"; total 0-9; psychosocial
subscale = items 5-9 (0-5). Total 0-3 low risk; total 4-9 medium, high if psychosocial 4-5.
Keele's guidance gives no rule for missing items: any unanswered item -> all scores None."""

import pytest

from questionnaires.instruments import registry
from questionnaires.instruments.base import CHOICE, PATIENT, YESNO
from questionnaires.instruments.definitions.sbst import risk_group

SBST = registry.get("sbst", 1)
STATEMENTS = [f"q{n}" for n in range(1, 9)]


def _answers(agree=(), q9=1):
    answers = {i: (1 if i in agree else 0) for i in STATEMENTS}
    answers["q9"] = q9
    return answers


def _scores(total, psychosocial, group):
    return {"total": total, "psychosocial": psychosocial, "risk_group": group}


def test_definition():
    assert SBST.respondent == PATIENT
    assert list(SBST.item_ids) == STATEMENTS + ["q9"]
    assert all(SBST.item(i).kind == YESNO and SBST.item(i).required for i in STATEMENTS)
    q9 = SBST.item("q9")
    assert q9.kind == CHOICE and q9.required
    assert [(c.code, c.label) for c in q9.choices] == [
        (1, "Not at all"),
        (2, "Slightly"),
        (3, "Moderately"),
        (4, "Very much"),
        (5, "Extremely"),
    ]
    group = next(s for s in SBST.scores if s.name == "risk_group")
    assert dict(group.labels) == {1: "Low risk", 2: "Medium risk", 3: "High risk"}


def test_no_positive_item():
    assert SBST.score(_answers()) == _scores(0, 0, 1)


def test_total_3_is_low_and_4_is_medium():
    assert SBST.score(_answers({"q1", "q2", "q3"})) == _scores(3, 0, 1)
    assert SBST.score(_answers({"q1", "q2", "q3", "q4"})) == _scores(4, 0, 2)


def test_psychosocial_3_with_total_3_is_still_low():
    assert SBST.score(_answers({"q5", "q6", "q7"})) == _scores(3, 3, 1)


def test_psychosocial_3_vs_4_with_total_at_least_4():
    assert SBST.score(_answers({"q1", "q5", "q6", "q7"})) == _scores(4, 3, 2)
    assert SBST.score(_answers({"q1", "q5", "q6", "q7", "q8"})) == _scores(5, 4, 3)
    # Psychosocial 4 is itself a total of 4: high risk.
    assert SBST.score(_answers({"q5", "q6", "q7", "q8"})) == _scores(4, 4, 3)
    # Medium risk up to the top of the physical items.
    assert SBST.score(_answers({"q1", "q2", "q3", "q4", "q5", "q6", "q7"})) == _scores(7, 3, 2)


@pytest.mark.parametrize(("q9", "point"), [(1, 0), (2, 0), (3, 0), (4, 1), (5, 1)])
def test_bothersomeness_scores_only_very_much_and_extremely(q9, point):
    scores = SBST.score(_answers({"q5", "q6", "q7"}, q9=q9))
    assert scores["total"] == 3 + point
    assert scores["psychosocial"] == 3 + point
    # q9 moves this patient from low (3, 3) to high (4, 4).
    assert scores["risk_group"] == (3 if point else 1)


def test_maximum():
    assert SBST.score(_answers(set(STATEMENTS), q9=5)) == _scores(9, 5, 3)


@pytest.mark.parametrize("missing", STATEMENTS + ["q9"])
def test_any_missing_item_gives_no_scores(missing):
    answers = _answers(set(STATEMENTS), q9=5)
    del answers[missing]
    assert SBST.score(answers) == _scores(None, None, None)
    answers[missing] = None
    assert SBST.score(answers) == _scores(None, None, None)


def test_risk_group_rule():
    assert [risk_group(t, 0) for t in range(4)] == [1, 1, 1, 1]
    assert [risk_group(t, 3) for t in range(4, 10)] == [2] * 6
    assert [risk_group(t, p) for t, p in [(4, 4), (9, 4), (5, 5), (9, 5)]] == [3] * 4
