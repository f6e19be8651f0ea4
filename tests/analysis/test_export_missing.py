"""Missing-data reasons in the exports, read back from the files: CSV and Parquet give a
plain missing value and the code in <column>_reason; SPSS keeps the code as a labelled
user-missing value; Stata an extended missing value (.a-.e) with a label; the codebook
lists the codes; the analysis dataset treats every reason as missing."""

import pandas as pd
import pyreadstat
import pytest

from analysis import exports
from analysis.missing_export import REASON_LABELS, STATA_MISSING
from analysis.plan.dataset import reasons_as_missing, validate_dataset
from questionnaires import missing, not_done
from questionnaires.services.saving import correct_response
from tests.analysis.exportdata import make_trial_data
from tests.conftest import use_betterback_built_once

pytestmark = pytest.mark.django_db
betterback = use_betterback_built_once()  # loaded once for the module


@pytest.fixture
def data(betterback, coordinator):
    people = make_trial_data(betterback, per_clinic=1)
    p = people[0]
    odi = p.responses.get(timepoint__code="baseline", instrument="odi", entry=0)
    answers = {k: v for k, v in odi.answers.items() if k != "q8"}
    correct_response(odi, answers, "patient refused", coordinator, {"q8": missing.REFUSED})
    eq5d = p.responses.get(timepoint__code="baseline", instrument="eq5d3l", entry=0)
    answers = {k: v for k, v in eq5d.answers.items() if k != "mo"}
    correct_response(eq5d, answers, "page lost", coordinator, {"mo": missing.LOST})
    three = p.responses.get(timepoint__code="3m", instrument="odi", entry=0)
    three._change_reason = "entered against the wrong participant"
    three.delete()
    not_done.mark_not_done(
        participant=p,
        timepoint=three.timepoint,
        instrument="odi",
        code=missing.NOT_DONE,
        why="no time at the visit",
        user=coordinator,
    )
    return people


def test_csv_has_a_plain_missing_value_and_a_parallel_reason_column(betterback, data, tmp_path):
    p, other = data[0], data[1]
    exports.write_export(betterback, tmp_path / "w.csv", "csv", "wide", "item")
    df = pd.read_csv(tmp_path / "w.csv").set_index("study_id")
    assert pd.isna(df.loc[p.study_id, "odi_q8_baseline"])
    assert df.loc[p.study_id, "odi_q8_baseline_reason"] == missing.REFUSED
    assert df.loc[p.study_id, "eq5d3l_mo_baseline_reason"] == missing.LOST
    assert pd.isna(df.loc[p.study_id, "odi_q1_baseline_reason"])
    assert not pd.isna(df.loc[p.study_id, "odi_q1_baseline"])
    assert df.loc[p.study_id, "odi_q1_3m_reason"] == missing.NOT_DONE
    assert df[[c for c in df.columns if c.endswith("_reason")]].loc[other.study_id].isna().all()
    columns = list(df.columns)
    assert columns.index("odi_q8_baseline_reason") == columns.index("odi_q8_baseline") + 1

    # Score level: the not-done questionnaire's scores carry its reason; a score missing
    # because of missing items (none here) would have none.
    exports.write_export(betterback, tmp_path / "s.csv", "csv", "wide", "score")
    df = pd.read_csv(tmp_path / "s.csv").set_index("study_id")
    assert pd.isna(df.loc[p.study_id, "odi_odi_3m"])
    assert df.loc[p.study_id, "odi_odi_3m_reason"] == missing.NOT_DONE
    assert df.loc[p.study_id, "odi_odi_baseline"] == pytest.approx(
        p.responses.get(timepoint__code="baseline", instrument="odi", entry=0).scores["odi"]
    )
    assert pd.isna(df.loc[p.study_id, "odi_odi_baseline_reason"])
    assert pd.isna(df.loc[p.study_id, "eq5d3l_index_baseline"])  # a dimension lost

    book = pd.read_csv(tmp_path / "w_codebook.csv", keep_default_na=False).set_index("name")
    labels = book.loc["odi_q8_baseline_reason", "value_labels"]
    for code, label in REASON_LABELS.items():
        assert f"{code}={label}" in labels


def test_parquet_has_a_null_and_the_reason_column(betterback, data, tmp_path):
    p = data[0]
    exports.write_export(betterback, tmp_path / "w.parquet", "parquet", "wide", "item")
    df = pd.read_parquet(tmp_path / "w.parquet").set_index("study_id")
    assert pd.isna(df.loc[p.study_id, "odi_q8_baseline"])
    assert df.loc[p.study_id, "odi_q8_baseline_reason"] == missing.REFUSED


def test_long_csv_has_value_reason(betterback, data, tmp_path):
    p = data[0]
    exports.write_export(betterback, tmp_path / "l.csv", "csv", "long", "item")
    df = pd.read_csv(tmp_path / "l.csv")
    row = df[(df.study_id == p.study_id) & (df.timepoint == "baseline")]
    q8 = row[row.variable == "odi_q8"].iloc[0]
    assert pd.isna(q8["value"]) and q8["value_reason"] == missing.REFUSED
    q1 = row[row.variable == "odi_q1"].iloc[0]
    assert not pd.isna(q1["value"]) and pd.isna(q1["value_reason"])


def test_spss_keeps_the_code_as_a_labelled_user_missing_value(betterback, data, tmp_path):
    p = data[0]
    exports.write_export(betterback, tmp_path / "w.sav", "sav", "wide", "item")
    plain, _ = pyreadstat.read_sav(str(tmp_path / "w.sav"))
    plain = plain.set_index("study_id")
    assert pd.isna(plain.loc[p.study_id, "odi_q8_baseline"])  # missing in every computation
    coded, meta = pyreadstat.read_sav(str(tmp_path / "w.sav"), user_missing=True)
    coded = coded.set_index("study_id")
    assert coded.loc[p.study_id, "odi_q8_baseline"] == missing.REFUSED
    assert coded.loc[p.study_id, "eq5d3l_mo_baseline"] == missing.LOST
    assert meta.missing_ranges["odi_q8_baseline"] == [{"lo": -99.0, "hi": -95.0}]
    assert meta.variable_value_labels["odi_q8_baseline"][-98.0] == REASON_LABELS[-98]
    assert meta.variable_value_labels["odi_q8_baseline"][0.0]  # the answer labels stay

    exports.write_export(betterback, tmp_path / "l.sav", "sav", "long", "item")
    coded, meta = pyreadstat.read_sav(str(tmp_path / "l.sav"), user_missing=True)
    row = coded[
        (coded.study_id == p.study_id)
        & (coded.timepoint == "baseline")
        & (coded.variable == "odi_q8")
    ].iloc[0]
    assert row["value"] == missing.REFUSED and row["value_reason"] == missing.REFUSED
    assert meta.missing_ranges["value"] == [{"lo": -99.0, "hi": -95.0}]


def test_stata_has_extended_missing_values_with_labels(betterback, data, tmp_path):
    p = data[0]
    exports.write_export(betterback, tmp_path / "w.dta", "dta", "wide", "item")
    plain, _ = pyreadstat.read_dta(str(tmp_path / "w.dta"))
    plain = plain.set_index("study_id")
    assert pd.isna(plain.loc[p.study_id, "odi_q8_baseline"])
    coded, meta = pyreadstat.read_dta(str(tmp_path / "w.dta"), user_missing=True)
    coded = coded.set_index("study_id")
    assert coded.loc[p.study_id, "odi_q8_baseline"] == STATA_MISSING[missing.REFUSED] == "b"
    assert coded.loc[p.study_id, "eq5d3l_mo_baseline"] == "e"
    assert coded.loc[p.study_id, "odi_q1_3m"] == "a"
    assert meta.variable_value_labels["odi_q8_baseline"]["b"] == REASON_LABELS[missing.REFUSED]
    assert "b" in meta.missing_user_values["odi_q8_baseline"]  # the values present
    # pandas reads the same file: extended missing values are NaN.
    df = pd.read_stata(tmp_path / "w.dta", convert_categoricals=False).set_index("study_id")
    assert pd.isna(df.loc[p.study_id, "odi_q8_baseline"])


def test_the_analysis_dataset_treats_every_reason_as_missing(betterback, data):
    p = data[0]
    df = exports.analysis_dataset(betterback)
    mine = df[df.study_id == p.study_id].set_index("timepoint_months")
    odi = p.responses.get(timepoint__code="baseline", instrument="odi", entry=0)
    assert odi.scores["sections_answered"] == 9  # refused sex life: denominator 45
    assert mine.loc[0, "odi"] == pytest.approx(odi.scores["odi"])
    assert pd.isna(mine.loc[0, "eq5d_index"])  # one dimension lost: no index
    assert pd.isna(mine.loc[3, "odi"])  # not done
    assert not any(c.endswith("_reason") for c in df.columns)


def test_reason_codes_read_back_as_values_are_made_missing():
    df = pd.DataFrame(
        {
            "study_id": ["a", "a", "b", "b"],
            "cluster": [1, 1, 2, 2],
            "clinic": ["W", "W", "E", "E"],
            "condition": ["control", "control", "intervention", "intervention"],
            "timepoint_months": [0, 3, 0, 3],
            "crossover_washout": [False] * 4,
            "sbst_risk_group": [1, 1, 2, 2],
            "odi": [30.0, -99.0, 20.0, -95.0],
            "odi_reason": [None, -99, None, -95],
        }
    )
    problems = validate_dataset(df, scores=["odi"])
    assert any("reason codes" in p for p in problems)
    clean = reasons_as_missing(df)
    assert clean["odi"].isna().tolist() == [False, True, False, True]
    assert clean["odi_reason"].tolist()[1] == -99  # the reason column itself is kept
    assert validate_dataset(clean, scores=["odi"]) == []
