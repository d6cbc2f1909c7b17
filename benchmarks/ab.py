"""Time the working tree against an earlier commit, alternately in one Python process (before/after figures).

Usage::

    python benchmarks/ab.py d603984                       # the three benchmark cases, 30 pairs each
    python benchmarks/ab.py HEAD~3 --case survival --pairs 20
    python benchmarks/ab.py HEAD --design designs/delytact_survey.yaml   # a design file (10^4 replicates)
    python benchmarks/ab.py HEAD --case binary --replicates 1000000 --jobs 2     # with two worker processes
    python benchmarks/ab.py HEAD --case binary --replicates 1000000 --jobs 2 --new-workers   # a new worker each call
    python benchmarks/ab.py HEAD --trial "survival patients=360 accrual=15 events=50,100,150,200 hr=0.75 median=15"
    python benchmarks/ab.py HEAD --design benchmarks/bayesian_two_arm.yaml --cold     # caches emptied before each run

The commit's ``src/condapprove`` is exported with ``git archive`` into a temporary folder as a package named
``condapprove_before`` (its absolute imports renamed), and both versions simulate the same design with the same
seed, one after the other, swapping which goes first at every pair, so a slow spell of the machine hits both.
Prints each version's median and fastest time and the median of the pairs' ratios (after / before): on a
shared machine whose speed drifts by tens of percent, that ratio is steadier than either time.  Run it from
the repository's root; the results of the two versions are not compared (the tests do that).
"""

from __future__ import annotations

import argparse
import importlib
import io
import pathlib
import re
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
import warnings

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

import run  # the benchmark's cases (after the path insert)

PACKAGE = "condapprove_before"


def export(rev: str, into: pathlib.Path) -> None:
    """``src/condapprove`` of ``rev`` as the package :data:`PACKAGE` in ``into``."""
    data = subprocess.run(["git", "archive", rev, "src/condapprove"], capture_output=True, check=True).stdout
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        tar.extractall(into, filter="data")
    pkg = into / PACKAGE
    (into / "src" / "condapprove").rename(pkg)
    for f in pkg.rglob("*.py"):
        f.write_text(re.sub(r"\bcondapprove\b", PACKAGE, f.read_text()))


#: The engine's process-level caches, as (module below the package, attribute): values computed once and kept for the
#: later calls of a process (group-sequential bounds, the exact tests' tables, binary posteriors, the t transform's
#: tables, values derived from a design).  ``--cold`` empties them, and the caches of the functions functools keeps in
#: :data:`COLD_FUNCTION_MODULES`, before every timed run, so that each run pays what the single call of a command
#: pays; a version that lacks one is left as it is.  (Not the worker pool's memory.)
COLD_CACHES = (("_memo", "_CACHE"), ("simulation.population", "_ARMS"), ("simulation.decision", "_BOUNDS_CACHE"),
               ("simulation.statistics", "_T_TABLES"), ("simulation.statistics", "_T_OUTER_TABLES"),
               ("simulation.statistics", "_BINOMIAL_TABLES"), ("simulation.statistics", "_FISHER_TABLES"),
               ("simulation.statistics", "_POSTERIORS"), ("simulation.sufficient", "_CDF_CACHE"),
               ("simulation.sufficient", "_TABLES"))
#: Modules whose functools caches ``--cold`` empties.
COLD_FUNCTION_MODULES = ("boundaries", "simulation.population", "simulation.sufficient")


def empty_caches(package: object) -> int:
    """Empty a version's process-level caches (:data:`COLD_CACHES`, :data:`COLD_FUNCTION_MODULES`); how many."""
    name = package.__name__  # type: ignore[attr-defined]
    emptied = 0
    for module, attribute in COLD_CACHES:
        cache = getattr(sys.modules.get(f"{name}.{module}"), attribute, None)
        if callable(getattr(cache, "clear", None)):  # (a dictionary, or the engine's kept rows: RowValues)
            cache.clear()
            emptied += 1
    for module in COLD_FUNCTION_MODULES:
        mod = sys.modules.get(f"{name}.{module}")
        for value in vars(mod).values() if mod is not None else ():
            if callable(getattr(value, "cache_clear", None)) and getattr(value, "__module__", None) == mod.__name__:
                value.cache_clear()
                emptied += 1
    return emptied


def time_pairs(label: str, replicates: int, pairs: int, versions: list[tuple[object, object]], jobs: int = 1,
               cold: bool = False, new_workers: bool = False) -> str:
    """``pairs`` alternations of the two versions (each a package and its design); a one-line summary.  ``cold``:
    each version's caches emptied before each of its timed runs (:func:`empty_caches`, not timed).  ``new_workers``
    (with ``jobs`` above 1): each version's workers shut down before each of its timed runs (not timed), so that every
    timed call forks a new worker from this warmed process, as ``jobs.py`` times them; otherwise the calls after the
    first use the workers each version kept."""
    for mod, design in versions:  # warm-up: imports, compiled loops, caches
        mod.simulate(design, replicates=4096, seed=1)  # type: ignore[attr-defined]
    times: list[list[float]] = [[], []]
    for i in range(pairs):
        order = (0, 1) if i % 2 == 0 else (1, 0)
        for k in order:
            mod, design = versions[k]
            if cold:
                empty_caches(mod)
            if new_workers:
                mod.shutdown_workers()  # type: ignore[attr-defined]
            t0 = time.perf_counter()
            mod.simulate(design, replicates=replicates, seed=1, n_jobs=jobs)  # type: ignore[attr-defined]
            times[k].append(time.perf_counter() - t0)
    ratio = statistics.median(b / a for a, b in zip(*times))
    return (f"{label}: before median {statistics.median(times[0]):.4f} s (fastest {min(times[0]):.4f}) | after median "
            f"{statistics.median(times[1]):.4f} s (fastest {min(times[1]):.4f}) | after/before, median of "
            f"{pairs} pairs: {ratio:.3f}")


def case_versions(case: str | dict[str, object], packages: tuple[object, object]) -> list[tuple[object, object]]:
    """Each package with its own build of a benchmark case's design (a case's name, or the case itself)."""
    mapping = run.mapping(run.ALL_CASES[case] if isinstance(case, str) else case)
    return [(mod, importlib.import_module(mod.__name__ + ".spec").design_from_mapping(mapping))  # type: ignore[attr-defined]
            for mod in packages]


def file_versions(path: str, packages: tuple[object, object]) -> list[tuple[object, object]]:
    """Each package with its own reading of a design file."""
    return [(mod, mod.load_design(path)) for mod in packages]  # type: ignore[attr-defined]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rev", help="the earlier commit (anything git understands)")
    parser.add_argument("--case", choices=sorted(run.ALL_CASES), action="append",
                        help="only these cases (default: the three; a variant of run.py --variants by name)")
    parser.add_argument("--design", action="append", metavar="FILE",
                        help="a design file instead of the benchmark's cases (repeatable; 10^4 replicates by default)")
    parser.add_argument("--trial", action="append", metavar="SPEC", default=[],
                        help='a design of run.py --trial (e.g. "binary patients=60,120,180 treated=0.45 control=0.3"; '
                             "repeatable)")
    parser.add_argument("--replicates", type=int, help="replicates (default: the benchmark's, per case)")
    parser.add_argument("--pairs", type=int, default=30, help="alternations per case (default 30)")
    parser.add_argument("--jobs", type=int, default=1, help="worker processes of the timed runs (default 1)")
    parser.add_argument("--cold", action="store_true",
                        help="empty each version's process-level caches before each timed run, as a command starts "
                             "without them (default: kept between runs, as in a session of calls)")
    parser.add_argument("--new-workers", action="store_true",
                        help="with --jobs: shut each version's workers down before each timed run, so that every timed "
                             "call starts a new worker (default: the calls use the workers each version kept)")
    args = parser.parse_args(argv)
    if args.new_workers and args.jobs < 2:
        parser.error("--new-workers needs --jobs 2 or more")
    timed = {"jobs": args.jobs, "cold": args.cold, "new_workers": args.new_workers}
    try:
        trials = run.trial_cases(args.trial)
    except ValueError as e:
        parser.error(str(e))
    with tempfile.TemporaryDirectory() as tmp:
        export(args.rev, pathlib.Path(tmp))
        sys.path.insert(0, tmp)
        packages = (importlib.import_module(PACKAGE), importlib.import_module("condapprove"))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for path in args.design or []:
                print(time_pairs(path, args.replicates or 10_000, args.pairs, file_versions(path, packages), **timed),
                      flush=True)
            for name, trial in trials.items():
                reps = args.replicates or int(trial["replicates"])  # type: ignore[call-overload]
                print(time_pairs(name, reps, args.pairs, case_versions(trial, packages), **timed), flush=True)
            for case in args.case or ([] if args.design or trials else list(run.CASES)):
                reps = args.replicates or int(run.ALL_CASES[case]["replicates"])
                print(time_pairs(case, reps, args.pairs, case_versions(case, packages), **timed), flush=True)


if __name__ == "__main__":
    main()
