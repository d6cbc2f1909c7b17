"""``--jobs 2`` against ``--jobs 1``, beside what this machine's two cores give to work that needs no coordination.

Usage::

    python benchmarks/jobs.py                       # the three cases (binary and continuous 10^6, survival 10^5)
    python benchmarks/jobs.py --case binary --pairs 20
    python benchmarks/jobs.py --json
    python benchmarks/jobs.py --kept-workers        # a session's later calls: workers kept from an earlier call
    python benchmarks/jobs.py --cli designs/two_arm_trial.yaml --replicates 1000000   # whole commands

Each pair runs, in fresh Python processes and in an order that alternates from one pair to the next:

* the engine with ``--jobs 1`` and ``--jobs 2`` (``benchmarks/run.py``'s own timed run: a warm-up, then one timed
  ``condapprove.simulate`` call; with two, the calling process and a worker forked inside the timed call);
* the *reference*: the same number of random draws (numpy's ``standard_exponential`` into preallocated blocks of
  240 x 2,048, each block a few MiB as the engine's are), once in the process alone and once split between two
  worker processes started inside the timed part.  It has no coordination at all, so its speed-up is what the
  machine gives two processes at that minute: on a virtual machine whose second core is shared, this moves by
  tens of percent from minute to minute, and the engine's speed-up cannot be read without it;
* the *engine pair*: two fresh processes, each warmed up as ``run.py`` warms up, that then run the same
  ``--jobs 1`` call at the same moment (each tells this script it is ready, and both are told to go at once).  Two
  processes of the engine's own work, with no coordination between them: ``2 x`` the jobs-1 time of the pair over
  the slower of the two is what this machine gives the engine's work in two processes (its memory traffic and
  caches included, which the draws of the first reference do not have), so the engine's speed-up over it is the
  share that the pool itself (its worker's start, the results sent back, the chunks' balance) keeps.

With ``--cli FILE``, each pair instead times two whole ``condapprove simulate FILE -n R -q`` commands in fresh
processes (``--jobs 1`` and ``--jobs 2``, alternating which goes first): what a user of the command sees,
start-up included (imports and numba's loading of the compiled kernels, about 1.5 s that one process pays
before any replicate is simulated, whatever ``--jobs``).

Reports, per case, the median over the pairs of the engine's speed-up (jobs 1 time / jobs 2 time), the
reference's, the ratio of the two (the share of the machine's parallel speed-up the engine attains), and the same
two for the engine pair (``engine_pair_speedup``, ``share_of_engine_pair``; not with ``--kept-workers``, where the
pair's processes would need workers of their own); the engine's results are identical with one or two workers (the
tests check that).
"""

from __future__ import annotations

import argparse
import json
import pathlib
import statistics
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from typing import Any

#: Replicates of each case, as in the earlier rounds' figures.  Binary's and continuous's 10^6 now take 0.18-0.29 s in
#: one process, so a new worker's start (its fork alone 4-5 ms) is no longer a small part of the run: ``--replicates
#: 10000000`` times runs where it is (docs/performance.md, fifty-first round).
REPLICATES = {"binary": 1_000_000, "continuous": 1_000_000, "survival": 100_000}
#: Blocks of draws in the reference (about half a second in one process on this machine).
REFERENCE_BLOCKS = 200
_RUN = pathlib.Path(__file__).with_name("run.py")


def _draw_blocks(count: int) -> float:
    """Draw ``count`` blocks of 240 x 2,048 standard exponentials into one preallocated array; the seconds taken."""
    import numpy as np

    rng = np.random.default_rng(count)
    out = np.empty((240, 2048))
    t0 = time.perf_counter()
    for _ in range(count):
        rng.standard_exponential(out=out)
    return time.perf_counter() - t0


def reference(blocks: int, two_first: bool = False, kept: bool = False) -> dict[str, float]:
    """The reference's times: ``blocks`` blocks in this process, and split between two worker processes (pool
    start-up included, as in the engine's timed call; with ``kept``, two workers started and warmed before, as the
    engine's kept workers); with ``two_first``, the two workers first."""
    import multiprocessing

    _draw_blocks(2)  # numpy imported, pages touched
    started = None
    if kept:
        started = ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("fork"))
        list(started.map(_draw_blocks, [2, 2]))

    def alone() -> float:
        t0 = time.perf_counter()
        _draw_blocks(blocks)
        return time.perf_counter() - t0

    def two() -> float:
        t0 = time.perf_counter()
        if started is not None:
            list(started.map(_draw_blocks, [blocks // 2, blocks - blocks // 2]))
        else:
            with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("fork")) as pool:
                list(pool.map(_draw_blocks, [blocks // 2, blocks - blocks // 2]))
        return time.perf_counter() - t0

    if two_first:
        t2, t1 = two(), alone()
    else:
        t1, t2 = alone(), two()
    if started is not None:
        started.shutdown()
    return {"one": t1, "two": t2}


def _engine(case: str, replicates: int, jobs: int, kept: bool = False) -> float:
    proc = subprocess.run([sys.executable, str(_RUN), "--internal", case, str(replicates), str(jobs), "--no-floor",
                           *(["--kept-workers"] if kept else [])], capture_output=True, text=True, check=True)
    return float(json.loads(proc.stdout.strip().splitlines()[-1])["seconds"])


def pair_member(case: str, replicates: int) -> None:
    """(In a fresh process, one of an engine pair.)  Warm up as ``run.py`` does, say ``ready`` on stdout, wait for a
    line on stdin, then time one ``--jobs 1`` call and print its seconds as JSON."""
    import warnings

    sys.path.insert(0, str(_RUN.parent))
    import run  # the benchmark's cases (after the path insert)

    import condapprove

    design = run._design(run.ALL_CASES[case])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run.warm_up(design, replicates)
        print("ready", flush=True)
        sys.stdin.readline()
        t0 = time.perf_counter()
        condapprove.simulate(design, replicates=replicates, seed=1)
        seconds = time.perf_counter() - t0
    print(json.dumps({"seconds": seconds, "began": time.time() - seconds}), flush=True)


def _engine_pair(case: str, replicates: int) -> dict[str, float]:
    """Two :func:`pair_member` processes told to go at once: the slower one's seconds, and how far apart (seconds)
    their timed calls began."""
    procs = [subprocess.Popen([sys.executable, __file__, "--internal-pair", case, str(replicates)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True) for _ in range(2)]
    try:
        for p in procs:
            assert p.stdout is not None
            if p.stdout.readline().strip() != "ready":
                raise RuntimeError("a process of the engine pair did not start")
        for p in procs:
            assert p.stdin is not None
            p.stdin.write("go\n")
            p.stdin.flush()
        got = []
        for p in procs:
            out, _ = p.communicate()
            if p.returncode != 0:
                raise RuntimeError(f"a process of the engine pair failed (exit status {p.returncode})")
            got.append(json.loads(out.strip().splitlines()[-1]))
    finally:  # (the other process, when one failed, is not left waiting to be told to go)
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    return {"seconds": max(g["seconds"] for g in got), "apart": abs(got[0]["began"] - got[1]["began"])}


def _reference(blocks: int, two_first: bool, kept: bool = False) -> dict[str, float]:
    proc = subprocess.run([sys.executable, __file__, "--internal-reference", str(blocks), str(int(two_first)),
                           str(int(kept))], capture_output=True, text=True, check=True)
    return dict(json.loads(proc.stdout.strip().splitlines()[-1]))


def _command(design: str, replicates: int, jobs: int) -> float:
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "condapprove.cli", "simulate", design, "-n", str(replicates), "-j", str(jobs),
                    "-q"], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t0


def measure_command(design: str, pairs: int, replicates: int) -> dict[str, Any]:
    """``pairs`` pairs of whole commands (jobs 1, jobs 2, alternating which goes first); medians and every pair."""
    one, two = [], []
    for i in range(pairs):
        got = {j: _command(design, replicates, j) for j in ((1, 2) if i % 2 == 0 else (2, 1))}
        one.append(got[1])
        two.append(got[2])
    speedups = [a / b for a, b in zip(one, two)]
    return {"design": design, "replicates": replicates, "pairs": pairs, "jobs1_seconds": statistics.median(one),
            "jobs2_seconds": statistics.median(two), "speedup": statistics.median(speedups),
            "speedup_pairs": speedups, "jobs1_runs": one, "jobs2_runs": two}


def measure(case: str, pairs: int, replicates: int, blocks: int, kept: bool = False) -> dict[str, Any]:
    """``pairs`` interleaved pairs of the engine (jobs 1, jobs 2), of the reference and of the engine pair; medians
    and every pair (``kept``: the jobs-2 runs use workers a warm-up call kept, the reference's two workers are
    started before its timer, and no engine pair is run).  The engine pair's speed-up in a pair is 2 x that pair's
    jobs-1 time over the pair's two runs at once."""
    one, two, ref_one, ref_two, pair, apart = [], [], [], [], [], []
    for i in range(pairs):
        steps = ["engine", "reference"] + ([] if kept else ["pair"])
        for step in steps if i % 2 == 0 else steps[::-1]:
            if step == "engine":
                order = (1, 2) if i % 2 == 0 else (2, 1)
                got = {j: _engine(case, replicates, j, kept) for j in order}
                one.append(got[1])
                two.append(got[2])
            elif step == "reference":
                r = _reference(blocks, two_first=i % 2 == 1, kept=kept)
                ref_one.append(r["one"])
                ref_two.append(r["two"])
            else:
                p = _engine_pair(case, replicates)
                pair.append(p["seconds"])
                apart.append(p["apart"])
    engine = [a / b for a, b in zip(one, two)]
    machine = [a / b for a, b in zip(ref_one, ref_two)]
    row: dict[str, Any] = {
        "case": case, "replicates": replicates, "pairs": pairs, "kept_workers": kept,
        "jobs1_seconds": statistics.median(one), "jobs2_seconds": statistics.median(two),
        "speedup": statistics.median(engine), "speedup_of_medians": statistics.median(one) / statistics.median(two),
        "reference_speedup": statistics.median(machine),
        "share_of_reference": statistics.median(e / m for e, m in zip(engine, machine)),
        "speedup_pairs": engine, "reference_pairs": machine, "jobs1_runs": one, "jobs2_runs": two,
    }
    if pair:  # two jobs-1 runs at once against the pair's own jobs-1 run
        engine_pair = [2 * a / b for a, b in zip(one, pair)]
        row.update({"engine_pair_speedup": statistics.median(engine_pair),
                    "share_of_engine_pair": statistics.median(e / m for e, m in zip(engine, engine_pair)),
                    "engine_pair_pairs": engine_pair, "engine_pair_runs": pair,
                    "engine_pair_apart_ms": 1e3 * max(apart)})
    return row


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", choices=sorted(REPLICATES), action="append", help="run only these cases")
    parser.add_argument("--pairs", type=int, default=10, help="interleaved pairs per case (default 10)")
    parser.add_argument("--replicates", type=int, help="replicates for every case (default: per case)")
    parser.add_argument("--blocks", type=int, default=REFERENCE_BLOCKS, help="blocks of draws in the reference")
    parser.add_argument("--json", action="store_true", help="print a JSON list")
    parser.add_argument("--cli", metavar="FILE", action="append",
                        help="time whole `condapprove simulate FILE` commands instead (repeatable)")
    parser.add_argument("--kept-workers", action="store_true",
                        help="time jobs-2 calls that use the workers an earlier call kept (a session's later calls)")
    parser.add_argument("--internal-reference", type=int, nargs=3, help=argparse.SUPPRESS)
    parser.add_argument("--internal-pair", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.internal_pair is not None:
        pair_member(args.internal_pair[0], int(args.internal_pair[1]))
        return
    if args.internal_reference is not None:
        blocks, two_first, kept = args.internal_reference
        print(json.dumps(reference(blocks, bool(two_first), bool(kept))))
        return
    if args.cli:
        rows = [measure_command(f, args.pairs, args.replicates or 1_000_000) for f in args.cli]
        first, extra = ("design", 36), []
        legend = "whole commands in fresh processes, start-up included; speed-up: median over the pairs of jobs-1 time"
        legend += " / jobs-2 time"
    else:
        rows = [measure(c, args.pairs, args.replicates or REPLICATES[c], args.blocks, args.kept_workers)
                for c in args.case or list(REPLICATES)]
        first, extra = ("case", 11), [("machine", "reference_speedup", 9), ("share", "share_of_reference", 7)]
        if not args.kept_workers:
            extra += [("pair", "engine_pair_speedup", 7), ("share", "share_of_engine_pair", 7)]
        legend = ("speed-up: median over the pairs of jobs-1 time / jobs-2 time; machine: the same for the reference "
                  "draws (no coordination); pair: 2 x jobs-1 time / the time of two jobs-1 runs at once (the "
                  "engine's own work, no coordination); share: median of the pairs' speed-up / machine or pair")
    if args.json:
        print(json.dumps(rows, indent=2))
        return
    name, width = first
    print(f"{name:<{width}}{'replicates':>11}{'jobs 1 s':>10}{'jobs 2 s':>10}{'speed-up':>10}"
          + "".join(f"{h:>{w}}" for h, _, w in extra) + "  speed-up per pair")
    for r in rows:
        pairs = " ".join(f"{x:.2f}" for x in r["speedup_pairs"])
        print(f"{r[name]:<{width}}{r['replicates']:>11}{r['jobs1_seconds']:>10.3f}{r['jobs2_seconds']:>10.3f}"
              f"{r['speedup']:>10.2f}" + "".join(f"{r[k]:>{w}.2f}" for _, k, w in extra) + f"  {pairs}")
    print(legend)


if __name__ == "__main__":
    main()
