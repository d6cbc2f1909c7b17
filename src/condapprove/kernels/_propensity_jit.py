"""Compiled (numba) loop for the simulation's propensity-weighted comparison over cells of binary covariates.

:func:`att_moments` runs, row by row, what :func:`condapprove.kernels.propensity.att_difference_from_moments`
describes (and :func:`~condapprove.kernels.propensity.att_difference_from_cells`, for a binary outcome, through
it): the logistic fit of the treatment on the binary covariates over the covariate patterns (:func:`_scores`: the
Newton iterations of :func:`condapprove.kernels.propensity.logistic_fit_batch`, the same steps, ridge, halvings and
stopping rules), then the stabilised ATT weights and the HC0 variance of the weighted difference of means.  One pass
over a block's rows instead of some forty numpy calls on small (m, q, q) and (m, cells) arrays an iteration; the
step's linear system (symmetric positive definite: the ridge sees to it) is solved by Gaussian elimination instead
of LAPACK's ``dgesv``, which numpy's ``solve`` calls: the fitted scores agree with numpy's iterations to rounding,
not bit for bit (the tests compare both with the patient-by-patient kernels).

Imported where the comparison is made, not with the package (numba's import costs about 0.3 s).
"""

from __future__ import annotations

import math

import numpy as np

from .._jit import compiled

__all__ = ["att_moments", "moments_of_counts"]


@compiled
def _deviance(eta: np.ndarray, ex: np.ndarray, n0: np.ndarray, n1: np.ndarray) -> float:  # pragma: no cover
    """``-2 log L = 2 sum softplus(s eta)`` over the patients (``s = 1 - 2 t``), from each pattern's linear predictor
    ``eta``, ``ex = exp(-|eta|)`` and numbers of controls ``n0`` and treated patients ``n1``."""
    total = 0.0
    for k in range(eta.size):
        soft = math.log1p(ex[k])
        total += n0[k] * (max(eta[k], 0.0) + soft) + n1[k] * (max(-eta[k], 0.0) + soft)
    return 2.0 * total


@compiled
def _predict(beta: np.ndarray, z: np.ndarray, eta: np.ndarray, ex: np.ndarray) -> None:  # pragma: no cover
    """Each pattern's linear predictor ``beta . z[:, k]`` into ``eta``, and ``exp(-|eta|)`` into ``ex``."""
    q, patterns = z.shape
    for k in range(patterns):
        e = 0.0
        for a in range(q):
            e += beta[a] * z[a, k]
        eta[k] = e
        ex[k] = math.exp(-abs(e))


@compiled
def _solve(a: np.ndarray, b: np.ndarray, x: np.ndarray) -> None:  # pragma: no cover - compiled
    """``x = a^-1 b`` for a small symmetric positive definite ``a`` (overwritten), by Gaussian elimination without
    pivoting, which is stable for such matrices (Golub and Van Loan, Matrix Computations, 4th ed., section 4.2); a
    zero or non-finite pivot leaves inf or NaN in ``x``."""
    q = b.size
    for i in range(q):
        x[i] = b[i]
    for c in range(q):
        for i in range(c + 1, q):
            f = a[i, c] / a[c, c]
            for j in range(c + 1, q):
                a[i, j] -= f * a[c, j]
            x[i] -= f * x[c]
    for i in range(q - 1, -1, -1):
        s = x[i]
        for j in range(i + 1, q):
            s -= a[i, j] * x[j]
        x[i] = s / a[i, i]


@compiled
def _scores(n0: np.ndarray, n1: np.ndarray, z: np.ndarray, max_iter: int, tol: float, separation_tol: float,
            clip: float, e: np.ndarray, work: np.ndarray,
            h: np.ndarray) -> tuple[float, float]:  # pragma: no cover - compiled
    """Each covariate pattern's propensity score into ``e``, from its numbers of controls ``n0`` and treated patients
    ``n1`` and the patterns' design ``z`` ((p + 1, patterns): [1, covariates]); ``work`` (8, at least patterns and p
    + 1) and ``h`` (p + 1, p + 1) are scratch.  Returns the numbers of treated patients and of controls.

    The fit: ``logit P(t = 1) = b0 + pattern's covariates . b`` over the patterns, each with its numbers of treated
    patients and controls (the likelihood of the cells ``t + 2 pattern``), from ``b = 0``; while fittable (both
    treatments present, more patients than coefficients) each iteration solves ``(H + lambda I) d = g`` (``lambda =
    1e-12 max diag H + 1e-12``), sets a non-finite step to 0, halves a step that raises the deviance by more than
    ``1e-12 (|dev| + 0.1)`` (up to 30 times; a fit whose deviance still rises keeps its coefficients and stops), and
    stops when the deviance moves by less than ``tol (|dev| + 0.1)`` (converged), at most ``max_iter`` times.  A
    score within ``separation_tol`` of 0 or 1 of a pattern with patients (separation), or no convergence, clips the
    scores to ``[clip, 1 - clip]``."""
    q, patterns = z.shape
    eta, ex, new_eta, new_ex = work[0, :patterns], work[1, :patterns], work[2, :patterns], work[3, :patterns]
    beta, new_beta, step, g = work[4, :q], work[5, :q], work[6, :q], work[7, :q]
    n_treated, n_control = 0.0, 0.0
    for k in range(patterns):
        n_treated += n1[k]
        n_control += n0[k]
    for a in range(q):
        beta[a] = 0.0
    for k in range(patterns):
        eta[k], ex[k] = 0.0, 1.0
    dev = _deviance(eta, ex, n0, n1)
    converged = False
    if n_treated > 0 and n_control > 0 and n_treated + n_control > q:
        for _ in range(max_iter):
            for a in range(q):
                g[a] = 0.0
                for b in range(q):
                    h[a, b] = 0.0
            for k in range(patterns):
                mu = (1.0 if eta[k] >= 0 else ex[k]) / (1.0 + ex[k])
                w = mu * (1.0 - mu) * (n0[k] + n1[k])
                resid = (1.0 - mu) * n1[k] - mu * n0[k]  # the sum of t - mu over the pattern's patients
                for a in range(q):
                    g[a] += z[a, k] * resid
                    for b in range(a + 1):
                        h[a, b] += z[a, k] * w * z[b, k]
            top = h[0, 0]
            for a in range(q):
                top = max(top, h[a, a])
                for b in range(a):
                    h[b, a] = h[a, b]
            lam = 1e-12 * top + 1e-12
            for a in range(q):
                h[a, a] += lam
            _solve(h, g, step)
            bad = False
            for a in range(q):
                bad |= not np.isfinite(step[a])
            if bad:
                for a in range(q):
                    step[a] = 0.0
            for a in range(q):
                new_beta[a] = beta[a] + step[a]
            _predict(new_beta, z, new_eta, new_ex)
            new_dev = _deviance(new_eta, new_ex, n0, n1)
            worse = new_dev > dev + 1e-12 * (abs(dev) + 0.1)
            for _halving in range(30):
                if not worse:
                    break
                for a in range(q):
                    step[a] *= 0.5
                    new_beta[a] = beta[a] + step[a]
                _predict(new_beta, z, new_eta, new_ex)
                new_dev = _deviance(new_eta, new_ex, n0, n1)
                worse = new_dev > dev + 1e-12 * (abs(dev) + 0.1)
            if worse:  # the fit keeps its coefficients, and stops
                break
            done = abs(new_dev - dev) < tol * (abs(new_dev) + 0.1)
            for a in range(q):
                beta[a] = new_beta[a]
            for k in range(patterns):
                eta[k], ex[k] = new_eta[k], new_ex[k]
            dev = new_dev
            if done:
                converged = True
            if done or bad:
                break
    for k in range(patterns):  # the scores; separation: a score at 0 or 1 of a pattern with patients
        s = (1.0 if eta[k] >= 0 else ex[k]) / (1.0 + ex[k])
        if n0[k] + n1[k] > 0 and (s <= separation_tol or s >= 1.0 - separation_tol):
            converged = False
        e[k] = s
    if not converged:
        for k in range(patterns):
            e[k] = min(max(e[k], clip), 1.0 - clip)
    return n_treated, n_control


@compiled
def _pattern_design(p: int) -> np.ndarray:  # pragma: no cover - compiled
    """The design [1, covariates] of each of the ``2**p`` covariate patterns (pattern bit ``j``: covariate ``j``)."""
    z = np.empty((p + 1, 1 << p))
    for k in range(1 << p):
        z[0, k] = 1.0
        for j in range(p):
            z[j + 1, k] = float((k >> j) & 1)
    return z


@compiled
def _row_weights(n0: np.ndarray, n1: np.ndarray, z: np.ndarray, max_iter: int, tol: float, separation_tol: float,
                 clip: float, e: np.ndarray, work: np.ndarray, h: np.ndarray,
                 w: np.ndarray) -> tuple[float, float]:  # pragma: no cover - compiled
    """A row's stabilised ATT weight of a patient of each covariate pattern into ``w`` (2, patterns), what
    :func:`condapprove.kernels.propensity.ps_weights_batch` gives: ``w[1]`` for the treated, ``n1 / n``, and
    ``w[0]`` for a control of score ``e`` (:func:`_scores`, into ``e``), ``e / (1 - e) (n - n1) / n``, from the
    patterns' numbers of controls ``n0`` and treated patients ``n1``; returns the row's numbers of treated patients and
    controls."""
    n_treated, n_control = _scores(n0, n1, z, max_iter, tol, separation_tol, clip, e, work, h)
    nv = max(n_treated + n_control, 1.0)
    for k in range(e.size):
        w[1, k] = n_treated / nv
        w[0, k] = e[k] / (1.0 - e[k]) * ((nv - n_treated) / nv)
    return n_treated, n_control


@compiled
def att_moments(n: np.ndarray, mean: np.ndarray, m2: np.ndarray, lo: np.ndarray, hi: np.ndarray, p: int,
                max_iter: int, tol: float, separation_tol: float, clip: float, estimate: np.ndarray,
                se: np.ndarray) -> None:  # pragma: no cover - compiled
    """Each row's propensity-weighted difference of the outcome's means (treated minus controls) and its HC0
    standard error into ``estimate`` and ``se`` (NaN where either group is empty), from the row's number of valid
    patients ``n``, their outcomes' mean ``mean`` and sum of squared deviations from it ``m2`` in each cell ``t + 2
    pattern`` ((m, ``2**(p + 1)``) each; pattern bit ``j``: covariate ``j``), and the smallest and largest outcome of
    each group ``lo`` and ``hi`` ((m, 2), columns t = 0, 1).

    The weights are :func:`_row_weights`'; a group's mean is ``sum w n mean / W`` over its cells (``W = sum w n``),
    exactly its value when the group's outcome is constant (``lo == hi``: residuals of exactly 0, as
    :func:`condapprove.kernels.propensity.weighted_difference_batch` makes them), and its variance term
    ``sum w^2 (m2 + n (mean - group's mean)^2) / W^2`` (the patients' ``sum (w (y - group's mean) / W)^2``).
    """
    m = n.shape[0]
    patterns = 1 << p
    z = _pattern_design(p)
    n0, n1 = np.empty(patterns), np.empty(patterns)
    work, h = np.empty((8, max(patterns, p + 1))), np.empty((p + 1, p + 1))
    e, w = np.empty(patterns), np.empty((2, patterns))
    for r in range(m):
        for k in range(patterns):
            n0[k], n1[k] = n[r, 2 * k], n[r, 2 * k + 1]
        n_treated, n_control = _row_weights(n0, n1, z, max_iter, tol, separation_tol, clip, e, work, h, w)
        ok = n_treated > 0 and n_control > 0
        var = 0.0
        mean1, mean0 = np.nan, np.nan
        for grp in (1, 0):
            wk = w[grp]
            wsum, ysum = 0.0, 0.0
            for k in range(patterns):
                wsum += wk[k] * n[r, 2 * k + grp]
                ysum += wk[k] * n[r, 2 * k + grp] * mean[r, 2 * k + grp]
            size = n_treated if grp == 1 else n_control
            constant = size > 0 and lo[r, grp] == hi[r, grp]
            g_mean = hi[r, grp] if constant else (ysum / wsum if size > 0 else np.nan)
            if grp == 1:
                mean1 = g_mean
            else:
                mean0 = g_mean
            if ok and not constant:
                part = 0.0
                for k in range(patterns):
                    c = 2 * k + grp
                    dev = mean[r, c] - g_mean
                    part += wk[k] * wk[k] * (m2[r, c] + n[r, c] * dev * dev)
                var += part / (wsum * wsum)
        estimate[r] = mean1 - mean0 if ok else np.nan
        se[r] = math.sqrt(var) if ok else np.nan


@compiled
def moments_of_counts(counts: np.ndarray, n: np.ndarray, mean: np.ndarray, m2: np.ndarray, lo: np.ndarray,
                      hi: np.ndarray) -> None:  # pragma: no cover - compiled
    """A binary outcome's moments in each cell ``t + 2 pattern`` from the numbers of valid patients in the cells ``t +
    2 y + 4 pattern`` (``counts``, (m, 2 ``cells``)): the cell's number ``n``, the share with the outcome as ``mean``
    and ``n mean (1 - mean)`` as ``m2`` ((m, ``cells``) each), and each group's range into ``lo`` and ``hi`` ((m, 2):
    0 to 1, or 0 or 1 alone when the group's outcome is constant, or 1 to 0 for a group without patients)."""
    m, cells = n.shape
    for r in range(m):
        for t in range(2):
            lo[r, t], hi[r, t] = 1.0, 0.0
        for c in range(cells):
            t = c & 1
            zeros, ones = counts[r, 2 * c - t], counts[r, 2 * c - t + 2]  # (y 0 and 1 of the cell t + 2 pattern)
            k = zeros + ones
            share = ones / k if k > 0 else 0.0
            n[r, c], mean[r, c], m2[r, c] = k, share, k * share * (1.0 - share)
            if zeros > 0:
                lo[r, t] = 0.0
            if ones > 0:
                hi[r, t] = 1.0

