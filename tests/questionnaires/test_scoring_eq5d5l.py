"""EQ-5D-5L index from value sets kept as data (questionnaires/valuesets/eq5d5l_*.json).

Expected values are worked by hand from the published coefficients and cross-checked
against the R package eq5d (fragla/eq5d, tests/testthat/test-eq5d5l.R, 3 decimals).
- SE: Burström et al. 2020, experience-based TTO. 11111 = 0.9755 as published.
- DK: Jensen et al. 2021. 11111 = 1.
"""

import itertools

import pytest

from questionnaires.instruments import registry
from questionnaires.instruments.base import CHOICE, PATIENT
from questionnaires.instruments.definitions import eq5d

EQ5D5L = registry.get("eq5d5l", 1)
DIMS = ("mo", "sc", "ua", "pd", "ad")


def _answers(profile, vas=None):
    answers = dict(zip(DIMS, (int(c) for c in profile), strict=True))
    if vas is not None:
        answers["vas"] = vas
    return answers


def test_definition():
    assert EQ5D5L.respondent == PATIENT
    assert EQ5D5L.item_ids == DIMS + ("vas",)
    for d in DIMS:
        item = EQ5D5L.item(d)
        assert item.kind == CHOICE and item.required
        assert item.allowed_codes() == (1, 2, 3, 4, 5)
    assert EQ5D5L.item("vas").allowed_codes() == tuple(range(101))
    assert [s.name for s in EQ5D5L.scores] == ["index", "vas", "profile"]


def test_value_sets_available_for_protocol_validation():
    assert eq5d.value_sets("eq5d5l") == ["DK", "SE"]
    assert EQ5D5L.options["value_set"] == ("DK", "SE")


# (value set, profile, index by hand, R eq5d expected value)
CASES = [
    # SE, Burström 2020: start 0.9755; N5 0.0023 if any level 5.
    ("SE", "11111", 0.9755, 0.975),
    ("SE", "22222", 0.9755 - 0.0287 - 0.0254 - 0.0549 - 0.0108 - 0.0325, None),
    ("SE", "12345", 0.9755 - 0.0254 - 0.1143 - 0.1024 - 0.2339 - 0.0023, 0.497),
    ("SE", "22335", 0.9755 - 0.0287 - 0.0254 - 0.1143 - 0.0428 - 0.2339 - 0.0023, 0.528),
    ("SE", "34543", 0.9755 - 0.0346 - 0.0824 - 0.1639 - 0.1024 - 0.0868 - 0.0023, 0.503),
    ("SE", "55555", 0.9755 - 0.0523 - 0.0824 - 0.1639 - 0.1974 - 0.2339 - 0.0023, 0.243),
    # DK, Jensen 2021: start 1, main effects only.
    ("DK", "11111", 1.0, 1.0),
    ("DK", "21111", 1 - 0.041, None),
    ("DK", "13224", 1 - 0.050 - 0.033 - 0.048 - 0.430, 0.439),
    ("DK", "55555", 1 - 0.220 - 0.209 - 0.174 - 0.537 - 0.618, -0.758),
]


@pytest.mark.parametrize(("value_set", "profile", "by_hand", "r_eq5d"), CASES)
def test_index_worked_examples(value_set, profile, by_hand, r_eq5d):
    scores = EQ5D5L.score(_answers(profile, vas=40), value_set=value_set)
    assert scores["index"] == pytest.approx(by_hand, abs=1e-9)
    if r_eq5d is not None:
        assert scores["index"] == pytest.approx(r_eq5d, abs=0.0011)
    assert scores["profile"] == profile
    assert scores["vas"] == 40


def test_worst_states_by_hand():
    worst = _answers("55555")
    assert EQ5D5L.score(worst, value_set="SE")["index"] == pytest.approx(0.2433)
    assert EQ5D5L.score(worst, value_set="DK")["index"] == pytest.approx(-0.758)


def test_default_value_set_is_swedish():
    assert EQ5D5L.score(_answers("11111"))["index"] == pytest.approx(0.9755)


def test_full_health_convention_is_explicit_in_the_data():
    sets = eq5d._value_sets("eq5d5l")
    assert {code: vs["full_health_is_one"] for code, vs in sets.items()} == {
        "DK": True,
        "SE": False,
    }


def test_missing_dimension_gives_no_index_or_profile():
    answers = _answers("12345", vas=80)
    answers["mo"] = None
    assert EQ5D5L.score(answers) == {"index": None, "vas": 80, "profile": None}
    assert EQ5D5L.score({}) == {"index": None, "vas": None, "profile": None}


def test_a_3l_value_set_name_is_not_borrowed():
    with pytest.raises(ValueError):
        EQ5D5L.score(_answers("11111"), value_set="UK")


@pytest.mark.parametrize("value_set", ["SE", "DK"])
def test_a_worse_level_never_raises_the_index(value_set):
    # Logical consistency of each data file over all 3125 states.
    for profile in itertools.product(range(1, 6), repeat=5):
        state = dict(zip(DIMS, profile, strict=True))
        index = eq5d.index_value("eq5d5l", state, value_set)
        for d, level in state.items():
            if level < 5:
                worse = dict(state, **{d: level + 1})
                assert eq5d.index_value("eq5d5l", worse, value_set) <= index + 1e-12
