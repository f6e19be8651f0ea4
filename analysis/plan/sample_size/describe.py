"""A sample size result as people read it: the inputs with their names, the formula
used, the figures rounded to what they mean, and one sentence of interpretation.
Used by the calculator page and the command's plain-text output."""

from __future__ import annotations

from django.utils.translation import gettext as _

from .readings import _sided


def _num(x, places: int = 2) -> str:
    return f"{x:.{places}f}"


def _sig(x) -> str:
    return f"{x:.4g}"


def _pct(x) -> str:
    return f"{x:.1%}"


def _common_inputs(r: dict) -> list[tuple[str, str]]:
    return [
        (_("Effect size (Cohen's d)"), _sig(r["d"])),
        (_("Significance level α"), f"{_sig(r['alpha'])} ({_sided(r['sided'])})"),
        (_("Power"), _pct(r["power"])),
        (
            _("Individually randomised n from"),
            _("noncentral t") if r["method"] == "t" else _("normal approximation"),
        ),
    ]


def _grid(layout_text: str) -> list[list[str]]:
    marks = {"C": _("control"), "I": _("intervention"), ".": "–"}
    return [[marks[c] for c in seq] for seq in layout_text.split(",")]


def describe(r: dict) -> dict:
    """``formula``, ``inputs`` and ``results`` (lists of (label, text)), ``sentence``,
    and for cluster designs ``grid`` (sequences x periods)."""
    if r["design"] in ("individual", "paired"):
        return _individual(r)
    return _cluster(r)


def _individual(r: dict) -> dict:
    paired = r["design"] == "paired"
    if r["method"] == "t":
        formula = (
            _("Paired t test, power from the noncentral t (as R's power.t.test, paired)")
            if paired
            else _("Two-sample t test, power from the noncentral t (as R's power.t.test)")
        )
    else:
        formula = (
            _("Normal approximation n = (z₁₋α + z₁₋β)² / d² pairs")
            if paired
            else _("Normal approximation n = 2 (z₁₋α + z₁₋β)² / d² per group")
        )
    loss_rule = "n / (1 − loss)" if r["loss_method"] == "divide" else "n × (1 + loss)"
    inputs = _common_inputs(r) + [(_("Loss to follow-up"), f"{_pct(r['loss'])}, {loss_rule}")]
    if paired:
        results = [
            (_("Pairs needed (unrounded)"), _num(r["n_exact"])),
            (_("Pairs before loss"), str(r["n_before_loss"])),
            (_("Pairs to recruit"), str(r["patients"])),
        ]
        sentence = _(
            "Recruit {n} pairs ({before} analysed after {loss} loss) for {power} power to "
            "detect d = {d} with a {sided} test at α = {alpha}."
        )
        n, before = r["patients"], r["n_before_loss"]
    else:
        results = [
            (_("Per group (unrounded)"), _num(r["n_per_group_exact"])),
            (_("Per group to recruit"), str(r["n_per_group"])),
            (_("Patients in all"), str(r["patients"])),
        ]
        sentence = _(
            "Recruit {n} patients ({before} per group) for {power} power to detect d = {d} "
            "with a {sided} test at α = {alpha}, allowing {loss} loss to follow-up."
        )
        n, before = r["patients"], r["n_per_group"]
    return {
        "formula": formula,
        "inputs": inputs,
        "results": results,
        "sentence": sentence.format(
            n=n,
            before=before,
            loss=_pct(r["loss"]),
            power=_pct(r["power"]),
            d=_sig(r["d"]),
            sided=_sided(r["sided"]),
            alpha=_sig(r["alpha"]),
        ),
    }


def _cluster(r: dict) -> dict:
    formula = _(
        "Generalised least squares on cluster-period means with period fixed effects "
        "(Hooper et al., Stat Med 2016): variance of a cluster-period mean ICC + (1 − ICC)/m, "
        "covariance of two periods of the same cluster ICC × CAC"
    )
    if r["periods"] == 1:
        formula += _("; with one period this is the design effect 1 + (m − 1) × ICC")
    inputs = _common_inputs(r) + [
        (_("Layout (sequences × periods)"), r["layout"]),
        (_("Intracluster correlation (ICC)"), _sig(r["icc"])),
        (_("Cluster autocorrelation (CAC)"), _sig(r["cac"])),
        (_("Patients per cluster-period (m)"), str(r["m"])),
    ]
    results = [
        (_("Individually randomised n (unrounded)"), _num(r["n_individual_exact"], 1)),
        (
            _("Design effect (patients relative to individual randomisation)"),
            _num(r["design_effect"], 3),
        ),
        (_("Clusters needed (unrounded)"), _num(r["clusters_exact"])),
        (_("Patients needed (unrounded)"), _num(r["patients_exact"], 1)),
        (
            _("Clusters per sequence, rounded up")
            if r["design_from"] == "rounded up"
            else _("Clusters per sequence, as given"),
            str(r["clusters_per_sequence"]),
        ),
        (_("Clusters"), str(r["clusters"])),
        (_("Patients"), str(r["patients"])),
        (_("Power of this design"), _pct(r["achieved_power"])),
    ]
    if r["design"] == "dogleg":
        results.append(
            (
                _("Parallel cluster design's patients (same inputs)"),
                str(r["patients_parallel_cluster"]),
            )
        )
    sentence = _(
        "The layout {layout} needs {clusters_exact} clusters ({patients_exact} patients) for "
        "{power} power to detect d = {d} ({sided}, α = {alpha}); with the same number of "
        "whole clusters in each of its {sequences} sequences that is {clusters} clusters and "
        "{patients} patients, whose power is {achieved}."
    ).format(
        layout=r["layout"],
        clusters_exact=_num(r["clusters_exact"]),
        patients_exact=_num(r["patients_exact"], 0),
        power=_pct(r["power"]),
        d=_sig(r["d"]),
        sided=_sided(r["sided"]),
        alpha=_sig(r["alpha"]),
        sequences=r["sequences"],
        clusters=r["clusters"],
        patients=r["patients"],
        achieved=_pct(r["achieved_power"]),
    )
    return {
        "formula": formula,
        "inputs": inputs,
        "results": results,
        "sentence": sentence,
        "grid": _grid(r["layout"]),
    }
