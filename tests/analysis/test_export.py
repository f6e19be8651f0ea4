"""Exports: every format and shape, labels in .sav/.dta, the codebook, pseudonymisation,
blinding, logging and the analysis dataset format."""

from datetime import date

import pandas as pd
import pyreadstat
import pytest
from django.core.management import call_command

from analysis import exports
from analysis.missing_export import REASON_LABELS
from analysis.models import BlindingCode, ExportLog
from analysis.plan.dataset import validate_dataset
from enrolment.models import Participant, PersonalDetails, Trial
from tests.analysis.exportdata import make_trial_data
from tests.built_once import rolled_back
from tests.conftest import use_betterback_built_once

pytestmark = pytest.mark.django_db
betterback = use_betterback_built_once()  # loaded once for the module


@pytest.fixture(scope="module")
def _data(_betterback_once, django_db_blocker):
    """Built once for the module (tests/built_once.py): every test here only exports it."""
    with rolled_back(django_db_blocker):
        trial = Trial.objects.get(pk=_betterback_once)
        yield [p.pk for p in make_trial_data(trial, per_clinic=2)]


@pytest.fixture
def data(_data, betterback):
    by_pk = Participant.objects.in_bulk(_data)
    return [by_pk[pk] for pk in _data]


def _read(path, fmt):
    if fmt == "csv":
        return pd.read_csv(path, dtype=str, keep_default_na=False)
    if fmt == "parquet":
        return pd.read_parquet(path)
    if fmt == "sav":
        return pyreadstat.read_sav(str(path))[0]
    return pyreadstat.read_dta(str(path))[0]


@pytest.mark.parametrize("fmt", exports.FORMATS)
@pytest.mark.parametrize("shape,level", [("long", "score"), ("long", "item"), ("wide", "score"),
                                         ("wide", "item"), ("analysis", "score")])
def test_every_format_and_shape_with_a_codebook_of_exactly_its_columns(
    betterback, data, tmp_path, fmt, shape, level
):
    path = tmp_path / f"out.{fmt}"
    log = exports.write_export(betterback, path, fmt, shape, level, user_label="test")
    df = _read(path, fmt)
    book = pd.read_csv(tmp_path / "out_codebook.csv", dtype=str, keep_default_na=False)
    assert list(book["name"]) == list(df.columns)
    assert (tmp_path / "out_codebook.html").read_text().count("<tr") == len(book) + 1
    assert len(df) == log.rows
    expected = {"wide": len(data), "analysis": 4 * len(data)}
    if shape in expected:
        assert len(df) == expected[shape]
    assert not book["label"].eq("").any()
    if shape != "analysis":
        assert "age_at_enrolment" in df.columns


def test_long_rows_are_final_completed_responses_only(betterback, data, tmp_path):
    exports.write_export(betterback, tmp_path / "l.csv", "csv", "long", "score")
    df = pd.read_csv(tmp_path / "l.csv")
    odi = df[(df.variable == "odi_odi") & (df.study_id == data[0].study_id)]
    # baseline, 3, 6, 12 months; the paper first-entry copy at 3 months is not exported
    assert list(odi.timepoint) == ["baseline", "3m", "6m", "12m"]
    assert set(odi.entry_mode) == {"patient_online"}
    final = data[0].responses.get(timepoint__code="3m", instrument="odi", entry=0)
    assert odi[odi.timepoint == "3m"].value.item() == pytest.approx(final.scores["odi"])
    assert odi[odi.timepoint == "3m"].days_from_baseline.item() == 91


def test_wide_names_and_values(betterback, data, tmp_path):
    exports.write_export(betterback, tmp_path / "w.csv", "csv", "wide", "score")
    df = pd.read_csv(tmp_path / "w.csv").set_index("study_id")
    p = data[0]
    r = p.responses.get(timepoint__code="12m", instrument="odi", entry=0)
    assert df.loc[p.study_id, "odi_odi_12m"] == pytest.approx(r.scores["odi"])
    sbst = p.responses.get(timepoint__code="baseline", instrument="sbst")
    assert df.loc[p.study_id, "sbst_risk_group"] == sbst.scores["risk_group"]
    assert df.loc[p.study_id, "condition"] == "intervention"  # west crossed over in April
    assert df.loc[p.study_id, "age_at_enrolment"] == 47  # born 1970-03-01, enrolled 2017-05-03
    assert df.loc[p.study_id, "enrolment_date"] == "2017-05-03"
    assert "crpe_impairment_score_crpe_first" in df.columns


def test_sav_keeps_variable_and_value_labels(betterback, data, tmp_path):
    exports.write_export(betterback, tmp_path / "w.sav", "sav", "wide", "item")
    df, meta = pyreadstat.read_sav(str(tmp_path / "w.sav"))
    labels = dict(zip(meta.column_names, meta.column_labels, strict=True))
    assert labels["sbst_risk_group"] == "STarT Back risk group at baseline"
    assert meta.variable_value_labels["sbst_risk_group"] == {
        1.0: "Low risk", 2.0: "Medium risk", 3.0: "High risk"
    }
    assert meta.variable_value_labels["crossover_washout"] == {1.0: "Yes", 0.0: "No"}
    # Item columns also label the missing-data reason codes (user-missing in SPSS).
    assert meta.variable_value_labels["sbst_q1_baseline"] == {
        1.0: "Yes", 0.0: "No", **{float(k): v for k, v in REASON_LABELS.items()}
    }
    assert "odi_q1_3m" in meta.variable_value_labels
    assert labels["odi_q1_3m"].endswith("(3 months)")


def test_dta_names_fit_stata_and_the_codebook_uses_them(betterback, data, tmp_path):
    exports.write_export(betterback, tmp_path / "w.dta", "dta", "wide", "score")
    df, meta = pyreadstat.read_dta(str(tmp_path / "w.dta"))
    assert max(len(c) for c in df.columns) <= 32
    long_name = "crpe_impairment_items_graded_crpe_first"
    assert exports.stata_name(long_name) in df.columns
    book = pd.read_csv(tmp_path / "w_codebook.csv")
    assert list(book.name) == list(df.columns)
    assert meta.variable_value_labels["sbst_risk_group"][3.0] == "High risk"


@pytest.mark.parametrize("fmt", exports.FORMATS)
@pytest.mark.parametrize("shape,level", [("long", "item"), ("wide", "item"), ("wide", "score")])
def test_no_personal_identifiers_in_any_output(betterback, data, tmp_path, fmt, shape, level):
    path = tmp_path / f"x.{fmt}"
    exports.write_export(betterback, path, fmt, shape, level)
    blob = b"".join(p.read_bytes() for p in tmp_path.iterdir())
    for pd_ in PersonalDetails.objects.filter(participant__in=data):
        for value in (pd_.full_name, pd_.national_id, pd_.email, pd_.mobile,
                      pd_.date_of_birth.isoformat(), pd_.date_of_birth.strftime("%d/%m/%Y")):
            assert value.encode() not in blob, value
    for word in (b"full_name", b"national_id", b"date_of_birth", b"email", b"mobile"):
        assert word not in blob


def test_blinded_export_uses_the_coordinators_codes(betterback, data, tmp_path):
    exports.write_export(betterback, tmp_path / "b.csv", "csv", "wide", "score", blinded=True)
    df = pd.read_csv(tmp_path / "b.csv")
    codes = dict(BlindingCode.objects.filter(trial=betterback).values_list("arm", "code"))
    assert sorted(codes.values()) == ["A", "B"]
    assert set(df.condition) == set(codes.values())
    by_id = {p.study_id: codes[p.condition] for p in data}
    assert all(df.set_index("study_id").condition[k] == v for k, v in by_id.items())
    assert "intervention" not in (tmp_path / "b.csv").read_text()
    book = pd.read_csv(tmp_path / "b_codebook.csv").set_index("name")
    assert book.loc["condition", "value_labels"] == "A=Blinded arm A; B=Blinded arm B"
    # the mapping is drawn once and then kept
    exports.write_export(betterback, tmp_path / "c.csv", "csv", "long", "score", blinded=True)
    assert dict(BlindingCode.objects.filter(trial=betterback).values_list("arm", "code")) == codes
    assert ExportLog.objects.filter(blinded=True).count() == 2


def test_analysis_dataset_passes_the_plans_validator(betterback, data):
    df = exports.analysis_dataset(betterback)
    scores = ["nrs_back", "odi", "eq5d_index", "bipq_total", "pgic"]
    assert validate_dataset(df, scores) == []
    assert df.pgic[df.timepoint_months == 0].isna().all()
    assert df.pgic[df.timepoint_months == 3].notna().all()
    assert set(df.cluster) == {1, 2, 3}
    first = df[df.study_id == data[0].study_id].set_index("timepoint_months")
    r = data[0].responses.get(timepoint__code="6m", instrument="nrs")
    assert first.loc[6, "nrs_back"] == r.scores["back"]


def test_export_is_logged_by_the_command(betterback, data, statistician, tmp_path):
    out = tmp_path / "cmd.sav"
    call_command("export", "betterback", "--format", "sav", "--shape", "long", "--level",
                 "item", "--out", str(out))
    call_command("export", "betterback", "--format", "parquet", "--shape", "analysis",
                 "--out", str(tmp_path / "a.parquet"), "--user", "statistician", "--blinded")
    first, second = ExportLog.objects.order_by("id")
    assert (first.user, first.user_label, first.format, first.shape, first.level) == (
        None, "command line", "sav", "long", "item")
    assert first.rows == len(pyreadstat.read_sav(str(out))[0]) and first.file_name == "cmd.sav"
    assert (second.user, second.blinded, second.rows) == (statistician, True, 4 * len(data))
    assert pd.read_parquet(tmp_path / "a.parquet").condition.isin(["A", "B"]).all()


def test_withdrawal_and_status_are_exported(betterback, data, tmp_path):
    from enrolment.actions.status import withdraw_participant

    p = data[1]
    withdraw_participant(p, date(2017, 8, 1), "moved away", scope=p.FOLLOW_UP_ONLY)
    exports.write_export(betterback, tmp_path / "w.csv", "csv", "wide", "score")
    row = pd.read_csv(tmp_path / "w.csv").set_index("study_id").loc[p.study_id]
    assert (row.status, row.withdrawn) == ("withdrawn", "2017-08-01")


def test_death_and_its_date_are_exported(betterback, data, tmp_path):
    from enrolment.actions.status import record_death

    p = data[2]
    record_death(p, date(2017, 9, 3), "informed by the clinic", today=date(2018, 1, 1))
    exports.write_export(betterback, tmp_path / "d.csv", "csv", "wide", "score")
    table = pd.read_csv(tmp_path / "d.csv").set_index("study_id")
    assert (table.loc[p.study_id].status, table.loc[p.study_id].died) == ("died", "2017-09-03")
    assert table.drop(p.study_id).died.isna().all()


def test_analysis_dataset_codes_cluster_as_the_wide_export_does(betterback, data, tmp_path):
    """Issue 15 finding 13: one cluster coding (the allocation order), labelled with the
    cluster's name and code, in the wide export and the analysis dataset."""
    exports.write_export(betterback, tmp_path / "w.csv", "csv", "wide", "score")
    wide = _read(tmp_path / "w.csv", "csv").set_index("study_id")["cluster"].astype(int)
    analysis = exports.analysis_dataset(betterback).groupby("study_id")["cluster"].first()
    assert analysis.to_dict() == wide.to_dict()
    var = next(v for v in exports.analysis_vars(betterback) if v.name == "cluster")
    wide_var = next(v for v in exports.participant_vars(betterback) if v.name == "cluster")
    assert var.labels == wide_var.labels == {1: "West (W)", 2: "Central (C)", 3: "East (E)"}
    assert var.type == wide_var.type == exports.NUMERIC
