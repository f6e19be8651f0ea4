"""The analyses of the plan as the report shows them: tables by title plus notes.

Each function returns ``(results, notes)``: ``results`` maps a table title to a DataFrame,
``notes`` is a list of one-sentence statements for the top of the report (a column the
dataset lacks, an analysis that could not run and why, the sidedness used). The main
analysis of a function raises :class:`InsufficientData` when it cannot run; a secondary
or sensitivity analysis that cannot run becomes a one-row table saying why, so it never
silently disappears from the report.
"""

from __future__ import annotations

import pandas as pd

from . import (
    InsufficientData,
    arms,
    cea,
    mcid,
    mi,
    mixed,
    paired,
    pilot,
    risk_group,
    sidedness,
    specialist,
)

PRIMARY_TITLE = (
    "Primary model (condition x time, cluster, period x time; random clinic, clinic x time, "
    "participant)"
)


def _blinded(df) -> bool:
    return arms(df) == ("A", "B")


def _not_run(title: str, reason: str) -> pd.DataFrame:
    return pd.DataFrame([{"term": f"{title}: not run", "note": reason}])


def _secondary(results, notes, title, run):
    try:
        results[title] = run()
    except InsufficientData as exc:
        results[title] = _not_run(title, str(exc))
        notes.append(f"{title}: not run. {exc}")


def _column_notes(df) -> list[str]:
    notes = []
    if "period" not in df.columns:
        notes.append(
            "The dataset has no period column, so the models do not adjust for calendar time."
        )
    if "per_protocol" not in df.columns:
        notes.append(
            "The dataset has no per_protocol column, so the per-protocol analysis cannot run."
        )
    if _blinded(df):
        notes.append("Blinded dataset: conditions are A and B and every contrast reads B - A.")
    return notes


def _benefit(outcome: str, higher_is_better: bool | None):
    if higher_is_better is not None:
        return "higher" if higher_is_better else "lower"
    return sidedness.PATIENT_BENEFIT.get(outcome)


def mixed_analyses(df, outcome="nrs_back", cluster_random=True, higher_is_better=None):
    notes = _column_notes(df)
    benefit = _benefit(outcome, higher_is_better)
    prescribed = sidedness.ONE if benefit else sidedness.TWO
    if not benefit:
        notes.append(f"No direction of benefit is known for {outcome}, so p-values are two-sided.")
    table, result = mixed.mixed_change(df, outcome, return_result=True)
    blinded = _blinded(df)
    results = {
        f"{PRIMARY_TITLE}, {outcome}": sidedness.apply(
            table, prescribed, benefit, sidedness.REASON_PATIENT, blinded
        ),
        f"Variance components of the primary model, {outcome}": mixed.variance_components(result),
    }
    if table["note"].iloc[0]:
        notes.append(f"Primary model: {table['note'].iloc[0]}")
    dfs = ", ".join(f"{d:.0f}" for d in table["df"])
    notes.append(
        f"Primary model CIs and p-values use t distributions with Satterthwaite's df ({dfs} "
        "at 3, 6, 12 months): the effects vary between clinics over time, so a normal "
        "interval would be optimistic, while the containment df (clinics - clusters - 1) "
        "over-covered (98%) in simulation."
    )
    _secondary(
        results,
        notes,
        f"Condition x STarT Back risk group (primary model), {outcome}",
        lambda: sidedness.apply(
            risk_group.mixed_by_risk_group(df, outcome),
            sidedness.TWO,
            benefit,
            sidedness.REASON_TWO,
            blinded,
        ),
    )
    _secondary(
        results,
        notes,
        f"Sensitivity analysis: previous model (no clinic level, no calendar time), {outcome}",
        lambda: sidedness.apply(
            mixed.previous_model(df, outcome, cluster_random),
            prescribed,
            benefit,
            sidedness.REASON_PATIENT,
            blinded,
        ),
    )
    return results, notes


def mi_analyses(df, outcome="nrs_back", m=mi.DEFAULT_M, seed=1, higher_is_better=None):
    notes = _column_notes(df)
    benefit = _benefit(outcome, higher_is_better)
    prescribed = sidedness.ONE if benefit else sidedness.TWO
    table = mi.all_mi(df, outcome, m=m, seed=seed)
    table = sidedness.apply(table, prescribed, benefit, sidedness.REASON_PATIENT, _blinded(df))
    for _, row in table.loc[table.term.str.endswith(": not run")].iterrows():
        notes.append(f"{row.analysis}: not run. {row.note}")
    notes.append(
        f"{m} imputations (Bayesian normal chained equations with parameter draws), each "
        "analysed with the primary model and pooled by Rubin's rules."
    )
    return {f"Multiple imputation (ITT) and sensitivity analyses, {outcome}": table}, notes


def specialist_analyses(df):
    notes = _column_notes(df)
    table = specialist.specialist_incidence(df)
    # the pooled z-test's two-sided p stays; the one-sided p (less specialist care under
    # the comparator) is its half on the benefit side
    diff = table["term"].str.startswith("difference") & table["p_value"].notna()
    half = table["p_value"] / 2
    table["p_two_sided"] = table["p_value"]
    table["p_one_sided"] = half.where(table["estimate"] < 0, 1 - half).where(diff)
    table["sidedness"] = (
        f"p_value is two-sided ({sidedness.REASON_TWO}); one-sided beside, H1: lower "
        "incidence under the " + arms(df)[1]
    )
    notes.append(
        "Specialist care: the cluster-adjusted interval (design effect from the clinic ICC) "
        "stands beside the unadjusted Newcombe interval."
    )
    return {"Specialist care within 12 months": table}, notes


def mcid_analyses(df, outcome, timepoint, higher_is_better=False):
    table = mcid.mcid_anchor(df, outcome, timepoint, lower_is_better=not higher_is_better)
    if "n" in table and not (table["n"].fillna(0) > 1).any():
        raise InsufficientData(
            f"Too few participants with {outcome} at baseline and {timepoint} months and a "
            "PGIC rating to estimate an MCID."
        )
    notes = ["MCID: two-sided (no direction stated by the protocol)."]
    return {f"MCID (PGIC anchor), {outcome}": table}, notes


def paired_analyses(physio):
    table = paired.paired_change(physio)
    return {"Matched-pairs t-tests, physiotherapists": table}, [
        "Physiotherapists: p_value is one-sided towards the BetterBack model, as the "
        "protocol's sample size assumed; the two-sided p stands beside it."
    ]


def pilot_analyses(physio, recruitment):
    table = pilot.progression(physio, recruitment)
    if table.iloc[0]["n"] == 0:
        raise InsufficientData(
            "No physiotherapist has answered the DIBQ usefulness item directly after the "
            "workshop yet, so the progression criterion cannot be judged."
        )
    return {"Internal pilot progression": table}, [
        "Progression is judged on the DIBQ usefulness criterion alone; recruitment over "
        "the pilot's first 2 months is reported against the expected 20 per cluster per "
        "month, not as a criterion."
    ]


def cea_analyses(df, utilisation, prices, n_boot=2000, seed=1, wtp=500000, m=mi.DEFAULT_M):

    notes = _column_notes(df)
    pp = cea.per_person(df, utilisation, prices)
    missing_u = int(pd.isna(pp["qaly"]).sum())
    missing_c = int(pp["cost"].isna().sum())
    tables = cea.impute_per_person(pp, m=m, seed=seed)
    boot = cea.cluster_bootstrap(tables, n_boot, seed)
    curve = cea.ceac(boot)
    notes.append(
        f"Cost-effectiveness: {missing_u} participants with a missing utility and "
        f"{missing_c} with a missing cost were multiply imputed ({m} imputations); delta "
        "QALY is adjusted for baseline utility; the bootstrap resamples clinics within "
        f"cluster ({n_boot} replicates)."
    )
    results = {
        "Cost-effectiveness (ICER)": cea.icer(tables, n_boot, seed, boot=boot),
        "Cost-effectiveness acceptability curve": curve,
    }
    figures = {
        "Cost-effectiveness plane": cea.plane_svg(boot, wtp),
        "Cost-effectiveness acceptability curve": cea.ceac_svg(curve),
    }
    return results, notes, figures
