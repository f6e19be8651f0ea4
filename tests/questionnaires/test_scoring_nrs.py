"""NRS for low back pain and leg pain during the latest week (BetterBack trial protocol:
11-point scale, 0 "No pain" to 10 "Worst imaginable pain")."""

from questionnaires.instruments import registry
from questionnaires.instruments.base import PATIENT, SCALE

NRS = registry.get("nrs", 1)


def test_definition():
    assert NRS.respondent == PATIENT
    assert NRS.item_ids == ("back", "leg")
    for item in NRS.items:
        assert item.kind == SCALE and item.required
        assert item.allowed_codes() == tuple(range(11))
        assert item.anchors == ("No pain", "Worst imaginable pain")
    assert [s.name for s in NRS.scores] == ["back", "leg"]


def test_each_score_is_its_item_value():
    assert NRS.score({"back": 7, "leg": 3}) == {"back": 7, "leg": 3}
    assert NRS.score({"back": 0, "leg": 10}) == {"back": 0, "leg": 10}


def test_unanswered_item_gives_none_for_its_score_only():
    assert NRS.score({"back": 4}) == {"back": 4, "leg": None}
    assert NRS.score({"back": None, "leg": 2}) == {"back": None, "leg": 2}
    assert NRS.score({}) == {"back": None, "leg": None}


NRS_V2 = registry.get("nrs", 2)


def test_version_2_adds_average_and_worst_of_the_preceding_week():
    # selfBACK's secondary outcomes; version 1's items stay as they were, so its stored
    # answers keep their meaning.
    assert NRS_V2.item_ids == ("back", "leg", "back_average", "back_worst")
    assert NRS_V2.items[:2] == NRS.items
    assert [s.name for s in NRS_V2.scores] == ["back", "leg", "back_average", "back_worst"]
    assert NRS_V2.score({"back": 5, "leg": 1, "back_average": 4, "back_worst": 8}) == {
        "back": 5,
        "leg": 1,
        "back_average": 4,
        "back_worst": 8,
    }
    assert NRS_V2.score({"back": 5})["back_worst"] is None
    assert registry.get("nrs") is NRS_V2
