"""An independent REML fit of the primary model with numpy/scipy, for the tests only.

Nothing from statsmodels or analysis.plan.mixed: the design matrix is built column by
column, the covariance matrix of each clinic's observations is written out

    V_k = s_clinic * J + s_clinic_time * T T' + s_participant * P P' + s_resid * I

(J all ones, T time indicators, P participant indicators within the clinic), and the
restricted log-likelihood

    -1/2 [ sum_k log|V_k| + log|sum_k X_k' V_k^-1 X_k| + sum_k r_k' V_k^-1 r_k ]

is maximised over the log variances with L-BFGS-B. Fixed effects are the GLS estimate and
their covariance (X' V^-1 X)^-1.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import optimize

TIMES = (3, 6, 12)


def design(df: pd.DataFrame, outcome: str = "nrs_back"):
    """(y, X, names, blocks): blocks are (rows, T, P) per clinic."""
    d = df.loc[df[outcome].notna()].reset_index(drop=True)
    arm = (d.condition == "intervention").to_numpy(float)
    t = d.timepoint_months.to_numpy()
    cols, names = [np.ones(len(d))], ["intercept"]
    cols.append(arm)
    names.append("arm")
    for k in TIMES:
        cols.append((t == k).astype(float))
        names.append(f"time{k}")
    for k in TIMES:
        cols.append(arm * (t == k))
        names.append(f"arm:time{k}")
    for c in sorted(d.cluster.unique())[1:]:
        cols.append((d.cluster == c).to_numpy(float))
        names.append(f"cluster{c}")
    p2 = (d.period == 2).to_numpy(float)
    cols.append(p2)
    names.append("period2")
    for k in TIMES:
        cols.append(p2 * (t == k))
        names.append(f"period2:time{k}")
    X = np.column_stack(cols)
    blocks = []
    for clinic in sorted(d.clinic.unique()):
        rows = np.flatnonzero(d.clinic.to_numpy() == clinic)
        tt = t[rows]
        T = (tt[:, None] == np.array([0, *TIMES])[None, :]).astype(float)
        ids = d.study_id.to_numpy()[rows]
        P = (ids[:, None] == np.unique(ids)[None, :]).astype(float)
        blocks.append((rows, T @ T.T, P @ P.T))
    return d[outcome].to_numpy(float), X, names, blocks


def _pieces(theta, y, X, blocks):
    sc, sct, sp, se = np.exp(theta)
    xtvx = np.zeros((X.shape[1], X.shape[1]))
    xtvy = np.zeros(X.shape[1])
    logdet = 0.0
    invs = []
    for rows, TT, PP in blocks:
        n = len(rows)
        V = sc * np.ones((n, n)) + sct * TT + sp * PP + se * np.eye(n)
        chol = np.linalg.cholesky(V)
        logdet += 2 * np.log(np.diag(chol)).sum()
        Vi = np.linalg.inv(V)
        invs.append(Vi)
        Xk = X[rows]
        xtvx += Xk.T @ Vi @ Xk
        xtvy += Xk.T @ Vi @ y[rows]
    return xtvx, xtvy, logdet, invs


def neg_reml(theta, y, X, blocks):
    xtvx, xtvy, logdet, invs = _pieces(theta, y, X, blocks)
    beta = np.linalg.solve(xtvx, xtvy)
    quad = 0.0
    for (rows, _, _), Vi in zip(blocks, invs, strict=True):
        r = y[rows] - X[rows] @ beta
        quad += r @ Vi @ r
    return 0.5 * (logdet + np.linalg.slogdet(xtvx)[1] + quad)


def gls(theta, y, X, blocks):
    """(beta, covariance of beta) at the given log variances."""
    xtvx, xtvy, _, _ = _pieces(theta, y, X, blocks)
    cov = np.linalg.inv(xtvx)
    return cov @ xtvy, cov


def fit(df: pd.DataFrame, outcome: str = "nrs_back") -> dict:
    y, X, names, blocks = design(df, outcome)
    start = np.log([0.1, 0.1, 1.0, 1.0])
    res = optimize.minimize(
        neg_reml,
        start,
        args=(y, X, blocks),
        method="L-BFGS-B",
        options={"ftol": 1e-13, "gtol": 1e-9, "maxiter": 500},
    )
    beta, cov = gls(res.x, y, X, blocks)
    idx = [names.index(f"arm:time{k}") for k in TIMES]
    return {
        "estimate": beta[idx],
        "std_error": np.sqrt(np.diag(cov))[idx],
        "variances": np.exp(res.x),
        "converged": res.success,
    }


def true_se(df: pd.DataFrame, variances, outcome: str = "nrs_back") -> np.ndarray:
    """SE of the GLS (best linear unbiased) estimate of the arm x time terms at the true
    variances: no linear unbiased estimator has a smaller sampling SD."""
    y, X, names, blocks = design(df, outcome)
    _, cov = gls(np.log(variances), y, X, blocks)
    idx = [names.index(f"arm:time{k}") for k in TIMES]
    return np.sqrt(np.diag(cov))[idx]
