"""Sample size: individually randomised designs (:mod:`.individual`), any cluster layout
of sequences x periods by GLS on cluster-period means (:mod:`.cluster`), the readings of a
protocol's stated figures (:mod:`.readings`) and a readable summary (:mod:`.describe`)."""

from .cluster import (  # noqa: F401
    DOGLEG,
    PARALLEL,
    check_correlations,
    cluster_mean_correlation,
    cluster_parallel,
    clusters_per_sequence,
    dogleg,
    effect_variance,
    layout,
    parse_layout,
)
from .individual import (  # noqa: F401
    _n_t,
    _n_z,
    _power_t,
    individual,
    n_individual_exact,
    paired,
    power_individual,
)

DESIGNS = ("individual", "paired", "cluster", "dogleg", "layout")


def calculate(
    design: str,
    d,
    alpha=0.05,
    power=0.80,
    sided=2,
    *,
    loss=0.0,
    loss_method="divide",
    method=None,
    icc=0.01,
    cac=0.80,
    m=100,
    layout_text=None,
    clusters=None,
) -> dict:
    """One entry for the command and the page; ``method`` defaults to t for individual
    and paired designs and to z (Hooper & Bourke's normal approximation) for clusters."""
    common = {"d": d, "alpha": alpha, "power": power, "sided": sided}
    if design in ("individual", "paired"):
        fn = individual if design == "individual" else paired
        return fn(**common, loss=loss, loss_method=loss_method, method=method or "t")
    cluster = {"m": m, "method": method or "z", "clusters": clusters}
    if design == "cluster":
        return cluster_parallel(**common, icc=icc, **cluster)
    if design == "dogleg":
        return dogleg(**common, icc=icc, cac=cac, **cluster)
    if design == "layout":
        return layout(**common, icc=icc, cac=cac, layout=layout_text or "", **cluster)
    raise ValueError(f"design must be one of {', '.join(DESIGNS)} (got {design!r})")
