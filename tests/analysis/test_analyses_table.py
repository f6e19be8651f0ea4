"""One table of analyses (analysis.plan.analyses) behind both ``manage.py analyse`` and the
web's analysis runs (analysis.runs), which call it directly instead of the command."""

import json
from io import StringIO

import pandas as pd
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from analysis import exports, runs
from analysis.models import AnalysisRun
from analysis.plan import analyses, simulate
from analysis.plan.analyses import Analysis, Report
from tests.analysis.exportdata import make_dogleg_data
from tests.conftest import use_betterback_built_once

betterback = use_betterback_built_once()  # loaded once for the module


@pytest.fixture(autouse=True)
def var_dir(settings, tmp_path):
    settings.VAR_DIR = tmp_path / "var"


def test_web_and_command_list_the_table():
    assert list(runs.ANALYSES) == [a.name for a in analyses.TABLE]
    assert runs.ANALYSES["mixed"] == analyses.ANALYSES["mixed"].title


@pytest.fixture
def echo(monkeypatch):
    """An analysis added to the table only: both the command and the web must run it."""

    def produce(df, o, **_inputs):
        table = pd.DataFrame({"term": ["rows"], "estimate": [float(len(df))]})
        return Report({f"Echo, {o['outcome']}": table}, ["echo note"], {})

    extra = Analysis("echo", "Echo", "patient", lambda o: ["study_id", o["outcome"]], produce)
    monkeypatch.setitem(analyses.ANALYSES, "echo", extra)
    return extra


def test_an_analysis_added_to_the_table_runs_from_command(tmp_path, echo):
    path = tmp_path / "d.csv"
    trial = simulate.simulate_trial(n_per_cluster=3).assign(odi=1.0)
    trial.drop(columns="nrs_back").to_csv(path, index=False)
    out = StringIO()
    call_command("analyse", "echo", "--data", str(path), "--outcome", "odi", stdout=out)
    assert out.getvalue().splitlines()[:2] == ["Note: echo note", "Echo, odi"]
    with pytest.raises(CommandError, match="missing columns: nrs_back"):
        call_command("analyse", "echo", "--data", str(path), stdout=StringIO())


@pytest.mark.django_db
def test_an_analysis_added_to_the_table_runs_from_web(betterback, statistician, echo):
    make_dogleg_data(betterback, per_clinic=1)
    run = AnalysisRun.objects.create(
        trial=betterback, user=statistician, analysis="echo", outcome="odi"
    )
    runs.run_analysis(run)
    assert run.status == "done", run.error
    assert run.output.startswith("Note: echo note\nEcho, odi\n")
    assert not (runs.runs_dir() / str(run.pk) / "data").exists()  # no files in between


@pytest.mark.django_db
def test_web_run_equals_the_command_on_the_exported_dataset(tmp_path, betterback, statistician):
    make_dogleg_data(betterback)
    run = AnalysisRun.objects.create(
        trial=betterback, user=statistician, analysis="mixed", outcome="odi"
    )
    runs.run_analysis(run)
    assert run.status == "done", run.error
    path = tmp_path / "patients.csv"
    exports.analysis_dataset(betterback).to_csv(path, index=False)
    out = StringIO()
    call_command(
        "analyse",
        "mixed",
        "--data",
        str(path),
        "--outcome",
        "odi",
        "--out",
        str(tmp_path / "cli"),
        stdout=out,
    )
    web, cli = run.output.splitlines(), out.getvalue().splitlines()
    assert web[:-1] == cli[:-1] and web[-1].startswith("written: ")

    def tables(directory):
        return json.loads((directory / "results.json").read_text())["results"]

    assert tables(runs.runs_dir() / str(run.pk) / "report") == tables(tmp_path / "cli")
