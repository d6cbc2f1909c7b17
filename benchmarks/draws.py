"""The engine's compiled draws against numpy's own calls: the same numbers, how long each takes.

Usage::

    python benchmarks/draws.py                   # 80 alternating pairs of each draw
    python benchmarks/draws.py --pairs 200

Times, alternating the two in one process, ``condapprove._draw_jit.draw`` (numpy's PCG64 and ziggurats in compiled
loops, ``docs/performance.md``, item 52) against the Generator's own method, for a block's arm of patients
(120 x 2,048, drawn transposed as the engine draws them), a whole block of a 240-patient trial (240 x 2,048), one
small draw of 7 numbers (the call's fixed cost), and ``standard_gamma_rows`` for 2,048 x 4 gammas with a shape per
column (a sufficient-statistics block's entries) against ``Generator.standard_gamma``.  Prints each side's median in
milliseconds (microseconds for the small draw) and the median of the pairs' ratios, and checks that the two give the
same numbers.  Freed memory is kept for reuse, as in the engine (``condapprove._alloc``), so neither side pays
page faults for its new array at every call.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from condapprove._alloc import keep_freed_memory
from condapprove._draw_jit import DRAWS, draw, standard_gamma_rows


def _pairs(ours: Callable[[np.random.Generator], Any], numpys: Callable[[np.random.Generator], Any],
           pairs: int) -> tuple[float, float, float]:
    """Medians of ``pairs`` alternating timings of the two (seconds), and of their ratios (ours / numpy's)."""
    a, b = [], []
    rng = np.random.default_rng(1)
    for p in range(pairs):
        for first in ((0, 1) if p % 2 == 0 else (1, 0)):
            fn, into = ((ours, a), (numpys, b))[first]
            t0 = time.perf_counter()
            fn(rng)
            into.append(time.perf_counter() - t0)
    return statistics.median(a), statistics.median(b), statistics.median(x / y for x, y in zip(a, b))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pairs", type=int, default=80, help="alternating pairs of each draw (default 80)")
    args = parser.parse_args(argv)
    keep_freed_memory()  # as the engine: freed arrays reused, not page-faulted in again at every call
    shape = np.array([60.0, 60.0, 60.0, 1.0])
    out = np.empty((2048, 4))
    for method in sorted(DRAWS):  # the same numbers first (and the compiled loops loaded)
        for size, transposed in (((120, 2048), True), ((240, 2048), False), ((7,), False)):
            got = draw(np.random.default_rng(2), method, size, transposed=transposed)
            want = getattr(np.random.default_rng(2), method)(size)
            assert np.array_equal(got, want.T if transposed else want), method
    assert np.array_equal(standard_gamma_rows(np.random.default_rng(2), shape, out),
                          np.random.default_rng(2).standard_gamma(shape, size=out.shape))
    print(f"{'draw':<46}{'compiled':>11}{'numpy':>11}{'ratio':>8}")
    for method in sorted(DRAWS):
        cases: list[tuple[str, Any, Any, float, str]] = [
            (f"{method} 120 x 2,048, transposed", lambda g, m=method: draw(g, m, (120, 2048), transposed=True),
             lambda g, m=method: np.ascontiguousarray(getattr(g, m)((120, 2048)).T), 1e3, "ms"),
            (f"{method} 240 x 2,048", lambda g, m=method: draw(g, m, (240, 2048)),
             lambda g, m=method: getattr(g, m)((240, 2048)), 1e3, "ms"),
            (f"{method} 7", lambda g, m=method: draw(g, m, (7,)), lambda g, m=method: getattr(g, m)(7), 1e6, "us"),
        ]
        for label, ours, numpys, unit, name in cases:
            a, b, ratio = _pairs(ours, numpys, args.pairs)
            print(f"{label:<46}{a * unit:>8.3f} {name}{b * unit:>8.3f} {name}{ratio:>8.2f}")
    a, b, ratio = _pairs(lambda g: standard_gamma_rows(g, shape, out),
                         lambda g: g.standard_gamma(shape, size=out.shape), args.pairs)
    print(f"{'standard_gamma_rows 2,048 x 4':<46}{a * 1e3:>8.3f} ms{b * 1e3:>8.3f} ms{ratio:>8.2f}")


if __name__ == "__main__":
    main()
