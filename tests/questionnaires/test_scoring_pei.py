"""Patient Enablement Instrument (Howie et al., Fam Pract 1998): six items, "much better
(more)" 2, "better (more)" 1, "same or less" 0, "not applicable" 0; total 0-12. Scoring
"not applicable" as 0 follows the usual PEI scoring after Howie (the published papers we
could reach give the 2/1/0 points and the 0-12 range; see the module). A blank item is
not "not applicable": no published rule fills it, so the total is then missing."""

from questionnaires.instruments import registry
from questionnaires.instruments.base import CHOICE, PATIENT
from questionnaires.instruments.definitions.pei import NOT_APPLICABLE

PEI = registry.get("pei", 1)
ITEMS = [f"q{n}" for n in range(1, 7)]
NA = NOT_APPLICABLE


def _answers(values):
    return dict(zip(ITEMS, values, strict=True))


def test_definition():
    assert PEI.respondent == PATIENT
    assert list(PEI.item_ids) == ITEMS
    for item in PEI.items:
        assert item.kind == CHOICE and item.required
        assert item.allowed_codes() == (2, 1, 0, NA)
    assert NA not in (0, 1, 2)  # "not applicable" must stay distinguishable from "same or less"
    total = PEI.scores[0]
    assert (total.name, total.min, total.max) == ("total", 0, 12)


def test_range_ends():
    assert PEI.score(_answers([2] * 6)) == {"total": 12}
    assert PEI.score(_answers([0] * 6)) == {"total": 0}


def test_worked_example():
    # 2 + 1 + 0 + 0 (not applicable) + 2 + 1 = 6
    assert PEI.score(_answers([2, 1, 0, NA, 2, 1])) == {"total": 6}


def test_not_applicable_scores_zero():
    assert PEI.score(_answers([2, 2, 2, 2, 2, NA])) == {"total": 10}
    assert PEI.score(_answers([NA] * 6)) == {"total": 0}


def test_blank_item_gives_no_total():
    answers = _answers([2, 1, 0, 1, 2, 1])
    del answers["q4"]
    assert PEI.score(answers) == {"total": None}
    assert PEI.score(dict(_answers([2] * 6), q6=None)) == {"total": None}
    assert PEI.score({}) == {"total": None}
