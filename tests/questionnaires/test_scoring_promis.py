"""PROMIS Pain Interference 4a and Physical Function 4a (the PROMIS-29 v2.1 short forms):
four items 1-5, raw sum 4-20. HealthMeasures' raw-score tables need every item answered
(its scoring instructions send incomplete short forms to response-pattern scoring), so
the raw sum is missing when an item is. The T-score and its SE come from the
HealthMeasures table of the exact form (PI: PROMIS SF v1.0 Pain Interference 4a; PF:
PROMIS SF v2.0 Physical Function 4a), shipped as data files.

The expected tables below are typed in here from the HealthMeasures scoring manuals'
short form conversion tables, independently of the data files, so a wrong digit in a
file fails a test."""

import pytest

from questionnaires.instruments import registry
from questionnaires.instruments.base import PATIENT, SCALE
from questionnaires.instruments.definitions import promis

PI = registry.get("promis_pi", 1)
PF = registry.get("promis_pf", 1)
ITEMS = ["q1", "q2", "q3", "q4"]


def _answers(values):
    return dict(zip(ITEMS, values, strict=True))


@pytest.mark.parametrize(
    ("instrument", "codes"),
    [
        (PI, ["PAININ9", "PAININ22", "PAININ31", "PAININ34"]),
        (PF, ["PFA11", "PFA21", "PFA23", "PFA53"]),
    ],
)
def test_definition(instrument, codes):
    assert instrument.respondent == PATIENT
    assert list(instrument.item_ids) == ITEMS
    # The PROMIS item codes identify the exact 4a form.
    assert [i.code for i in instrument.items] == codes
    for item in instrument.items:
        assert item.kind == SCALE and item.required and (item.min, item.max) == (1, 5)
    assert [s.name for s in instrument.scores] == ["raw", "t_score", "se"]
    raw = instrument.scores[0]
    assert (raw.min, raw.max) == (4, 20)


def test_anchor_directions():
    # Pain interference: 1 not at all .. 5 very much; physical function: 1 unable .. 5
    # without any difficulty (higher raw = more interference / better function).
    assert PI.items[0].anchors == ("Not at all", "Very much")
    assert PF.items[0].anchors == ("Unable to do", "Without any difficulty")


@pytest.mark.parametrize("instrument", [PI, PF])
def test_raw_sum(instrument):
    assert instrument.score(_answers([1, 1, 1, 1]))["raw"] == 4
    assert instrument.score(_answers([5, 5, 5, 5]))["raw"] == 20
    assert instrument.score(_answers([1, 2, 3, 4]))["raw"] == 10


@pytest.mark.parametrize("instrument", [PI, PF])
def test_missing_item_gives_no_raw_and_no_t_score(instrument):
    answers = _answers([2, 3, 4, 5])
    del answers["q2"]
    assert instrument.score(answers) == {"raw": None, "t_score": None, "se": None}


# raw: (T-score, SE), HealthMeasures PROMIS Pain Interference Scoring Manual, table
# "PROMIS SF v1.0 - Pain Interference 4a".
PI_TABLE = {
    4: (41.6, 6.1), 5: (49.6, 2.5), 6: (52.0, 2.0), 7: (53.9, 1.9), 8: (55.6, 1.9),
    9: (57.1, 1.9), 10: (58.5, 1.8), 11: (59.9, 1.8), 12: (61.2, 1.8), 13: (62.5, 1.8),
    14: (63.8, 1.8), 15: (65.2, 1.8), 16: (66.6, 1.8), 17: (68.0, 1.8), 18: (69.7, 1.9),
    19: (71.6, 2.1), 20: (75.6, 3.7),
}  # fmt: skip
# HealthMeasures PROMIS Physical Function Scoring Manual, table "PROMIS SF v2.0 -
# Physical Function 4a".
PF_TABLE = {
    4: (22.5, 4.0), 5: (26.6, 2.8), 6: (28.9, 2.5), 7: (30.5, 2.4), 8: (31.9, 2.3),
    9: (33.2, 2.3), 10: (34.4, 2.3), 11: (35.6, 2.3), 12: (36.7, 2.3), 13: (37.9, 2.3),
    14: (39.2, 2.4), 15: (40.5, 2.4), 16: (41.9, 2.5), 17: (43.5, 2.6), 18: (45.5, 2.8),
    19: (48.3, 3.3), 20: (57.0, 6.6),
}  # fmt: skip


def _answers_summing_to(raw):
    # Some answer pattern (each item 1-5) with this raw sum: short-form tables depend on
    # the sum only.
    values, left = [], raw
    for remaining in range(4, 0, -1):
        v = min(5, left - (remaining - 1))
        values.append(v)
        left -= v
    return _answers(values)


@pytest.mark.parametrize(("instrument", "table"), [(PI, PI_TABLE), (PF, PF_TABLE)])
@pytest.mark.parametrize("raw", range(4, 21))
def test_every_raw_score_matches_the_manual_table(instrument, table, raw):
    scores = instrument.score(_answers_summing_to(raw))
    assert (scores["raw"], scores["t_score"], scores["se"]) == (raw, *table[raw])


def test_manual_worked_examples():
    # The manuals' scoring steps: sum the item scores (each 1-5; a 4-item form runs from
    # 4 to 20), then read the T-score for that raw sum from the form's own table.
    # "Not at all" to every pain interference item: raw 4, T 41.6 (no interference is
    # near the population mean, hence the large SE 6.1 at the floor).
    assert PI.score(_answers([1, 1, 1, 1])) == {"raw": 4, "t_score": 41.6, "se": 6.1}
    # "Somewhat" (3) to every item: raw 12, T 61.2, about one SD above the mean.
    assert PI.score(_answers([3, 3, 3, 3])) == {"raw": 12, "t_score": 61.2, "se": 1.8}
    # "Without any difficulty" to every physical function item: raw 20, T 57.0 (the
    # ceiling, SE 6.6); "unable to do" every item: raw 4, T 22.5.
    assert PF.score(_answers([5, 5, 5, 5])) == {"raw": 20, "t_score": 57.0, "se": 6.6}
    assert PF.score(_answers([1, 1, 1, 1])) == {"raw": 4, "t_score": 22.5, "se": 4.0}
    # Different patterns with the same sum share a T-score.
    assert (
        PF.score(_answers([1, 2, 3, 4]))["t_score"]
        == PF.score(_answers([4, 3, 2, 1]))["t_score"]
        == PF_TABLE[10][0]
    )


def test_forms_are_not_mixed():
    # PROMIS SF v1.0 Physical Function 4a starts at T 22.9: we ship v2.0 (22.5).
    assert promis.t_score_table("pf")[4] == (22.5, 4.0)
    assert promis.t_score_table("pi")[20] == (75.6, 3.7)


def test_table_lookup_plumbing(tmp_path, monkeypatch):
    # A synthetic table (T = 30 + raw), NOT PROMIS values: it only checks that a table
    # file is read, that '#' source lines are skipped and that the raw sum is looked up.
    rows = "\n".join(f"{raw},{30 + raw},2.0" for raw in range(4, 21))
    (tmp_path / "promis_pi_4a_tscores.csv").write_text(
        f"# source: synthetic test table\nraw,t_score,se\n{rows}\n", encoding="utf-8"
    )
    monkeypatch.setattr(promis, "DATA_DIR", tmp_path)
    promis.t_score_table.cache_clear()
    try:
        assert PI.score(_answers([1, 2, 3, 4])) == {"raw": 10, "t_score": 40.0, "se": 2.0}
        assert PF.score(_answers([1, 2, 3, 4])) == {"raw": 10, "t_score": None, "se": None}
    finally:
        promis.t_score_table.cache_clear()


def test_incomplete_table_is_refused(tmp_path, monkeypatch):
    rows = "\n".join(f"{raw},{30 + raw},2.0" for raw in range(4, 20))  # raw 20 missing
    (tmp_path / "promis_pi_4a_tscores.csv").write_text(
        f"raw,t_score,se\n{rows}\n", encoding="utf-8"
    )
    monkeypatch.setattr(promis, "DATA_DIR", tmp_path)
    promis.t_score_table.cache_clear()
    try:
        with pytest.raises(ValueError, match="one row per raw score"):
            PI.score(_answers([1, 2, 3, 4]))
    finally:
        promis.t_score_table.cache_clear()
