"""REML for linear mixed models whose random effects are intercepts of grouping factors
(clinic, clinic x time, participant within clinic; cluster, participant), at O(n) cost.

Model: y = X b + sum_j Z_j u_j + e, u_j ~ N(0, s_j I), e ~ N(0, s_e I), each Z_j the
indicator matrix of one factor (every observation in exactly one level). With lme4's
relative factor L = diag(sqrt(s_j / s_e)) and M = L Z'Z L + I,

    V = s_e (I + Z L L Z'),   V^-1 = (I - Z L M^-1 L Z') / s_e,   log|V| = n log s_e + log|M|,

so every quantity REML needs (X'V^-1X, X'V^-1y, y'V^-1y, log|V|) comes from the
cross-products of [X y] with Z and Z'Z, computed once. The factor with the most levels
(participants) has a diagonal block in Z'Z, which is eliminated in closed form and summed
by observation count (participants with 4 observations share one diagonal value); the
remaining factors (clinics, clinic x time: tens to hundreds of levels) form a small dense
Schur complement. The cross-products cost O(n) once; one evaluation then costs
O((fixed effects + small levels)^2 + small levels^3), whatever the number of participants,
instead of the dense solves over every observation of a clinic that statsmodels' MixedLM
performs (which made the primary model O(n^2.65): 156 s at 4,000 patients).

The residual variance is profiled out and the variance ratios s_j / s_e are optimised with
L-BFGS-B on [0, inf) with central-difference gradients (zero is a valid boundary estimate,
as in lme4; on the relative-SD scale the gradient vanishes at zero, which stalled the
search there). Fixed effects are the GLS
estimate and their covariance (X'V^-1X)^-1 at the REML estimates, as lme4 reports.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import patsy
import statsmodels.formula.api as smf
from scipy import optimize, sparse
from statsmodels.tools.sm_exceptions import ConvergenceWarning


class NotEstimable(np.linalg.LinAlgError):
    """The fixed-effect design matrix does not have full column rank."""


def _codes(data: pd.DataFrame, columns: tuple[str, ...]) -> np.ndarray:
    return data.groupby(list(columns), sort=True).ngroup().to_numpy()


def _indicator(codes: np.ndarray) -> sparse.csr_matrix:
    n = len(codes)
    return sparse.csr_matrix((np.ones(n), (np.arange(n), codes)), shape=(n, int(codes.max()) + 1))


@dataclass
class _Stats:
    """Cross-products of the data with the random-effect design, fixed for one fit.

    The big factor's diagonal block of M is d_l = lam_big^2 n_l + 1 for a level with n_l
    observations, so levels with the same count share it: their contributions are summed
    once, by count, and an evaluation costs O(counts x (fixed effects + small levels)^2)
    whatever the number of participants."""

    n: int
    p: int
    small_sizes: list[int]  # levels of each small factor, in order
    zs_zs: np.ndarray  # Zs'Zs (q_s x q_s)
    zs_w: np.ndarray  # Zs'[X y]
    w_w: np.ndarray  # [X y]'[X y]
    counts: np.ndarray  # distinct observation counts n of the big factor's levels (C)
    levels: np.ndarray  # number of levels with each count (C)
    zbw_zbw: np.ndarray  # per count: sum over its levels of (Zb'W)_l (Zb'W)_l' (C x m x m)
    k_zbw: np.ndarray  # per count: sum of K_l (Zb'W)_l', K = Zs'Zb (C x q_s x m)
    k_k: np.ndarray  # per count: sum of K_l K_l' (C x q_s x q_s)


def _stats(X: np.ndarray, y: np.ndarray, factors: list[np.ndarray]) -> tuple[_Stats, int]:
    """Cross-products; returns the stats and the position of the big factor."""
    W = np.column_stack([X, y])
    big = int(np.argmax([c.max() + 1 for c in factors]))
    small = [c for i, c in enumerate(factors) if i != big]
    zb = _indicator(factors[big])
    if small:
        zs = sparse.hstack([_indicator(c) for c in small]).tocsr()
    else:
        zs = sparse.csr_matrix((len(y), 0))
    zs_t = zs.T.tocsr()
    k = (zs_t @ zb).tocsc()
    zb_w = np.asarray(zb.T @ W)
    per_level = np.asarray(zb.sum(axis=0)).ravel()
    counts, levels = np.unique(per_level, return_counts=True)
    zbw_zbw, k_zbw, k_k = [], [], []
    for c in counts:
        mask = per_level == c
        part, kc = zb_w[mask], k[:, mask]
        zbw_zbw.append(part.T @ part)
        k_zbw.append(np.asarray(kc @ part))
        k_k.append((kc @ kc.T).toarray())
    stats = _Stats(
        n=len(y),
        p=X.shape[1],
        small_sizes=[int(c.max()) + 1 for c in small],
        zs_zs=(zs_t @ zs).toarray(),
        zs_w=np.asarray(zs_t @ W),
        w_w=W.T @ W,
        counts=counts.astype(float),
        levels=levels.astype(float),
        zbw_zbw=np.array(zbw_zbw),
        k_zbw=np.array(k_zbw),
        k_k=np.array(k_k),
    )
    return stats, big


def _quadratic(stats: _Stats, lam_small: np.ndarray, lam_big: float):
    """(W'(I + Z L L Z')^-1 W, log|M|) for relative SDs lam (small factors, big factor)."""
    d = lam_big**2 * stats.counts + 1.0
    w = lam_big**2 / d
    out = stats.w_w - np.tensordot(w, stats.zbw_zbw, axes=1)
    logdet = float(stats.levels @ np.log(d))
    if stats.small_sizes:
        ls = np.repeat(lam_small, stats.small_sizes)
        kdk = np.tensordot(w, stats.k_k, axes=1)
        schur = ls[:, None] * (stats.zs_zs - kdk) * ls[None, :] + np.eye(len(ls))
        t = ls[:, None] * (stats.zs_w - np.tensordot(w, stats.k_zbw, axes=1))
        chol = np.linalg.cholesky(schur)
        logdet += 2 * float(np.log(np.diag(chol)).sum())
        half = np.linalg.solve(chol, t)
        out = out - half.T @ half
    return out, logdet


def _gls(stats: _Stats, lam_small, lam_big):
    """(beta, (X'H^-1X)^-1, Q = residual quadratic form, log|M|, log|X'H^-1X|), H = V / s_e."""
    q, logdet = _quadratic(stats, lam_small, lam_big)
    p = stats.p
    xtx, xty, yty = q[:p, :p], q[:p, p], q[p, p]
    chol = np.linalg.cholesky(xtx)
    beta = np.linalg.solve(xtx, xty)
    inv = np.linalg.inv(xtx)
    return beta, inv, float(yty - xty @ beta), logdet, 2 * float(np.log(np.diag(chol)).sum())


@dataclass
class Fit:
    """A fitted model, with the attributes :mod:`analysis.plan.mixed` reads from a
    statsmodels result (``fe_params``, ``cov_params()``, ``bse_fe``, ``scale``,
    ``converged``) and the variances by component name (``variances``, residual last)."""

    fe_params: pd.Series
    cov: pd.DataFrame
    variances: dict[str, float]
    converged: bool
    exog: np.ndarray
    stats: _Stats = field(repr=False)
    order: list[int] = field(repr=False)  # factor position of each small lam, then big

    def cov_params(self) -> pd.DataFrame:
        return self.cov

    @property
    def bse_fe(self) -> pd.Series:
        return pd.Series(np.sqrt(np.diag(self.cov.to_numpy())), index=self.cov.index)

    @property
    def scale(self) -> float:
        return self.variances["residual"]

    def theta(self) -> np.ndarray:
        """Variances on the data scale: random components in their order, residual last."""
        return np.array(list(self.variances.values()))

    def _lams(self, theta):
        theta = np.asarray(theta, dtype=float)
        rel = np.sqrt(np.maximum(theta[:-1], 0.0) / theta[-1])
        lam = rel[self.order]
        return lam[:-1], lam[-1]

    def neg_reml(self, theta) -> float:
        """Minus the restricted log-likelihood (no constant) at variances ``theta``."""
        lam_s, lam_b = self._lams(theta)
        s_e = float(theta[-1])
        _beta, _inv, q, logdet_m, logdet_x = _gls(self.stats, lam_s, lam_b)
        n, p = self.stats.n, self.stats.p
        return 0.5 * (n * np.log(s_e) + logdet_m + logdet_x - p * np.log(s_e) + q / s_e)

    def fe_cov_at(self, theta) -> np.ndarray:
        lam_s, lam_b = self._lams(theta)
        return float(theta[-1]) * _gls(self.stats, lam_s, lam_b)[1]


def _profiled(stats: _Stats):
    nu = stats.n - stats.p

    def f(ratios):
        lam = np.sqrt(np.maximum(ratios, 0.0))
        try:
            _b, _i, q, logdet_m, logdet_x = _gls(stats, lam[:-1], lam[-1])
        except np.linalg.LinAlgError:
            return np.inf
        if q <= 0:
            return np.inf
        return logdet_m + logdet_x + nu * np.log(q / nu)

    return f


def _stationary(best, tol: float = 1e-3) -> bool:
    """A (projected) gradient of zero: L-BFGS-B's own flag also reports a line search that
    cannot improve on a minimum already found to rounding error, which is not a failure."""
    if not np.isfinite(best.fun):
        return False
    g = np.asarray(best.jac, dtype=float)
    inside = best.x > 0
    return bool(np.all(np.abs(g[inside]) < tol) and np.all(g[~inside] > -tol))


def fit(formula: str, data: pd.DataFrame, factors: dict[str, tuple[str, ...]]) -> Fit:
    """REML fit of ``formula`` (patsy, as statsmodels) with a random intercept for every
    level of each factor, named by the keys of ``factors`` (values: the columns whose
    combination is the level, so participants within clinic are ``("clinic", "study_id")``).
    Raises :class:`NotEstimable` when the fixed effects are not estimable."""
    y_frame, x_frame = patsy.dmatrices(formula, data, return_type="dataframe")
    rows = data.loc[x_frame.index]
    X, y = x_frame.to_numpy(float), y_frame.to_numpy(float).ravel()
    if np.linalg.matrix_rank(X) < X.shape[1]:
        raise NotEstimable("fixed effects not identifiable")
    names = list(factors)
    codes = [_codes(rows, cols) for cols in factors.values()]
    stats, big = _stats(X, y, codes)
    order = [i for i in range(len(names)) if i != big] + [big]
    objective = _profiled(stats)
    start = np.ones(len(names))
    best = optimize.minimize(
        objective,
        start,
        method="L-BFGS-B",
        jac="3-point",
        bounds=[(0.0, None)] * len(names),
        options={"ftol": 1e-15, "gtol": 1e-9, "maxiter": 1000},
    )
    lam = np.sqrt(best.x)
    beta, inv, q, _ldm, _ldx = _gls(stats, lam[:-1], lam[-1])
    s_e = q / (stats.n - stats.p)
    rel = np.empty(len(names))
    rel[order] = lam**2 * s_e
    variances = {name: float(v) for name, v in zip(names, rel, strict=True)}
    variances["residual"] = float(s_e)
    labels = list(x_frame.columns)
    return Fit(
        fe_params=pd.Series(beta, index=labels),
        cov=pd.DataFrame(s_e * inv, index=labels, columns=labels),
        variances=variances,
        converged=_stationary(best),
        exog=X,
        stats=stats,
        order=order,
    )


def fit_random_intercepts(
    formula: str,
    data: pd.DataFrame,
    group: str,
    label: str,
    components: dict[str, str],
    engine: str = "structured",
    methods: list[str] | None = None,
):
    """REML fit with a random intercept per ``group`` (reported as ``label``) and per level
    of each component column within the group, e.g. ``{"participant": "study_id"}``.

    ``engine``: "structured" (:func:`fit`, O(n)) or "statsmodels" (MixedLM,
    the reference). Returns (result, messages); raises :class:`NotEstimable` when the fixed
    effects are not identifiable, ``np.linalg.LinAlgError`` or ``ValueError`` when the fit
    fails."""
    if engine == "structured":
        factors = {label: (group,), **{k: (group, col) for k, col in components.items()}}
        result = fit(formula, data, factors)
        message = "" if result.converged else "The REML optimiser did not reach a stationary point."
        return result, message
    model = smf.mixedlm(
        formula,
        data,
        groups=group,
        re_formula="1",
        vc_formula={k: f"0 + C({col})" for k, col in components.items()} or None,
    )
    model._group_label = label
    if np.linalg.matrix_rank(model.exog) < model.exog.shape[1]:
        raise NotEstimable("fixed effects not identifiable")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        warnings.filterwarnings("ignore", category=RuntimeWarning)
        result = model.fit(reml=True, method=methods)
    messages = sorted(
        {str(w.message) for w in caught if issubclass(w.category, ConvergenceWarning)}
    )
    return result, " ".join(messages)
