"""Wall time of ``condapprove validate`` on every shipped design (issue 7's start-up target: under 0.5 s).

Usage::

    python benchmarks/startup.py                        # 3 rounds over designs/*.yaml
    python benchmarks/startup.py --rounds 5 --json
    python benchmarks/startup.py --against HEAD~1       # alternate with an earlier commit's source
    python benchmarks/startup.py --against-env PYDANTIC_DISABLE_PLUGINS=   # alternate with a variable set
    python benchmarks/startup.py --simulate --design designs/akuugo_trial.yaml --rounds 10 --against 143892a
                                                        # whole `condapprove simulate` commands instead

Each run is a fresh ``python`` process doing what the console script does (``condapprove.cli.main``), timed
from the parent around the whole process: interpreter start-up, imports, validation and exit.  Both sources
are byte-compiled first, as ``pip install`` does.  With ``--against REV``, that commit's ``src/`` is exported with
``git archive`` and each design is validated by both versions one after the other, alternating which goes first,
so a slow spell of the machine hits both; the median of the pairs' ratios (this tree / REV) is printed, also
design by design (``by_design`` in the JSON).  ``--against-env NAME=VALUE`` alternates the same way with this
tree run with that environment variable set (an empty VALUE sets it empty).  Run it from the repository's root.

``--simulate`` times ``condapprove simulate DESIGN --quiet -o FILE`` instead (the design's own replicates and
seed): the start-up of a whole command (imports, numba's set-up, loading the compiled loops) with its run.  Each
side first simulates every design once untimed, so that numba's cache of each source holds every loop the
designs use; with ``--against``, the two sides' output files must be the same bytes (else the script stops).
``--design FILE`` (repeatable) restricts either mode to those designs.
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
CODE = "import sys; from condapprove.cli import main; sys.argv[0] = 'condapprove'; main()"
LIMIT = 0.5


def run_once(src: pathlib.Path, design: pathlib.Path, extra: dict[str, str] | None = None,
             output: pathlib.Path | None = None) -> float:
    """Seconds for one ``condapprove validate design`` with the package imported from ``src`` (and the environment
    variables ``extra`` set); with ``output``, ``condapprove simulate design --quiet -o output`` instead."""
    env = dict(os.environ, PYTHONPATH=str(src), **(extra or {}))
    command = ["validate", str(design)] if output is None else ["simulate", str(design), "--quiet", "-o", str(output)]
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", CODE, *command], check=False, env=env, capture_output=True,
                          text=True)
    seconds = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"{design}: {command[0]} failed ({proc.returncode}): {proc.stderr.strip()}")
    return seconds


def export(rev: str, into: pathlib.Path) -> pathlib.Path:
    """``src/`` of commit ``rev`` under ``into``."""
    archive = subprocess.run(["git", "archive", rev, "src"], cwd=ROOT, capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into / "src"


def summary(times: list[float], limit: bool = True) -> dict[str, float | int]:
    """The runs' number, min, median and max; with ``limit``, how many took :data:`LIMIT` or longer (``validate``'s
    target)."""
    doc: dict[str, float | int] = {"runs": len(times), "min": min(times), "median": statistics.median(times),
                                   "max": max(times)}
    if limit:
        doc["over_limit"] = sum(t >= LIMIT for t in times)
    return doc


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3, help="Runs per design (default 3).")
    parser.add_argument("--against", metavar="REV", help="Alternate with this commit's source.")
    parser.add_argument("--against-env", metavar="NAME=VALUE",
                        help="Alternate with this tree run with that environment variable set.")
    parser.add_argument("--json", action="store_true", help="Print the figures as JSON.")
    parser.add_argument("--simulate", action="store_true",
                        help="Time `condapprove simulate DESIGN` (whole commands) instead of `validate`.")
    parser.add_argument("--design", action="append", type=pathlib.Path, metavar="FILE",
                        help="Only this design (repeatable; default: designs/*.yaml).")
    args = parser.parse_args()
    if args.against and args.against_env:
        parser.error("give --against or --against-env, not both")
    extra: dict[str, str] | None = None
    if args.against_env:
        name, sep, value = args.against_env.partition("=")
        if not sep or not name:
            parser.error(f"--against-env: expected NAME=VALUE; got {args.against_env!r}")
        extra = {name: value}
    label = args.against or args.against_env
    designs = sorted((ROOT / "designs").glob("*.yaml")) if not args.design else [d.resolve() for d in args.design]
    missing = [str(d) for d in designs if not d.is_file()]
    if missing:
        parser.error(f"--design: no such file: {', '.join(missing)}")
    here = ROOT / "src"
    with tempfile.TemporaryDirectory() as tmp:
        before = export(args.against, pathlib.Path(tmp)) if args.against else here if extra else None
        out = {who: pathlib.Path(tmp) / f"{who}.out" if args.simulate else None for who in ("this", "before")}
        for who, src, env in (("this", here, None), ("before", before, extra)):
            if src is not None:  # the bytecode, as `pip install` writes it (PYTHONDONTWRITEBYTECODE may be set)
                subprocess.run([sys.executable, "-m", "compileall", "-q", str(src)], check=True)
                for design in designs if args.simulate else designs[:1]:  # (numba's cache of every loop used)
                    run_once(src, design, env, out[who])
        times: list[float] = []
        before_times: list[float] = []
        ratios: list[float] = []
        by_design: dict[str, dict[str, list[float]]] = {d.stem: {"this": [], "before": [], "ratios": []}
                                                        for d in designs}
        for r in range(args.rounds):
            for i, design in enumerate(designs):
                if before is None:
                    times.append(run_once(here, design, None, out["this"]))
                    by_design[design.stem]["this"].append(times[-1])
                    continue
                order = ("this", "before") if (r + i) % 2 == 0 else ("before", "this")
                got = {who: run_once(here, design, None, out[who]) if who == "this"
                       else run_once(before, design, extra, out[who]) for who in order}
                if args.simulate and out["this"].read_bytes() != out["before"].read_bytes():  # type: ignore[union-attr]
                    raise SystemExit(f"{design}: the two sides' outputs differ")
                times.append(got["this"])
                before_times.append(got["before"])
                ratios.append(got["this"] / got["before"])
                for key, value in (("this", got["this"]), ("before", got["before"]), ("ratios", ratios[-1])):
                    by_design[design.stem][key].append(value)
    doc: dict[str, object] = {"command": "simulate" if args.simulate else "validate", "designs": len(designs),
                              "rounds": args.rounds, "this_tree": summary(times, not args.simulate)}
    if before is not None:
        doc[label] = summary(before_times, not args.simulate)
        doc["median_ratio"] = statistics.median(ratios)
    doc["by_design"] = {name: {"median": statistics.median(got["this"]),
                               **({"before_median": statistics.median(got["before"]),
                                   "median_ratio": statistics.median(got["ratios"])} if got["before"] else {})}
                        for name, got in by_design.items()}
    if args.json:
        print(json.dumps(doc, indent=2))
        return
    for key in ("this_tree", label):
        if key in doc:
            s = doc[key]
            assert isinstance(s, dict)
            over = f", {s['over_limit']} at or over {LIMIT} s" if "over_limit" in s else ""
            print(f"{key:>12}: {s['runs']} runs, min {s['min']:.3f} s, median {s['median']:.3f} s, "
                  f"max {s['max']:.3f} s{over}")
    if "median_ratio" in doc:
        print(f"median ratio (this tree / {label}): {doc['median_ratio']:.3f}")
    if args.simulate or args.design:  # (a few designs: each one's figures)
        for name, got in doc["by_design"].items():  # type: ignore[attr-defined]
            pair = (f", {label} {got['before_median']:.3f} s, median ratio {got['median_ratio']:.3f}"
                    if "median_ratio" in got else "")
            print(f"  {name}: median {got['median']:.3f} s{pair}")


if __name__ == "__main__":
    main()
