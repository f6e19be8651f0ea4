"""What a protocol's stated sample size means, read two ways, and the power as run.

BetterBack's protocol states "n = 402 patients over 2.41 clusters" for its dog-leg. The
two figures come from different designs: the dog-leg ``I.,CI,.C`` needs 2.41 clusters and
321 patients (4 cluster-periods of 100 per set of 3 clusters), while 402 is the
individually randomised 201.9 times the parallel design effect 1 + 99 * 0.01 = 1.99, the
total a *parallel* cluster trial needs. The inputs come from the protocol file's
``[sample_size]`` section, never from here.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from .cluster import cluster_parallel, layout


def _sided(sided: int) -> str:
    return _("one-sided") if sided == 1 else _("two-sided")


def protocol_readings(inputs: dict) -> dict:
    """The protocol's design, the parallel cluster design and the design as run, each
    with a sentence. ``inputs``: d, alpha, power, sided, icc, cac, m, layout, method,
    and optionally clusters_as_run, stated_patients, stated_clusters."""
    common = {k: inputs[k] for k in ("d", "alpha", "power", "sided", "icc", "m")}
    method = inputs.get("method") or "z"
    design = layout(**common, cac=inputs["cac"], layout=inputs["layout"], method=method)
    parallel = cluster_parallel(**common, method=method)
    as_run = None
    if inputs.get("clusters_as_run"):
        as_run = layout(
            **common,
            cac=inputs["cac"],
            layout=inputs["layout"],
            method=method,
            clusters=inputs["clusters_as_run"],
        )
    stated_p, stated_c = inputs.get("stated_patients"), inputs.get("stated_clusters")
    values = {
        "layout": design["layout"],
        "m": design["m"],
        "cells": design["cluster_periods_per_set"],
        "design_clusters": f"{design['clusters_exact']:.2f}",
        "design_patients": f"{design['patients_exact']:.0f}",
        "n_ind": f"{design['n_individual_exact']:.1f}",
        "deff": f"{1 + (design['m'] - 1) * design['icc']:.3g}",
        "parallel_patients": f"{parallel['patients_exact']:.0f}",
        "parallel_clusters": f"{parallel['clusters_exact']:.2f}",
        "stated_patients": stated_p,
        "stated_clusters": stated_c,
    }
    sentences = {
        "design": _(
            "Reading 1, the design as drawn ({layout}): {design_clusters} clusters with "
            "{m} patients in each of the {cells} cluster-periods per set of clusters need "
            "{design_patients} patients."
        ).format(**values),
        "parallel": _(
            "Reading 2, a parallel cluster trial: {n_ind} individually randomised patients "
            "times the design effect 1 + (m − 1) × ICC = {deff} give {parallel_patients} "
            "patients, i.e. {parallel_clusters} clusters of {m}."
        ).format(**values),
    }
    if stated_p and stated_c:
        if values["design_clusters"] == f"{stated_c:.2f}" and values["parallel_patients"] == str(
            stated_p
        ):
            sentences["stated"] = _(
                "The protocol's “{stated_patients} patients over {stated_clusters} "
                "clusters” mixes the two: {stated_clusters} clusters is reading 1, whose "
                "patient total is {design_patients}; {stated_patients} patients is reading "
                "2, the parallel cluster design's total."
            ).format(**values)
        else:
            sentences["stated"] = _(
                "The protocol states {stated_patients} patients over {stated_clusters} "
                "clusters; reading 1 gives {design_patients} over {design_clusters}, "
                "reading 2 {parallel_patients} over {parallel_clusters}."
            ).format(**values)
    if as_run:
        sentences["as_run"] = _(
            "As run, {clusters} clusters ({per_sequence} per sequence) with {m} patients per "
            "cluster-period, {patients} patients in all, have a power of {achieved:.1%} to "
            "detect d = {d} ({sided}, α = {alpha})."
        ).format(
            clusters=as_run["clusters"],
            per_sequence=as_run["clusters_per_sequence"],
            m=as_run["m"],
            patients=as_run["patients"],
            achieved=as_run["achieved_power"],
            d=as_run["d"],
            sided=_sided(as_run["sided"]),
            alpha=as_run["alpha"],
        )
    return {"design": design, "parallel": parallel, "as_run": as_run, "sentences": sentences}
