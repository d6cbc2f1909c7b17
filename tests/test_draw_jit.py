"""Draws in compiled loops (`condapprove._draw_jit`): numpy's numbers bit for bit, and the generator left where
numpy would leave it, so every stream, and every scenario table, is the same as with numpy's draws."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from condapprove import _draw_jit
from condapprove.accrual import PoissonAccrual
from condapprove.simulation.population import Streams

SHAPES = [(0,), (1,), (7,), (3, 4), (240, 37), (2, 0, 3)]


@pytest.mark.parametrize("method", sorted(_draw_jit.DRAWS))
@pytest.mark.parametrize("shape", SHAPES)
def test_compiled_draw_is_numpys_and_leaves_the_same_state(method: str, shape: tuple[int, ...]) -> None:
    ours, theirs = np.random.default_rng(11), np.random.default_rng(11)
    a = _draw_jit.draw(ours, method, shape)
    b = getattr(theirs, method)(shape)
    assert a.shape == shape and a.dtype == np.float64
    np.testing.assert_array_equal(a, b)
    assert ours.bit_generator.state == theirs.bit_generator.state
    # and the next numbers agree too
    np.testing.assert_array_equal(ours.random(5), theirs.random(5))


@pytest.mark.parametrize("method", sorted(_draw_jit.DRAWS))
@pytest.mark.parametrize("shape", [(0, 5), (1, 1), (3, 4), (240, 37), (37, 2048)])
def test_transposed_draws_are_numpys_transposed_and_leave_the_same_state(method: str,
                                                                        shape: tuple[int, int]) -> None:
    """``draw(..., transposed=True)``: numpy's draw of ``shape``, transposed, C-contiguous; the generator where numpy
    leaves it."""
    ours, theirs = np.random.default_rng(12), np.random.default_rng(12)
    a = _draw_jit.draw(ours, method, shape, transposed=True)
    b = getattr(theirs, method)(shape)
    assert a.shape == shape[::-1] and a.dtype == np.float64 and a.flags.c_contiguous
    np.testing.assert_array_equal(a, b.T)
    assert ours.bit_generator.state == theirs.bit_generator.state
    w = _Wrapper(np.random.default_rng(12))  # through a wrapper's own method: the same numbers and layout
    c = _draw_jit.draw(w, method, shape, transposed=True)  # type: ignore[arg-type]
    assert w.calls == [method] and c.flags.c_contiguous
    np.testing.assert_array_equal(c, b.T)
    with pytest.raises(ValueError, match="2-d shape"):
        _draw_jit.draw(ours, method, (2, 3, 4), transposed=True)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**63), n=st.integers(0, 3000), method=st.sampled_from(sorted(_draw_jit.DRAWS)))
def test_compiled_draws_match_numpy_for_any_seed(seed: int, n: int, method: str) -> None:
    """Long enough arrays (3,000 numbers) reach the ziggurats' rare slow paths (tails, wedges) for some seeds."""
    np.testing.assert_array_equal(_draw_jit.draw(np.random.default_rng(seed), method, (n,)),
                                  getattr(np.random.default_rng(seed), method)(n))


def test_the_ziggurat_tails_are_numpys() -> None:
    """2 x 10^6 numbers of each: thousands of draws take the exponential's and the normal's tail and wedge code."""
    for method, tail in (("standard_exponential", 7.7), ("standard_normal", 3.66)):  # beyond the last layer
        a = _draw_jit.draw(np.random.default_rng(5), method, (2_000_000,))
        b = getattr(np.random.default_rng(5), method)(2_000_000)
        np.testing.assert_array_equal(a, b)
        assert np.sum(np.abs(a) > tail) > 100  # the tails were visited


class _Wrapper:
    """Not a Generator: stands for the benchmark's timing wrapper."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng
        self.calls: list[str] = []

    def __getattr__(self, name: str) -> Any:
        self.calls.append(name)
        return getattr(self.rng, name)


def test_anything_but_a_generator_is_asked_through_its_own_method() -> None:
    w = _Wrapper(np.random.default_rng(2))
    a = _draw_jit.draw(w, "standard_normal", (4, 5))  # type: ignore[arg-type]
    assert w.calls == ["standard_normal"]
    np.testing.assert_array_equal(a, np.random.default_rng(2).standard_normal((4, 5)))


@pytest.mark.parametrize("method", sorted(_draw_jit.DRAWS))
def test_draws_into_an_array_are_numpys(method: str) -> None:
    """``draw_into``: numpy's ``method(out=...)``, numbers and final state, into an array or a block of its rows (the
    sufficient statistics' normals); a wrapper and another bit generator through their own method."""
    ours, theirs = np.random.default_rng(13), np.random.default_rng(13)
    a, b = np.full((10, 3), np.nan), np.full((10, 3), np.nan)
    assert _draw_jit.draw_into(ours, method, a[2:9]) is not None
    getattr(theirs, method)(out=b[2:9])
    np.testing.assert_array_equal(a, b)  # the rows outside untouched
    assert ours.bit_generator.state == theirs.bit_generator.state
    w = _Wrapper(np.random.default_rng(13))
    c = np.empty((7, 3))
    _draw_jit.draw_into(w, method, c)  # type: ignore[arg-type]
    assert w.calls == [method]
    np.testing.assert_array_equal(c, b[2:9])
    philox = np.empty((7, 3))
    _draw_jit.draw_into(np.random.Generator(np.random.Philox(1)), method, philox)
    np.testing.assert_array_equal(philox, getattr(np.random.Generator(np.random.Philox(1)), method)((7, 3)))


@pytest.mark.parametrize("bits", [np.random.Philox, np.random.SFC64, np.random.PCG64DXSM, np.random.MT19937])
def test_other_bit_generators_draw_through_numpy(bits: Any) -> None:
    """The compiled loops run PCG64's own step: a Generator on any other bit generator gets numpy's draws (its own
    numbers, not PCG64's), and is left where numpy leaves it."""
    for method in sorted(_draw_jit.DRAWS):
        ours, theirs = np.random.Generator(bits(5)), np.random.Generator(bits(5))
        np.testing.assert_array_equal(_draw_jit.draw(ours, method, (30, 7), transposed=True),
                                      getattr(theirs, method)((30, 7)).T)
        np.testing.assert_equal(ours.bit_generator.state, theirs.bit_generator.state)  # (arrays in it)
    ours, theirs = np.random.Generator(bits(6)), np.random.Generator(bits(6))
    shape = np.array([3.0, 1.0, 0.0])
    np.testing.assert_array_equal(_draw_jit.standard_gamma_rows(ours, shape, np.empty((40, 3))),
                                  theirs.standard_gamma(shape, size=(40, 3)))
    np.testing.assert_equal(ours.bit_generator.state, theirs.bit_generator.state)  # (arrays in it)


def test_the_pcg64_state_is_read_and_written_whole() -> None:
    """A state whose 128-bit words use every bit (high and low halves, the increment's too), and the 32-bit buffer
    numpy keeps for ``integers``: the compiled loop continues numpy's stream exactly and leaves the buffer alone."""
    state = {"bit_generator": "PCG64", "state": {"state": (1 << 128) - 12345, "inc": (1 << 127) + (1 << 64) + 3},
             "has_uint32": 1, "uinteger": 987654321}
    ours, theirs = np.random.Generator(np.random.PCG64()), np.random.Generator(np.random.PCG64())
    ours.bit_generator.state = state
    theirs.bit_generator.state = state
    for method in sorted(_draw_jit.DRAWS):
        np.testing.assert_array_equal(_draw_jit.draw(ours, method, (5000,)), getattr(theirs, method)(5000))
        assert ours.bit_generator.state == theirs.bit_generator.state
    assert ours.integers(0, 2**32, dtype=np.uint32) == theirs.integers(0, 2**32, dtype=np.uint32)


@pytest.mark.parametrize("accrual", [PoissonAccrual(rate=20.0), PoissonAccrual(rate=5.0, ramp_up=6.0, start=1.0),
                                     PoissonAccrual(rate=8.0, changes=((3.0, 2.0), (10.0, 0.0)))])
@pytest.mark.parametrize("keep", [1.0, 0.8])
def test_arrivals_are_those_of_numpys_gaps(accrual: PoissonAccrual, keep: float) -> None:
    """``first_arrivals`` (compiled gaps, then the running sums) against numpy's gaps through the accrual's own
    formulas: the running sums, the thinning and the inverse of the cumulative intensity."""
    got = accrual.first_arrivals(np.random.default_rng(4), 300, 50, keep=keep)
    gaps = np.random.default_rng(4).standard_exponential((50, 300))
    expected = accrual.inverse(np.cumsum(gaps, axis=0) / keep).T
    np.testing.assert_allclose(got, expected, rtol=1e-13, atol=0)
    wrapped = accrual.first_arrivals(_Wrapper(np.random.default_rng(4)), 300, 50, keep=keep)  # type: ignore[arg-type]
    np.testing.assert_array_equal(got, wrapped)  # the two paths give the same numbers


@pytest.mark.parametrize("method", sorted(_draw_jit.DRAWS))
def test_patient_major_draws_of_a_block(method: str) -> None:
    """``Streams.patients`` draws patient-major through the compiled loop: numpy's (n, m) draw, transposed."""
    root = np.random.SeedSequence(9)
    got = Streams(root, (0,)).patients("y:treated", 6, 4, method)
    expected = getattr(Streams(root, (0,))("y:treated"), method)(size=(4, 6)).T
    np.testing.assert_array_equal(got, expected)
    assert got.T.flags.c_contiguous  # a transposed view of the draws
    rows = Streams(root, (0,)).patients("y:treated", 6, 4, method, rows=True)  # the same numbers, replicate-major
    assert rows.flags.c_contiguous
    np.testing.assert_array_equal(rows, expected)
    # a draw with parameters stays numpy's
    np.testing.assert_array_equal(Streams(root, (1,)).patients("lots", 6, 4, "normal", loc=1.0, scale=2.0),
                                  Streams(root, (1,))("lots").normal(1.0, 2.0, size=(4, 6)).T)
    lots = Streams(root, (1,)).patients("lots", 6, 4, "normal", rows=True, loc=1.0, scale=2.0)
    assert lots.flags.c_contiguous
    np.testing.assert_array_equal(lots, Streams(root, (1,))("lots").normal(1.0, 2.0, size=(4, 6)).T)


@pytest.mark.parametrize("shape", [[60.0, 60.0, 59.0, 1.0], [1.0], [0.0, 2.5, 1.0], [1.0000001, 3e6],
                                   [14.5, 14.5, 14.5], [0.5, 2.0], [1e-3, 0.999, 5e-324]])
@pytest.mark.parametrize("rows", [0, 1, 2048])
def test_gammas_by_column_are_numpys(shape: list[float], rows: int) -> None:
    """``standard_gamma_rows`` (a shape per column, as the sufficient statistics' entry gaps): numpy's numbers, in
    numpy's order (row after row), and the generator left where numpy leaves it."""
    ours, theirs = np.random.default_rng(3), np.random.default_rng(3)
    out = np.empty((rows, len(shape)))
    got = _draw_jit.standard_gamma_rows(ours, np.array(shape), out)
    assert got is out
    np.testing.assert_array_equal(out, theirs.standard_gamma(shape, size=(rows, len(shape))))
    assert ours.bit_generator.state == theirs.bit_generator.state


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**63), rows=st.integers(0, 500),
       shape=st.lists(st.one_of(st.just(0.0), st.just(1.0), st.floats(1e-3, 1.0), st.floats(1.0, 1e4)), min_size=1,
                      max_size=6))
def test_gammas_by_column_match_numpy_for_any_seed(seed: int, rows: int, shape: list[float]) -> None:
    """Small shapes near 1 reject often (the loop's second test and its retries); any seed gives numpy's numbers."""
    out = np.empty((rows, len(shape)))
    _draw_jit.standard_gamma_rows(np.random.default_rng(seed), np.array(shape), out)
    np.testing.assert_array_equal(out, np.random.default_rng(seed).standard_gamma(shape, size=(rows, len(shape))))


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**63), rows=st.integers(1, 300), cols=st.integers(1, 5), data=st.data())
def test_gammas_by_element_match_numpy_for_any_seed(seed: int, rows: int, cols: int, data: st.DataObject) -> None:
    """A shape per element (the patients a calendar look finds differ from row to row): numpy's numbers in numpy's
    order, drawn in the compiled loop, and the generator left where numpy leaves it."""
    values = data.draw(st.lists(st.one_of(st.just(0.0), st.just(1.0), st.just(0.5), st.floats(1e-3, 1.0),
                                          st.floats(1.0, 1e4)),
                                min_size=rows * cols, max_size=rows * cols))
    shape = np.array(values).reshape(rows, cols)
    ours, theirs = np.random.default_rng(seed), np.random.default_rng(seed)
    out = np.empty((rows, cols))
    assert _draw_jit.standard_gamma_rows(ours, shape, out) is out
    np.testing.assert_array_equal(out, theirs.standard_gamma(shape))
    assert ours.bit_generator.state == theirs.bit_generator.state
    served = []  # the compiled loop drew them (numpy's call was not made)
    original = _draw_jit._on_pcg64
    _draw_jit._on_pcg64 = lambda *args: served.append(args[2].shape) or original(*args)  # type: ignore[assignment]
    try:
        _draw_jit.standard_gamma_rows(np.random.default_rng(seed), shape, np.empty((rows, cols)))
    finally:
        _draw_jit._on_pcg64 = original  # type: ignore[assignment]
    assert served == [(rows, cols)]


def test_gammas_by_column_outside_the_compiled_loop_are_numpys() -> None:
    """A strided ``out`` and anything but a Generator go through numpy's call (which refuses the strided ``out``, as
    it would)."""
    with pytest.raises(ValueError, match="C-contiguous"):
        _draw_jit.standard_gamma_rows(np.random.default_rng(8), np.array([2.0, 3.0]), np.empty((40, 4))[:, ::2])
    w = _Wrapper(np.random.default_rng(2))
    out = np.empty((5, 2))
    _draw_jit.standard_gamma_rows(w, np.array([3.0, 1.0]), out)  # type: ignore[arg-type]
    assert w.calls == ["standard_gamma"]
    np.testing.assert_array_equal(out, np.random.default_rng(2).standard_gamma([3.0, 1.0], size=(5, 2)))
    with pytest.raises(ValueError):  # numpy's own check of the shapes
        _draw_jit.standard_gamma_rows(np.random.default_rng(1), np.array([-1.0, 2.0]), np.empty((3, 2)))


@pytest.mark.parametrize("bad", [np.inf, np.nan, -1.0, -np.inf])
@pytest.mark.parametrize("per_element", [False, True])
def test_gammas_with_a_shape_outside_the_compiled_loop_are_numpys(bad: float, per_element: bool) -> None:
    """The compiled loop checks its shapes before drawing anything: with a shape that is negative, infinite or NaN
    it draws nothing and numpy's own call decides (numpy's numbers for an infinite shape, numpy's error for a
    negative or NaN one), with the generator where numpy's call leaves it."""
    shape = np.array([2.0, 0.5, bad]) if not per_element else np.array([[2.0, 0.5, 3.0], [1.0, bad, 7.0]])
    got_rng, ref_rng = np.random.default_rng(12), np.random.default_rng(12)
    out = np.empty((2, 3))
    try:
        ref = ref_rng.standard_gamma(shape, size=(2, 3))
    except ValueError:
        with pytest.raises(ValueError):
            _draw_jit.standard_gamma_rows(got_rng, shape, out)
    else:
        np.testing.assert_array_equal(_draw_jit.standard_gamma_rows(got_rng, shape, out), ref)
    np.testing.assert_array_equal(got_rng.random(4), ref_rng.random(4))


# -- streams as state words: many blocks in one compiled call (fill_blocks, Streams.words) ---------------------------

@settings(max_examples=40, deadline=None)
@given(entropy=st.integers(0, 2**130), key=st.lists(st.integers(0, 2**40), max_size=3))
def test_pcg64_words_are_pcg64s_seeded_state(entropy: int, key: list[int]) -> None:
    """numpy's seeding of PCG64 from a seed sequence's four words (the increment ``2 * seq + 1``, two steps around
    the initial value): the same state and increment for any seed sequence."""
    seq = np.random.SeedSequence(entropy, spawn_key=tuple(key))
    words = _draw_jit.pcg64_words(seq.generate_state(4, np.uint64))
    state = np.random.PCG64(seq).state
    assert words.dtype == np.uint64 and words.shape == (4,)
    assert int(words[0]) << 64 | int(words[1]) == state["state"]["state"]
    assert int(words[2]) << 64 | int(words[3]) == state["state"]["inc"]
    assert state["has_uint32"] == 0  # (no half of a 64-bit output kept: the words are the whole state)


def _seqs(n: int, seed: int = 4) -> list[np.random.SeedSequence]:
    return np.random.SeedSequence(seed).spawn(n)


def _words(seqs: list[np.random.SeedSequence]) -> np.ndarray:
    return np.array([_draw_jit.pcg64_words(s.generate_state(4, np.uint64)) for s in seqs],
                    dtype=np.uint64).reshape(-1, 4)


@pytest.mark.parametrize("method", sorted(_draw_jit.DRAWS))
@pytest.mark.parametrize("sizes", [[2048, 2048, 17], [0, 5, 0, 3], [1], []])
@pytest.mark.parametrize("cols", [1, 4])
@pytest.mark.parametrize("order", ["C", "F"])
def test_fill_blocks_gives_each_blocks_generator_numbers(method: str, sizes: list[int], cols: int, order: str) -> None:
    """Each block's rows are what its generator's ``method`` gives for them (``draw_into``), and each block's words
    end where its generator's state ends; in an array laid out row by row or column by column."""
    seqs = _seqs(len(sizes))
    words = _words(seqs)
    edges = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    out = np.full((int(edges[-1]), cols), np.nan, order=order)
    assert _draw_jit.fill_blocks(words, method, out, edges) is True
    for b, seq in enumerate(seqs):
        rng = np.random.Generator(np.random.PCG64(seq))
        np.testing.assert_array_equal(out[edges[b]:edges[b + 1]], getattr(rng, method)((sizes[b], cols)))
        assert int(words[b, 0]) << 64 | int(words[b, 1]) == rng.bit_generator.state["state"]["state"]


@settings(max_examples=20, deadline=None)
@given(sizes=st.lists(st.integers(0, 40), min_size=1, max_size=4), per_element=st.booleans(),
       order=st.sampled_from(["C", "F"]), data=st.data())
def test_fill_blocks_gammas_are_each_blocks_numpy_gammas(sizes: list[int], per_element: bool, order: str,
                                                         data: st.DataObject) -> None:
    """Gammas with a shape per column or per element: each block's rows are numpy's ``standard_gamma`` of its
    generator (its shapes cut as the rows are), and its words end where the generator's state ends; in an array
    laid out row by row or column by column."""
    m, cols = sum(sizes), 3
    values = st.one_of(st.just(0.0), st.just(1.0), st.floats(1e-3, 1.0), st.floats(1.0, 1e3))
    count = m * cols if per_element else cols
    shape = np.array(data.draw(st.lists(values, min_size=count, max_size=count)))
    shape = shape.reshape(m, cols) if per_element else shape
    seqs = _seqs(len(sizes), seed=9)
    words = _words(seqs)
    edges = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    out = np.empty((m, cols), order=order)
    assert _draw_jit.fill_blocks(words, "standard_gamma", out, edges, shape)
    for b, seq in enumerate(seqs):
        rng = np.random.Generator(np.random.PCG64(seq))
        rows = slice(edges[b], edges[b + 1])
        ref = rng.standard_gamma(shape[rows] if per_element else shape, size=(sizes[b], cols))
        np.testing.assert_array_equal(out[rows], ref)
        assert int(words[b, 0]) << 64 | int(words[b, 1]) == rng.bit_generator.state["state"]["state"]


@pytest.mark.parametrize("bad", [np.inf, np.nan, -1.0])
def test_fill_blocks_gammas_refuse_bad_shapes_before_drawing(bad: float) -> None:
    """A shape numpy would refuse (or an infinite one): False, nothing drawn in any block, the words unchanged."""
    words = _words(_seqs(2))
    before = words.copy()
    out = np.zeros((4, 2))
    shape = np.array([[1.5, 2.0], [3.0, 4.0], [5.0, 6.0], [7.0, bad]])
    assert _draw_jit.fill_blocks(words, "standard_gamma", out, np.array([0, 2, 4]), shape) is False
    np.testing.assert_array_equal(words, before)
    assert not out.any()


@pytest.mark.parametrize("args", [
    (np.zeros((2, 4), dtype=np.uint64), "random", np.empty((4, 2)), np.array([0, 2])),  # edges: one short
    (np.zeros((2, 4), dtype=np.uint64), "random", np.empty((4, 2)), np.array([0, 3, 2])),  # decreasing
    (np.zeros((2, 4), dtype=np.uint64), "random", np.empty((4, 2)), np.array([0, 2, 5])),  # beyond the rows
    (np.zeros((2, 4), dtype=np.uint64), "random", np.empty((4, 4))[:, ::2], np.array([0, 2, 4])),  # strided
    (np.zeros((2, 4), dtype=np.int64), "random", np.empty((4, 2)), np.array([0, 2, 4])),  # not uint64
    (np.zeros((2, 3), dtype=np.uint64), "random", np.empty((4, 2)), np.array([0, 2, 4])),  # three words
])
def test_fill_blocks_refuses_bad_arguments(args: tuple[Any, ...]) -> None:
    with pytest.raises(ValueError, match="fill_blocks"):
        _draw_jit.fill_blocks(*args)
    with pytest.raises(ValueError, match="shapes of shape"):
        _draw_jit.fill_blocks(np.zeros((1, 4), dtype=np.uint64), "standard_gamma", np.empty((4, 2)),
                              np.array([0, 4]), np.ones(3))


def test_streams_words_and_generator_give_one_stream() -> None:
    """A purpose's stream is the same whether drawn by its words, by its generator, or first by one and then the
    other: the generator asked for after the words starts where they are, and no words are handed out once the
    generator exists (its state would move without them)."""
    from condapprove import _rng

    root = _rng.Root(2026)
    ref = Streams(root, (3, 1))("y:treated")  # the generator alone
    expected = ref.standard_normal((6, 2))
    tail = ref.random(3)

    streams = Streams(root, (3, 1))
    words = Streams.words_of([streams], "y:treated")
    assert words is not None and words.shape == (1, 4)
    out = np.empty((6, 2))
    assert _draw_jit.fill_blocks(words, "standard_normal", out, np.array([0, 6]))
    np.testing.assert_array_equal(out, expected)
    assert Streams.words_of([streams], "y:treated") is words  # the words kept, where the draws left them
    rng = streams("y:treated")  # the generator, from where the words are
    np.testing.assert_array_equal(rng.random(3), tail)
    assert Streams.words_of([streams], "y:treated") is None  # the generator owns the state now
    assert streams("y:treated") is rng


def test_a_chunks_streams_keep_their_words_in_one_array() -> None:
    """``Streams.words_of``: one (blocks, 4) array whose rows the blocks' streams keep; the same array for the next
    draw of the purpose; words a stream already had (drawn from) carried over; None once one of them has its
    generator."""
    from condapprove import _rng

    root = _rng.Root(5)
    blocks = [Streams(root, (0, b)) for b in range(3)]
    lone = Streams.words_of(blocks[1:2], "y")  # one stream's words first, then drawn from
    assert lone is not None
    _draw_jit.fill_blocks(lone, "random", np.empty((4, 1)), np.array([0, 4]))
    states = Streams.words_of(blocks, "y")
    assert states is not None and states.shape == (3, 4)
    np.testing.assert_array_equal(states[1], lone[0])  # carried over
    assert Streams.words_of(blocks, "y") is states
    out = np.empty((9, 2))
    _draw_jit.fill_blocks(states, "standard_exponential", out, np.array([0, 3, 6, 9]))
    for b in range(3):
        rng = Streams(root, (0, b))("y")
        if b == 1:
            rng.random(4)
        np.testing.assert_array_equal(out[3 * b:3 * b + 3], rng.standard_exponential((3, 2)))
        np.testing.assert_array_equal(blocks[b]("y").random(2), rng.random(2))  # each generator goes on from there
    assert Streams.words_of(blocks, "y") is None


def test_streams_have_no_words_without_an_integer_entropy() -> None:
    """A root seed sequence whose entropy is not a non-negative integer: no words (its children's seeds come from
    numpy's own seed sequence); the generator is numpy's child."""
    root = np.random.SeedSequence([1, 2, 3])
    streams = Streams(root, (0, 7))
    assert Streams.words_of([streams], "y:control") is None
    assert isinstance(streams("y:control"), np.random.Generator)


# -- Poisson counts (the non-evaluable enrolments: the thinned-out arrivals of a design with dropout) ---------------

#: Means over numpy's three ways: 0, the multiplication method below 10, the transformed rejection from 10 on (its
#: log-gamma's small-argument branch, k + 1 <= 7, is reached near 10), up to very large means.
POISSON_MEANS = np.array([0.0, 1e-300, 1e-9, 0.3, 1.0, 4.999, 9.999999999, 10.0, 10.000001, 11.5, 30.0, 1e3, 1e6,
                          1e12, _draw_jit.POISSON_MAX])


@pytest.mark.parametrize("seed", [0, 1, 2026])
def test_poisson_is_numpys_and_leaves_the_same_state(seed: int) -> None:
    lam = np.tile(POISSON_MEANS, 400)
    rng, ref = np.random.default_rng(seed), np.random.default_rng(seed)
    got = _draw_jit.poisson(rng, lam)
    assert got.dtype == np.int64
    np.testing.assert_array_equal(got, ref.poisson(lam))
    assert rng.bit_generator.state == ref.bit_generator.state


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**63), lam=st.lists(st.one_of(st.floats(0.0, 12.0), st.floats(0.0, 1e4)), max_size=400))
def test_poisson_matches_numpy_for_any_seed(seed: int, lam: list[float]) -> None:
    means = np.array(lam, dtype=np.float64)
    rng, ref = np.random.default_rng(seed), np.random.default_rng(seed)
    np.testing.assert_array_equal(_draw_jit.poisson(rng, means), ref.poisson(means))
    assert rng.bit_generator.state == ref.bit_generator.state


def test_poisson_of_many_means_matches_numpy() -> None:
    """Half a million draws over the means of a design's enrolment counts and beyond: every rejection branch of the
    transformed rejection taken many times."""
    means = np.random.default_rng(7).uniform(0.0, 60.0, 500_000)
    np.testing.assert_array_equal(_draw_jit.poisson(np.random.default_rng(8), means),
                                  np.random.default_rng(8).poisson(means))


@pytest.mark.parametrize("bad", [-1.0, np.nan, np.inf, 1e19])
def test_poisson_outside_the_compiled_loop_is_numpys(bad: float) -> None:
    """A mean the compiled loop does not take goes to numpy's call: its error for a negative, NaN or too large mean
    (nothing drawn), its numbers otherwise."""
    lam = np.array([2.0, bad])
    rng = np.random.default_rng(3)
    before = rng.bit_generator.state
    with pytest.raises(ValueError, match="lam"):
        _draw_jit.poisson(rng, lam)
    assert rng.bit_generator.state == before
    big = np.array([2.0, 2 * _draw_jit.POISSON_MAX])
    np.testing.assert_array_equal(_draw_jit.poisson(np.random.default_rng(3), big),
                                  np.random.default_rng(3).poisson(big))


@pytest.mark.parametrize("sizes", [[2048, 2048, 17], [0, 5, 0, 3], [1]])
def test_fill_blocks_poisson_gives_each_blocks_numpy_counts(sizes: list[int]) -> None:
    seqs = _seqs(len(sizes), seed=11)
    words = _words(seqs)
    edges = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    lam = np.random.default_rng(5).uniform(0.0, 25.0, (int(edges[-1]), 1))
    out = np.empty(lam.shape)
    assert _draw_jit.fill_blocks(words, "poisson", out, edges, lam)
    for b, seq in enumerate(seqs):
        rng = np.random.Generator(np.random.PCG64(seq))
        rows = slice(edges[b], edges[b + 1])
        np.testing.assert_array_equal(out[rows], rng.poisson(lam[rows]))
        assert int(words[b, 0]) << 64 | int(words[b, 1]) == rng.bit_generator.state["state"]["state"]


def test_fill_blocks_poisson_refuses_bad_means_before_drawing() -> None:
    words = _words(_seqs(2))
    before = words.copy()
    out = np.zeros((4, 1))
    assert _draw_jit.fill_blocks(words, "poisson", out, np.array([0, 2, 4]), np.array([[1.0], [2.0], [3.0], [-1.0]])) \
        is False
    np.testing.assert_array_equal(words, before)
    assert not out.any()
    with pytest.raises(ValueError, match="means of shape"):
        _draw_jit.fill_blocks(words, "poisson", out, np.array([0, 2, 4]), np.ones(4))


# -- binomial counts (a look's responders when their numbers of trials vary; the counts between known points) -------

def _binomial_reference(seqs: list[np.random.SeedSequence], n: np.ndarray, p: np.ndarray,
                        edges: np.ndarray) -> tuple[np.ndarray, list[np.random.Generator]]:
    rngs = [np.random.Generator(np.random.PCG64(seq)) for seq in seqs]
    parts = [rng.binomial(n[a:b], p[a:b]) for rng, a, b in zip(rngs, edges[:-1], edges[1:])]
    return np.concatenate([np.zeros(0, dtype=np.int64), *parts]), rngs


@pytest.mark.parametrize("seed", [0, 1, 2026])
def test_binomial_blocks_are_numpys_and_leave_the_same_states(seed: int) -> None:
    """Both of numpy's ways (the CDF's inversion for n min(p, 1 - p) <= 30, BTPE above), p = 0, 1/2 and 1, no
    trial, and very many trials: numpy's counts for each block, and each block's words where its generator ends."""
    rng = np.random.default_rng(seed)
    n = np.concatenate([rng.integers(0, 40, 3000), rng.integers(0, 3000, 3000), rng.integers(0, 10**7, 300),
                        [0, 1, 60, 61, 100, 10**9]])
    p = np.concatenate([rng.random(6300), [0.5, 0.5, 0.5, 0.5, 0.3, 0.4]])
    p[::17], p[::19], p[::23] = 0.0, 1.0, 0.5
    seqs = _seqs(3, seed=seed + 20)
    words = _words(seqs)
    edges = np.array([0, 2000, 2000, n.size])
    got = _draw_jit.binomial_blocks(words, n, p, edges)
    want, rngs = _binomial_reference(seqs, n, p, edges)
    assert got is not None and got.dtype == np.int64
    np.testing.assert_array_equal(got, want)
    for b, rng_b in enumerate(rngs):
        assert int(words[b, 0]) << 64 | int(words[b, 1]) == rng_b.bit_generator.state["state"]["state"]


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**63), data=st.data())
def test_binomial_blocks_match_numpy_for_any_seed(seed: int, data: st.DataObject) -> None:
    size = data.draw(st.integers(0, 300))
    n = np.array(data.draw(st.lists(st.one_of(st.integers(0, 70), st.integers(0, 10**6)), min_size=size,
                                    max_size=size)), dtype=np.int64)
    p = np.array(data.draw(st.lists(st.one_of(st.floats(0.0, 1.0), st.sampled_from([0.0, 0.5, 1.0])), min_size=size,
                                    max_size=size)), dtype=np.float64)
    seqs = [np.random.SeedSequence(seed)]
    got = _draw_jit.binomial_blocks(_words(seqs), n, p, np.array([0, size]))
    want, _ = _binomial_reference(seqs, n, p, np.array([0, size]))
    assert got is not None
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize(("n", "p"), [(-1, 0.5), (5, -0.1), (5, 1.5), (5, np.nan)])
def test_binomial_blocks_refuse_what_numpy_refuses_before_drawing(n: int, p: float) -> None:
    words = _words(_seqs(1))
    before = words.copy()
    assert _draw_jit.binomial_blocks(words, np.array([3, n]), np.array([0.2, p]), np.array([0, 2])) is None
    np.testing.assert_array_equal(words, before)
    with pytest.raises(ValueError, match="binomial_blocks"):
        _draw_jit.binomial_blocks(words, np.array([3, 4]), np.array([0.2]), np.array([0, 2]))
