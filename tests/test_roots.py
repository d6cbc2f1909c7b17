"""condapprove._roots.brentq: scipy.optimize.brentq's roots without importing scipy.optimize.

Reference: scipy.optimize.brentq itself, compared for equality (the same root to the last bit, and the same
number of evaluations of the function), over smooth monotone and non-monotone functions, brackets in either
order, roots at an end of the bracket, flat stretches, and the tolerances and iteration limits the boundaries use.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import optimize

from condapprove import _roots
from condapprove.errors import ConvergenceError


def _counted(f):
    calls = []

    def g(x):
        calls.append(x)
        return f(x)

    return g, calls


def _both(f, a, b, **kw):
    """Each solver's root and the points at which it evaluated ``f``."""
    g1, ours = _counted(f)
    g2, theirs = _counted(f)
    return _roots.brentq(g1, a, b, **kw), ours, optimize.brentq(g2, a, b, **kw), theirs


FUNCTIONS = {
    "cubic": lambda c: (lambda x: x ** 3 - c),
    "ndtr-like": lambda c: (lambda x: math.erf(x) - math.tanh(c)),
    "exp": lambda c: (lambda x: math.exp(x) - math.exp(c) * 1.5),
    "step-ish": lambda c: (lambda x: math.atan(50.0 * (x - c))),
    "oscillating": lambda c: (lambda x: math.sin(3.0 * x) + 0.3 * (x - c)),
    "flat at the root": lambda c: (lambda x: (x - c) ** 5),
    # values whose products underflow (the sign test multiplied them, and returned the bracket's initial 0.0: a
    # critical value of 0 for an alpha increment of 1e-200), and flat steps (a zero denominator: C divides to inf or
    # NaN and bisects; Python raised ZeroDivisionError)
    "tiny values": lambda c: (lambda x: 1e-200 * math.tanh(x - c)),
    "staircase": lambda c: (lambda x: math.floor(4.0 * (x - c)) + 0.5),
}


@settings(derandomize=True, max_examples=300, deadline=None)
@given(kind=st.sampled_from(sorted(FUNCTIONS)), c=st.floats(-3.0, 3.0), lo=st.floats(0.01, 8.0),
       hi=st.floats(0.01, 8.0), flip=st.booleans(),
       tol=st.sampled_from([(2e-12, 8.881784197001252e-16, 100), (1e-13, 1e-15, 200), (1e-13, 1e-15, 300),
                            (1e-6, 1e-10, 50)]))
def test_same_root_and_evaluations_as_scipy(kind, c, lo, hi, flip, tol):
    f = FUNCTIONS[kind](c)
    a, b = c - lo, c + hi
    if flip:
        a, b = b, a
    if f(a) != 0 and f(b) != 0 and (f(a) < 0) == (f(b) < 0):  # (an oscillating function need not change sign)
        with pytest.raises(ValueError, match="different signs"):
            _roots.brentq(f, a, b)
        return
    xtol, rtol, maxiter = tol
    try:
        ours, ours_at, theirs, theirs_at = _both(f, a, b, xtol=xtol, rtol=rtol, maxiter=maxiter)
    except (ConvergenceError, RuntimeError):  # both must fail then
        with pytest.raises(ConvergenceError):
            _roots.brentq(f, a, b, xtol=xtol, rtol=rtol, maxiter=maxiter)
        with pytest.raises(RuntimeError):
            optimize.brentq(f, a, b, xtol=xtol, rtol=rtol, maxiter=maxiter)
        return
    assert math.copysign(1.0, ours) == math.copysign(1.0, theirs)
    assert ours == theirs or (math.isnan(ours) and math.isnan(theirs))
    assert ours_at == theirs_at  # the same points, in the same order


@pytest.mark.parametrize(("a", "b"), [(1.0, 3.0), (0.0, 1.0), (1.0, 0.0)])
def test_roots_at_the_ends_are_returned_as_given(a, b):
    f = (lambda x: x - 1.0)
    assert _roots.brentq(f, a, b) == optimize.brentq(f, a, b) == 1.0


def test_iteration_limit_and_bad_arguments():
    f = (lambda x: x ** 3 - 2.0)
    with pytest.raises(ConvergenceError, match="after 3 iterations"):
        _roots.brentq(f, 0.0, 2.0, maxiter=3)
    with pytest.raises(RuntimeError):
        optimize.brentq(f, 0.0, 2.0, maxiter=3)
    with pytest.raises(ValueError, match="xtol"):
        _roots.brentq(f, 0.0, 2.0, xtol=0.0)
    with pytest.raises(ValueError, match="rtol"):
        _roots.brentq(f, 0.0, 2.0, rtol=1e-16)
    with pytest.raises(ValueError, match="maxiter"):
        _roots.brentq(f, 0.0, 2.0, maxiter=-1)
    with pytest.raises(ValueError, match="NaN"):
        _roots.brentq(lambda x: math.nan if x > 0.5 else -1.0, 0.0, 2.0)


def test_values_that_underflow_when_multiplied():
    """The helper's case: two values of 1e-200 (product 0) bracket 0.3; the root was returned as 0.0."""
    f = (lambda x: 1e-200 * (x - 0.3))
    assert _roots.brentq(f, 0.0, 1.0) == optimize.brentq(f, 0.0, 1.0) == pytest.approx(0.3, abs=1e-11)
    with pytest.raises(ValueError, match="different signs"):
        _roots.brentq(lambda x: 1e-200 * (x + 1.0), 0.0, 1.0)  # both positive, their product 0
