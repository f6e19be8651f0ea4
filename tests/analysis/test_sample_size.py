"""Sample size (analysis.plan.sample_size) against R's power.t.test and the protocol.

Protocol (BetterBack, "Sample size"): d = 0.35, one-sided alpha 0.05, power 0.80 ->
204 patients individually randomised; 63 HCP for matched pairs with 20% loss; dog-leg
with ICC 0.01, CAC 0.80, 100 patients per cluster section -> "n = 402 patients over
2.41 clusters" (Hooper & Bourke BMJ 2015). The cluster layouts (tests/analysis/
test_sample_size_layout.py) are checked against independent closed forms there.
"""

import json
import re
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from analysis.plan import sample_size as ss


def test_power_t_matches_r_documentation_examples():
    # ?power.t.test examples: power.t.test(n = 20, delta = 1) -> power = 0.8689528
    assert ss._power_t(20, 1.0, 0.05, 2, paired=False) == pytest.approx(0.8689528, abs=1e-6)
    # power.t.test(power = .90, delta = 1) -> n = 22.02110
    assert ss.individual(1.0, 0.05, 0.90, 2)["n_per_group_exact"] == pytest.approx(
        22.02110, abs=1e-4
    )


def test_individual_reproduces_protocol_204():
    # SCORING.md: power.t.test(delta=0.35, power=0.8, alternative="one.sided") -> 101.6
    r = ss.individual(0.35, alpha=0.05, power=0.80, sided=1)
    assert r["n_per_group_exact"] == pytest.approx(101.62, abs=0.01)
    assert r["n_per_group"] == 102
    assert r["patients"] == 204


def test_individual_loss_divides():
    r = ss.individual(0.35, 0.05, 0.80, 1, loss=0.2)
    assert r["n_per_group"] == 128  # ceil(102 / 0.8) = ceil(127.5)
    assert r["patients"] == 256


def test_paired_reproduces_protocol_63_only_with_inflation():
    # paired one-sided power.t.test(delta = 0.35, type = "paired") gives n = 51.85 pairs.
    # The protocol's 63 is ceil(51.85 * 1.2) = ceil(62.2) (also ceil(52 * 1.2) = 63):
    # it *inflates* by 20%. The usual n / (1 - 0.2) would give 65.
    r = ss.paired(0.35, 0.05, 0.80, 1, loss=0.2, loss_method="inflate")
    assert r["n_exact"] == pytest.approx(51.85, abs=0.01)
    assert r["n_before_loss"] == 52
    assert r["patients"] == 63
    assert ss.paired(0.35, 0.05, 0.80, 1, loss=0.2)["patients"] == 65


def test_individual_with_a_huge_effect_needs_the_minimum_not_a_crash():
    # brentq used to fail ("f(a) and f(b) must have different signs") when n = 2 sufficed
    assert ss.individual(10.0, 0.05, 0.80, 2)["n_per_group"] == 2


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"d": -1}, "effect size d must be greater than 0 (got -1)"),
        ({"d": 0.35, "alpha": 1.5}, "alpha must be between 0 and 1 (got 1.5)"),
        ({"d": 0.35, "power": 1}, "power must be between 0 and 1 (got 1)"),
        ({"d": 0.35, "power": 0.01}, "power (0.01) must be larger than alpha/sided (0.025)"),
        ({"d": 0.35, "loss": 1}, "loss to follow-up must be at least 0 and below 1 (got 1)"),
        ({"d": 0.35, "method": "x"}, "method must be 't' (noncentral t) or 'z'"),
    ],
)
def test_individual_inputs_are_refused_with_the_reason(kwargs, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        ss.individual(**kwargs)


def test_paired_refuses_a_total_loss_instead_of_dividing_by_zero():
    with pytest.raises(ValueError, match="below 1"):
        ss.paired(0.35, loss=1.0)


def test_command_json_individual():
    out = StringIO()
    call_command(
        "sample_size", "--design", "individual", "--d", "0.35", "--alpha", "0.05",
        "--sided", "1", "--power", "0.8", "--json", stdout=out,
    )
    data = json.loads(out.getvalue())
    assert data["patients"] == 204 and data["d"] == 0.35


def test_command_rejects_bad_input():
    with pytest.raises(CommandError, match="greater than 0"):
        call_command("sample_size", "--design", "individual", "--d", "-1", stdout=StringIO())
