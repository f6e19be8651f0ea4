"""Sample size of individually randomised designs (two groups, matched pairs).

t-based calculations iterate on n exactly as R's ``power.t.test`` does (strict=FALSE):
power = P(T' > t_{1-alpha/sided, df}) under the noncentral t with
ncp = d*sqrt(n/2) (two independent groups, df = 2(n-1)) or d*sqrt(n) (paired, df = n-1),
and n is found by root finding, then rounded up.

Loss to follow-up (``loss``): ``loss_method="divide"`` gives n/(1-loss), the usual rule;
``loss_method="inflate"`` gives n*(1+loss), the rule that reproduces the protocol's
63 physiotherapists (51.85 * 1.2 = 62.2 -> 63; dividing would give 65).

The cluster designs (:mod:`.cluster`) start from the individually randomised n computed here.
"""

from __future__ import annotations

import math

from scipy import optimize, stats


def _power_t(n: float, d: float, alpha: float, sided: int, paired: bool) -> float:
    if paired:
        df, ncp = n - 1, d * math.sqrt(n)
    else:
        df, ncp = 2 * (n - 1), d * math.sqrt(n / 2)
    q = stats.t.isf(alpha / sided, df)
    # upper tail only, as power.t.test with its default strict = FALSE
    return float(stats.nct.sf(q, df, ncp))


def _n_t(d: float, alpha: float, power: float, sided: int, paired: bool) -> float:
    # below n = 2 there are no degrees of freedom; an effect that large needs the minimum
    if _power_t(2 + 1e-9, d, alpha, sided, paired) >= power:
        return 2.0
    return optimize.brentq(
        lambda n: _power_t(n, d, alpha, sided, paired) - power, 2 + 1e-9, 1e7, xtol=1e-10
    )


def _n_z(d: float, alpha: float, power: float, sided: int, paired: bool) -> float:
    z = stats.norm.isf(alpha / sided) + stats.norm.ppf(power)
    return float((z / d) ** 2 * (1 if paired else 2))


def _check(d, alpha, power, sided):
    """Each input on its own, with the value received, so the user knows what to change."""
    problems = []
    if not (isinstance(d, (int, float)) and math.isfinite(d) and d > 0):
        problems.append(f"the effect size d must be greater than 0 (got {d})")
    if not 0 < alpha < 1:
        problems.append(f"alpha must be between 0 and 1 (got {alpha})")
    if not 0 < power < 1:
        problems.append(f"power must be between 0 and 1 (got {power})")
    if sided not in (1, 2):
        problems.append(f"sided must be 1 or 2 (got {sided})")
    if not problems and power <= alpha / sided:
        problems.append(f"power ({power}) must be larger than alpha/sided ({alpha / sided:g})")
    if problems:
        raise ValueError("; ".join(problems))


def _check_method(method: str) -> None:
    if method not in ("t", "z"):
        raise ValueError(f"method must be 't' (noncentral t) or 'z' (normal) (got {method!r})")


def n_individual_exact(d, alpha=0.05, power=0.80, sided=2, method="t") -> float:
    """Both groups together, unrounded: the n an individually randomised trial would need."""
    _check(d, alpha, power, sided)
    _check_method(method)
    return 2 * (_n_t if method == "t" else _n_z)(d, alpha, power, sided, paired=False)


def power_individual(n_total: float, d, alpha=0.05, sided=2, method="t") -> float:
    """Power of the two-group comparison with n_total patients (unrounded, equal groups)."""
    if method == "z" or n_total / 2 <= 1:
        # the t test has no degrees of freedom left: the normal approximation is all there is
        return float(stats.norm.sf(stats.norm.isf(alpha / sided) - d * math.sqrt(n_total / 4)))
    return _power_t(n_total / 2, d, alpha, sided, paired=False)


def _with_loss(n: int, loss: float, loss_method: str) -> int:
    if not 0 <= loss < 1:
        raise ValueError(f"loss to follow-up must be at least 0 and below 1 (got {loss})")
    if loss_method == "divide":
        return math.ceil(n / (1 - loss) - 1e-9)
    if loss_method == "inflate":
        return math.ceil(n * (1 + loss) - 1e-9)
    raise ValueError(f"loss_method must be 'divide' or 'inflate' (got {loss_method!r})")


def individual(d, alpha=0.05, power=0.80, sided=2, loss=0.0, loss_method="divide", method="t"):
    """Two-group individually randomised parallel trial (equal allocation).

    Returns a dict: ``n_per_group_exact`` (unrounded), ``n_per_group``, ``patients``
    (both groups, after loss), plus the inputs.
    """
    _check(d, alpha, power, sided)
    _check_method(method)
    exact = (_n_t if method == "t" else _n_z)(d, alpha, power, sided, paired=False)
    per_group = math.ceil(exact - 1e-9)
    per_group_loss = _with_loss(per_group, loss, loss_method)
    return {
        "design": "individual",
        "d": d,
        "alpha": alpha,
        "power": power,
        "sided": sided,
        "loss": loss,
        "loss_method": loss_method,
        "method": method,
        "n_per_group_exact": exact,
        "n_per_group": per_group_loss,
        "patients": 2 * per_group_loss,
    }


def paired(d, alpha=0.05, power=0.80, sided=2, loss=0.0, loss_method="divide", method="t"):
    """Matched-pairs (paired) t-test; d is the mean difference over the SD of differences.

    ``n`` is the number of pairs after loss (physiotherapists in BetterBack).
    """
    _check(d, alpha, power, sided)
    _check_method(method)
    exact = (_n_t if method == "t" else _n_z)(d, alpha, power, sided, paired=True)
    n = math.ceil(exact - 1e-9)
    patients = _with_loss(n, loss, loss_method)  # validates loss before it divides
    return {
        "design": "paired",
        "d": d,
        "alpha": alpha,
        "power": power,
        "sided": sided,
        "loss": loss,
        "loss_method": loss_method,
        "method": method,
        "n_exact": exact,
        "n_before_loss": n,
        "n_after_loss_exact": exact * (1 + loss)
        if loss_method == "inflate"
        else exact / (1 - loss),
        "patients": patients,
    }
