"""Report writer, dataset validator and the analyse command."""

import json
from io import StringIO

import pandas as pd
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from analysis.plan import cea, report, simulate
from analysis.plan.dataset import validate_dataset, wide


@pytest.fixture(scope="module")
def trial():
    return simulate.simulate_trial(n_per_cluster=30, seed=2, p_missing=0.1)


def test_validator(trial):
    assert validate_dataset(trial, ["nrs_back"]) == []
    assert validate_dataset(trial.drop(columns=["cluster"]), ["odi"]) == [
        "missing columns: cluster, odi"
    ]
    bad = trial.copy()
    bad.loc[0, "condition"] = "placebo"
    bad.loc[1, "timepoint_months"] = 24
    problems = validate_dataset(bad)
    assert any("condition" in p for p in problems)
    assert any("timepoint_months" in p for p in problems)
    bad = trial.copy()
    bad.loc[0, "sbst_risk_group"] = 3 if bad.loc[0, "sbst_risk_group"] != 3 else 1
    assert "sbst_risk_group must be constant within a participant" in validate_dataset(bad)
    physio = simulate.simulate_physio(5)
    assert validate_dataset(physio, ["pcs_total"], kind="physio") == []
    assert validate_dataset(physio.drop(columns="physio_id"), kind="physio") == [
        "missing columns: physio_id"
    ]


def test_wide_shape(trial):
    w = wide(trial, "nrs_back")
    assert len(w) == 90
    assert [c for c in w.columns if c.startswith("nrs_back_")] == [
        "nrs_back_0",
        "nrs_back_3",
        "nrs_back_6",
        "nrs_back_12",
    ]


def test_write_outputs(tmp_path):
    table = pd.DataFrame(
        {
            "term": ["a <b>"],
            "estimate": [1.5],
            "std_error": [float("nan")],
            "ci_low": [1.0],
            "ci_high": [2.0],
            "p_value": [0.01],
        }
    )
    boot = pd.DataFrame({"delta_cost": [1.0, 2.0], "delta_qaly": [0.1, 0.2]})
    paths = report.write_outputs(
        {"My table": table}, tmp_path, "Title & co", {"Plane": cea.plane_svg(boot)}
    )
    assert paths["My table"].name == "my_table.csv"
    assert pd.read_csv(paths["My table"]).estimate.iloc[0] == 1.5
    data = json.loads(paths["json"].read_text())
    assert data["results"]["My table"][0]["std_error"] is None
    page = paths["html"].read_text()
    assert "Title &amp; co" in page and "a &lt;b&gt;" in page and "<svg" in page
    assert "<script" not in page and "<link" not in page and 'src="http' not in page


def test_analyse_missing_columns(tmp_path, trial):
    path = tmp_path / "bad.csv"
    trial.drop(columns=["cluster", "sbst_risk_group"]).to_csv(path, index=False)
    with pytest.raises(CommandError, match="missing columns: cluster, sbst_risk_group"):
        call_command("analyse", "mixed", "--data", str(path), stdout=StringIO())
    with pytest.raises(CommandError, match="missing columns: odi"):
        trial.to_csv(path, index=False)
        call_command("analyse", "mixed", "--data", str(path), "--outcome", "odi", stdout=StringIO())
    with pytest.raises(CommandError, match="no such file"):
        call_command("analyse", "mixed", "--data", str(tmp_path / "nope.csv"))


@pytest.mark.parametrize("analysis", ["mixed", "specialist", "mcid", "mi"])
def test_analyse_patient_analyses(tmp_path, trial, analysis):
    path = tmp_path / "patients.csv"
    trial.to_csv(path, index=False)
    out = StringIO()
    call_command(
        "analyse",
        analysis,
        "--data",
        str(path),
        "--imputations",
        "2",
        "--no-cluster-random",
        "--n-boot",
        "100",
        "--out",
        str(tmp_path / "out"),
        stdout=out,
    )
    assert "written:" in out.getvalue()
    assert (tmp_path / "out" / "report.html").exists()
    assert (tmp_path / "out" / "results.json").exists()


def test_analyse_cea_and_physio(tmp_path, trial):
    data, use, prices = tmp_path / "p.csv", tmp_path / "u.csv", tmp_path / "prices.json"
    trial.to_csv(data, index=False)
    simulate.simulate_utilisation(trial).to_csv(use, index=False)
    prices.write_text(json.dumps(simulate.PRICES_SEK))
    call_command(
        "analyse",
        "cea",
        "--data",
        str(data),
        "--utilisation",
        str(use),
        "--prices",
        str(prices),
        "--n-boot",
        "200",
        "--out",
        str(tmp_path / "cea"),
        stdout=StringIO(),
    )
    assert "<svg" in (tmp_path / "cea" / "report.html").read_text()
    with pytest.raises(CommandError, match="missing columns: cost"):
        call_command("analyse", "cea", "--data", str(data), stdout=StringIO())

    physio = tmp_path / "physio.csv"
    simulate.simulate_physio(20).to_csv(physio, index=False)
    out = StringIO()
    call_command("analyse", "paired", "--data", str(physio), stdout=out)
    assert "pcs_total: 3m - before" in out.getvalue()
    rec = tmp_path / "rec.csv"
    pd.DataFrame({"cluster": [1, 2], "month": ["apr", "apr"], "n": [25, 10]}).to_csv(
        rec, index=False
    )
    out = StringIO()
    call_command("analyse", "pilot", "--data", str(physio), "--recruitment", str(rec), stdout=out)
    assert "progression (the DIBQ usefulness criterion met)" in out.getvalue()
    with pytest.raises(CommandError, match="--recruitment"):
        call_command("analyse", "pilot", "--data", str(physio), stdout=StringIO())


def test_mixed_report_shows_primary_model_and_sensitivity(tmp_path, trial):
    path = tmp_path / "patients.csv"
    trial.drop(columns="per_protocol").to_csv(path, index=False)
    out = StringIO()
    call_command(
        "analyse", "mixed", "--data", str(path), "--no-cluster-random",
        "--out", str(tmp_path / "out"), stdout=out,
    )
    data = json.loads((tmp_path / "out" / "results.json").read_text())
    titles = list(data["results"])
    assert titles[0].startswith("Primary model (condition x time, cluster, period x time")
    assert titles[1].startswith("Variance components of the primary model")
    assert any(t.startswith("Sensitivity analysis: previous model") for t in titles)
    primary = data["results"][titles[0]]
    assert primary[0]["sidedness"].startswith("p_value is one-sided")
    assert primary[0]["p_two_sided"] > primary[0]["p_one_sided"]  # effect in benefit direction
    components = [r["component"] for r in data["results"][titles[1]]]
    assert components == [
        "clinic (random intercept)", "clinic x time", "participant (random intercept)", "residual"
    ]
    assert any("no per_protocol column" in n for n in data["notes"])
    assert any("Satterthwaite" in n for n in data["notes"])
    page = (tmp_path / "out" / "report.html").read_text()
    assert "clinic x time" in page and "no per_protocol column" in page


def test_too_little_data_one_sentence(tmp_path, trial):
    # the demo's export: baseline answered, no follow-up yet
    path = tmp_path / "baseline_only.csv"
    thin = trial.assign(nrs_back=trial.nrs_back.where(trial.timepoint_months == 0))
    thin.to_csv(path, index=False)
    for analysis in ("mixed", "mi"):
        with pytest.raises(CommandError) as err:
            call_command("analyse", analysis, "--data", str(path), stdout=StringIO())
        message = str(err.value)
        assert "follow-up" in message and message.count(".") == 1 and "Error" not in message


def test_blinded_export_accepted_by_every_patient_analysis(tmp_path, trial):
    path = tmp_path / "blinded.csv"
    blind = trial.assign(condition=trial.condition.map({"control": "A", "intervention": "B"}))
    blind["cost"] = 1000.0 + 10 * blind.nrs_back.fillna(0)
    blind["cost"] = blind.groupby("study_id").cost.transform("first")
    blind.to_csv(path, index=False)
    for analysis in ("mixed", "mi", "specialist", "mcid", "cea"):
        out = StringIO()
        call_command(
            "analyse", analysis, "--data", str(path), "--imputations", "2",
            "--n-boot", "50", "--no-cluster-random", stdout=out,
        )
        text = out.getvalue()
        assert analysis == "mcid" or "B - A" in text, analysis  # MCID compares no arms
        assert "- control" not in text and "intervention -" not in text, analysis


def test_physiotherapist_analyses_without_answers_say_why(tmp_path):
    physio = tmp_path / "physio.csv"
    cols = ["physio_id", "timepoint", "pcs_total", "pabs_pt_biomedical",
            "pabs_pt_biopsychosocial", "dibq_useful"]
    pd.DataFrame(columns=cols).to_csv(physio, index=False)
    rec = tmp_path / "rec.csv"
    pd.DataFrame({"cluster": [1], "month": ["2017-04"], "n": [3]}).to_csv(rec, index=False)
    with pytest.raises(CommandError, match="^No physiotherapist questionnaires have been"):
        call_command("analyse", "paired", "--data", str(physio), stdout=StringIO())
    with pytest.raises(CommandError, match="^No physiotherapist has answered the DIBQ"):
        call_command(
            "analyse", "pilot", "--data", str(physio), "--recruitment", str(rec),
            stdout=StringIO(),
        )


def test_specialist_without_registry_says_why(tmp_path, trial):
    path = tmp_path / "p.csv"
    trial.drop(columns="specialist_care").to_csv(path, index=False)
    with pytest.raises(CommandError, match="no specialist_care column: import the registry"):
        call_command("analyse", "specialist", "--data", str(path), stdout=StringIO())
