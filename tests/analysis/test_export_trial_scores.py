"""The analysis dataset carries the scores of the instruments each trial asks: beside the
plan's fixed columns (BetterBack's, kept only where their instrument is asked), every
other asked instrument's scores as ``<instrument>_<score>``, with codebook entries on the
version the trial pins."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from analysis.exports import analysis_dataset, analysis_vars
from analysis.plan.dataset import validate_dataset
from enrolment import randomisation_store
from enrolment.protocol.writing import load_protocol
from questionnaires.instruments import for_trial
from questionnaires.instruments.definitions.promis import t_score_table
from questionnaires.models import Response
from questionnaires.services.saving import save_answers

from ..conftest import PROTOCOLS
from ..factories import UserFactory, enrol

pytestmark = pytest.mark.django_db


def _trial(name):
    trial, _ = load_protocol(PROTOCOLS / name)
    if not trial.is_cluster_design:
        randomisation_store.generate(trial, UserFactory(), seed=3)
    return trial


def _answer(trial, participant, tp_code, code, answers):
    save_answers(
        instrument=for_trial(trial, code),
        timepoint=trial.timepoints.get(code=tp_code),
        answers=answers,
        complete=True,
        mode=Response.STAFF_CLINIC,
        participant=participant,
    )


def test_impact_has_the_promis_t_scores_and_not_betterbacks_columns():
    trial = _trial("impact-lbp.toml")
    p = enrol(trial.clusters.get(code="A").clinics.first(), enrolled_on=date(2022, 3, 1))
    pi, pf = (for_trial(trial, c) for c in ("promis_pi", "promis_pf"))
    _answer(
        trial,
        p,
        "baseline",
        "promis_pi",
        {i.id: v for i, v in zip(pi.items, [2, 3, 4, 5], strict=True)},
    )
    _answer(trial, p, "3m", "promis_pi", {i.id: 1 for i in pi.items})
    _answer(trial, p, "baseline", "promis_pf", {i.id: 4 for i in pf.items})

    df = analysis_dataset(trial).set_index("timepoint_months")
    base_pi, month3_pi = t_score_table("pi")[14], t_score_table("pi")[4]
    assert (df.loc[0, "promis_pi_t_score"], df.loc[0, "promis_pi_se"]) == base_pi
    assert (df.loc[3, "promis_pi_t_score"], df.loc[3, "promis_pi_se"]) == month3_pi
    assert df.loc[0, "promis_pi_raw"] == 14
    assert df.loc[0, "promis_pf_t_score"] == t_score_table("pf")[16][0]
    assert pd.isna(df.loc[3, "promis_pf_t_score"])
    # nrs is asked, so its fixed columns stay; ODI, EQ-5D, ... never are.
    assert {"nrs_back", "nrs_leg"} <= set(df.columns)
    for gone in ("odi", "eq5d_index", "eq5d_vas", "bipq_total", "pei_total", "pgic"):
        assert gone not in df.columns
    assert validate_dataset(df.reset_index()) == []

    book = {v.name: v for v in analysis_vars(trial)}
    var = book["promis_pi_t_score"]
    assert var.instrument == "promis_pi" and var.version == str(pi.version)
    assert "T-score" in var.label and "promis_pi_4a_tscores.csv" in var.rule
    assert book["promis_pf_se"].instrument == "promis_pf"
    assert book["promis_pi_raw"].allowed == "4..20"
    assert set(book) >= set(df.columns)


def test_safe_has_rmdq_and_gpe_on_the_pinned_versions():
    trial = _trial("safe.toml")
    p = enrol(trial.clusters.get().clinics.get(), enrolled_on=date(2022, 3, 1))
    rmdq = for_trial(trial, "rmdq")
    _answer(
        trial, p, "baseline", "rmdq", {i.id: 1 if n < 7 else 0 for n, i in enumerate(rmdq.items)}
    )

    df = analysis_dataset(trial).set_index("timepoint_months")
    assert df.loc[0, "rmdq_total"] == 7
    assert {"gpe_gpe", "eq5d_index", "nrs_back", "bipq_total", "safe_work_work_status"} <= set(
        df.columns
    )
    # sbst is the participant's sbst_risk_group; no sbst_total besides it.
    assert "sbst_total" not in df.columns and "odi" not in df.columns
    book = {v.name: v for v in analysis_vars(trial)}
    assert book["rmdq_total"].allowed == "0..24" and book["rmdq_total"].version == "1"
    assert book["safe_work_work_status"].labels[4] == "On sick leave"
    # The fixed columns name the version the trial pins (SAFE: nrs 1, not the latest 2).
    assert book["nrs_back"].version == "1"
