"""The analyst examples in ``examples/`` run end to end with few replicates and print what they promise.

Each script runs in a subprocess (``sys.executable``, ``MPLBACKEND=Agg``) with ``--replicates`` small
and ``--outdir`` a temporary folder; the test checks the exit status, a key line of the output
(against an independent value where the line is exact) and the plots written.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from scipy import stats

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
REPLICATES = 200


def run(script: str, outdir: Path, *extra: str) -> str:
    env = {**os.environ, "MPLBACKEND": "Agg", "PYTHONWARNINGS": "ignore"}
    proc = subprocess.run([sys.executable, str(EXAMPLES / script), "--replicates", str(REPLICATES),
                           "--outdir", str(outdir), *extra],
                          check=False, capture_output=True, text=True, cwd=ROOT, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


def test_every_example_is_tested() -> None:
    scripts = {p.name for p in EXAMPLES.glob("*.py")}
    assert scripts == {"estimate_delytact.py", "simulate_stemirac.py", "compare_heartsheet_accrual.py",
                       "sweep_amchepry_sites.py", "assurance_akuugo.py"}
    for name in scripts:  # each says what it shows
        text = (EXAMPLES / name).read_text(encoding="utf-8")
        assert text.startswith('"""') and "--replicates" in text and "--outdir" in text


def test_estimate_delytact(tmp_path: Path) -> None:
    out = run("estimate_delytact.py", tmp_path)
    low = stats.beta.ppf(0.025, 16, 4)
    high = stats.beta.ppf(0.975, 17, 3)
    assert f"clopper-pearson  95% CI: {low:.3f} - {high:.3f}" in out  # 0.604 - 0.966
    assert "verdict: efficacy presumed" in out
    m = re.search(r"survey, as in the approval cohort \(0\.842\): P\(confirmed by cut-off\) = (\S+)", out)
    assert m and float(m.group(1)) > 0.95, out
    assert (tmp_path / "delytact-posteriors.svg").is_file() and (tmp_path / "delytact-posteriors.png").is_file()


def test_simulate_stemirac(tmp_path: Path) -> None:
    out = run("simulate_stemirac.py", tmp_path)
    # the library's closed form (no simulation) against the simulated value at few replicates
    m = re.search(r"P\(confirmed \| modest\) = (\S+) ± (\S+) \(exact, no simulation: (\S+)\)", out)
    assert m, out
    sim, se, exact = (float(g) for g in m.groups())
    assert abs(sim - exact) <= 4 * se + 1e-9
    assert "p_confirmed_mcse" in out  # the to_frame() table
    assert {p.name for p in tmp_path.iterdir()} >= {"stemirac-oc.svg", "stemirac-decisions.svg"}


def test_compare_heartsheet_accrual(tmp_path: Path) -> None:
    out = run("compare_heartsheet_accrual.py", tmp_path)
    m = re.search(r"HR 0\.5: P\(confirmed\) planned (\S+) ± \S+, actual (\S+) ± \S+", out)
    assert m, out
    planned, actual = float(m.group(1)), float(m.group(2))
    assert planned > actual  # the accrual shortfall costs power (common random numbers)
    assert (tmp_path / "heartsheet-accrual.svg").is_file()


def test_sweep_amchepry_sites(tmp_path: Path) -> None:
    out = run("sweep_amchepry_sites.py", tmp_path)
    m = re.search(r"false confirmation at site SD 1 with 35 patients: (\S+) ± (\S+)", out)
    assert m, out
    value, se = float(m.group(1)), float(m.group(2))
    assert value > 0.025 + 2 * se  # site variation the exact test ignores inflates its level
    assert (tmp_path / "amchepry-sites-sweep.svg").is_file()


def test_assurance_akuugo(tmp_path: Path) -> None:
    out = run("assurance_akuugo.py", tmp_path, "--nodes", "7")
    assert "RCT difference 6.00 (SE 2.865)" in out
    m = re.search(r"difference [+-]\S+ \(([+-]\S+) combined MCSE\)", out)
    assert m, out
    assert abs(float(m.group(1))) < 4  # simulated and quadrature assurance agree
    assert (tmp_path / "akuugo-assurance.svg").is_file()
