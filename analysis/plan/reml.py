"""Fixed-effect covariance and Satterthwaite degrees of freedom for a fitted model with
a random intercept per group and variance components (the primary model): an
:class:`analysis.plan.lmm.Fit`, which evaluates the REML criterion in O(n), or a
statsmodels MixedLM result (the reference), evaluated with dense per-group solves below.

Per group g the covariance of the observations is

    V_g(theta) = theta_0 Z Z' + sum_j theta_j M_j M_j' + theta_scale I

with theta the variances on the data scale (statsmodels' ``cov_re``, ``vcomp`` and
``scale``). The fixed effects' covariance is C(theta) = (sum_g X_g' V_g^-1 X_g)^-1 at the
REML estimate, the model-based covariance lme4 and SAS report (statsmodels' own
``cov_params`` inverts the observed Hessian with fixed-by-variance cross terms, which
vanish in expectation and moved SEs in the third decimal).

Satterthwaite's df for a contrast L (as lmerTest and SAS's DDFM=SAT):
df = 2 (L C L')^2 / (g' A g), g the gradient of L C(theta) L' in theta (central
differences) and A the inverse Hessian of minus the REML log-likelihood in theta
(numerical). Variances on the zero boundary are held fixed, as lmerTest does.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def _blocks(result):
    model = result.model
    blocks = []
    for i in range(len(model.group_labels)):
        mats = []
        if model.k_re:
            Z = np.asarray(model.exog_re_li[i], dtype=float)
            mats.append(Z @ Z.T)
        for j in range(len(result.vcomp)):
            M = np.asarray(model.exog_vc.mats[j][i], dtype=float)
            mats.append(M @ M.T)
        blocks.append((np.asarray(model.exog_li[i]), np.asarray(model.endog_li[i]), mats))
    return blocks


def theta_of(result) -> np.ndarray:
    parts = []
    if result.model.k_re:
        parts.append(float(np.asarray(result.cov_re)[0, 0]))
    parts += [float(v) for v in result.vcomp]
    parts.append(float(result.scale))
    return np.array(parts)


def _pieces(theta, blocks):
    k = blocks[0][0].shape[1]
    xtvx, xtvy, logdet, solved = np.zeros((k, k)), np.zeros(k), 0.0, []
    for X, y, mats in blocks:
        V = theta[-1] * np.eye(len(y))
        for value, mm in zip(theta[:-1], mats, strict=True):
            V = V + value * mm
        chol = np.linalg.cholesky(V)
        logdet += 2 * np.log(np.diag(chol)).sum()
        vx = np.linalg.solve(V, X)
        vy = np.linalg.solve(V, y)
        xtvx += X.T @ vx
        xtvy += X.T @ vy
        solved.append((X, y, vx, vy))
    return xtvx, xtvy, logdet, solved


def fe_cov_at(theta, blocks) -> np.ndarray:
    return np.linalg.inv(_pieces(theta, blocks)[0])


def neg_reml(theta, blocks) -> float:
    xtvx, xtvy, logdet, solved = _pieces(theta, blocks)
    beta = np.linalg.solve(xtvx, xtvy)
    quad = sum(
        float(y @ vy - 2 * beta @ (X.T @ vy) + beta @ (X.T @ vx) @ beta) for X, y, vx, vy in solved
    )
    return 0.5 * (logdet + np.linalg.slogdet(xtvx)[1] + quad)


def _functions(result):
    """(theta, minus REML log-likelihood of theta, fixed-effect covariance at theta)."""
    if hasattr(result, "neg_reml"):
        return result.theta(), result.neg_reml, result.fe_cov_at
    blocks = _blocks(result)
    return (
        theta_of(result),
        lambda t: neg_reml(t, blocks),
        lambda t: fe_cov_at(t, blocks),
    )


def fe_cov(result) -> pd.DataFrame:
    """(X' V^-1 X)^-1 at the REML estimates, labelled by the fixed-effect names."""
    if hasattr(result, "neg_reml"):
        return result.cov_params()
    names = list(result.fe_params.index)
    cov = fe_cov_at(theta_of(result), _blocks(result))
    return pd.DataFrame(cov, index=names, columns=names)


def _hessian(f, x, steps):
    n = len(x)
    H = np.zeros((n, n))
    f0 = f(x)
    for i in range(n):
        ei = np.zeros(n)
        ei[i] = steps[i]
        H[i, i] = (f(x + ei) - 2 * f0 + f(x - ei)) / steps[i] ** 2
        for j in range(i):
            ej = np.zeros(n)
            ej[j] = steps[j]
            H[i, j] = H[j, i] = (
                f(x + ei + ej) - f(x + ei - ej) - f(x - ei + ej) + f(x - ei - ej)
            ) / (4 * steps[i] * steps[j])
    return H


def satterthwaite(result, contrasts: list[np.ndarray], boundary: float = 1e-6) -> list[float]:
    """Satterthwaite df for each contrast vector (fixed-effect order of the result)."""
    theta, criterion, cov_at = _functions(result)
    free = np.flatnonzero(theta > boundary * theta.sum())
    if len(free) == 0:
        return [np.inf for _ in contrasts]
    steps = np.maximum(theta[free] * 1e-3, 1e-6)

    def full(sub):
        t = theta.copy()
        t[free] = sub
        return t

    H = _hessian(lambda sub: criterion(full(sub)), theta[free], steps)
    A = np.linalg.pinv(H)
    covs_plus, covs_minus = [], []
    for i, h in enumerate(steps):
        e = np.zeros(len(free))
        e[i] = h
        covs_plus.append(cov_at(full(theta[free] + e)))
        covs_minus.append(cov_at(full(theta[free] - e)))
    C = cov_at(theta)
    out = []
    for L in contrasts:
        phi = float(L @ C @ L)
        g = np.array(
            [
                (L @ cp @ L - L @ cm @ L) / (2 * h)
                for cp, cm, h in zip(covs_plus, covs_minus, steps, strict=True)
            ]
        )
        denom = float(g @ A @ g)
        out.append(float(2 * phi**2 / denom) if denom > 0 else np.inf)
    return out
