"""SAFE weekly SMS tracking: pain 0-10 and days of sick leave 0-7 in the past week. A reply
may carry one answer without the other, so each score stands alone (SAFE trial
description: weekly SMS tracking of pain and sick leave in the first 12 months)."""

from questionnaires.instruments import registry
from questionnaires.instruments.base import NUMBER, PATIENT, SCALE

SMS = registry.get("sms_tracking", 1)


def test_definition():
    assert SMS.respondent == PATIENT
    assert SMS.item_ids == ("pain", "sick_leave_days")
    pain, days = SMS.item("pain"), SMS.item("sick_leave_days")
    assert pain.kind == SCALE and pain.allowed_codes() == tuple(range(0, 11))
    assert days.kind == NUMBER and days.allowed_codes() == tuple(range(0, 8))
    assert not pain.required and not days.required
    assert [s.name for s in SMS.scores] == ["pain", "sick_leave_days"]


def test_both_answers():
    assert SMS.score({"pain": 6, "sick_leave_days": 3}) == {"pain": 6, "sick_leave_days": 3}


def test_one_answer_without_the_other():
    assert SMS.score({"pain": 0}) == {"pain": 0, "sick_leave_days": None}
    assert SMS.score({"sick_leave_days": 7}) == {"pain": None, "sick_leave_days": 7}
    assert SMS.score({}) == {"pain": None, "sick_leave_days": None}
