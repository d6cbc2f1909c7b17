"""Wall time of ``condapprove validate`` on every shipped design (issue 7's start-up target: under 0.5 s).

Usage::

    python benchmarks/startup.py                        # 3 rounds over designs/*.yaml
    python benchmarks/startup.py --rounds 5 --json
    python benchmarks/startup.py --against HEAD~1       # alternate with an earlier commit's source
    python benchmarks/startup.py --against-env PYDANTIC_DISABLE_PLUGINS=   # alternate with a variable set

Each run is a fresh ``python`` process doing what the console script does (``condapprove.cli.main``), timed
from the parent around the whole process: interpreter start-up, imports, validation and exit.  Both sources
are byte-compiled first, as ``pip install`` does.  With
``--against REV``, that commit's ``src/`` is exported with ``git archive`` and each design is validated by both
versions one after the other, alternating which goes first, so a slow spell of the machine hits both; the
median of the pairs' ratios (this tree / REV) is printed.  ``--against-env NAME=VALUE`` alternates the same way
with this tree run with that environment variable set (an empty VALUE sets it empty).  Run it from the
repository's root.
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


def run_once(src: pathlib.Path, design: pathlib.Path, extra: dict[str, str] | None = None) -> float:
    """Seconds for one ``condapprove validate design`` with the package imported from ``src`` (and the environment
    variables ``extra`` set)."""
    env = dict(os.environ, PYTHONPATH=str(src), **(extra or {}))
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", CODE, "validate", str(design)], check=False, env=env,
                          capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"{design}: validate failed ({proc.returncode}): {proc.stderr.strip()}")
    return seconds


def export(rev: str, into: pathlib.Path) -> pathlib.Path:
    """``src/`` of commit ``rev`` under ``into``."""
    archive = subprocess.run(["git", "archive", rev, "src"], cwd=ROOT, capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into / "src"


def summary(times: list[float]) -> dict[str, float | int]:
    return {"runs": len(times), "min": min(times), "median": statistics.median(times), "max": max(times),
            "over_limit": sum(t >= LIMIT for t in times)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3, help="Runs per design (default 3).")
    parser.add_argument("--against", metavar="REV", help="Alternate with this commit's source.")
    parser.add_argument("--against-env", metavar="NAME=VALUE",
                        help="Alternate with this tree run with that environment variable set.")
    parser.add_argument("--json", action="store_true", help="Print the figures as JSON.")
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
    designs = sorted((ROOT / "designs").glob("*.yaml"))
    here = ROOT / "src"
    with tempfile.TemporaryDirectory() as tmp:
        before = export(args.against, pathlib.Path(tmp)) if args.against else here if extra else None
        for src in (here, before):
            if src is not None:  # the bytecode, as `pip install` writes it (PYTHONDONTWRITEBYTECODE may be set)
                subprocess.run([sys.executable, "-m", "compileall", "-q", str(src)], check=True)
                run_once(src, designs[0])
        times: list[float] = []
        before_times: list[float] = []
        ratios: list[float] = []
        for r in range(args.rounds):
            for i, design in enumerate(designs):
                if before is None:
                    times.append(run_once(here, design))
                    continue
                order = ("this", "before") if (r + i) % 2 == 0 else ("before", "this")
                got = {who: run_once(here, design) if who == "this" else run_once(before, design, extra)
                       for who in order}
                times.append(got["this"])
                before_times.append(got["before"])
                ratios.append(got["this"] / got["before"])
    doc: dict[str, object] = {"designs": len(designs), "rounds": args.rounds, "this_tree": summary(times)}
    if before is not None:
        doc[label] = summary(before_times)
        doc["median_ratio"] = statistics.median(ratios)
    if args.json:
        print(json.dumps(doc, indent=2))
        return
    for key in ("this_tree", label):
        if key in doc:
            s = doc[key]
            assert isinstance(s, dict)
            print(f"{key:>12}: {s['runs']} runs, min {s['min']:.3f} s, median {s['median']:.3f} s, "
                  f"max {s['max']:.3f} s, {s['over_limit']} at or over {LIMIT} s")
    if "median_ratio" in doc:
        print(f"median ratio (this tree / {label}): {doc['median_ratio']:.3f}")


if __name__ == "__main__":
    main()
