"""Accrual: the cumulative intensity, its inverse, and the distribution of arrivals."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from scipy import stats

from condapprove.accrual import PoissonAccrual, RampedPoissonAccrual
from condapprove.errors import DesignError


@given(rate=st.floats(0.01, 50), ramp=st.floats(0, 36), start=st.floats(0, 24), t=st.floats(0, 120))
def test_inverse_round_trips(rate: float, ramp: float, start: float, t: float) -> None:
    acc = RampedPoissonAccrual(rate=rate, ramp_up=ramp, start=start)
    lam = acc.expected(t)
    if t > start:
        assert float(acc.inverse(lam)) == pytest.approx(t, rel=1e-9, abs=1e-9)
    else:
        assert float(lam) == 0.0


def test_expected_closed_form() -> None:
    acc = RampedPoissonAccrual(rate=3.0, ramp_up=10.0, start=2.0)
    # during the ramp: r u^2 / (2R); after: r (u - R/2)
    assert float(acc.expected(7.0)) == pytest.approx(3.0 * 25 / 20)
    assert float(acc.expected(32.0)) == pytest.approx(3.0 * (30 - 5))
    assert float(acc.expected(1.0)) == 0.0


def test_count_by_month_is_poisson() -> None:
    """The number of (thinned) arrivals by month t is Poisson(keep * Lambda(t)): mean and variance within 4 SE."""
    acc = RampedPoissonAccrual(rate=2.0, ramp_up=12.0)
    rng = np.random.default_rng(20261128)
    times = acc.first_arrivals(rng, 20000, 200, keep=0.8)
    count = (times <= 30.0).sum(axis=1)
    mu = 0.8 * float(acc.expected(30.0))
    assert count.max() < 200  # the 200 columns were enough
    se_mean = np.sqrt(mu / count.size)
    assert abs(count.mean() - mu) <= 4 * se_mean
    # Poisson dispersion: variance equals the mean (SE of the sample variance ~ sqrt(2 mu^2/n + mu/n))
    se_var = np.sqrt((2 * mu**2 + mu) / count.size)
    assert abs(count.var(ddof=1) - mu) <= 4 * se_var
    # and the whole distribution: chi-square goodness of fit at the 0.001 level
    k = np.arange(count.max() + 1)
    observed = np.bincount(count, minlength=k.size)
    expected = stats.poisson.pmf(k, mu) * count.size
    keep = expected > 5
    chi2 = (((observed - expected) ** 2) / expected)[keep].sum()
    assert stats.chi2.sf(chi2, keep.sum() - 1) > 0.001


def test_arrivals_sorted() -> None:
    acc = RampedPoissonAccrual(rate=1.0, ramp_up=6.0, start=3.0)
    t = acc.first_arrivals(np.random.default_rng(1), 100, 30)
    assert np.all(np.diff(t, axis=1) >= 0) and np.all(t >= 3.0)


@pytest.mark.parametrize("kwargs, match", [
    ({"rate": 0.0}, "`rate` must be a finite number > 0; got 0.0"),
    ({"rate": 1.0, "ramp_up": -1.0}, "`ramp_up` must be a finite number >= 0; got -1.0"),
    ({"rate": float("nan")}, "`rate` must be a finite number > 0"),
])
def test_bad_arguments(kwargs: dict[str, float], match: str) -> None:
    with pytest.raises(DesignError, match=match.replace("(", r"\(").replace(")", r"\)")):
        RampedPoissonAccrual(**kwargs)


def test_rate_changes_closed_form() -> None:
    """Ramp 0 -> 2/month over 6 months, 2/month to month 12, then 0.5/month: Lambda by hand."""
    from condapprove.accrual import PoissonAccrual

    acc = PoissonAccrual(rate=2.0, ramp_up=6.0, changes=((12.0, 0.5), (20.0, 0.0)))
    assert float(acc.expected(3.0)) == pytest.approx(2.0 * 9 / 12)
    assert float(acc.expected(12.0)) == pytest.approx(6.0 + 12.0)
    assert float(acc.expected(16.0)) == pytest.approx(18.0 + 2.0)
    assert float(acc.expected(30.0)) == pytest.approx(22.0)
    assert float(acc.inverse(21.0)) == pytest.approx(18.0)
    assert np.isinf(acc.inverse(22.5))  # nobody arrives after the rate drops to 0
    # ... not even in infinite time: 22 expected, in the numpy passes and in the compiled one (a chunk's rows); a
    # randomised check found NaN (0 * inf)
    assert float(acc.expected(np.inf)) == 22.0
    np.testing.assert_array_equal(acc.expected(np.full(600, np.inf)), np.full(600, 22.0))


def test_rate_change_during_ramp() -> None:
    from condapprove.accrual import PoissonAccrual

    acc = PoissonAccrual(rate=2.0, ramp_up=10.0, changes=((5.0, 4.0),))
    # 0..5: 2 t/10 -> 2.5; 5..10: 4 t/10 -> integral 0.2 (100-25)/1 = 15; after: 4/month
    assert float(acc.expected(5.0)) == pytest.approx(2.5)
    assert float(acc.expected(10.0)) == pytest.approx(2.5 + 15.0)
    assert float(acc.expected(11.0)) == pytest.approx(21.5)
    grid = np.linspace(0.01, 40, 300)
    np.testing.assert_allclose(acc.inverse(acc.expected(grid)), grid, rtol=1e-10)


def test_capacity_queue() -> None:
    from condapprove.accrual import apply_capacity

    a = np.array([[0.0, 0.0, 0.0, 10.0, 10.1]])
    np.testing.assert_allclose(apply_capacity(a, 1.0), [[0.0, 1.0, 2.0, 10.0, 11.0]])
    with pytest.raises(DesignError, match="`capacity_per_month` must be a finite number > 0"):
        apply_capacity(a, 0.0)


@pytest.mark.parametrize("acc", [PoissonAccrual(rate=3.0, start=2.0), PoissonAccrual(rate=3.0),
                                 PoissonAccrual(rate=3.0, ramp_up=6.0, changes=((12.0, 1.5), (20.0, 0.0)))])
def test_inverse_into_its_own_argument_gives_the_same_months(acc: PoissonAccrual) -> None:
    """first_arrivals inverts the arrival scale in place (``out=lam``): the same numbers as a fresh result."""
    lam = np.random.default_rng(1).uniform(0.0, 80.0, (50, 7))
    lam[0, :3] = [0.0, 0.0, 1e9]
    expected = acc.inverse(lam)
    got = acc.inverse(lam, out=lam)
    assert got is lam
    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize(("rate", "start", "keep"), [(20.0, 0.0, 1.0), (7.3, 2.5, 0.8), (0.37, 0.0, 0.55), (1e3, 1.0, 1.0)])
def test_constant_rate_arrivals_in_one_pass_are_the_step_by_step_months(rate: float, start: float, keep: float) -> None:
    """A constant-rate accrual's arrival months come from one compiled pass (running sums, thinning, inverse):
    the numbers of the running sums, the thinning and :meth:`PoissonAccrual.inverse` taken one after another."""
    from condapprove._jit import cumsum_rows

    acc = PoissonAccrual(rate=rate, start=start)
    got = acc.first_arrivals(np.random.default_rng(5), 300, 50, keep=keep)
    gaps = np.random.default_rng(5).standard_exponential((50, 300))
    cumsum_rows(gaps)
    e = gaps.T
    if keep != 1.0:
        e /= keep
    np.testing.assert_array_equal(got, acc.inverse(e))
    assert np.all(np.diff(got, axis=1) >= 0)


@given(rate=st.floats(1e-3, 1e4), start=st.floats(0, 60), keep=st.floats(0.01, 1.0), seed=st.integers(0, 2**32 - 1),
       capacity=st.one_of(st.none(), st.floats(1e-3, 1e3)))
def test_monotone_arrivals_are_nondecreasing_in_floating_point(rate: float, start: float, keep: float, seed: int,
                                                              capacity: float | None) -> None:
    """What the engine's binary search for enrolled counts relies on: a constant-rate accrual (and it alone) says
    its arrivals are in order, and every row is nondecreasing as computed, before and after a capacity."""
    from condapprove.accrual import apply_capacity

    acc = PoissonAccrual(rate=rate, start=start)
    assert acc.monotone_arrivals
    assert not PoissonAccrual(rate=rate, ramp_up=1.0).monotone_arrivals
    assert not PoissonAccrual(rate=rate, start=start, changes=((start + 1.0, rate),)).monotone_arrivals
    t = acc.first_arrivals(np.random.default_rng(seed), 40, 60, keep=keep)
    if capacity is not None:
        t = apply_capacity(t, capacity)
    assert np.all(t[:, 1:] >= t[:, :-1])


@given(rate=st.floats(1e-3, 1e4), start=st.floats(0, 60),
       lam=st.lists(st.one_of(st.floats(-100, 9e5), st.sampled_from([0.0, -0.0, np.inf, -np.inf, np.nan])),
                    max_size=20))
def test_constant_rate_inverse_is_the_general_inverse(rate: float, start: float, lam: list[float]) -> None:
    """A constant rate's inverse takes a shorter path: the months of the general piecewise inverse (the rate changed
    to the same rate long after every count tested), at or after the start for counts <= 0 (a randomised check found
    months before the start on the short path), NaN and infinities included."""
    acc = PoissonAccrual(rate=rate, start=start)
    general = PoissonAccrual(rate=rate, start=start, changes=((1e6, rate),))
    x = np.array(lam, dtype=np.float64)
    got = acc.inverse(x)
    np.testing.assert_allclose(got, general.inverse(x), rtol=1e-12)
    assert np.all(got[x <= 0] == start)


@given(rate=st.floats(1e-3, 1e4), start=st.floats(0, 60),
       t=st.lists(st.one_of(st.floats(-100, 9e5), st.sampled_from([0.0, -0.0, np.inf, -np.inf, np.nan])), max_size=20))
def test_constant_rate_expected_is_the_general_formula(rate: float, start: float, t: list[float]) -> None:
    """A constant rate's expected arrivals take a shorter path: the numbers of the general piecewise formula (here
    reached through a rate change, to the same rate, long after every month tested), NaN and infinities included."""
    acc = PoissonAccrual(rate=rate, start=start)
    general = PoissonAccrual(rate=rate, start=start, changes=((1e6, rate),))
    x = np.array(t, dtype=np.float64)
    np.testing.assert_array_equal(acc.expected(x), general.expected(x))
    assert float(acc.expected(start + 2.0)) == float(general.expected(start + 2.0))


_accruals = st.builds(
    lambda rate, ramp, start, steps: PoissonAccrual(
        rate=rate, ramp_up=ramp, start=start,
        changes=tuple((start + sum(d for d, _ in steps[:i + 1]), r) for i, (_, r) in enumerate(steps))),
    rate=st.floats(1e-2, 1e3), ramp=st.one_of(st.just(0.0), st.floats(1e-3, 24.0)), start=st.floats(0, 30),
    steps=st.lists(st.tuples(st.floats(0.5, 20.0), st.one_of(st.just(0.0), st.floats(1e-2, 1e3))), max_size=3))


@given(acc=_accruals, keep=st.one_of(st.just(1.0), st.floats(0.01, 1.0)), seed=st.integers(0, 2**32 - 1),
       size=st.integers(1, 40), k=st.integers(1, 60))
def test_arrivals_in_one_compiled_pass_are_the_step_by_step_months(acc: PoissonAccrual, keep: float, seed: int,
                                                                  size: int, k: int) -> None:
    """Every accrual (ramp-ups, rate changes, rates of 0 after which nobody arrives) draws its arrival months in one
    compiled pass: the numbers of the running sums, the thinning and :meth:`PoissonAccrual.inverse` taken one after
    another, bit for bit (infinities included)."""
    from condapprove._jit import cumsum_rows

    got = acc.first_arrivals(np.random.default_rng(seed), size, k, keep=keep)
    gaps = np.random.default_rng(seed).standard_exponential((k, size))
    cumsum_rows(gaps)
    e = gaps.T
    if keep != 1.0:
        e /= keep
    np.testing.assert_array_equal(got, acc.inverse(e))


@given(acc=_accruals, lam=st.lists(st.one_of(st.floats(-10, 1e6), st.sampled_from([0.0, -0.0, np.inf, np.nan])),
                                   min_size=1, max_size=20))
def test_compiled_inverse_of_a_row_is_the_numpy_inverse(acc: PoissonAccrual, lam: list[float]) -> None:
    """The compiled pass's inverse of a row of values, segment by segment, against :meth:`PoissonAccrual.inverse`
    (the reference, itself tested against the cumulative intensity above), bit for bit: at the knots' cumulative
    counts and just below and above them too, and at NaN, infinities and -0.  (A constant rate, which the pass does
    not handle, is inverted by its own formula.)"""
    from condapprove._jit import inverse_row

    assume(acc._knots.size > 1)
    x = np.concatenate([np.array(lam, dtype=np.float64), acc._cum, np.nextafter(acc._cum, np.inf),
                        np.nextafter(acc._cum, -np.inf), [-np.inf]])
    want = acc.inverse(x)
    got = np.full(x.size, -1.0)
    inverse_row(x, got, acc._knots, acc._cum, acc._level, acc._slope)
    np.testing.assert_array_equal(got, want)
    for v, w in zip(x, want):  # each value alone: a row that reaches one segment (the others are skipped)
        one = np.full(1, -1.0)
        inverse_row(np.array([v]), one, acc._knots, acc._cum, acc._level, acc._slope)
        np.testing.assert_array_equal(one, [w])


@pytest.mark.parametrize("lam", [5e-324, 1e-310, 2.2e-308])
def test_inverse_of_a_subnormal_count_at_the_foot_of_a_ramp_up_is_finite(lam: float) -> None:
    """At the start of a ramp-up the intensity is 0 and 2 b lam underflows for a subnormal lam: the month is still
    the root of b u^2 / 2 = lam (not inf), in the numpy inverse and in the compiled one."""
    from condapprove._jit import inverse_row

    acc = PoissonAccrual(rate=0.25, ramp_up=1.0, start=3.0)
    b = 0.25  # slope of the intensity during the ramp-up
    want = 3.0 + np.sqrt(2.0 * lam / b)
    assert float(acc.inverse(lam)) == pytest.approx(want, rel=1e-12)
    got = np.zeros(1)
    inverse_row(np.array([lam]), got, acc._knots, acc._cum, acc._level, acc._slope)
    assert got[0] == float(acc.inverse(lam))


def test_capacity_of_patient_major_arrivals_is_numpys_formula_bit_for_bit() -> None:
    """The engine's arrivals are patient-major (a transposed view); for them the capacity is one compiled pass down
    the patients, which must give ``np.maximum.accumulate(arrivals - j * gap) + j * gap`` exactly (infinities and
    NaN carried as numpy carries them), in the same layout; any other array takes numpy's formula itself."""
    from condapprove.accrual import apply_capacity

    rng = np.random.default_rng(21)
    for k, m in ((240, 2048), (1, 5), (9, 4)):
        x = np.cumsum(rng.exponential(0.3, (k, m)), axis=0)  # patient-major, as drawn
        x[0, 0] = np.inf
        if k > 2 and m > 2:
            x[2, 2] = np.nan
            x[k - 1, 1] = -np.inf
        for arrivals in (x.T, np.ascontiguousarray(x.T)):
            for capacity in (2.0, 3.7):
                j = np.arange(k, dtype=np.float64) * (1.0 / capacity)
                expected = np.maximum.accumulate(arrivals - j, axis=-1) + j
                got = apply_capacity(arrivals, capacity)
                np.testing.assert_array_equal(got, expected)
                assert got.T.flags.c_contiguous == arrivals.T.flags.c_contiguous  # the layout kept


@given(acc=_accruals, seed=st.integers(0, 2**32 - 1),
       extra=st.lists(st.one_of(st.floats(-50, 1e6), st.sampled_from([0.0, -0.0, np.inf, -np.inf, np.nan, 1e308])),
                      max_size=20))
def test_long_arrays_are_computed_compiled_with_numpys_numbers(acc: PoissonAccrual, seed: int,
                                                               extra: list[float]) -> None:
    """A chunk's rows (arrays of :data:`condapprove.accrual._COMPILED_FROM` values or more) go through one compiled
    pass for :meth:`PoissonAccrual.expected` and :meth:`PoissonAccrual.inverse`: bit for bit the numpy passes' numbers
    (``_expected``, ``_inverse``), at the knots and their cumulative counts, just beside them, and at NaN,
    infinities, -0 and huge values; into the argument itself too, and for 2-d arrays."""
    import warnings

    from condapprove import accrual

    rng = np.random.default_rng(seed)
    edges = np.concatenate([acc._knots, np.nextafter(acc._knots, np.inf), np.nextafter(acc._knots, -np.inf)])
    t = np.concatenate([rng.uniform(-5.0, 150.0, accrual._COMPILED_FROM), edges, np.array(extra, dtype=np.float64)])
    lam = np.concatenate([rng.uniform(-5.0, 2e3, accrual._COMPILED_FROM), acc._cum, np.nextafter(acc._cum, np.inf),
                          np.array(extra, dtype=np.float64)])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # (the numpy passes' overflows at huge values)
        np.testing.assert_array_equal(acc.expected(t), acc._expected(t))
        np.testing.assert_array_equal(acc.inverse(lam), acc._inverse(lam))
        own = lam.copy()
        assert acc.inverse(own, out=own) is own
        np.testing.assert_array_equal(own, acc._inverse(lam))
        grid = rng.uniform(0.0, 100.0, (accrual._COMPILED_FROM, 3))
        np.testing.assert_array_equal(acc.expected(grid), acc._expected(grid))
        np.testing.assert_array_equal(acc.inverse(grid), acc._inverse(grid))


def test_invalid_arguments_of_the_lower_level_functions_are_refused() -> None:
    """Found by a randomised check of the public API (none reachable from a validated design file): a change month of
    NaN was accepted, a thinning probability of NaN or 1.5 gave all-inf or too-early times, a dropout of 1.5 gave -9
    expected patients, and a target of -1 raised IndexError."""
    from condapprove import load_design
    from condapprove.simulation.analytic import evaluable_distribution, expected_evaluable

    from .conftest import DESIGNS

    with pytest.raises(DesignError, match=r"^`changes month` must be a finite number; got nan\.$"):
        PoissonAccrual(rate=2.0, changes=((float("nan"), 1.0),))
    rng = np.random.default_rng(1)
    for keep in (0.0, 1.5, float("nan")):
        with pytest.raises(DesignError, match=r"^`keep` must be a probability in \(0, 1\]"):
            PoissonAccrual(rate=2.0).first_arrivals(rng, 4, 3, keep=keep)
    accrual = load_design(DESIGNS / "stemirac_survey.yaml").post_marketing.treated.accrual
    with pytest.raises(DesignError, match=r"^`dropout` must be a probability in \[0, 1\); got 1\.5\.$"):
        expected_evaluable(accrual, 1.5, 40.0)
    with pytest.raises(DesignError, match=r"^`target` must be an integer >= 0; got -1\.$"):
        evaluable_distribution(accrual, 0.1, -1, 40.0)
