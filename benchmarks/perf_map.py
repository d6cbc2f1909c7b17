"""Name numba's compiled kernels for Linux ``perf``, then run a case: where a run's time goes, kernel by kernel.

Usage::

    perf record -F 4000 -g python benchmarks/perf_map.py --case survival --runs 60
    perf report --no-children --sort sym         # numpy's sort, each compiled kernel, the interpreter, ...
    perf record python benchmarks/perf_map.py --trial "survival patients=360 accrual=15 events=50,100 hr=0.75 median=15"

``perf`` samples the compiled kernels but cannot name them: numba's code lives in memory it allocated, outside
any file.  This script runs the case once (which compiles or loads every kernel it uses), writes
``/tmp/perf-<pid>.map`` with the address and name of each kernel's entry point (the map ``perf report`` reads
for code without a file), and then runs the case ``--runs`` times, the part worth sampling (``perf record -D``
with a delay in milliseconds skips the start-up).  A kernel inlined into another is counted in the other, and a
kernel's size is taken as the distance to the next one (numba does not say), so the last kernels of a region may
take a few samples of code that follows them.
The interpreter's exit is sampled too (about 0.6 s after 10 survival runs on the machine of docs/performance.md,
mostly Python's garbage collector walking numba's and scipy's objects): read ``gc_collect_main`` in the report as
that, not as the runs' (over the runs themselves the collector took about 1% of the time).
"""

from __future__ import annotations

import argparse
import gc
import os
import pathlib
import sys
import warnings
from typing import Any

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

import run  # the benchmark's cases (after the path insert)


def kernels() -> list[tuple[int, str]]:
    """(address, name) of the entry point of every compiled kernel of this process, by address."""
    from numba.core.registry import CPUDispatcher

    found = []
    for obj in gc.get_objects():
        if issubclass(type(obj), CPUDispatcher):  # (not isinstance: a dead weak proxy among the objects raises)
            for cres in obj.overloads.values():
                address = cres.library.get_pointer_to_function(cres.fndesc.llvm_func_name)
                if address:
                    found.append((address, f"{obj.py_func.__module__}.{obj.py_func.__qualname__}"))
    return sorted(found)


def write_map(path: pathlib.Path) -> int:
    """The perf map of :func:`kernels` at ``path``; returns the number of kernels named."""
    found = kernels()
    lines = []
    for i, (address, name) in enumerate(found):
        size = min(found[i + 1][0] - address, 1 << 20) if i + 1 < len(found) else 1 << 16
        lines.append(f"{address:x} {size:x} {name}\n")
    path.write_text("".join(lines), encoding="utf-8")
    return len(found)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", choices=sorted(run.ALL_CASES), help="a case of run.py (default: survival)")
    parser.add_argument("--trial", metavar="SPEC", help="a design of run.py --trial instead")
    parser.add_argument("--replicates", type=int, help="replicates of each run (default: the case's)")
    parser.add_argument("--runs", type=int, default=60, help="runs after the map is written (default 60)")
    args = parser.parse_args(argv)
    try:
        case: dict[str, Any] = run.trial_case(args.trial) if args.trial else run.ALL_CASES[args.case or "survival"]
    except ValueError as e:
        parser.error(str(e))
    import condapprove

    design = run._design(case)
    reps = args.replicates or int(case["replicates"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        condapprove.simulate(design, replicates=reps, seed=1)  # every kernel the case uses, compiled or loaded
        path = pathlib.Path(f"/tmp/perf-{os.getpid()}.map")
        print(f"{write_map(path)} kernels named in {path}; {args.runs} runs of {reps} replicates", file=sys.stderr)
        for _ in range(args.runs):
            condapprove.simulate(design, replicates=reps, seed=1)


if __name__ == "__main__":
    main()
