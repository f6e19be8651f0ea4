"""Simulation checks of the analysis plan (issue 16), too slow for CI; prints the figures.

    .venv/bin/python benchmarks/analysis_plan.py primary --reps 200
    .venv/bin/python benchmarks/analysis_plan.py mi --datasets 50
    .venv/bin/python benchmarks/analysis_plan.py bootstrap --reps 200
    .venv/bin/python benchmarks/analysis_plan.py speed [--old-max 2400]

primary: data from :func:`analysis.plan.simulate.simulate_trial` (stated model in its
docstring) with BetterBack's layout (3 clusters of 100, 5/6/6 clinics), clinic SD 0.3,
clinic-by-time SD 0.3, cluster SD 0.3, participant SD 1.2, residual SD 1, a secular
improvement of 1 NRS point across recruitment, true effect -0.8 at 3, 6 and 12 months and
15% of follow-ups missing completely at random. Coverage of the primary model's 95% CI
(t with Satterthwaite df, and with z), bias, and the previous model's coverage
beside (fitted in its fallback form, participant random + cluster fixed, because the
cluster-random form takes ~30 s per fit; both ignore clinic and calendar time).

mi: the same model with MAR missingness (logit P(missing) = logit(0.25) + 0.5 (baseline -
6)), m imputations (bias does not depend on m, so 5 keeps this affordable); bias of the
pooled 12-month estimate against the truth and against the complete-data estimate.

bootstrap: clustered costs (clinic ICC 0.03) in the dog-leg layout; mean cluster-bootstrap
SE of the cost difference against the SD of the estimate over repetitions.

speed: seconds for the primary model (fit, SEs, Satterthwaite df: ``mixed_change``) at
400, 1,200, 2,400 and 4,000 patients x 4 timepoints (10% of follow-ups missing), with
the structured solver (analysis.plan.lmm) and, in the same run, the statsmodels MixedLM
path it replaced (up to ``--old-max`` patients: it is O(n^2.65), 156 s at 4,000) and R
lme4's ``lmer`` on the same data when R with lme4 is installed (fit only, timed inside R).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from analysis.plan import cea, mi, mixed, simulate  # noqa: E402

EFFECT = -0.8
SIM = dict(
    n_per_cluster=100,
    effect={3: EFFECT, 6: EFFECT, 12: EFFECT},
    sd_cluster=0.3,
    sd_clinic=0.3,
    sd_clinic_time=0.3,
    secular=-1.0,
)


def _summary(name, est, lo, hi):
    est, lo, hi = map(np.asarray, (est, lo, hi))
    n = len(est)
    cover = np.mean((lo < EFFECT) & (EFFECT < hi))
    bias = est.mean() - EFFECT
    print(
        f"{name:<48} reps {n:4d}  coverage {cover:6.1%}"
        f" (MC SE {np.sqrt(cover * (1 - cover) / n):.1%})"
        f"  bias {bias:+.4f} (MC SE {est.std(ddof=1) / np.sqrt(n):.4f})"
        f"  empirical SD {est.std(ddof=1):.4f}"
    )


def primary(reps: int, seed0: int):
    rows = []
    t0 = time.time()
    for r in range(reps):
        d = simulate.simulate_trial(**SIM, p_missing=0.15, seed=seed0 + r)
        new = mixed.mixed_change(d).set_index("timepoint_months").loc[12]
        old = mixed.previous_model(d, cluster_random=False).set_index("timepoint_months").loc[12]
        z = 1.959964
        rows.append(
            dict(
                est=new.estimate,
                lo=new.ci_low,
                hi=new.ci_high,
                se=new.std_error,
                zlo=new.estimate - z * new.std_error,
                zhi=new.estimate + z * new.std_error,
                oest=old.estimate,
                olo=old.ci_low,
                ohi=old.ci_high,
                ose=old.std_error,
            )
        )
        if (r + 1) % 20 == 0:
            print(f"  {r + 1} reps, {time.time() - t0:.0f} s", flush=True)
    f = pd.DataFrame(rows)
    print(f"primary model simulation, 12-month effect {EFFECT}, {SIM}")
    _summary("primary model, t(Satterthwaite df) CI", f.est, f.lo, f.hi)
    _summary("primary model, z CI", f.est, f.zlo, f.zhi)
    _summary("previous model (sensitivity), z CI", f.oest, f.olo, f.ohi)
    print(f"mean SE primary {f.se.mean():.4f}, previous {f.ose.mean():.4f}")


def mi_bias(datasets: int, m: int, seed0: int):
    rows = []
    t0 = time.time()
    for r in range(datasets):
        full = simulate.simulate_trial(**SIM, seed=seed0 + r)
        miss = simulate.simulate_trial(**SIM, p_missing=0.25, mar_slope=0.5, seed=seed0 + r)
        complete = mixed.mixed_change(full).set_index("timepoint_months").loc[12]
        cc = mixed.mixed_change(miss).set_index("timepoint_months").loc[12]
        pooled = mi.mi_change(miss, m=m, seed=r).set_index("timepoint_months").loc[12]
        rows.append(
            dict(
                full=complete.estimate,
                cc=cc.estimate,
                mi=pooled.estimate,
                lo=pooled.ci_low,
                hi=pooled.ci_high,
                missing=float(miss.loc[miss.timepoint_months > 0, "nrs_back"].isna().mean()),
            )
        )
        if (r + 1) % 10 == 0:
            print(f"  {r + 1} datasets, {time.time() - t0:.0f} s", flush=True)
    f = pd.DataFrame(rows)
    n = len(f)
    print(
        f"MI simulation: {n} datasets, m = {m}, {f.missing.mean():.0%} of follow-ups missing (MAR)"
    )
    for name, col in (
        ("MI", f.mi),
        ("observed-data (likelihood) fit", f.cc),
        ("complete data", f.full),
    ):
        print(
            f"  {name:<32} bias vs truth {col.mean() - EFFECT:+.4f}"
            f" (MC SE {col.std(ddof=1) / np.sqrt(n):.4f})"
        )
    diff = f.mi - f.full
    print(
        f"  MI minus complete-data estimate: {diff.mean():+.4f}"
        f" (MC SE {diff.std(ddof=1) / np.sqrt(n):.4f})"
    )
    print(f"  MI 95% CI coverage {np.mean((f.lo < EFFECT) & (EFFECT < f.hi)):.1%}")


def bootstrap(reps: int, n_boot: int, seed0: int):
    est, ses = [], []
    for r in range(reps):
        pp = simulate.simulate_costs(seed=seed0 + r)
        out = cea.cluster_bootstrap(pp, n_boot=n_boot, seed=r)
        est.append(
            pp.loc[pp.condition == "intervention", "cost"].mean()
            - pp.loc[pp.condition == "control", "cost"].mean()
        )
        ses.append(out.delta_cost.std(ddof=1))
    est, ses = np.array(est), np.array(ses)
    true = simulate.cost_difference_sd()
    print(f"cluster bootstrap over {reps} simulated trials ({n_boot} replicates each):")
    print(
        f"  mean bootstrap SE {ses.mean():.1f};"
        f" SD of the estimate over trials {est.std(ddof=1):.1f};"
        f" analytic true SD {true:.1f}; ratio mean SE / true SD {ses.mean() / true:.3f}"
    )


LMER = """suppressMessages(library(lme4)); d <- read.csv(commandArgs(TRUE)[1])
for (v in c("timepoint_months", "cluster", "period", "clinic")) d[[v]] <- factor(d[[v]])
d$pid <- factor(paste(d$clinic, d$study_id))
t0 <- proc.time()[["elapsed"]]
m <- lmer(nrs_back ~ arm * timepoint_months + cluster + period * timepoint_months +
  (1 | clinic) + (1 | clinic:timepoint_months) + (1 | pid), data = d, REML = TRUE)
cat(proc.time()[["elapsed"]] - t0, fixef(m)[["arm:timepoint_months12"]], "\n")
"""


def _lme4_seconds(d) -> tuple[float, float] | None:
    if shutil.which("Rscript") is None:
        return None
    data = mixed.prepare(d, "nrs_back")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "d.csv"
        data.to_csv(path, index=False)
        out = subprocess.run(["Rscript", "-e", LMER, str(path)], capture_output=True, text=True)
    if out.returncode:
        return None
    seconds, estimate = out.stdout.split()
    return float(seconds), float(estimate)


def speed(sizes: list[int], old_max: int):
    print("primary model: seconds per fit (fit + SEs + Satterthwaite df), 4 timepoints")
    print(
        f"{'patients':>8} {'obs':>6} {'structured':>10} {'statsmodels':>11} {'ratio':>7}"
        f" {'lme4':>7} {'ratio':>7} {'|diff 12m|':>10}"
    )
    for n in sizes:
        d = simulate.simulate_trial(**{**SIM, "n_per_cluster": n // 3}, p_missing=0.1, seed=n)
        t0 = time.perf_counter()
        new = mixed.mixed_change(d)
        t_new = time.perf_counter() - t0
        est = new.set_index("timepoint_months").loc[12, "estimate"]
        old_s, diff = "-", ""
        if n <= old_max:
            t0 = time.perf_counter()
            old = mixed.mixed_change(d, engine="statsmodels")
            t_old = time.perf_counter() - t0
            old_s = f"{t_old:11.2f} {t_old / t_new:6.1f}x"
            diff = f"{abs(old.set_index('timepoint_months').loc[12, 'estimate'] - est):.1e}"
        else:
            old_s = f"{'-':>11} {'-':>7}"
        r = _lme4_seconds(d)
        r_s = f"{r[0]:7.2f} {r[0] / t_new:6.2f}x" if r else f"{'-':>7} {'-':>7}"
        if r:
            diff = (diff + " " if diff else "") + f"lme4 {abs(r[1] - est):.1e}"
        print(
            f"{d.study_id.nunique():8d} {int(d.nrs_back.notna().sum()):6d} {t_new:10.2f}"
            f" {old_s} {r_s} {diff:>10}",
            flush=True,
        )


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("what", choices=["primary", "mi", "bootstrap", "speed"])
    parser.add_argument("--reps", type=int, default=200)
    parser.add_argument("--datasets", type=int, default=50)
    parser.add_argument("--m", type=int, default=5)
    parser.add_argument("--n-boot", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1000)
    parser.add_argument("--sizes", type=int, nargs="+", default=[400, 1200, 2400, 4000])
    parser.add_argument("--old-max", type=int, default=2400)
    a = parser.parse_args()
    if a.what == "speed":
        speed(a.sizes, a.old_max)
    elif a.what == "primary":
        primary(a.reps, a.seed)
    elif a.what == "mi":
        mi_bias(a.datasets, a.m, a.seed)
    else:
        bootstrap(a.reps, a.n_boot, a.seed)


if __name__ == "__main__":
    main()
