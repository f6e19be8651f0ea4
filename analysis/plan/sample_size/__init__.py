"""Sample size: individually randomised designs (:mod:`.individual`), any cluster layout
of sequences x periods by GLS on cluster-period means (:mod:`.layout`), the readings of a
protocol's stated figures (:mod:`.readings`) and a readable summary (:mod:`.describe`)."""

from .individual import (  # noqa: F401
    _n_t,
    _n_z,
    _power_t,
    individual,
    n_individual_exact,
    paired,
    power_individual,
)
from .layout import (  # noqa: F401
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
