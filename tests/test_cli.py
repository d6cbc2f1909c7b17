"""The command line: exit codes, exact text, JSON provenance, atomic output."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

import condapprove
from condapprove.cli import cli

from .conftest import DESIGNS, MINIMAL_POST_MARKETING, ROOT

STEM = str(DESIGNS / "stemirac_survey.yaml")
TWO = str(DESIGNS / "two_arm_trial.yaml")


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), prog_name="condapprove")
    return result.exit_code, result.stdout, result.stderr


def test_version() -> None:
    code, out, _ = run("--version")
    assert code == 0 and out == f"condapprove, version {condapprove.__version__}\n"


def test_validate_ok() -> None:
    code, out, _ = run("validate", STEM, TWO)
    assert code == 0 and out == f"{STEM}: ok\n{TWO}: ok\n"


def test_validate_bad_exit_2_one_line_per_problem() -> None:
    bad = ROOT / "tests" / "bad_designs" / "38_many_problems.yaml"
    code, _out, err = run("validate", str(bad))
    assert code == 2
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 10 and all(line.startswith(f"{bad}:") for line in lines)


def test_no_traceback_from_a_real_process(tmp_path: Path) -> None:
    """The installed console script itself: exit 2, messages, no traceback."""
    bad = tmp_path / "x.yaml"
    bad.write_text((DESIGNS / "stemirac_survey.yaml").read_text().replace("rate_per_month: 1.5", "rate_per_month: -3"))
    proc = subprocess.run([sys.executable, "-m", "condapprove.cli", "simulate", str(bad)], capture_output=True,
                          text=True, cwd=tmp_path, check=False)
    assert proc.returncode == 2
    assert proc.stderr == (f"{bad}:31:31: post_marketing.treated.accrual.rate_per_month: must be > 0; got -3\n")
    assert proc.stdout == ""


def test_simulate_table() -> None:
    code, out, _ = run("simulate", STEM, "--replicates", "4096", "--seed", "1")
    assert code == 0
    assert out.startswith("Stemirac-like use-results survey vs historical improvement rate\n"
                          "data cut-off at month 72 after approval; decision: exact_binomial; 4096 replicates per "
                          "scenario; seed 1 (argument)\n")
    assert "P(confirmed by cut-off)" in out and "exact (no simulation)" in out


def test_simulate_json_has_provenance_and_mcse() -> None:
    code, out, _ = run("simulate", TWO, "-n", "4096", "--format", "json")
    assert code == 0
    doc = json.loads(out)
    prov = doc["provenance"]
    assert prov["replicates"] == 4096 and prov["seed_entropy"] == 20260306 and prov["seed_source"] == "design"
    assert prov["condapprove_version"] == condapprove.__version__
    import hashlib

    assert prov["design_sha256"] == hashlib.sha256(Path(TWO).read_bytes()).hexdigest()
    for s in doc["scenarios"]:
        assert set(s["p_confirmed"]) == {"value", "mcse", "n_sims"}


def test_same_seed_identical_json_any_chunk_size() -> None:
    outs = [run("simulate", TWO, "-n", "8192", "--seed", "3", "--format", "json", *extra)[1]
            for extra in ([], [], ["--chunk-size", "2048"], ["--chunk-size", "4096", "--jobs", "2"])]
    strip = [re.sub(r'"chunk_size": \d+', "", o) for o in outs]
    assert strip[0] == strip[1] == strip[2] == strip[3]


def test_csv_one_row_per_scenario() -> None:
    code, out, _ = run("simulate", STEM, "-n", "2048", "--format", "csv", "--scenario", "modest")
    assert code == 0
    lines = out.strip().splitlines()
    assert lines[0].startswith("scenario,truth,replicates,p_confirmed,p_confirmed_mcse,")
    assert len(lines) == 2 and lines[1].startswith("modest,0.45,")


def test_output_written_atomically(tmp_path: Path) -> None:
    target = tmp_path / "out.json"
    target.write_text("old")
    code, out, err = run("simulate", STEM, "-n", "2048", "--format", "json", "--output", str(target))
    assert code == 0 and out == "" and err == f"wrote {target}\n"
    assert json.loads(target.read_text())["provenance"]["replicates"] == 2048
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]  # no temporary file left behind


def test_failed_run_writes_nothing(tmp_path: Path) -> None:
    target = tmp_path / "out.json"
    code, _, err = run("simulate", STEM, "--scenario", "modst", "--output", str(target))
    assert code == 2
    assert err == ("--scenario: must be one of 'no effect', 'modest', 'as in the approval cohort'; got 'modst' "
                   "(help: did you mean 'modest'?)\n")
    assert not target.exists()


@pytest.mark.parametrize("args, message", [
    (["--replicates", "0"], "--replicates: must be between 1 and 100,000,000; got 0\n"),
    (["-n", "100000001"], "--replicates: must be between 1 and 100,000,000; got 100000001\n"),
    (["--max-replicates", "0"], "--max-replicates: must be between 1 and 100,000,000; got 0\n"),
    (["--seed", "-2"], "--seed: must be >= 0; got -2\n"),
    (["--jobs", "0"], "--jobs: must be >= 1; got 0\n"),
    (["--chunk-size", "100"], "--chunk-size: must be a positive multiple of 2048 (the replicates of a block); got 100\n"),
    (["--chunk-size", "0"], "--chunk-size: must be a positive multiple of 2048 (the replicates of a block); got 0\n"),
    (["--mcse-target", "nan"], "--mcse-target: must be in (0, 0.5); got nan\n"),
])
def test_bad_options(args: list[str], message: str) -> None:
    code, out, err = run("simulate", STEM, *args)
    assert (code, out, err) == (2, "", message)


@pytest.mark.parametrize("command", [
    ["compare", STEM, TWO], ["sweep", STEM, "--vary", "post_marketing.treated.target_n=40"],
    ["size", STEM, "--vary", "post_marketing.treated.target_n", "--target", "0.5", "--scenario", "modest",
     "--lower", "20", "--upper", "40"], ["report", STEM, "--output", "r.html"],
])
@pytest.mark.parametrize("args, message", [
    (["-n", "0"], "--replicates: must be between 1 and 100,000,000; got 0\n"),
    (["-n", "1000000000000"], "--replicates: must be between 1 and 100,000,000; got 1000000000000\n"),
    (["--seed", "-1"], "--seed: must be >= 0; got -1\n"),
])
def test_every_simulating_command_names_its_bad_options_as_the_command_line_does(
        command: list[str], args: list[str], message: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """compare, sweep, size and report check the options they share with simulate before any work, and word
    the error as simulate does (not as the library names its arguments)."""
    monkeypatch.chdir(tmp_path)
    code, out, err = run(*command, *args)
    assert (code, out, err) == (2, "", message)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("command", [["simulate", "{d}"], ["sweep", "{d}", "--vary", "post_marketing.treated.target_n=40"],
                                     ["estimate", "{d}"], ["compare", "{d}", "{d}"], ["report", "{d}", "-o", "r.html"]])
def test_a_folder_given_as_the_design_is_named_as_the_loader_names_it(command: list[str], tmp_path: Path) -> None:
    code, out, err = run(*(a.format(d=tmp_path) for a in command))
    assert (code, out, err) == (2, "", f"{tmp_path}: is a directory, not a design file\n")


def test_sweep_names_an_unknown_scenario_as_simulate_does() -> None:
    code, out, err = run("sweep", STEM, "--vary", "post_marketing.treated.target_n=40", "--scenario", "modst")
    assert (code, out) == (2, "")
    assert err == ("--scenario: must be one of 'no effect', 'modest', 'as in the approval cohort'; got 'modst' "
                   "(help: did you mean 'modest'?)\n")


def test_jobs_beyond_the_usable_cpus_use_the_cpus(monkeypatch: pytest.MonkeyPatch) -> None:
    """``--jobs 999`` would fork hundreds of processes that take turns on the CPUs: the CPUs this process may use
    are used instead, with a note, and the results are the same (they do not depend on the processes)."""
    from condapprove import cli as cli_module

    monkeypatch.setattr(cli_module, "_usable_cpus", lambda: 2)
    base = ["simulate", STEM, "-n", "4096", "--seed", "1", "--chunk-size", "2048", "--format", "json", "-q"]
    code, out, err = run(*base, "--jobs", "999")
    assert code == 0 and err == "note: --jobs 999 is more than the 2 CPUs this process may use; using 2\n"
    code2, out2, err2 = run(*base, "--jobs", "2")
    assert code2 == 0 and err2 == ""
    strip = re.compile(r'"(n_jobs|elapsed_seconds|created|created_utc)": [^,\n]*')
    assert strip.sub("", out) == strip.sub("", out2)


@pytest.mark.parametrize("args, message", [
    (["simulate", STEM, "--jobs", "x"], "--jobs: 'x' is not a valid integer (see: condapprove simulate --help)"),
    (["simulate", STEM, "--format", "xml"],
     "--format: 'xml' is not one of 'table', 'json', 'csv' (see: condapprove simulate --help)"),
    (["simulate"], "Missing argument 'FILE' (see: condapprove simulate --help)"),
    (["size", STEM], "Missing option '--vary' (see: condapprove size --help)"),
    (["simulate", STEM, "--bogus"],
     "No such option '--bogus'. Did you mean '--jobs'? (see: condapprove simulate --help)"),
    (["simulat"], "No such command 'simulat'. (Did you mean one of: 'estimate', 'simulate'?) (see: condapprove --help)"),
])
def test_usage_errors_are_one_line(args: list[str], message: str) -> None:
    code, out, err = run(*args)
    assert (code, out, err) == (2, "", message + "\n")


def test_a_reader_that_stops_reading_ends_the_command_quietly() -> None:
    """`condapprove schema | head -c 10`: the closed pipe is click's to handle (exit 1, nothing on stderr), not an
    'internal error'."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        proc = subprocess.run([sys.executable, "-m", "condapprove.cli", "schema"], stdout=write_end,
                              stderr=subprocess.PIPE, text=True, check=False)
    finally:
        os.close(write_end)
    assert (proc.returncode, proc.stderr) == (1, "")


def test_help_and_version_still_exit_0() -> None:
    code, out, _ = run("simulate", "--help")
    assert code == 0 and out.startswith("Usage: condapprove simulate [OPTIONS] FILE")
    assert run("--version")[0] == 0


@pytest.mark.parametrize("fault, message", [
    (RuntimeError("boom"), ("error: internal error (RuntimeError: boom); please report it with the output of the "
                            "same command run with --debug\n")),
    (MemoryError(), ("error: out of memory; ask for fewer processes (--jobs), fewer replicates (--replicates), a "
                     "smaller grid or fewer patients\n")),
])
def test_an_unexpected_fault_is_one_line_and_its_traceback_is_behind_debug(
        fault: BaseException, message: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import condapprove.simulation

    def broken(*args: object, **kwargs: object) -> None:
        raise fault

    monkeypatch.setattr(condapprove.simulation, "simulate", broken)
    code, out, err = run("simulate", STEM, "-n", "2048")
    assert (code, out, err) == (1, "", message)
    result = CliRunner().invoke(cli, ["--debug", "simulate", STEM, "-n", "2048"])
    assert result.exception is fault


def test_missing_design_file() -> None:
    code, _, err = run("simulate", "does/not/exist.yaml")
    assert code == 2 and err == "does/not/exist.yaml: no such file\n"


def test_schema_is_json_schema(tmp_path: Path) -> None:
    code, out, _ = run("schema")
    assert code == 0
    doc = json.loads(out)
    assert doc["title"] == "condapprove design file" and "post_marketing" in doc["properties"]
    code, _, _ = run("schema", "--output", str(tmp_path / "s.json"))
    assert code == 0 and json.loads((tmp_path / "s.json").read_text()) == doc


@pytest.mark.parametrize("design", sorted(p.name for p in DESIGNS.glob("*.yaml")))
def test_validate_starts_fast_without_heavy_imports(design: str) -> None:
    """`condapprove validate` must not import scipy.stats, scipy.optimize, scipy.integrate or pandas (about a
    second of start-up), whichever shipped design it checks; nor numpy, nor the evidence and priors modules (which
    import it): a pre-approval cohort is built from `condapprove.cohorts` to check it.  (numpy is imported for a
    cohort of patient-level continuous values, to summarise them; no shipped design has one.)"""
    heavy = ("scipy.stats", "scipy.optimize", "scipy.integrate", "pandas", "statsmodels", "numpy",
             "condapprove.evidence", "condapprove.priors")
    code = ("import sys; from condapprove.cli import main\n"
            "try:\n    main(['validate', %r])\nexcept SystemExit as exc:\n    print('exit', exc.code)\n"
            f"print(sorted(m for m in {heavy!r} if m in sys.modules))")
    proc = subprocess.run([sys.executable, "-c", code % str(DESIGNS / design)], capture_output=True,
                          text=True, env={**os.environ, "PYTHONWARNINGS": "ignore"}, check=False)
    assert proc.stdout.strip().splitlines()[-2:] == ["exit 0", "[]"], proc.stdout + proc.stderr


@pytest.mark.parametrize(("preset", "scanned"), [(None, False), ("", True)])
def test_the_console_script_does_not_look_for_pydantic_plugins(preset: str | None, scanned: bool) -> None:
    """The console script leaves pydantic's plugins out (looking for them reads every installed distribution's entry
    points) unless the user set ``PYDANTIC_DISABLE_PLUGINS`` (an empty value loads them)."""
    env = {k: v for k, v in os.environ.items() if k != "PYDANTIC_DISABLE_PLUGINS"}
    if preset is not None:
        env["PYDANTIC_DISABLE_PLUGINS"] = preset
    script = ("import os; from condapprove.cli import main\n"
              "try:\n    main(['validate', %r])\nexcept SystemExit as exc:\n    print('exit', exc.code)\n"
              "from pydantic.plugin import _loader\n"
              "print(repr(os.environ['PYDANTIC_DISABLE_PLUGINS']), _loader._plugins is not None)")
    proc = subprocess.run([sys.executable, "-c", script % TWO], capture_output=True, text=True, env=env, check=False)
    expected = repr("__all__" if preset is None else preset)
    assert proc.stdout.strip().splitlines()[-2:] == ["exit 0", f"{expected} {scanned}"], proc.stdout + proc.stderr


def test_imports_pause_the_collector_and_freeze_only_in_the_scripts_own_process() -> None:
    """A command's imports run with the cyclic GC paused; the console script (`main`) then freezes what they
    built, while a command invoked from another program (here CliRunner) leaves the collector as it found it."""
    import gc

    frozen = gc.get_freeze_count()
    assert gc.isenabled()
    code, out, _ = run("validate", TWO)
    assert code == 0 and out.endswith(": ok\n")
    assert gc.isenabled() and gc.get_freeze_count() == frozen
    gc.disable()
    try:
        assert run("validate", TWO)[0] == 0 and not gc.isenabled()  # a paused collector stays paused
    finally:
        gc.enable()
    script = ("import gc, sys; from condapprove.cli import main\n"
              "try:\n    main(['validate', %r])\nexcept SystemExit as exc:\n    print('exit', exc.code)\n"
              "print(gc.isenabled(), gc.get_freeze_count() > 10000)")
    proc = subprocess.run([sys.executable, "-c", script % TWO], capture_output=True, text=True, check=False)
    assert proc.stdout.strip().splitlines()[-2:] == ["exit 0", "True True"], proc.stdout + proc.stderr


def test_the_script_freezes_what_its_command_built_before_it_exits(tmp_path: Path) -> None:
    """After the command, `main` freezes what was built after the imports too (a run's first call loads numba's
    typing registries and the compiled loops: some 5 x 10^4 objects), so the collection at exit skips them."""
    script = ("import gc, sys; from condapprove.cli import main\n"
              "try:\n    main(sys.argv[1:])\nexcept SystemExit as exc:\n    print('exit', exc.code)\n"
              "print(len(gc.get_objects()) < 1000)")
    args = ["simulate", TWO, "-n", "2048", "-q", "-o", str(tmp_path / "out.json")]
    proc = subprocess.run([sys.executable, "-c", script, *args], capture_output=True, text=True, check=False)
    assert proc.stdout.strip().splitlines()[-2:] == ["exit 0", "True"], proc.stdout + proc.stderr


def test_scheduler_option_matches_serial_json() -> None:
    distributed = pytest.importorskip("distributed")
    serial = run("simulate", TWO, "-n", "4096", "--seed", "3", "--format", "json", "--chunk-size", "2048")[1]
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                                  dashboard_address=None) as cluster:
        code, out, err = run("simulate", TWO, "-n", "4096", "--seed", "3", "--format", "json", "--chunk-size", "2048",
                             "--scheduler", cluster.scheduler_address)
    assert code == 0, err
    assert out == serial


def test_unreachable_scheduler_is_a_runtime_error() -> None:
    code, _, err = run("simulate", TWO, "-n", "2048", "--scheduler", "tcp://127.0.0.1:9")
    assert code == 1 and err.startswith("error: cannot reach the Dask scheduler at tcp://127.0.0.1:9")


def _interrupted_run(tmp_path: Path, sig: int, *extra: str) -> tuple[int, str, list[str], Path, Path]:
    """Run a checkpointed simulation in a fresh process and send it ``sig`` once 3 chunks are saved: its status, its
    stderr, the command (to resume), its output file and the uninterrupted run's output."""
    import time

    args = ["simulate", TWO, "-n", "40960", "--seed", "9", "--format", "json", "--chunk-size", "2048", *extra]
    whole = tmp_path / "whole.json"
    subprocess.run([sys.executable, "-m", "condapprove.cli", *args, "--output", str(whole)], check=True,
                   capture_output=True)
    ckpt = tmp_path / "ckpt"
    out = tmp_path / "resumed.json"
    cmd = [sys.executable, "-m", "condapprove.cli", *args, "--checkpoint", str(ckpt), "--output", str(out)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None and len(list(ckpt.glob("chunk-*.npz"))) < 3:
        time.sleep(0.01)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    assert not out.exists()  # nothing half-written
    assert len(list(ckpt.glob("chunk-*.npz"))) >= 1
    return proc.returncode, err, cmd, out, whole


def test_sigkill_and_resume_from_checkpoint(tmp_path: Path) -> None:
    """Kill -9 a run once some chunks are saved; the same command resumes to the uninterrupted output."""
    import signal

    _, _, cmd, out, whole = _interrupted_run(tmp_path, signal.SIGKILL)
    subprocess.run(cmd, check=True, capture_output=True)
    assert out.read_text() == whole.read_text()


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_sigterm_ends_a_run_as_ctrl_c_does(tmp_path: Path, jobs: str) -> None:
    """SIGTERM (a scheduler's stop, ``kill``) once some chunks are saved: exit 130 with Ctrl-C's line, no temporary
    file left (the process died on the spot and left them, found by fuzzing), and the same command resumes to the
    uninterrupted output.  An interrupt between a temporary file's creation and its write's clean-up left one (a CI
    run of ``--jobs 2``): the interrupted command removes what is left, as it does the one planted here."""
    import signal

    (tmp_path / "ckpt").mkdir()
    (tmp_path / "ckpt" / ".chunk-0-0-0.npz.x1y2z3.tmp").write_bytes(b"half")
    code, err, cmd, out, whole = _interrupted_run(tmp_path, signal.SIGTERM, "--jobs", jobs)
    assert code == 130 and err.startswith("interrupted; the completed chunks are saved in"), err
    assert not list((tmp_path / "ckpt").glob(".*")) and not list(tmp_path.glob(".*"))
    subprocess.run(cmd, check=True, capture_output=True)
    assert out.read_text() == whole.read_text()



def test_a_clean_up_failing_under_an_interrupt_is_still_an_interrupt(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """An interrupt inside ``np.savez`` made ``zipfile`` refuse to close the half-written archive: its ValueError
    replaced the KeyboardInterrupt and the command said "internal error" with status 1 (a CI run under SIGTERM).  An
    exception raised while an interrupt is handled ends the command as the interrupt does."""
    import numpy as np

    def savez(*args: object, **kwargs: object) -> None:
        try:
            raise KeyboardInterrupt
        finally:
            raise ValueError("Can't close the ZIP file while there is an open writing handle on it.")

    monkeypatch.setattr(np, "savez", savez)
    code, out, err = run("simulate", STEM, "-n", "4096", "--checkpoint", str(tmp_path / "ckpt"))
    assert (code, out) == (130, "") and err.startswith("interrupted; the completed chunks are saved in"), err

    monkeypatch.setattr(np, "savez", lambda *a, **k: 1 / 0)  # (a fault of condapprove without an interrupt)
    code, _, err = run("simulate", STEM, "-n", "4096", "--checkpoint", str(tmp_path / "ckpt2"))
    assert code == 1 and err.startswith("error: internal error (ZeroDivisionError"), err



def test_text_never_rounds_a_probability_to_0_or_1(tmp_path: Path) -> None:
    """Text showed exact probabilities of 1.35e-7 and 0.999995 as 0.0000 and 1.0000, and posterior probabilities
    of 0.9999996 as 1 (the HTML said "> 0.9999"); JSON of compare and sweep kept 10 decimals (pandas' default), so
    0.9999999999999 became 1.0 (found by an audit of the outputs)."""
    text = Path(STEM).read_text(encoding="utf-8")
    text = text.replace("{name: no effect, treated_rate: 0.30}", "{name: tiny, treated_rate: 0.15}")
    text = text.replace("{name: as in the approval cohort, treated_rate: 0.60}", "{name: strong, treated_rate: 0.70}")
    design = tmp_path / "extreme.yaml"
    design.write_text(text, encoding="utf-8")
    code, out, err = run("simulate", str(design), "-n", "2048", "--seed", "11")
    assert code == 0, err
    (exact,) = [line for line in out.splitlines() if line.startswith("  exact (no simulation)")]
    assert exact.split()[3:] == ["<", "0.0001", "0.6497", ">", "0.9999"], exact
    assert "decision month, mean" in out  # (the docs list it among the figures shown)

    code, out, _ = run("estimate", str(DESIGNS / "delytact_survey.yaml"))
    assert code == 0 and re.search(r"prior skeptical\) >= 0\.975 +> 0\.9999 +0\.975 +pass\n", out), out

    one = json.loads(run("simulate", str(design), "-n", "2048", "--seed", "11", "--format", "json")[1])
    both = json.loads(run("compare", str(design), STEM, "-n", "2048", "--seed", "11", "--format", "json")[1])
    for scenario in one["scenarios"]:
        (row,) = [r for r in both if r["design"] == str(design) and r["scenario"] == scenario["name"]]
        assert row["p_confirmed_exact"] == scenario["p_confirmed_exact"]
        assert (row["p_confirmed"], row["replicates"]) == (scenario["p_confirmed"]["value"], 2048)
    assert 0.99999 < max(r["p_confirmed_exact"] for r in both) < 1.0


def test_report_and_plots(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    out = tmp_path / "r.html"
    code, _, err = run("report", str(DESIGNS / "delytact_survey.yaml"), "-n", "2048", "--output", str(out))
    assert code == 0, err
    html = out.read_text()
    assert "efficacy presumed" in html.lower() and "data:image/png;base64," in html
    assert "http://" not in html and "https://" not in html
    assert oct(out.stat().st_mode & 0o777) != "0o600"  # atomic writes keep ordinary permissions
    plots = tmp_path / "plots"
    code, _, err = run("compare", STEM, TWO, "-n", "2048", "--plot", str(plots))
    assert code == 0, err
    names = sorted(p.name for p in plots.iterdir())
    assert "comparison-oc.png" in names and "comparison-oc.svg" in names
    assert "stemirac_survey-decisions.svg" in names and "two_arm_trial-oc.png" in names


def test_selftest_command(tmp_path: Path) -> None:
    report = tmp_path / "iq.txt"
    code, out, err = run("selftest", "--report", str(report))
    assert code == 0, out + err
    assert "PASS" in out and report.exists() and "PASS" in report.read_text()


@pytest.mark.parametrize(("args", "where", "message"), [
    (["report", STEM, "-n", "64", "-o", "{tmp}/nodir/r.html"], "{tmp}/nodir/r.html: --output",
     "cannot write the output: no folder"),
    (["simulate", STEM, "-n", "64", "-o", "{tmp}/out.json", "--plot", "{tmp}/afile/plots"], "{tmp}/afile/plots: --plot",
     "cannot make the folder: Not a directory"),
    (["simulate", STEM, "-n", "64", "--checkpoint", "{tmp}/afile/ck"], "{tmp}/afile/ck: --checkpoint",
     "cannot make the folder: Not a directory"),
    (["sweep", STEM, "--vary", "post_marketing.treated.target_n=30:45:15", "-n", "64", "-o", "{tmp}/out.csv",
      "--plot", "{tmp}/afile/p"], "{tmp}/afile/p: --plot", "cannot make the folder"),
    (["compare", STEM, TWO, "-n", "64", "-o", "{tmp}/out.csv", "--plot", "{tmp}/afile/p"], "{tmp}/afile/p: --plot",
     "cannot make the folder"),
    (["size", STEM, "--vary", "post_marketing.treated.target_n", "--target", "0.5", "--scenario", "modest",
      "--lower", "20", "--upper", "40", "--checkpoint", "{tmp}/afile/ck"], "{tmp}/afile/ck/value-40: --checkpoint",
     "cannot make the folder"),
])
def test_places_that_cannot_be_written_are_refused_before_any_work(tmp_path: Path, args: list[str], where: str,
                                                                     message: str) -> None:
    """An output in a missing folder, or a plot or checkpoint folder that cannot be made, is refused before the
    simulation (one line, exit 2, no traceback), and no output is written (an existing one is left as it was)."""
    (tmp_path / "afile").write_text("")
    for name in ("out.json", "out.csv"):
        (tmp_path / name).write_text("old")
    code, _out, err = run(*(a.format(tmp=tmp_path) for a in args))
    assert code == 2 and "Traceback" not in err
    assert err.strip().splitlines() == [f"{where.format(tmp=tmp_path)}: {message}" + err.strip().split(message, 1)[1]]
    assert (tmp_path / "out.json").read_text() == "old" and (tmp_path / "out.csv").read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile", "out.csv", "out.json"]


# ------------------------------------------------------------------------------------ found by fuzzing the commands
@pytest.mark.parametrize("args, start", [
    (["-o", ""], "--output: must name a file; got ''"),  # (the run finished, then failed to write to '')
    (["--checkpoint", ""], "--checkpoint: must name a folder; got ''"),  # (chunk files went to the current folder)
    (["--plot", ""], "--plot: must name a folder; got ''"),
    (["--scheduler", "garbage://x"], "--scheduler: "),  # (an internal error, exit 1, when Dask is installed)
])
def test_empty_places_and_bad_scheduler_addresses_are_usage_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                   args: list[str], start: str) -> None:
    monkeypatch.chdir(tmp_path)  # (nothing may be written in the current folder)
    r = CliRunner().invoke(cli, ["simulate", STEM, "-n", "2048", *args])
    assert r.exit_code == 2 and r.stderr.startswith(start) and r.stderr.count("\n") == 1, r.stderr
    assert not list(tmp_path.iterdir())


def test_estimate_reports_a_warning_in_one_line(tmp_path: Path) -> None:
    """A warning of the estimators (a landmark beyond the last follow-up) is one ``warning:`` line on stderr, not
    Python's file:line echo of the source."""
    f = tmp_path / "d.yaml"
    f.write_text("""name: edge
approval: {date: 2024-07-31, time_limit_years: 7}
pre_approval:
  endpoint: {type: time_to_event, name: survival}
  cohort: {durations: [3, 5, 12, 14, 2.5, 8, 20, 1, 30, 7], events: [1, 0, 1, 0, 1, 1, 0, 1, 0, 1]}
  evidence:
    - {criterion: lower_bound, greater_than: 0.15, time: 100}
""" + MINIMAL_POST_MARKETING, encoding="utf-8")
    r = CliRunner().invoke(cli, ["estimate", str(f)])
    assert r.exit_code == 0
    assert r.stderr.startswith("warning: t = 100 is beyond the last follow-up time 30") and r.stderr.count("\n") == 1


def test_compare_plots_of_two_files_of_one_name_are_both_kept(tmp_path: Path) -> None:
    """v1/design.yaml and v2/design.yaml: the second set of plots is written beside the first (``design-2-*``), not
    over it (the command said 14 files and left 8)."""
    for folder, name in (("v1", "stemirac_survey.yaml"), ("v2", "delytact_survey.yaml")):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "design.yaml").write_text((DESIGNS / name).read_text(encoding="utf-8"), encoding="utf-8")
    r = CliRunner().invoke(cli, ["compare", str(tmp_path / "v1" / "design.yaml"), str(tmp_path / "v2" / "design.yaml"),
                                 "-n", "2048", "--seed", "1", "--plot", str(tmp_path / "P")])
    assert r.exit_code == 0, r.stderr
    files = sorted(p.name for p in (tmp_path / "P").iterdir())
    assert len(files) == 14 and "wrote 14 plot files" in r.stderr
    assert {"design-oc.svg", "design-2-oc.svg", "comparison-oc.svg"} <= set(files)
