"""The rows' own streams of a continuous design's looks (``condapprove._philox_jit``) and the looks that leave the
stopped rows out (``sufficient._screened_looks``): Philox4x32-10 against Random123's known answers, each row's
draws against numpy's ``Generator`` on the row's PCG64, and the screened looks against every row drawn."""

from __future__ import annotations

import math
import random
import warnings
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import condapprove
from condapprove import _philox_jit
from condapprove.errors import DesignWarning
from condapprove.simulation import decision, sufficient
from condapprove.spec import design_from_mapping

_M32 = 0xFFFF_FFFF

#: Random123's ``kat_vectors``, the three ``philox4x32 10`` lines: counter (4 words), key (2 words), output (4 words).
KAT = [((0, 0, 0, 0), (0, 0), (0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8)),
       ((_M32,) * 4, (_M32,) * 2, (0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD)),
       ((0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344), (0xA4093822, 0x299F31D0),
        (0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1))]


def _philox_py(counter: tuple[int, ...], key: tuple[int, ...]) -> list[int]:
    """Philox4x32-10 written out from the paper in Python integers (the reference for the compiled one)."""
    c, k = [int(x) for x in counter], [int(x) for x in key]
    for i in range(10):
        if i:
            k = [(k[0] + 0x9E3779B9) & _M32, (k[1] + 0xBB67AE85) & _M32]
        p0, p1 = 0xD2511F53 * c[0], 0xCD9E8D57 * c[2]
        c = [((p1 >> 32) ^ c[1] ^ k[0]) & _M32, p1 & _M32, ((p0 >> 32) ^ c[3] ^ k[1]) & _M32, p0 & _M32]
    return c


@pytest.mark.parametrize(("counter", "key", "expected"), KAT)
def test_philox4x32_10_gives_random123s_known_answers(counter: tuple[int, ...], key: tuple[int, ...],
                                                      expected: tuple[int, ...]) -> None:
    got = _philox_jit.philox4x32(np.array(counter, dtype=np.uint64), np.array(key, dtype=np.uint64))
    assert tuple(int(x) for x in got) == expected
    assert tuple(_philox_py(counter, key)) == expected


@settings(derandomize=True, max_examples=40, deadline=None)
@given(st.lists(st.integers(0, _M32), min_size=3, max_size=3), st.integers(0, 9), st.integers(0, 1),
       st.lists(st.integers(0, 4095), min_size=1, max_size=50), st.integers(0, 4096))
def test_row_states_are_philox_of_the_rows_counters(key: list[int], look: int, arm: int, rows: list[int],
                                                    lo: int) -> None:
    """Each row's state is Philox4x32-10 of (0, its place in its block, look + 65536 arm, tag): the low 64 bits the
    first two words, the high 64 the last two."""
    out = np.empty((2, len(rows) + 3), dtype=np.uint64)
    _philox_jit.row_states(np.array(key, dtype=np.uint64), look, arm, lo + np.array(rows, dtype=np.int64), lo, out)
    for j, row in enumerate(rows):
        o = _philox_py((0, row, look + 65536 * arm, key[2]), key[:2])
        assert (int(out[0, j]), int(out[1, j])) == (o[2] | o[3] << 32, o[0] | o[1] << 32)


def _keys(rng: np.random.Generator, blocks: int) -> np.ndarray:
    """Random keys of ``blocks`` blocks, as ``sufficient._row_keys`` makes them: key words and tag (32 bits each),
    then an odd increment."""
    return np.concatenate([rng.integers(0, 2**32, (blocks, 3)), rng.integers(0, 2**63, (blocks, 2)) | 1],
                          axis=1).astype(np.uint64)


@settings(derandomize=True, max_examples=25, deadline=None)
@given(st.integers(0, 2**32 - 1), st.lists(st.integers(1, 700), min_size=1, max_size=4), st.floats(0.05, 1.0),
       st.integers(0, 7), st.integers(0, 1))
def test_each_row_draws_numpys_normal_then_gamma_on_its_own_pcg64(seed: int, sizes: list[int], share: float,
                                                                   look: int, arm: int) -> None:
    """Each drawing row's normal, then gamma, are numpy's ``Generator`` on PCG64 set to the row's Philox state and its
    block's increment (every branch of numpy's gamma: shapes 0, 1/2, 1, above 1); the other rows are not written."""
    rng = np.random.default_rng(seed)
    edges = np.cumsum([0, *sizes])
    m = int(edges[-1])
    keys = _keys(rng, len(sizes))
    d = rng.choice([0, 1, 2, 3, 4, 9, 30, 75], m).astype(np.int64)
    running = rng.random(m) < share
    z, g = np.full(m, 9.0), np.full(m, 9.0)
    _philox_jit.normal_gamma(keys, edges, look, arm, d, np.flatnonzero(running), np.empty((2, 64), dtype=np.uint64),
                             z, g)
    for r in range(m):
        if not running[r]:
            assert z[r] == 9.0 and g[r] == 9.0
            continue
        b = int(np.searchsorted(edges, r, side="right")) - 1
        o = _philox_py((0, r - int(edges[b]), look + 65536 * arm, int(keys[b, 2])), keys[b, :2])
        bits = np.random.PCG64()
        bits.state = {"bit_generator": "PCG64", "has_uint32": 0, "uinteger": 0,
                      "state": {"state": o[0] | o[1] << 32 | o[2] << 64 | o[3] << 96,
                                "inc": int(keys[b, 3]) << 64 | int(keys[b, 4])}}
        numpy_draws = np.random.Generator(bits)
        assert z[r] == numpy_draws.standard_normal()
        assert g[r] == numpy_draws.standard_gamma(max(int(d[r]) - 1, 0) / 2)


def test_a_rows_draws_do_not_depend_on_the_other_rows() -> None:
    """Drawing every row or a few of them gives the few the same numbers (the common random numbers of designs that
    stop different replicates)."""
    edges = np.array([0, 2048, 4096, 5096])
    m = int(edges[-1])
    rng = np.random.default_rng(4)
    keys = _keys(rng, 3)
    d = np.full(m, 40)
    every = [np.zeros(m), np.zeros(m)]
    _philox_jit.normal_gamma(keys, edges, 2, 1, d, np.arange(m), np.empty((2, 512), dtype=np.uint64), *every)
    few = rng.random(m) < 0.03
    some = [np.zeros(m), np.zeros(m)]
    _philox_jit.normal_gamma(keys, edges, 2, 1, d, np.flatnonzero(few), np.empty((2, 512), dtype=np.uint64), *some)
    for a, b in zip(every, some):
        np.testing.assert_array_equal(a[few], b[few])
        assert not b[~few].any()
    assert len(set(every[0].tolist())) == m  # (no two rows alike: different streams)


_CONT = {"type": "continuous", "sd": 1.0, "followup_months": 0}


def _trial(control: str, looks: list[int], target_n: int, spending: str = "pocock", **decision: Any) -> dict[str, Any]:
    control_spec = {"concurrent": {"kind": "concurrent", "ratio": 1}, "benchmark": {"kind": "benchmark", "mean": 0.0},
                    "external": {"kind": "external", "n": 80}}[control]
    return {"name": "screen", "approval": {"date": "2020-01-01", "time_limit_years": 7, "filing_lead_months": 6},
            "post_marketing": {"study": "clinical_trial", "endpoint": _CONT,
                               "treated": {"accrual": {"rate_per_month": 20.0}, "target_n": target_n},
                               "control": control_spec, "analyses": [{"patients": k} for k in looks],
                               "decision": {"rule": "group_sequential", "spending": spending, **decision}},
            "scenarios": [{"name": "strong", "treated_mean": 0.9, **({} if control == "benchmark" else
                                                                      {"control_mean": 0.0})},
                          {"name": "null", "treated_mean": 0.0, **({} if control == "benchmark" else
                                                                    {"control_mean": 0.0})}]}


@pytest.mark.parametrize(("control", "looks", "target_n"), [("concurrent", [60, 120, 180, 240], 150),
                                                            ("benchmark", [30, 60, 90], 120),
                                                            ("external", [20, 40], 60)])
def test_screened_looks_give_the_results_of_every_row_drawn(control: str, looks: list[int], target_n: int,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """Leaving the stopped rows out of the later looks changes no result: bounds that stop no row (every row drawn
    and analysed at every look) give the same tables, on designs where most rows stop at the first look (strong) and
    where few do (null); and rows were left out."""
    from condapprove import _memo

    design = design_from_mapping(_trial(control, looks, target_n))
    left_out = []
    real = sufficient._running_statistics

    def counted(*args: Any) -> Any:
        left_out.append(int(np.count_nonzero(~args[1])))
        return real(*args)

    monkeypatch.setattr(sufficient, "_running_statistics", counted)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DesignWarning)
        screened = condapprove.simulate(design, replicates=3 * 2048 + 77, seed=5, chunk_size=4096).to_frame()
        assert sum(left_out) > 2048
        planned = sufficient._screen

        def stopping_none(*args: Any) -> Any:
            got = planned(*args)
            return None if got is None else (got[0], np.full(got[1].size, np.inf))

        monkeypatch.setattr(sufficient, "_screen", stopping_none)
        _memo._CACHE.clear()
        every = condapprove.simulate(design, replicates=3 * 2048 + 77, seed=5, chunk_size=4096).to_frame()
        _memo._CACHE.clear()
    assert screened.equals(every)
    assert screened.loc[0, "p_confirmed_interim_1"] > 0.5  # (most strong replicates stop at the first look)


@pytest.mark.parametrize("change", ["futility", "month look", "bayesian", "binary"])
def test_only_group_sequential_continuous_designs_with_patient_looks_are_screened(change: str) -> None:
    spec = _trial("concurrent", [60, 120], 90)
    pm = spec["post_marketing"]
    if change == "futility":
        pm["decision"]["futility_z_below"] = [0.0, 0.0]
    elif change == "month look":
        pm["analyses"] = [{"patients": 60}, {"month": 9}]
    elif change == "bayesian":
        pm["decision"] = {"rule": "bayesian", "threshold": 0.975}
    else:
        pm["endpoint"] = {"type": "binary", "followup_months": 0}
        spec["scenarios"] = [{"name": "s", "treated_rate": 0.5, "control_rate": 0.3}]
    design = design_from_mapping(spec)
    arms = sufficient.arms_of(design)
    stream = sufficient._stream(design, arms)
    assert sufficient._screen(design, arms, stream, sufficient._look_index(design, stream.n)) is None
    plain = design_from_mapping(_trial("concurrent", [60, 120], 90))
    arms = sufficient.arms_of(plain)
    stream = sufficient._stream(plain, arms)
    info, bounds = sufficient._screen(plain, arms, stream, sufficient._look_index(plain, stream.n))
    np.testing.assert_allclose(info, [30 * 30 / 60, 60 * 60 / 120, 90 * 90 / 180])
    assert bounds[-1] == np.inf and np.all(bounds[:-1] > 2.0)
    again = decision.screen_bounds(plain, info)
    assert again is not None
    np.testing.assert_array_equal(again, bounds)


def test_screened_design_keeps_its_results_whatever_the_chunks_and_generators(monkeypatch: pytest.MonkeyPatch) -> None:
    """The same seed gives the same results in chunks of any size, and from the blocks' generators (a root without
    state words) as from their words."""
    from condapprove.simulation.population import Streams

    design = design_from_mapping(_trial("concurrent", [60, 120, 180], 120))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DesignWarning)
        a = condapprove.simulate(design, replicates=3 * 2048 + 100, seed=7, chunk_size=2048)
        b = condapprove.simulate(design, replicates=3 * 2048 + 100, seed=7, chunk_size=8192)
        monkeypatch.setattr(Streams, "words_of", staticmethod(lambda streams, purpose: None))
        c = condapprove.simulate(design, replicates=3 * 2048 + 100, seed=7, chunk_size=8192)
    assert a.scenarios == b.scenarios == c.scenarios


def test_a_one_arm_designs_planned_information_is_its_patients() -> None:
    design = design_from_mapping(_trial("benchmark", [30, 60], 90))
    arms = sufficient.arms_of(design)
    stream = sufficient._stream(design, arms)
    got = sufficient._screen(design, arms, stream, sufficient._look_index(design, stream.n))
    assert got is not None
    np.testing.assert_array_equal(got[0], [30.0, 60.0, 90.0])


def _random_screened(rnd: random.Random) -> dict[str, Any]:
    """A random continuous design of the kind ``_screen`` takes: a group-sequential rule without futility, one to
    three interims at numbers of patients or shares of the information, any control, dropout, ramp-up, a rate
    change that may stop accrual (so that some replicates miss looks and are not screened), follow-up."""
    n = rnd.choice([12, 30, 60, 150])
    accrual: dict[str, Any] = {"rate_per_month": rnd.choice([0.5, 2.0, 20.0])}
    if rnd.random() < 0.4:
        accrual["ramp_up_months"] = rnd.choice([3, 12])
    if rnd.random() < 0.3:
        accrual["rate_changes"] = [{"month": rnd.choice([6, 24]), "rate_per_month": rnd.choice([0.0, 0.3])}]
    treated: dict[str, Any] = {"accrual": accrual, "target_n": n}
    if rnd.random() < 0.4:
        treated["dropout"] = rnd.choice([0.1, 0.3])
    control = rnd.choice([{"kind": "concurrent", "ratio": rnd.choice([1, 2, 0.5])}, {"kind": "benchmark", "mean": 0.0},
                          {"kind": "external", "n": rnd.choice([10, 60])}])
    recruited = n + (math.ceil(control["ratio"] * n) if control["kind"] == "concurrent" else 0)
    points = sorted(rnd.sample(range(1, recruited), rnd.choice([1, 2, 3])))
    looks = [{"patients": k} if rnd.random() < 0.7 else {"information": round(k / recruited, 3)} for k in points]
    mean = rnd.choice([0.0, 0.4, 1.5])
    scenario = {"name": "s", "treated_mean": mean, **({} if control["kind"] == "benchmark" else {"control_mean": 0.0})}
    return {"name": "random", "approval": {"date": "2020-01-01", "time_limit_years": rnd.choice([3, 7]),
                                           "filing_lead_months": 6},
            "post_marketing": {"study": "clinical_trial",
                               "endpoint": {"type": "continuous", "sd": 1.0, "followup_months": rnd.choice([0, 6])},
                               "treated": treated, "control": control, "analyses": looks,
                               "decision": {"rule": "group_sequential",
                                            "spending": rnd.choice(["obrien-fleming", "pocock"])}},
            "scenarios": [scenario]}


def test_random_screened_designs_give_the_results_of_every_row_drawn(monkeypatch: pytest.MonkeyPatch) -> None:
    """Thirty random designs of the kind screened: the tables with the screen equal those with bounds that stop no
    row; every design is screened, and rows are left out in some."""
    from condapprove import _memo
    from condapprove.errors import DesignError, DesignErrors

    rnd = random.Random(20261202)
    planned = sufficient._screen
    left_out, compared = [], 0
    real = sufficient._running_statistics
    monkeypatch.setattr(sufficient, "_running_statistics",
                        lambda *args: (left_out.append(int(np.count_nonzero(~args[1]))), real(*args))[1])

    def stopping_none(*args: Any) -> Any:
        got = planned(*args)
        return None if got is None else (got[0], np.full(got[1].size, np.inf))

    while compared < 30:
        try:
            design = design_from_mapping(_random_screened(rnd))
        except (DesignError, DesignErrors):  # (two looks that round to the same patient, say)
            continue
        arms = sufficient.arms_of(design)
        stream = sufficient._stream(design, arms)
        if sufficient._screen(design, arms, stream, sufficient._look_index(design, stream.n)) is None:
            continue  # (an information look at or after the last patient)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DesignWarning)
            _memo._CACHE.clear()
            screened = condapprove.simulate(design, replicates=2 * 2048 + 31, seed=compared).to_frame()
            monkeypatch.setattr(sufficient, "_screen", stopping_none)
            _memo._CACHE.clear()
            every = condapprove.simulate(design, replicates=2 * 2048 + 31, seed=compared).to_frame()
            monkeypatch.setattr(sufficient, "_screen", planned)
            _memo._CACHE.clear()
        assert screened.equals(every), design.post_marketing
        compared += 1
    assert sum(1 for k in left_out if k > 0) >= 5
