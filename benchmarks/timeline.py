"""Where a ``--jobs`` call's time goes: each process's chunks on one clock, their page faults, and the CPU time.

Usage::

    python benchmarks/timeline.py                          # binary 10^6, --jobs 2 (a new worker), three runs
    python benchmarks/timeline.py --case survival --replicates 100000 --runs 2
    python benchmarks/timeline.py --json

Each run is a fresh Python process: a warm-up (``run.warm_up``: the same call in chunks of one block, in the process
alone), then one timed ``condapprove.simulate(..., n_jobs=JOBS)`` call whose worker pool is started inside it, as
in ``jobs.py``.
Before that call the process wraps the function a pool's process runs for each chunk, so the processes that
simulate -- the calling process and its workers (forked during the call; see ``condapprove.simulation.workers``) --
time each of their chunks (``time.perf_counter``, the same clock in every process) and count its minor page
faults (``getrusage``); each writes its lines to a file of its own, read when the call is done.  Reports, per
run, when each process began its first chunk (milliseconds after the call began), how long its first and later
chunks took and the faults of its first two, its waits between chunks (a result sent, the next chunk claimed), how
far apart the processes finished, how long the call went on after the last chunk (the summary of the last
scenario, whose quartiles are selected from all the decision months: ``after_last_ms``), and the CPU time (user,
system) of the calling process during the call (its chunks included) and of the workers (ended after it, so their
whole lives).  The wrapper adds a few microseconds per chunk.  In the JSON, ``workers`` lists every process that
simulated, the calling process among them.
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from typing import Any

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

import run  # the benchmark's cases (after the path insert)


def timeline(case: str, replicates: int, jobs: int) -> dict[str, Any]:
    """One timed call in this process (called in a fresh process by :func:`main`)."""
    import condapprove
    from condapprove.simulation import engine

    design = run._design(run.ALL_CASES[case])
    folder = pathlib.Path(tempfile.mkdtemp(prefix="condapprove-timeline-"))
    real = engine._run_chunk_summary

    def timed(*args: Any, **kwargs: Any) -> Any:
        faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        t0 = time.perf_counter()
        out = real(*args, **kwargs)
        t1 = time.perf_counter()
        faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults
        with open(folder / f"{os.getpid()}.txt", "a", encoding="utf-8") as f:
            f.write(f"{t0!r} {t1!r} {faults}\n")
        return out

    timed.__module__, timed.__qualname__ = engine.__name__, "_run_chunk_summary"  # sent to workers by that name
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run.warm_up(design, replicates)  # before any worker
        condapprove.shutdown_workers()
        engine._run_chunk_summary = timed  # type: ignore[assignment]  # (the workers are forked after this)
        before = resource.getrusage(resource.RUSAGE_SELF)
        start = time.perf_counter()
        condapprove.simulate(design, replicates=replicates, seed=1, n_jobs=jobs)
        seconds = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_SELF)
        condapprove.shutdown_workers()  # (waits for them: their CPU time is then the children's)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    workers = []
    for path in sorted(folder.glob("*.txt")):
        rows = [tuple(float(x) for x in line.split()) for line in path.read_text(encoding="utf-8").splitlines()]
        rows.sort()
        workers.append({
            "chunks": len(rows),
            "first_start_ms": 1e3 * (rows[0][0] - start),
            "first_ms": 1e3 * (rows[0][1] - rows[0][0]),
            "later_ms": [1e3 * (b - a) for a, b, _ in rows[1:]],
            "faults": [int(f) for _, _, f in rows],
            "waits_ms": [1e3 * (rows[i + 1][0] - rows[i][1]) for i in range(len(rows) - 1)],
            "end_ms": 1e3 * (rows[-1][1] - start),
        })
        path.unlink()
    folder.rmdir()
    ends = [w["end_ms"] for w in workers]
    return {"case": case, "replicates": replicates, "jobs": jobs, "seconds": seconds, "workers": workers,
            "finish_apart_ms": max(ends) - min(ends) if ends else float("nan"),
            "after_last_ms": 1e3 * seconds - max(ends) if ends else float("nan"),
            "caller_user_ms": 1e3 * (after.ru_utime - before.ru_utime),
            "caller_system_ms": 1e3 * (after.ru_stime - before.ru_stime),
            "workers_user_ms": 1e3 * children.ru_utime, "workers_system_ms": 1e3 * children.ru_stime}


def _range(values: list[float], digits: int = 1) -> str:
    return f"{min(values):.{digits}f}-{max(values):.{digits}f}" if values else "-"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", choices=sorted(run.ALL_CASES), default="binary")
    parser.add_argument("--replicates", type=int, help="default: 10^6 (10^5 for time-to-event cases)")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--runs", type=int, default=3, help="fresh processes (default 3)")
    parser.add_argument("--json", action="store_true", help="print a JSON list, one object per run")
    parser.add_argument("--internal", nargs=3, metavar=("CASE", "REPLICATES", "JOBS"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.internal:
        case, reps, jobs = args.internal
        print(json.dumps(timeline(case, int(reps), int(jobs))))
        return
    reps = args.replicates or (100_000 if args.case.startswith("survival") else 1_000_000)
    runs = []
    for _ in range(args.runs):
        proc = subprocess.run([sys.executable, __file__, "--internal", args.case, str(reps), str(args.jobs)],
                              capture_output=True, text=True, check=True)
        runs.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    if args.json:
        print(json.dumps(runs, indent=2))
        return
    for r in runs:
        ws = r["workers"]
        if not ws:  # (--jobs 1: the chunks run in the calling process)
            print(f"{r['case']} {r['replicates']} --jobs {r['jobs']}: {1e3 * r['seconds']:.1f} ms, no workers; CPU: "
                  f"{r['caller_user_ms']:.0f} user + {r['caller_system_ms']:.0f} system ms")
            continue
        later = [x for w in ws for x in w["later_ms"]]
        waits = [x for w in ws for x in w["waits_ms"]]
        print(f"{r['case']} {r['replicates']} --jobs {r['jobs']}: {1e3 * r['seconds']:.1f} ms; processes began "
              f"{_range([w['first_start_ms'] for w in ws])} ms in; first chunks {_range([w['first_ms'] for w in ws])} "
              f"ms ({_range([w['faults'][0] for w in ws], 0)} faults), later {_range(later)} ms (median "
              f"{statistics.median(later) if later else float('nan'):.1f}), second chunks' faults "
              f"{_range([w['faults'][1] for w in ws if len(w['faults']) > 1], 0)}; waits median "
              f"{statistics.median(waits) if waits else float('nan'):.2f} ms; finished "
              f"{r['finish_apart_ms']:.1f} ms apart, the call {r['after_last_ms']:.1f} ms after the last chunk; "
              f"CPU: caller {r['caller_user_ms']:.0f} user + "
              f"{r['caller_system_ms']:.0f} system ms, workers {r['workers_user_ms']:.0f} + "
              f"{r['workers_system_ms']:.0f} ms")


if __name__ == "__main__":
    main()
