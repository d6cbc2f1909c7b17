"""The survival looks' compiled steps on one block's captured inputs: wide (64-bit) against narrow (32-bit) keys.

Usage::

    python benchmarks/looks.py                    # the survival case, 2,048 replicates, 5 passes of each
    python benchmarks/looks.py --case survival-400 --passes 10
    python benchmarks/looks.py --reported 20480   # every time-to-event design: look-rows sent back to the wide keys

Runs the case's design once to capture what the engine hands to its look statistics (each patient's entry month and
key of the first of event and dropout, and each look's calendar month), then times, per look and per part of
replicates as the engine runs them (``_tile_rows``), the wide keys (``look_keys``, numpy's sort as doubles,
``walk_sorted``) and the narrow ones (``look_keys32``, numpy's sort of 32-bit integers, ``walk_sorted``, then
``unsure_rows``: whole rows, as the engine runs a look once a tile has no row that a narrower buffer holds, item
117; the engine does the walk and the check in one pass, ``walk_unsure``, item 129, timed here apart), alternating
the two (``docs/performance.md``, item 36).  Prints milliseconds
per block (all the looks), each step's total over the passes' median, and checks that the two give the same sums
wherever no row is reported.
"""

from __future__ import annotations

import argparse
import pathlib
import statistics
import sys
import time
import warnings
from typing import Any

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

import run  # the benchmark's cases (after the path insert)

from condapprove.simulation.statistics import _tile_rows  # rows of a part, as the engine runs them


def capture(case: str, replicates: int) -> tuple[Any, ...]:
    """The arguments of the engine's two-arm look statistics for one block of ``case``."""
    import condapprove
    from condapprove.simulation import statistics

    got: list[tuple[Any, ...]] = []
    real = statistics._two_arm_rows

    def spy(*args: Any) -> Any:
        got.append(args)
        return real(*args)

    statistics._two_arm_rows = spy  # type: ignore[assignment]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            condapprove.simulate(run._design(run.ALL_CASES[case]), replicates=replicates, seed=1)
    finally:
        statistics._two_arm_rows = real
    if not got:
        raise SystemExit(f"{case}: not a two-arm time-to-event design")
    return got[0][:5]  # (entry, first_key, n_t, recruited, taus: every row at every look, without the stop screen)


def one_pass(args: tuple[Any, ...], narrow: bool, clock: dict[str, float]) -> list[np.ndarray]:
    """Every look of every part, with the wide or the narrow keys; adds each step's time to ``clock``."""
    from condapprove.kernels._tte_jit import look_keys, look_keys32, unsure_rows, walk_sorted

    entry, first_key, n_t, recruited, taus = args
    beyond = not bool(recruited.all())  # as the engine calls look_keys32
    m, n = entry.shape
    code = np.uint64(2) | (np.arange(n) < n_t).astype(np.uint64)
    part = _tile_rows(n)
    key = np.empty((part, n), dtype=np.uint32 if narrow else np.uint64)
    nv, nt, o1, events = (np.empty(m, dtype=np.int64) for _ in range(4))
    e1, var, unsure = np.empty(m), np.empty(m), np.empty(m, dtype=bool)
    sums = []
    for tau in taus:
        tau = np.ascontiguousarray(tau)
        for lo in range(0, m, part):
            r = slice(lo, min(m, lo + part))
            kr = key[:r.stop - lo]
            t0 = time.perf_counter()
            if narrow:
                look_keys32(entry[r], tau[r], first_key[r], code, np.arange(kr.shape[0]), kr, nv[r], nt[r],
                            beyond)
            else:
                look_keys(entry[r], tau[r], first_key[r], code, kr, nv[r], nt[r])
            t1 = time.perf_counter()
            (kr if narrow else kr.view(np.float64)).sort(axis=1)
            t2 = time.perf_counter()
            walk_sorted(kr, nv[r], nt[r], e1[r], var[r], o1[r], events[r])
            t3 = time.perf_counter()
            if narrow:
                unsure_rows(kr, nv[r], unsure[r])
            t4 = time.perf_counter()
            for step, dt in zip(("keys", "sort", "walk", "check"), (t1 - t0, t2 - t1, t3 - t2, t4 - t3)):
                clock[step] = clock.get(step, 0.0) + dt
        sums.append(np.stack([e1, var, o1, events, unsure if narrow else np.zeros(m, dtype=bool)]).copy())
    return sums


def count_reported(replicates: int, seed: int = 5) -> None:
    """For every time-to-event benchmark case and shipped design: how many look-rows of a run of ``replicates``
    the narrow keys report (``walk_by_width``'s check, or ``walk_unsure``'s for whole rows), so that the engine
    analyses them again from the wide keys."""
    import glob

    import condapprove
    from condapprove.simulation import statistics as engine_statistics

    count = [0, 0]
    real = engine_statistics.walk_by_width, engine_statistics.walk_unsure

    def by_width(*args: Any) -> int:
        got = int(real[0](*args))
        count[0] += int(args[4].sum())  # (the buffers' rows: counts)
        count[1] += got
        return got

    def whole_rows(key: np.ndarray, *args: Any) -> int:
        got = int(real[1](key, *args))
        count[0] += key.shape[0]
        count[1] += got
        return got

    designs = [(name, run._design(case)) for name, case in run.ALL_CASES.items() if name.startswith("survival")]
    root = pathlib.Path(__file__).resolve().parents[1]
    designs += [(pathlib.Path(f).name, condapprove.load_design(f))
                for f in sorted(glob.glob(str(root / "designs" / "*.yaml")))]
    # (the names the engine's looks call)
    engine_statistics.walk_by_width, engine_statistics.walk_unsure = by_width, whole_rows
    try:
        for name, design in designs:
            if design.post_marketing.endpoint.type != "time_to_event":
                continue
            count[:] = [0, 0]
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                condapprove.simulate(design, replicates=replicates, seed=seed)
            print(f"{name}: {count[1]} of {count[0]} look-rows reported")
    finally:
        engine_statistics.walk_by_width, engine_statistics.walk_unsure = real


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", default="survival", choices=sorted(c for c in run.ALL_CASES if "survival" in c))
    parser.add_argument("--replicates", type=int, default=2048, help="rows of the captured block")
    parser.add_argument("--passes", type=int, default=5, help="alternating passes of each version")
    parser.add_argument("--reported", type=int, metavar="REPLICATES",
                        help="instead: the look-rows reported in runs of every time-to-event design")
    args = parser.parse_args(argv)
    if args.reported:
        count_reported(args.reported)
        return
    block = capture(args.case, args.replicates)
    one_pass(block, False, {})  # compile or load both versions' loops
    one_pass(block, True, {})
    times: dict[str, list[dict[str, float]]] = {"wide": [], "narrow": []}
    results: dict[str, list[np.ndarray]] = {}
    for _ in range(args.passes):
        for name in ("wide", "narrow"):
            clock: dict[str, float] = {}
            results[name] = one_pass(block, name == "narrow", clock)
            times[name].append(clock)
    for name, runs in times.items():
        steps = {s: statistics.median(c[s] for c in runs) * 1e3 for s in runs[0]}
        total = statistics.median(sum(c.values()) for c in runs) * 1e3
        parts = "  ".join(f"{s} {v:6.2f}" for s, v in steps.items())
        print(f"{name:7s} {parts}   all {total:6.2f} ms per block")
    reported = sum(int(n[4].sum()) for n in results["narrow"])
    same = all(np.array_equal(w[:4, ~n[4].astype(bool)], n[:4, ~n[4].astype(bool)])
               for w, n in zip(results["wide"], results["narrow"]))
    rows = len(block[-1]) * block[0].shape[0]
    print(f"{args.case}: {len(block[-1])} looks x {block[0].shape[0]} rows; {reported} of {rows} look-rows reported; "
          f"the sums of the others {'the same' if same else 'DIFFER'}")
    if not same:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
