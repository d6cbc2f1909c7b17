"""Brent's root finder, as :func:`scipy.optimize.brentq` computes it, without importing :mod:`scipy.optimize`.

Importing :mod:`scipy.optimize` loads scipy's sparse, spatial and fft packages: 0.26-0.34 s here, on top of
scipy.special, and about 17 MiB of memory in every process (``docs/performance.md``, item 73).  The group-sequential
boundaries only need the scalar root of a bracketed monotone function, so :func:`brentq` is scipy's C routine
(``scipy/optimize/Zeros/brentq.c``, by Charles Harris) line for line in Python: the same floating-point operations
in the same order, so the same root to the last bit (``tests/test_roots.py`` compares the two on random
functions and brackets).
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable

from .errors import ConvergenceError

__all__ = ["brentq"]

#: The smallest relative tolerance, and the default: scipy's ``4 * np.finfo(float).eps``.
_RTOL = 4 * sys.float_info.epsilon


def _div(num: float, den: float) -> float:
    """``num / den`` with C's IEEE division by zero (+-inf, or NaN for 0/0) where Python raises: a flat or underflowed
    function makes the extrapolation's denominator 0, and C then bisects (a comparison with inf or NaN fails)."""
    if den != 0:
        return num / den
    if num == 0 or math.isnan(num):
        return math.nan
    return math.copysign(math.inf, num) * math.copysign(1.0, den)


def brentq(f: Callable[[float], float], a: float, b: float, *, xtol: float = 2e-12, rtol: float = _RTOL,
           maxiter: int = 100) -> float:
    """A root of ``f`` in ``[a, b]``, where ``f(a)`` and ``f(b)`` differ in sign, by Brent's method.

    The algorithm and its stopping rule are those of :func:`scipy.optimize.brentq` (inverse quadratic
    interpolation or the secant step when it stays well inside the bracket, else bisection; stop when half the
    bracket is within ``(xtol + rtol * |x|) / 2`` of the best estimate, or ``f`` is 0 there), and so are the
    defaults.

    Parameters
    ----------
    f : callable
        A continuous function of one float returning a float (not NaN).
    a, b : float
        The bracket's ends; ``f(a)`` and ``f(b)`` must not have the same sign.
    xtol, rtol : float
        The absolute and relative tolerances, > 0 and >= 4 machine epsilons.
    maxiter : int
        The most iterations (each one evaluation of ``f``).

    Returns
    -------
    float
        The root: the estimate whose value of ``f`` is the smaller at the end.

    Raises
    ------
    ValueError
        When ``f(a)`` and ``f(b)`` have the same sign, ``f`` returned NaN, or a tolerance is out of range.
    ConvergenceError
        When ``maxiter`` iterations did not meet the tolerance.

    Examples
    --------
    >>> round(brentq(lambda x: x * x - 2.0, 0.0, 2.0, xtol=1e-13), 12)
    1.414213562373
    """
    if not xtol > 0.0:
        raise ValueError(f"xtol too small ({xtol!r} <= 0)")
    if not rtol >= _RTOL:
        raise ValueError(f"rtol too small ({rtol!r} < {_RTOL!r})")
    if maxiter < 0:
        raise ValueError("maxiter must be >= 0")

    def value(x: float) -> float:
        y = float(f(x))
        if math.isnan(y):
            raise ValueError(f"The function value at x={x!r} is NaN; solver cannot continue.")
        return y

    xpre, xcur = float(a), float(b)
    xblk = fblk = spre = scur = 0.0
    fpre = value(xpre)
    fcur = value(xcur)
    # signs compared, not multiplied, as scipy's C does (signbit): the product of two values of 1e-170 underflows to 0,
    # which kept the bracket's other end at its initial 0.0 and returned it as the root (a critical value of 0 for a
    # look spending 1e-200)
    if fpre != 0 and fcur != 0 and (fpre < 0) == (fcur < 0):
        raise ValueError("f(a) and f(b) must have different signs")
    if fpre == 0:
        return xpre
    if fcur == 0:
        return xcur
    for _ in range(maxiter):
        if fpre != 0 and fcur != 0 and (fpre < 0) != (fcur < 0):
            xblk, fblk = xpre, fpre
            spre = scur = xcur - xpre
        if abs(fblk) < abs(fcur):
            xpre, xcur, xblk = xcur, xblk, xcur
            fpre, fcur, fblk = fcur, fblk, fcur
        delta = (xtol + rtol * abs(xcur)) / 2
        sbis = (xblk - xcur) / 2
        if fcur == 0 or abs(sbis) < delta:
            return xcur
        if abs(spre) > delta and abs(fcur) < abs(fpre):
            if xpre == xblk:  # interpolate
                stry = _div(-fcur * (xcur - xpre), fcur - fpre)
            else:  # extrapolate
                dpre = _div(fpre - fcur, xpre - xcur)
                dblk = _div(fblk - fcur, xblk - xcur)
                stry = _div(-fcur * (fblk * dblk - fpre * dpre), dblk * dpre * (fblk - fpre))
            # C's MIN(|spre|, limit): |spre| only when it is the smaller, as min(limit, |spre|) (NaN included)
            limit = min(3 * abs(sbis) - delta, abs(spre))
            if 2 * abs(stry) < limit:  # a good short step
                spre, scur = scur, stry
            else:  # bisect
                spre = scur = sbis
        else:  # bisect
            spre = scur = sbis
        xpre, fpre = xcur, fcur
        xcur += scur if abs(scur) > delta else (delta if sbis > 0 else -delta)
        fcur = value(xcur)
    raise ConvergenceError(f"brentq: no root within tolerance after {maxiter} iterations (last estimate {xcur!r}).")
