"""EQ-5D-3L index from value sets kept as data (questionnaires/valuesets/eq5d3l_*.json).

Expected values are worked by hand from the published coefficients (each set's source is
in its data file) and cross-checked against the tests of the R package eq5d
(fragla/eq5d, tests/testthat/test-eq5d3l.R), which print values rounded to 3 decimals.
- UK: Dolan 1997, TTO. 11111 = 1.
- SE: Burström et al. 2014, experience-based TTO. 11111 = 0.9694 as published (no override).
- DK: Wittrup-Jensen et al. 2009, TTO. 11111 = 1.
"""

import itertools
import json
from decimal import Decimal

import pytest

from questionnaires.instruments import registry
from questionnaires.instruments.base import CHOICE, PATIENT, SCALE
from questionnaires.instruments.definitions import eq5d

EQ5D3L = registry.get("eq5d3l", 1)
DIMS = ("mo", "sc", "ua", "pd", "ad")


def _answers(profile, vas=None):
    answers = dict(zip(DIMS, (int(c) for c in profile), strict=True))
    if vas is not None:
        answers["vas"] = vas
    return answers


def test_definition():
    assert EQ5D3L.respondent == PATIENT
    assert EQ5D3L.item_ids == DIMS + ("vas",)
    for d in DIMS:
        item = EQ5D3L.item(d)
        assert item.kind == CHOICE and item.required
        assert item.allowed_codes() == (1, 2, 3)
    vas = EQ5D3L.item("vas")
    assert vas.kind == SCALE and (vas.min, vas.max) == (0, 100) and vas.anchors
    assert [s.name for s in EQ5D3L.scores] == ["index", "vas", "profile"]


def test_value_sets_available_for_protocol_validation():
    assert eq5d.value_sets("eq5d3l") == ["DK", "SE", "UK"]
    assert EQ5D3L.options["value_set"] == ("DK", "SE", "UK")
    assert EQ5D3L.options["default_value_set"] == "SE"
    with pytest.raises(KeyError):
        eq5d.value_sets("odi")


# (value set, profile, index by hand from the coefficients, R eq5d expected value)
CASES = [
    # UK, Dolan 1997: constant 0.081 if any level > 1; N3 0.269 if any level 3.
    ("UK", "11111", 1.0, 1.0),
    ("UK", "11221", 1 - 0.081 - 0.036 - 0.123, 0.760),
    ("UK", "12321", 1 - 0.081 - 0.104 - 0.094 - 0.123 - 0.269, 0.329),
    ("UK", "33221", 1 - 0.081 - 0.314 - 0.214 - 0.036 - 0.123 - 0.269, -0.037),
    ("UK", "33333", 1 - 0.081 - 0.314 - 0.214 - 0.094 - 0.386 - 0.236 - 0.269, -0.594),
    # SE, Burström 2014: start 0.9694, no constant; N3 0.0433 if any level 3.
    ("SE", "11111", 0.9694, 0.969),
    ("SE", "11121", 0.9694 - 0.0345, 0.935),
    ("SE", "12321", 0.9694 - 0.0276 - 0.1355 - 0.0345 - 0.0433, 0.728),
    ("SE", "12313", 0.9694 - 0.0276 - 0.1355 - 0.2077 - 0.0433, 0.555),
    ("SE", "22223", 0.9694 - 0.0666 - 0.0276 - 0.1012 - 0.0345 - 0.2077 - 0.0433, 0.489),
    ("SE", "32323", 0.9694 - 0.1247 - 0.0276 - 0.1355 - 0.0345 - 0.2077 - 0.0433, 0.396),
    ("SE", "33233", 0.9694 - 0.1247 - 0.0276 - 0.1012 - 0.0904 - 0.2077 - 0.0433, 0.375),
    ("SE", "33333", 0.9694 - 0.1247 - 0.0276 - 0.1355 - 0.0904 - 0.2077 - 0.0433, 0.340),
    # DK, Wittrup-Jensen 2009: constant 0.114 if any level > 1; no N3 term.
    ("DK", "11111", 1.0, 1.0),
    ("DK", "12111", 1 - 0.114 - 0.063, 0.823),
    ("DK", "12121", 1 - 0.114 - 0.063 - 0.062, 0.761),
    # R's test has -0.018 (tolerance 0.0011): the published table rounds from more digits.
    ("DK", "32123", 1 - 0.114 - 0.411 - 0.063 - 0.062 - 0.367, -0.018),
    ("DK", "32323", 1 - 0.114 - 0.411 - 0.063 - 0.144 - 0.062 - 0.367, -0.161),
    ("DK", "33333", 1 - 0.114 - 0.411 - 0.192 - 0.144 - 0.396 - 0.367, -0.624),
]


@pytest.mark.parametrize(("value_set", "profile", "by_hand", "r_eq5d"), CASES)
def test_index_worked_examples(value_set, profile, by_hand, r_eq5d):
    scores = EQ5D3L.score(_answers(profile, vas=70), value_set=value_set)
    assert scores["index"] == pytest.approx(by_hand, abs=1e-9)
    assert scores["index"] == pytest.approx(r_eq5d, abs=0.0011)
    assert scores["profile"] == profile
    assert scores["vas"] == 70


def test_worst_states_by_hand():
    worst = _answers("33333")
    assert EQ5D3L.score(worst, value_set="UK")["index"] == pytest.approx(-0.594)
    assert EQ5D3L.score(worst, value_set="SE")["index"] == pytest.approx(0.3402)
    assert EQ5D3L.score(worst, value_set="DK")["index"] == pytest.approx(-0.624)


def test_default_value_set_is_swedish():
    assert EQ5D3L.score(_answers("11121"))["index"] == pytest.approx(0.9349)


def test_full_health_convention_is_explicit_in_the_data():
    sets = eq5d._value_sets("eq5d3l")
    assert {code: vs["full_health_is_one"] for code, vs in sets.items()} == {
        "UK": True,
        "DK": True,
        "SE": False,
    }
    assert all(vs["source"] and vs["full_health_note"] for vs in sets.values())


def test_missing_dimension_gives_no_index_or_profile_but_keeps_vas():
    answers = _answers("12321", vas=55)
    del answers["ad"]
    assert EQ5D3L.score(answers) == {"index": None, "vas": 55, "profile": None}
    answers["ad"] = None
    assert EQ5D3L.score(answers, value_set="UK") == {"index": None, "vas": 55, "profile": None}


def test_missing_vas_only():
    assert EQ5D3L.score(_answers("11111"), value_set="UK") == {
        "index": 1.0,
        "vas": None,
        "profile": "11111",
    }


def test_unknown_value_set_is_an_error():
    with pytest.raises(ValueError, match="available"):
        EQ5D3L.score(_answers("11111"), value_set="XX")


@pytest.mark.parametrize("value_set", ["UK", "SE", "DK"])
def test_a_worse_level_never_raises_the_index(value_set):
    # Logical consistency of each data file over all 243 states.
    for profile in itertools.product((1, 2, 3), repeat=5):
        state = dict(zip(DIMS, profile, strict=True))
        index = eq5d.index_value("eq5d3l", state, value_set)
        for d, level in state.items():
            if level < 3:
                worse = dict(state, **{d: level + 1})
                assert eq5d.index_value("eq5d3l", worse, value_set) <= index + 1e-12


def test_malformed_value_set_file_is_rejected(tmp_path):
    bad = {"instrument": "eq5d3l", "source": "x", "full_health_is_one": True}
    bad["decrements"] = {d: [0, 0.1] for d in DIMS}  # two levels for a 3-level set
    with pytest.raises(ValueError, match="levels"):
        eq5d._check_value_set(bad, "eq5d3l", tmp_path / "eq5d3l_xx.json")
    with pytest.raises(ValueError, match="full health"):
        eq5d._check_value_set({"instrument": "eq5d3l", "source": "x"}, "eq5d3l", tmp_path)


@pytest.mark.parametrize("code", ["eq5d3l", "eq5d5l"])
def test_every_index_is_the_exact_decimal_sum_of_its_coefficients(code):
    """SAFE's export showed -0.01200000000000001: the index is the decimal sum, no noise."""
    levels = range(1, 4) if code == "eq5d3l" else range(1, 6)
    for value_set in eq5d.value_sets(code):
        path = eq5d.VALUESET_DIR / f"{code}_{value_set.lower()}.json"
        vs = json.loads(path.read_text(), parse_float=Decimal)
        for profile in itertools.product(levels, repeat=5):
            state = dict(zip(eq5d.DIMENSIONS, profile, strict=True))
            if all(level == 1 for level in profile) and vs["full_health_is_one"]:
                continue
            exact = vs["start"] - (vs["constant"] if any(v > 1 for v in profile) else 0)
            exact -= sum(vs["decrements"][d][state[d] - 1] for d in eq5d.DIMENSIONS)
            exact -= sum(dec for lv, dec in vs["any_at_level"].items() if int(lv) in profile)
            assert eq5d.index_value(code, state, value_set) == float(exact), (value_set, profile)
