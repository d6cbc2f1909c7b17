"""What a run costs besides its replicates: the engine's time split into a cost per run, per chunk and per block.

Usage::

    python benchmarks/fixed_cost.py                       # binary and continuous, 30 rounds each
    python benchmarks/fixed_cost.py --case binary-2to1 --rounds 50
    python benchmarks/fixed_cost.py --json

Each round times, in this process and one after another, three runs of the same design: 16 blocks of 2,048
replicates as 16 chunks of one block, the same 16 blocks as one chunk, and one block alone.  From the medians:

* per chunk = (16 chunks - 1 chunk) / 15;
* per block = (1 chunk of 16 blocks - 1 block) / 15;
* per run = 1 block - per chunk - per block.

A run of ``n`` replicates in chunks of ``c`` blocks then costs about ``run + chunks * chunk + blocks * block``
(a 10^4 run is one chunk of five blocks, a 10^6 run 31 chunks of 16), which is why the 10^4 -> 10^6 ratio of
``scaling.py`` falls below 100 when the fixed costs are a large share of a short run.  The three sizes differ
in how much memory they touch, so the split is a model, not an exact account (a block in a chunk of 16 is not
quite a block alone).
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

BLOCKS = 16


def measure(case: str, rounds: int, seed: int = 1) -> dict[str, Any]:
    """``rounds`` rounds of the three runs of ``case``; the medians and the split (seconds)."""
    import condapprove
    from condapprove.simulation.engine import BLOCK_SIZE

    design = run._design(run.ALL_CASES[case])
    n = BLOCKS * BLOCK_SIZE
    sizes = {"16 chunks": (n, BLOCK_SIZE), "1 chunk": (n, n), "1 block": (BLOCK_SIZE, BLOCK_SIZE)}
    times: dict[str, list[float]] = {k: [] for k in sizes}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(3):  # imports, compiled loops, caches
            condapprove.simulate(design, replicates=n, seed=seed)
        for _ in range(rounds):
            for key, (replicates, chunk) in sizes.items():
                t0 = time.perf_counter()
                condapprove.simulate(design, replicates=replicates, seed=seed, chunk_size=chunk)
                times[key].append(time.perf_counter() - t0)
    med = {k: statistics.median(v) for k, v in times.items()}
    per_chunk = (med["16 chunks"] - med["1 chunk"]) / (BLOCKS - 1)
    per_block = (med["1 chunk"] - med["1 block"]) / (BLOCKS - 1)
    return {"case": case, "rounds": rounds, "medians": med, "per_run": med["1 block"] - per_chunk - per_block,
            "per_chunk": per_chunk, "per_block": per_block}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", choices=sorted(run.ALL_CASES), action="append",
                        help="only these cases (default: binary and continuous; a variant of run.py by name)")
    parser.add_argument("--rounds", type=int, default=30, help="rounds per case (default 30)")
    parser.add_argument("--json", action="store_true", help="print a JSON list")
    args = parser.parse_args(argv)
    rows = [measure(c, args.rounds) for c in args.case or ["binary", "continuous"]]
    if args.json:
        print(json.dumps(rows, indent=2))
        return
    for r in rows:
        med = r["medians"]
        print(f"{r['case']}: 16 chunks {med['16 chunks'] * 1e3:.2f} ms, 1 chunk {med['1 chunk'] * 1e3:.2f} ms, "
              f"1 block {med['1 block'] * 1e3:.2f} ms (medians of {r['rounds']}) -> per run "
              f"{r['per_run'] * 1e3:.2f} ms, per chunk {r['per_chunk'] * 1e3:.2f} ms, per block "
              f"{r['per_block'] * 1e3:.2f} ms")


if __name__ == "__main__":
    main()
