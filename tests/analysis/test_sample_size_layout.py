"""Cluster layouts (analysis.plan.sample_size.cluster): the GLS variance against closed
forms derived independently, a simulation of the design as run, the JSON of the
command, rounding to whole clusters per sequence, validation, and the two readings of
BetterBack's "402 patients over 2.41 clusters"."""

import json
import math
import re
from io import StringIO
from pathlib import Path

import numpy as np
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from scipy import stats

from analysis.plan import sample_size as ss
from analysis.plan.sample_size.readings import protocol_readings
from enrolment.protocol.reading import read_protocol
from enrolment.protocol.sections import ProtocolError

PROTOCOLS = Path(__file__).resolve().parents[2] / "protocols"
BB = {"d": 0.35, "alpha": 0.05, "power": 0.80, "sided": 1, "icc": 0.01, "cac": 0.80, "m": 100}


def _variance(layout, icc, cac, m):
    return ss.effect_variance(ss.parse_layout(layout), icc, cac, m)


def _kasza(trt, icc, cac, m):
    """Kasza et al. (Stat Med 2020) closed form for complete cross-sectional designs, as
    SteppedPower's VarClosed_Kasza (psi = 0, chi = 1), which reduces to Hooper et al.
    2016 and, with CAC = 1, to Hussey & Hughes 2007. trt: clusters x periods of 0/1."""
    x = np.asarray(trt, float)
    n_cl, n_per = x.shape
    u, v, w = x.sum(), (x.sum(axis=1) ** 2).sum(), (x.sum(axis=0) ** 2).sum()
    icc_b = icc * cac  # between periods
    lam1 = 1 + (m - 1) * (icc - icc_b) - icc_b  # iccA = iccB when cross-sectional
    lam2 = 1 + (m - 1) * icc + (n_per - 1) * (m - 1) * icc_b + (n_per - 1) * icc_b
    a = n_cl * n_per * lam1 * lam2 / m
    b = (u**2 + n_cl * n_per * u - n_per * w - n_cl * v) * lam2 - (u**2 - n_cl * v) * lam1
    return a / b


@pytest.mark.parametrize("icc, m", [(0.01, 100), (0.05, 20), (0.2, 7), (0.0, 50), (1.0, 3)])
def test_parallel_layout_is_the_classical_design_effect(icc, m):
    r = ss.layout(0.35, 0.05, 0.80, 1, icc=icc, cac=0.5, m=m, layout="C,I")
    assert r["design_effect"] == pytest.approx(1 + (m - 1) * icc)
    assert r["patients_exact"] == pytest.approx(r["n_individual_exact"] * (1 + (m - 1) * icc))


@pytest.mark.parametrize(
    "layout, trt",
    [
        ("CII,CCI", [[0, 1, 1], [0, 0, 1]]),
        ("CIII,CCII,CCCI", [[0, 1, 1, 1], [0, 0, 1, 1], [0, 0, 0, 1]]),
        ("CC,CI", [[0, 0], [0, 1]]),
        ("CI,IC", [[0, 1], [1, 0]]),
        ("CCI,CCI,CCC,CII", [[0, 0, 1], [0, 0, 1], [0, 0, 0], [0, 1, 1]]),
    ],
)
@pytest.mark.parametrize("icc, cac, m", [(0.01, 0.8, 100), (0.05, 1.0, 20), (0.1, 0.3, 10)])
def test_gls_agrees_with_the_published_closed_form_for_complete_designs(
    layout, trt, icc, cac, m
):
    assert _variance(layout, icc, cac, m) == pytest.approx(_kasza(trt, icc, cac, m), rel=1e-9)


@pytest.mark.parametrize("icc, cac, m", [(0.01, 0.8, 100), (0.05, 0.5, 30), (0.3, 0.9, 5)])
def test_incomplete_designs_against_hand_derived_closed_forms(icc, cac, m):
    v = icc + (1 - icc) / m
    r = ss.cluster_mean_correlation(icc, cac, m)
    # dog-leg: v (1 - r/2); it beats parallel-with-baseline below r = 0.72 (Hooper &
    # Bourke, IJE 2014), which this closed form reproduces
    assert _variance("I.,CI,.C", icc, cac, m) == pytest.approx(v * (1 - r / 2))
    # parallel with baseline: ANCOVA on cluster means with known correlation, 2 v (1 - r^2)
    assert _variance("CC,CI", icc, cac, m) == pytest.approx(2 * v * (1 - r**2))
    # a period that only one sequence sees, in one condition, is absorbed by its period
    # effect: the third sequence adds nothing to a parallel comparison
    assert _variance("C.,I.,.C", icc, cac, m) == pytest.approx(_variance("C,I", icc, cac, m))


def _gls_weights(cells, icc, cac, m):
    """Linear GLS estimator of the effect written out independently: intercept, period 2,
    intervention; rows stacked over the dog-leg's three clusters."""
    v, c = icc + (1 - icc) / m, icc * cac
    x, blocks = [], []
    for cl in cells:
        x += [[1, p, t] for p, t in cl]
        s = np.full((len(cl), len(cl)), c)
        np.fill_diagonal(s, v)
        blocks.append(s)
    x = np.array(x, float)
    cov = np.zeros((len(x), len(x)))
    at = 0
    for s in blocks:
        cov[at : at + len(s), at : at + len(s)] = s
        at += len(s)
    vi = np.linalg.inv(cov)
    return (np.linalg.inv(x.T @ vi @ x) @ x.T @ vi)[2]


def test_betterback_as_run_power_by_simulation():
    # 20,000 dog-leg trials of 3 clusters x 100 patients per cluster-period, simulated
    # patient by patient from the variance components (cluster, cluster-period, patient)
    # with a secular trend, analysed by GLS: the rejection rate is the computed power.
    icc, cac, m, d = 0.01, 0.80, 100, 0.35
    cells = [[(0, 1)], [(0, 0), (1, 1)], [(1, 0)]]  # (period, intervention) per cluster
    w = _gls_weights(cells, icc, cac, m)
    rng = np.random.default_rng(20161)
    reps = 20_000
    cluster = rng.normal(0, math.sqrt(icc * cac), (reps, 3))
    y = []
    for k, cl in enumerate(cells):
        for period, treated in cl:
            patients = rng.normal(0, math.sqrt(1 - icc), (reps, m)).mean(axis=1)
            cp = rng.normal(0, math.sqrt(icc * (1 - cac)), reps)
            y.append(cluster[:, k] + cp + patients + 0.5 * period + d * treated)
    est = np.column_stack(y) @ w
    computed = ss.dogleg(d, 0.05, 0.80, 1, icc=icc, cac=cac, m=m, clusters=3)
    se = math.sqrt(computed["variance_one_cluster_per_sequence"])
    assert est.mean() == pytest.approx(d, abs=4 * se / math.sqrt(reps))  # unbiased
    assert est.std() == pytest.approx(se, rel=0.02)
    rejected = (est / se > stats.norm.isf(0.05)).mean()
    print(f"as run: simulated power {rejected:.4f}, computed {computed['achieved_power']:.4f}")
    assert rejected == pytest.approx(computed["achieved_power"], abs=0.01)


def test_command_json_for_the_dogleg_layout():
    out = StringIO()
    call_command(
        "sample_size", "--design", "layout", "--layout", "I.,CI,.C", "--d", "0.35",
        "--sided", "1", "--icc", "0.01", "--cac", "0.8", "--m", "100", "--json", stdout=out,
    )
    data = json.loads(out.getvalue())
    assert round(data["clusters_exact"], 2) == 2.41
    assert round(data["patients_exact"]) == 321
    # rounded up to whole clusters per sequence: 1 each, 3 clusters, 4 x 100 patients
    assert (data["clusters_per_sequence"], data["clusters"], data["patients"]) == (1, 3, 400)
    assert data["achieved_power"] == pytest.approx(0.8709, abs=1e-4)
    # --design dogleg is the same layout
    out = StringIO()
    call_command(
        "sample_size", "--design", "dogleg", "--d", "0.35", "--sided", "1", "--json", stdout=out
    )
    dogleg = json.loads(out.getvalue())
    assert dogleg["layout"] == "I.,CI,.C" and dogleg["clusters_exact"] == data["clusters_exact"]
    assert dogleg["patients_parallel_cluster"] == 402


def test_method_says_how_the_individual_n_is_computed():
    z = ss.layout(**BB, layout="I.,CI,.C", method="z")
    t = ss.layout(**BB, layout="I.,CI,.C", method="t")
    assert round(z["clusters_exact"], 2) == 2.41 and round(t["clusters_exact"], 2) == 2.42
    assert t["n_individual_exact"] == pytest.approx(2 * 101.62, abs=0.01)


def test_rounding_respects_the_sequences_and_recomputes_patients():
    # 5 sequences of a stepped wedge: the rounded design is a multiple of 5 and its
    # patients are whole clusters x assessed cluster-periods x m
    wedge = "CIIII,CCIII,CCCII,CCCCI,CCCCC"
    r = ss.layout(0.2, 0.05, 0.80, 2, icc=0.05, cac=0.9, m=20, layout=wedge)
    assert r["clusters"] % 5 == 0 and r["clusters"] >= r["clusters_exact"]
    assert r["patients"] == r["clusters_per_sequence"] * 25 * 20
    assert r["achieved_power"] >= 0.80
    fewer = ss.layout(
        0.2, 0.05, 0.80, 2, icc=0.05, cac=0.9, m=20, layout=wedge, clusters=r["clusters"] - 5
    )
    assert fewer["achieved_power"] < 0.80
    # the parallel design used to report an odd number of patients for an even cluster count
    p = ss.cluster_parallel(0.35, 0.05, 0.80, 1, icc=0.01, m=100)
    assert (p["clusters"], p["patients"]) == (6, 600)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"icc": 1.5}, "the ICC must be between 0 and 1 (got 1.5)"),
        ({"icc": -0.1}, "the ICC must be between 0 and 1 (got -0.1)"),
        ({"cac": 1.5}, "the cluster autocorrelation (CAC) must be between 0 and 1 (got 1.5)"),
        ({"m": 0}, "patients per cluster-period (m) must be a whole number of at least 1 (got 0)"),
        ({"m": 2.5}, "whole number of at least 1 (got 2.5)"),
        ({"clusters": 11}, "a multiple of 3: 11 is not possible; 9 or 12 would be"),
        ({"clusters": 16}, "a multiple of 3: 16 is not possible; 15 or 18 would be"),
        ({"clusters": 2}, "a multiple of 3: 2 is not possible; 3 is the smallest"),
        ({"layout": "I.,CX,.C"}, "sequence 2 (CX) has 'X': use C (control)"),
        ({"layout": "I.,CIC,.C"}, "the same number of periods: I. has 2, CIC has 3"),
        ({"layout": "CI"}, "a cluster design needs at least two"),
        ({"layout": "CI,CI"}, "cannot tell the intervention apart from the periods"),
        ({"layout": "C.,.I"}, "cannot tell the intervention apart from the periods"),
        ({"layout": "C.,C."}, "period 2 is not assessed in any sequence"),
        ({"layout": "CC,CC"}, "has no intervention (I) cluster-period"),
        ({"layout": ""}, "the layout is empty"),
        ({"icc": 1.0, "cac": 1.0}, "lower the ICC or the CAC"),
    ],
)
def test_every_cluster_input_is_refused_with_the_reason(kwargs, message):
    inputs = {**BB, "layout": "I.,CI,.C", **kwargs}
    with pytest.raises(ValueError, match=re.escape(message)):
        ss.layout(**inputs)


def test_command_refuses_an_impossible_design_in_one_sentence():
    with pytest.raises(CommandError, match=re.escape("11 is not possible; 9 or 12 would be")):
        call_command(
            "sample_size", "--design", "dogleg", "--d", "0.35", "--clusters", "11",
            stdout=StringIO(),
        )
    with pytest.raises(CommandError, match="ICC must be between 0 and 1.*got 0\\)"):
        call_command(
            "sample_size", "--design", "dogleg", "--d", "0.35", "--icc", "1.5", "--m", "0",
            stdout=StringIO(),
        )


def test_betterback_two_readings_and_power_as_run():
    spec = read_protocol(PROTOCOLS / "betterback.toml").sample_size
    readings = protocol_readings(spec.model_dump())
    design, parallel, as_run = readings["design"], readings["parallel"], readings["as_run"]
    # reading 1: the dog-leg as drawn, 2.41 clusters and 321 patients
    assert round(design["clusters_exact"], 2) == 2.41 and round(design["patients_exact"]) == 321
    # reading 2: 402 is the parallel cluster design's total (4.02 clusters of 100)
    assert round(parallel["patients_exact"]) == 402
    assert round(parallel["clusters_exact"], 2) == 4.02
    # as run: 3 clusters, 1 per sequence, 100 per cluster-period
    assert (as_run["clusters"], as_run["patients"]) == (3, 400)
    assert round(as_run["achieved_power"], 3) == 0.871
    s = readings["sentences"]
    assert "2.41 clusters" in s["design"] and "321 patients" in s["design"]
    assert "402" in s["parallel"] and "1.99" in s["parallel"]
    assert "mixes the two" in s["stated"]
    assert "87.1%" in s["as_run"]
    out = StringIO()
    call_command("sample_size", "--protocol", str(PROTOCOLS / "betterback.toml"), stdout=out)
    assert out.getvalue().splitlines() == [s["stated"], s["design"], s["parallel"], s["as_run"]]


def test_protocol_file_sample_size_section_is_checked(tmp_path):
    text = (PROTOCOLS / "betterback.toml").read_text(encoding="utf-8")
    bad = tmp_path / "bad.toml"
    bad.write_text(text.replace('layout = "I.,CI,.C"', 'layout = "I.,CX"').replace(
        "icc = 0.01", "icc = 1.5"), encoding="utf-8")
    with pytest.raises(ProtocolError) as err:
        read_protocol(bad)
    assert "sample_size.layout" in str(err.value) and "sample_size.icc" in str(err.value)
