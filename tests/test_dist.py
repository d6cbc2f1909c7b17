"""condapprove._dist: scipy.stats' values without importing scipy.stats.

Reference: scipy.stats itself, compared for equality (the same numbers, not approximately), over integer
arguments and valid parameters as the simulation uses them: inside, below and above the support, empty arms,
p = 0 and 1, and every tail of the t distribution (inf, -inf and NaN included).
"""

from __future__ import annotations

import math
import os
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from condapprove import _dist

from .conftest import ROOT

# (below about 1e-307, scipy.stats' own binomial mass raises an overflow error: no design has such a rate)
PROBABILITIES = st.one_of(st.sampled_from([0.0, 1.0, 0.5, 1e-12, 1 - 1e-12, 1e-300]), st.floats(1e-300, 1.0))


def _same(a: np.ndarray, b: np.ndarray) -> None:
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    assert a.shape == b.shape
    assert a.view(np.uint64).tolist() == b.view(np.uint64).tolist()  # bit for bit, NaN included


@settings(derandomize=True, max_examples=150, deadline=None)
@given(n=st.lists(st.integers(0, 400), min_size=1, max_size=20), p=PROBABILITIES, seed=st.integers(0, 2**32 - 1))
def test_binomial_cdf_sf_pmf_equal_scipy_stats(n, p, seed):
    rng = np.random.default_rng(seed)
    n = np.repeat(np.asarray(n), 8)
    k = rng.integers(-3, n + 4).astype(np.float64)  # below, inside and above the support
    k[0] = np.nan
    _same(_dist.binom_cdf(k, n, p), stats.binom.cdf(k, n, p))
    _same(_dist.binom_sf(k, n, p), stats.binom.sf(k, n, p))
    _same(_dist.binom_pmf(k, n, p), stats.binom.pmf(k, n, p))
    # the table of sufficient.py: the whole support of one n
    m = int(n[0])
    _same(_dist.binom_cdf(np.arange(m + 1), m, p), stats.binom.cdf(np.arange(m + 1), m, p))


@settings(derandomize=True, max_examples=150, deadline=None)
@given(n_t=st.integers(0, 60), n_c=st.integers(0, 60), seed=st.integers(0, 2**32 - 1))
def test_hypergeometric_sf_equals_scipy_stats(n_t, n_c, seed):
    """As Fisher's exact test calls it: P(X >= x_t) given both margins, every outcome of the two arms."""
    rng = np.random.default_rng(seed)
    x_t = rng.integers(0, n_t + 1, 50)
    x_c = rng.integers(0, n_c + 1, 50)
    args = (x_t - 1, np.maximum(n_t + n_c, 1), x_t + x_c, np.full(50, n_t))
    _same(_dist.hypergeom_sf(*args), stats.hypergeom.sf(*args))
    k = rng.integers(-3, n_t + 4, 50)  # below and above the support too
    _same(_dist.hypergeom_sf(k, *args[1:]), stats.hypergeom.sf(k, *args[1:]))


@settings(derandomize=True, max_examples=100, deadline=None)
@given(mu=st.one_of(st.just(0.0), st.floats(1e-9, 500.0)), top=st.integers(0, 300))
def test_poisson_pmf_sf_equal_scipy_stats(mu, top):
    k = np.arange(-2, top + 3)
    _same(_dist.poisson_pmf(k, mu), stats.poisson.pmf(k, mu))
    _same(_dist.poisson_sf(k, mu), stats.poisson.sf(k, mu))


@settings(derandomize=True, max_examples=100, deadline=None)
@given(df=st.one_of(st.integers(1, 400).map(float), st.floats(0.5, 1e6)), seed=st.integers(0, 2**32 - 1))
def test_t_sf_equals_scipy_stats(df, seed):
    t = np.concatenate([np.random.default_rng(seed).standard_t(df, 200) * 3,
                        [0.0, -0.0, 40.0, -40.0, 1e300, -1e300, np.inf, -np.inf, np.nan]])
    _same(_dist.t_sf(t, df), stats.t.sf(t, df))
    dfs = np.full(t.shape, df)
    _same(_dist.t_sf(t, dfs), stats.t.sf(t, dfs))


@pytest.mark.parametrize("design", ["stemirac_survey", "two_arm_trial", "heartsheet_survey_planned", "delytact_external",
                                    "stemirac_group_sequential"])  # (the last two compute spending bounds)
def test_simulate_does_not_import_scipy_stats_or_optimize(design):
    """A design without a pre-approval cohort (whose evidence needs scipy.stats) simulates without importing
    scipy.stats (about 0.6 s, a third of a short command) or scipy.optimize (about 0.3 s; the boundaries' root
    finder is ``condapprove._roots``)."""
    code = ("import sys, condapprove\n"
            f"d = condapprove.load_design({str(ROOT / 'designs' / (design + '.yaml'))!r})\n"
            "condapprove.simulate(d, replicates=4096, seed=1)\n"
            "print([m for m in ('scipy.stats', 'scipy.optimize') if m in sys.modules])")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={**os.environ, "PYTHONWARNINGS": "ignore"}, check=True)
    assert proc.stdout.strip().splitlines()[-1] == "[]"


def test_without_the_ufuncs_scipy_stats_itself_is_used():
    """Where an installed scipy lacks the private ufuncs, the functions fall back to scipy.stats (same values)."""
    from unittest import mock

    k, n = np.arange(-1, 12), np.full(13, 10)
    with mock.patch.object(_dist, "_ufunc", lambda name: None):
        _same(_dist.binom_cdf(k, n, 0.3), stats.binom.cdf(k, n, 0.3))
        _same(_dist.binom_sf(k, n, 0.3), stats.binom.sf(k, n, 0.3))
        _same(_dist.binom_pmf(k, n, 0.3), stats.binom.pmf(k, n, 0.3))
        _same(_dist.hypergeom_sf(k, 20, 8, 10), stats.hypergeom.sf(k, 20, 8, 10))
    assert _dist._ufunc("no_such_ufunc") is None


def _log_beta_ratio_by_sums(a: float, b: float, x: int, m: int) -> float:
    """``log B(a + x, b + m) / B(a, b)`` for whole ``x``, ``m`` by its closed form: the logs of the rising factorials'
    factors, summed exactly rounded (each log a unit in the last place of itself)."""
    return math.fsum([math.log(a + i) for i in range(x)] + [math.log(b + j) for j in range(m)]
                     + [-math.log(a + b + k) for k in range(x + m)])


@given(la=st.floats(-3, 13), lb=st.floats(-3, 13), x=st.integers(0, 300), m=st.integers(0, 300))
def test_log_beta_ratio_is_the_closed_form_at_every_scale(la: float, lb: float, x: int, m: int) -> None:
    """The log of a beta component's marginal likelihood against its closed form, for shapes from 1e-3 to 1e13:
    within 1e-11 of it (relative, or absolute below 1), where betaln's difference is off by up to about (a + b) eps
    (2e-4 at a = b = 1e11, 30 and 70: found by a randomised check of BetaMixture.update)."""
    a, b = 10.0**la, 10.0**lb
    want = _log_beta_ratio_by_sums(a, b, x, m)
    got = float(_dist.log_beta_ratio(a, b, x, m))
    assert abs(got - want) <= 1e-11 * max(1.0, abs(want))
    if x == m == 0:
        assert got == 0.0


@pytest.mark.parametrize("m", [10**4, 10**5, 10**6])
def test_log_beta_ratio_of_many_patients_against_a_small_shape(m: int) -> None:
    """m non-responders and no responders against a small responder shape: log B(a, b + m) / B(a, b) =
    -sum_j log1p(a / (b + j)), a result of order a log(m) from log-gamma differences of order m log m.  Pairing
    R(b, m) with R(a + b, m) lost 2e-9 at m = 10^6 (3e-8 at 10^7; found checking the binary posterior against a closed form); the
    pairing with the smallest terms is within 1e-12.  The mirror image (m responders) is the same number."""
    for a in (1e-3, 0.23, 5.0):
        for b in (1e-3, 1.0, 1e3, 1e5):
            want = -math.fsum(np.log1p(a / (b + np.arange(m))))
            assert abs(float(_dist.log_beta_ratio(a, b, 0, m)) - want) <= 1e-12 * max(1.0, abs(want))
            assert abs(float(_dist.log_beta_ratio(b, a, m, 0)) - want) <= 1e-12 * max(1.0, abs(want))


def test_log_beta_ratio_broadcasts_and_beats_betaln_for_huge_shapes() -> None:
    """Arrays broadcast as the engine passes them (rows of counts against a mixture's components), and at shapes of
    1e11 the plain difference of betaln values misses the closed form by more than 1e-5 while this is within 1e-12."""
    from scipy import special

    a, b = np.array([1e11, 0.5, 12.0]), np.array([1e11, 0.5, 3.0])
    x, m = np.array([[30.0], [0.0], [7.0]]), np.array([[70.0], [5.0], [0.0]])
    got = _dist.log_beta_ratio(a, b, x, m)
    assert got.shape == (3, 3)
    want = np.array([[_log_beta_ratio_by_sums(ak, bk, int(xi), int(mi)) for ak, bk in zip(a, b)]
                     for xi, mi in zip(x[:, 0], m[:, 0])])
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    plain = special.betaln(1e11 + 30, 1e11 + 70) - special.betaln(1e11, 1e11)
    assert abs(plain - want[0, 0]) > 1e-5
