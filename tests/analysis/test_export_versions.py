"""Exports and the analysis dataset carry the protocol version each participant was
enrolled under; the codebook lists the versions."""

import random
from zoneinfo import ZoneInfo

import pandas as pd
import pytest
from django.utils import timezone

from analysis import exports
from enrolment.amendments import load_versioned
from followup.schedule import add_months
from tests.conftest import use_betterback_built_once

from ..analysis.exportdata import respond
from ..data.amendments import betterback_v2
from ..factories import enrol

pytestmark = pytest.mark.django_db
betterback = use_betterback_built_once()  # loaded once for the module


@pytest.fixture
def two_versions(betterback, clinic_west, tmp_path):
    today = timezone.now().astimezone(ZoneInfo(betterback.time_zone)).date()
    first = enrol(clinic_west, enrolled_on=add_months(today, -2))
    baseline = betterback.timepoints.get(code="baseline")
    respond(first, baseline, "nrs", random.Random(3), days=0)
    load_versioned(betterback_v2(tmp_path), amendment="EPN 2017/123")
    second = enrol(clinic_west, enrolled_on=today)
    return first, second


@pytest.mark.parametrize("shape", ["long", "wide", "analysis"])
def test_each_participant_carries_the_version_enrolled_under(
    betterback, two_versions, tmp_path, shape
):
    first, second = two_versions
    path = tmp_path / "out.csv"
    exports.write_export(betterback, path, "csv", shape, "score", user_label="test")
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    versions = df.groupby("study_id")["protocol_version"].agg(set).to_dict()
    if shape == "long":  # a row per answered variable: only the first has answered
        assert versions == {first.study_id: {"1"}}
        return
    assert versions == {first.study_id: {"1"}, second.study_id: {"2"}}
    book = pd.read_csv(tmp_path / "out_codebook.csv", dtype=str, keep_default_na=False)
    row = book[book["name"] == "protocol_version"].iloc[0]
    assert "1=" in row["value_labels"] and "2=" in row["value_labels"]
    assert "amendment EPN 2017/123" in row["value_labels"]


def test_analysis_dataset_has_the_version_column(betterback, two_versions):
    first, second = two_versions
    df = exports.analysis_dataset(betterback)
    got = df.groupby("study_id")["protocol_version"].first().to_dict()
    assert got == {first.study_id: 1, second.study_id: 2}
