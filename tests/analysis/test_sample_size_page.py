"""The sample size page: a readable result (inputs, formula, interpretation, no float
noise or raw keys), the protocol's two readings, and bad input refused without losing
what was entered."""

import pytest
from django.urls import reverse

from tests.conftest import use_betterback_built_once

pytestmark = pytest.mark.django_db
betterback = use_betterback_built_once()  # loaded once for the module

DOGLEG = {"design": "dogleg", "d": 0.35, "alpha": 0.05, "sided": 1, "power": 0.8,
          "loss": 0, "loss_method": "divide", "icc": 0.01, "cac": 0.8, "m": 100}


def _get(client, user, params=None):
    client.force_login(user)
    return client.get(reverse("analysis_sample_size", args=["betterback"]), params or {})


def test_result_reads_as_sentences_and_rounded_figures(client, statistician):
    page = _get(client, statistician, DOGLEG)
    html = page.content.decode()
    summary = page.context["summary"]
    assert "Generalised least squares on cluster-period means" in summary["formula"]
    assert summary["sentence"] in html
    assert "needs 2.41 clusters (321 patients)" in summary["sentence"]
    assert "3 clusters and 400 patients, whose power is 87.1%" in summary["sentence"]
    assert ("Intracluster correlation (ICC)", "0.01") in summary["inputs"]
    assert ("Patients per cluster-period (m)", "100") in summary["inputs"]
    assert 'id="sample-size-layout"' in html  # sequences x periods drawn as a table
    for raw in ("design_effect", "n_individual_exact", "clusters_exact", ">Icc<", ">M<"):
        assert raw not in html


def test_no_float_noise_in_a_design_effect(client, statistician):
    # 1 + 95 * 0.01 is 1.9500000000000002 in floating point; the page used to print it
    page = _get(client, statistician, {**DOGLEG, "design": "cluster", "m": 96})
    html = page.content.decode()
    assert "1.9500000000000002" not in html and "00000000" not in html
    assert "with one period this is the design effect 1 + (m − 1) × ICC" in html
    assert ("Design effect (patients relative to individual randomisation)", "1.950") in (
        page.context["summary"]["results"]
    )


def test_individual_design_is_a_sentence_too(client, statistician):
    page = _get(client, statistician, {**DOGLEG, "design": "individual"})
    sentence = page.context["summary"]["sentence"]
    assert sentence.startswith("Recruit 204 patients (102 per group) for 80.0% power")
    assert "one-sided test at α = 0.05" in sentence


def test_the_protocols_two_readings_and_power_as_run(client, statistician):
    page = _get(client, statistician)
    html = page.content.decode()
    assert "2.41 clusters is reading 1, whose patient total is 321" in html
    assert "402 patients is reading 2, the parallel cluster design" in html
    assert "power of 87.1%" in html
    # the form starts from the protocol's inputs
    form = page.context["form"]
    assert form["layout"].value() == "I.,CI,.C" and form["design"].value() == "layout"
    assert str(form["sided"].value()) == "1" and form["m"].value() == 100


def test_impossible_design_is_refused_and_the_inputs_stay(client, statistician):
    page = _get(client, statistician, {**DOGLEG, "design": "layout", "layout": "I.,CI,.C",
                                       "clusters": 11})
    html = page.content.decode()
    assert page.context["summary"] is None
    assert "11 is not possible; 9 or 12 would be" in html
    assert 'value="11"' in html and 'value="I.,CI,.C"' in html
    page = _get(client, statistician, {**DOGLEG, "design": "layout", "layout": "I.,CX"})
    assert "sequence 2 (CX) has &#x27;X&#x27;" in page.content.decode()
    page = _get(client, statistician, {**DOGLEG, "icc": 1.5})
    assert page.context["form"].errors["icc"]
    page = _get(client, statistician, {**DOGLEG, "design": "layout", "layout": ""})
    assert page.context["form"].errors["layout"] == ["Give the layout, e.g. I.,CI,.C"]
