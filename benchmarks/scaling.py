"""Is the engine's cost linear in replicates?  10^4 against 10^6 replicates of the benchmark's cases, in one process.

Usage::

    python benchmarks/scaling.py                      # the three cases: 8 rounds (survival 4) of 5 + 1 + 5 runs
    python benchmarks/scaling.py --case binary --rounds 3 --small 5
    python benchmarks/scaling.py --case binary-2to1 --case continuous-one-arm   # variants of run.py --variants
    python benchmarks/scaling.py --json

After a warm-up, each round times ``--small`` runs of 10^4 replicates, one of 10^6, and ``--small`` runs of 10^4
again, so the two sizes are interleaved and a slow spell of the machine hits both.  Two ratios are reported
(linear cost: 100; the issue's target is within 20% of it):

* ``ratio``: the median over the rounds of each round's 10^6 time over the median of the 10^4 runs around it.  The
  machine's speed drifts by tens of percent from minute to minute, and a pair of times taken seconds apart
  shares its spell (as ``ab.py``'s pairs do), so this ratio is the steadier of the two;
* ``ratio_of_medians``: the median of all the 10^6 times over the median of all the 10^4 times (the only ratio
  before the twenty-second round, whose first scaling runs gave 69.9 and 83.5 for the same code an hour apart).

A 10^6 survival run takes 10-15 s here, hence fewer rounds by default.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import statistics
import sys
import time
import warnings
from typing import Any

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

import run  # the benchmark's cases (after the path insert)

ROUNDS = {"binary": 8, "continuous": 8, "survival": 4}


def measure(case: str, rounds: int, small: int, seed: int = 1) -> dict[str, Any]:
    """``rounds`` rounds of ``small`` runs of 10^4 replicates and one of 10^6, in this process; every time."""
    import condapprove

    design = run._design(run.ALL_CASES[case])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        condapprove.simulate(design, replicates=4096, seed=seed, chunk_size=2048)  # imports, compiled loops, caches
        short, long, paired = [], [], []

        def smalls() -> list[float]:
            got = []
            for _ in range(small):
                t0 = time.perf_counter()
                condapprove.simulate(design, replicates=10**4, seed=seed)
                got.append(time.perf_counter() - t0)
            return got

        for _ in range(rounds):
            before = smalls()
            t0 = time.perf_counter()
            condapprove.simulate(design, replicates=10**6, seed=seed)
            big = time.perf_counter() - t0
            around = before + smalls()
            short += around
            long.append(big)
            paired.append(big / statistics.median(around))
    return {"case": case, "rounds": rounds, "small_runs": 2 * small, "seconds_1e4": statistics.median(short),
            "seconds_1e6": statistics.median(long), "ratio": statistics.median(paired), "round_ratios": paired,
            "ratio_of_medians": statistics.median(long) / statistics.median(short), "runs_1e4": short,
            "runs_1e6": long}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", choices=sorted(run.ALL_CASES), action="append",
                        help="only these cases (the three, or a variant of run.py's --variants, by name)")
    parser.add_argument("--rounds", type=int, help="rounds per case (default: 8, time to event 4)")
    parser.add_argument("--small", type=int, default=5,
                        help="10^4 runs before and after each 10^6 run (default 5)")
    parser.add_argument("--json", action="store_true", help="print a JSON list")
    args = parser.parse_args(argv)
    rows = [measure(c, args.rounds or ROUNDS.get(c, 4 if c.startswith("survival") else 8), args.small)
            for c in args.case or list(run.CASES)]
    if args.json:
        print(json.dumps(rows, indent=2))
        return
    width = max(11, *(len(r["case"]) + 1 for r in rows))
    for r in rows:
        print(f"{r['case']:<{width}} 10^4: {r['seconds_1e4']:.4f} s (median of {len(r['runs_1e4'])}, "
              f"{min(r['runs_1e4']):.4f}-{max(r['runs_1e4']):.4f})   10^6: {r['seconds_1e6']:.3f} s (median of "
              f"{len(r['runs_1e6'])}, {min(r['runs_1e6']):.3f}-{max(r['runs_1e6']):.3f})   ratio {r['ratio']:.1f} "
              f"(rounds {min(r['round_ratios']):.1f}-{max(r['round_ratios']):.1f}; of the medians "
              f"{r['ratio_of_medians']:.1f})")
    print("ratio: median over the rounds of a 10^6 time over the median of the 10^4 times around it; of the medians: "
          "median 10^6 time / median 10^4 time (linear cost: 100; the target: 80-120)")


if __name__ == "__main__":
    main()
