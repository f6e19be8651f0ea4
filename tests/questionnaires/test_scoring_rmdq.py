"""Roland-Morris Disability Questionnaire (24 items). Score = number of "yes" (Roland &
Morris 1983; Roland & Fairbank, Spine 2000: an item marked not applicable is scored "no").
Roland & Fairbank give no rule for an unanswered item on a yes/no form (Kent & Lauridsen,
SDU: "There is no standard method"), so we follow: any unanswered item -> no total."""

from questionnaires.instruments import registry
from questionnaires.instruments.base import PATIENT, YESNO

RMDQ = registry.get("rmdq", 1)
ITEMS = [f"q{n}" for n in range(1, 25)]


def test_definition():
    assert RMDQ.respondent == PATIENT
    assert list(RMDQ.item_ids) == ITEMS
    assert all(i.kind == YESNO and i.required for i in RMDQ.items)
    assert len({i.text for i in RMDQ.items}) == 24
    assert [s.name for s in RMDQ.scores] == ["total"]


def test_total_counts_yes():
    assert RMDQ.score(dict.fromkeys(ITEMS, 0)) == {"total": 0}
    assert RMDQ.score(dict.fromkeys(ITEMS, 1)) == {"total": 24}
    answers = dict.fromkeys(ITEMS, 0)
    for item_id in ("q1", "q3", "q9", "q13", "q17", "q18", "q24"):
        answers[item_id] = 1
    assert RMDQ.score(answers) == {"total": 7}


def test_any_unanswered_item_gives_no_total():
    answers = dict.fromkeys(ITEMS, 1)
    del answers["q24"]
    assert RMDQ.score(answers) == {"total": None}
    answers = dict.fromkeys(ITEMS, 0)
    answers["q1"] = None
    assert RMDQ.score(answers) == {"total": None}
    assert RMDQ.score({}) == {"total": None}
