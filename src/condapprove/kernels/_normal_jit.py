"""Compiled (numba) loops for normal outcomes: the sums of new patients' outcomes from their sufficient draws,
the two-arm pooled t statistic, and the interpolated t-to-z transform -- one pass each instead of tens of
numpy passes.

Imported with the simulation's engine (numba's import costs about 0.3 s).  Every operation is the one the
numpy code performs, in the same order (numba does not reassociate or fuse floating-point operations
without ``fastmath``), so both give the same numbers; the tests check it bit for bit.
"""

from __future__ import annotations

import math

import numpy as np

from .._jit import compiled

__all__ = ["hermite", "normal_increments", "normal_sums", "normal_sums_look", "one_sample_t", "pooled_t"]


@compiled
def pooled_t(nt: np.ndarray, st: np.ndarray, sst: np.ndarray, nc: np.ndarray, sc: np.ndarray, ssc: np.ndarray,
             out_t: np.ndarray, out_est: np.ndarray,
             out_info: np.ndarray) -> float:  # pragma: no cover - compiled
    """Pooled two-sample t statistics, differences of means and information, from each arm's sums; returns the
    rows' degrees of freedom :math:`\\max(1, n_t + n_c - 2)` when they are all one number (NaN if not, or for no
    rows), so that the caller need not make them to find it.

    Each arm's count ``n``, sum ``s`` and sum of squares ``ss`` give the mean (nan for an empty arm) and the
    variance :math:`\\max(0, (ss - s^2 / n) / (n - 1))` (0 below two patients); ``out_t`` is the difference of
    means over its pooled standard error (0 where either arm has fewer than two patients or no spread), on
    :math:`n_t + n_c - 2` degrees of freedom; ``out_info`` is :math:`n_t n_c / (n_t + n_c)` (0 when an arm is
    empty).
    """
    for r in range(nt.size):
        n1, n0 = nt[r], nc[r]
        m1 = st[r] / max(n1, 1.0) if n1 > 0 else np.nan
        m0 = sc[r] / max(n0, 1.0) if n0 > 0 else np.nan
        v1 = max((sst[r] - st[r] * st[r] / max(n1, 1.0)) / max(n1 - 1.0, 1.0), 0.0) if n1 > 1 else 0.0
        v0 = max((ssc[r] - sc[r] * sc[r] / max(n0, 1.0)) / max(n0 - 1.0, 1.0), 0.0) if n0 > 1 else 0.0
        pooled = ((n1 - 1.0) * v1 + (n0 - 1.0) * v0) / max(n1 + n0 - 2.0, 1.0)
        se = math.sqrt(pooled * (1.0 / max(n1, 1.0) + 1.0 / max(n0, 1.0)))
        est = m1 - m0
        out_est[r] = est
        out_info[r] = n1 * n0 / max(n1 + n0, 1.0) if (n1 > 0 and n0 > 0) else 0.0
        out_t[r] = est / se if (n1 > 1 and n0 > 1 and se > 0) else 0.0
    # (in a loop of its own: a running minimum and maximum in the loop above kept the compiler from vectorising it,
    # 17 against 4.4 ns a row; this check vectorises, 0.2 ns a row)
    first = max(nt[0] + nc[0] - 2.0, 1.0) if nt.size > 0 else np.nan
    same = True
    for r in range(nt.size):
        same &= max(nt[r] + nc[r] - 2.0, 1.0) == first
    return first if same else np.nan


@compiled
def one_sample_t(nt: np.ndarray, st: np.ndarray, sst: np.ndarray, mu0: float, out_t: np.ndarray,
                 out_est: np.ndarray) -> float:  # pragma: no cover - compiled
    """One-sample t statistics against the mean ``mu0`` and differences of means, from the count ``n``, sum ``s``
    and sum of squares ``ss`` of each row; returns the rows' degrees of freedom :math:`\\max(1, n - 1)` when they
    are all one number, else NaN (as :func:`pooled_t`).

    ``out_est`` is the mean less ``mu0`` (nan for an empty arm); ``out_t`` is that over :math:`\\sqrt{v / n}`
    with :math:`v = (ss - s^2 / n) / (n - 1)`, on :math:`n - 1` degrees of freedom, and 0 where there are fewer
    than two patients or :math:`v` is not positive (no spread; a variance rounded below 0; a nan).  The numpy code
    it replaced clamped the variance at 0 and read the mean through ``np.nan_to_num``: neither changes a t that is
    computed (a positive variance needs a finite mean), so the numbers are the same.
    """
    for r in range(nt.size):
        n = nt[r]
        mean = st[r] / max(n, 1.0) if n > 0 else np.nan
        out_est[r] = mean - mu0
        var = (sst[r] - st[r] * st[r] / max(n, 1.0)) / max(n - 1.0, 1.0)
        out_t[r] = (mean - mu0) / math.sqrt(var / n) if (n > 1 and var > 0) else 0.0
    first = max(nt[0] - 1.0, 1.0) if nt.size > 0 else np.nan
    same = True
    for r in range(nt.size):
        same &= max(nt[r] - 1.0, 1.0) == first
    return first if same else np.nan


@compiled
def hermite(t: np.ndarray, half: float, step: float, z_grid: np.ndarray, dz_grid: np.ndarray, out: np.ndarray,
            inside: np.ndarray, every: bool) -> int:  # pragma: no cover - compiled
    """Cubic Hermite interpolation of z(t) from its values ``z_grid`` and slopes ``dz_grid`` on the grid
    ``-half, -half + step, ...`` (``step`` a power of two, so that dividing by it is multiplying by its inverse:
    the same numbers), of every row if ``every``, else of the rows ``inside`` does not flag (those another grid
    left out); ``inside`` flags the rows with :math:`|t| <` ``half``, and the rows left (beyond the grid, for
    another grid or the exact transform) are counted and the count returned."""
    last = np.int64(z_grid.size - 2)
    scale = 1.0 / step
    left = 0
    for r in range(t.size):
        if every or not inside[r]:
            tr = t[r]
            if abs(tr) < half:
                x = (tr + half) * scale
                i = min(np.int64(x), last)
                u = x - i
                u2 = u * u
                u3 = u2 * u
                out[r] = ((2 * u3 - 3 * u2 + 1) * z_grid[i] + (u3 - 2 * u2 + u) * step * dz_grid[i]
                          + (-2 * u3 + 3 * u2) * z_grid[i + 1] + (u3 - u2) * step * dz_grid[i + 1])
                inside[r] = True
            else:
                inside[r] = False
                left += 1
    return left


@compiled
def normal_increments(d: np.ndarray, p: np.ndarray, z: np.ndarray, half_chi2: np.ndarray, sd: float,
                      out_s: np.ndarray, out_ss: np.ndarray) -> None:  # pragma: no cover - compiled
    r"""Sum and sum of squares of ``d`` new N(p, sd^2) outcomes from their sufficient draws (all (m, L)).

    The sum is :math:`d p + sd \sqrt{d} Z` and the sum of squares :math:`2 sd^2 G + s^2 / d` (0 when
    ``d = 0``), with ``Z`` standard normal and ``G`` gamma with shape :math:`(d - 1) / 2`.
    """
    m, L = d.shape
    sd2 = 2.0 * sd * sd
    for j in range(L):  # down each column: the arrays are column-major
        for i in range(m):
            out_s[i, j], out_ss[i, j] = _increment(d[i, j], p[i, j], z[i, j], half_chi2[i, j], sd, sd2)


@compiled
def _increment(d: int, p: float, z: float, half_chi2: float, sd: float,
               sd2: float) -> tuple[float, float]:  # pragma: no cover - compiled
    """One arm's sum and sum of squares of ``d`` new outcomes (:func:`normal_increments`; ``sd2 = 2 sd^2``)."""
    df = float(d)
    s = df * p + sd * math.sqrt(df) * z
    return s, sd2 * half_chi2 + (s * s / max(df, 1.0) if d > 0 else 0.0)


@compiled
def normal_sums_look(j: int, d: np.ndarray, p: np.ndarray, z: np.ndarray, half_chi2: np.ndarray, sd: float,
                     out_n: np.ndarray, out_s: np.ndarray, out_ss: np.ndarray) -> None:  # pragma: no cover - compiled
    """The running sums of look ``j`` (its column of the (m, L) outputs, from the column before it) of
    :func:`normal_sums`: the increments of ``d[:, j]`` new patients from that look's draws ``z`` and ``half_chi2``
    (m,) added to look ``j - 1``'s sums.  The columns are taken as 1-d views before the loops and the first look's loop
    is apart from the others', so that the compiler vectorises them; ``p`` (m, 1) is read as ``p[i, 0]`` (through a
    1-d view of its column, strided for the compiler, the loops were not vectorised)."""
    m = d.shape[0]
    sd2 = 2.0 * sd * sd
    dj, nj, sj, ssj = d[:, j], out_n[:, j], out_s[:, j], out_ss[:, j]
    if j == 0:
        for i in range(m):
            s, ss = _increment(dj[i], p[i, 0], z[i], half_chi2[i], sd, sd2)
            nj[i] = float(dj[i])
            sj[i] = s
            ssj[i] = ss
    else:
        pn, ps, pss = out_n[:, j - 1], out_s[:, j - 1], out_ss[:, j - 1]
        for i in range(m):
            s, ss = _increment(dj[i], p[i, 0], z[i], half_chi2[i], sd, sd2)
            nj[i] = pn[i] + float(dj[i])
            sj[i] = ps[i] + s
            ssj[i] = pss[i] + ss


@compiled
def normal_sums(d: np.ndarray, p: np.ndarray, z: np.ndarray, half_chi2: np.ndarray, sd: float, out_n: np.ndarray,
                out_s: np.ndarray, out_ss: np.ndarray, constant: np.ndarray) -> None:  # pragma: no cover - compiled
    """Running sums along the looks of :func:`normal_increments`' increments, and of the patients ``d`` (m, L), as
    doubles into ``out_n``, ``out_s`` and ``out_ss``; ``p`` (m, 1): each row's mean; ``constant[j]``: whether every
    row has the same ``out_n[:, j]``.  The same increments and the same additions in the same order as
    :func:`normal_increments` followed by numpy's running sums, column by column (``x[:, j] += x[:, j - 1]``), in
    one pass.

    Each look's sums are :func:`normal_sums_look`'s, and the check for a constant column is a loop of its own (the
    compiler vectorises both: in one loop with the columns indexed in place and the first look tested inside, they
    took 3.9-4.2 against 1.1 ns an element on 32,768 x 4 elements here; the same numbers).
    """
    m, L = d.shape
    for j in range(L):
        normal_sums_look(j, d, p, z[:, j], half_chi2[:, j], sd, out_n, out_s, out_ss)
        nj = out_n[:, j]
        same = True
        for i in range(m):
            same &= nj[i] == nj[0]
        constant[j] = same
