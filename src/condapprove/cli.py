"""The ``condapprove`` command line.

Exit status: 0 success; 1 a runtime failure; 2 invalid input (design file, argument),
with one ``FILE:LINE:COL: field: message`` line per problem and no traceback
(``--debug`` shows it).
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
import signal
import sys
import warnings
from collections.abc import Callable, Iterator
from functools import wraps
from typing import Any, NoReturn, TypeVar

import click

from .errors import CondapproveError, DesignError

__all__ = ["cli", "main"]

F = TypeVar("F", bound=Callable[..., Any])
_OWN_PROCESS = object()  # the root context's obj when the console script runs the command (see _importing)


def _die_input(problems: list[str]) -> NoReturn:
    for line in problems:
        click.echo(line, err=True)
    sys.exit(2)


def _guard(func: F) -> F:
    """Map condapprove errors to exit codes without tracebacks (unless --debug)."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        ctx = click.get_current_context()
        debug = bool(ctx.find_root().params.get("debug"))
        try:
            return func(*args, **kwargs)
        except DesignError as exc:
            if debug:
                raise
            _die_input([p.format() for p in exc.problems])
        except CondapproveError as exc:
            if debug:
                raise
            click.echo(f"error: {exc}", err=True)
            sys.exit(1)
        except MemoryError:
            if debug:
                raise
            # (a design simulated patient by patient needs memory for its patients in each process, whatever its
            # replicates: docs/performance.md, "Memory and the number of patients")
            click.echo("error: out of memory; ask for fewer processes (--jobs), fewer replicates (--replicates), a "
                       "smaller grid or fewer patients", err=True)
            sys.exit(1)
        except KeyboardInterrupt:
            _die_interrupted(ctx)
        except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort, BrokenPipeError):
            raise  # (click's own: a reader that stopped reading, e.g. `| head`, ends the command quietly)
        except Exception as exc:  # a fault of condapprove itself: one line, the traceback with --debug
            if _raised_while_interrupted(exc):
                _die_interrupted(ctx)
            if debug:
                raise
            click.echo(f"error: internal error ({type(exc).__name__}: {exc}); please report it with the output of "
                       f"the same command run with --debug", err=True)
            sys.exit(1)

    return wrapper  # type: ignore[return-value]


def _die_interrupted(ctx: click.Context) -> NoReturn:
    """End an interrupted command (Ctrl-C, SIGTERM): temporary chunk files removed, one line said, exit status 130."""
    ckpt = ctx.params.get("checkpoint")
    if ckpt:
        _remove_partial_chunks(ckpt)
        click.echo(f"interrupted; the completed chunks are saved in {ckpt}: run the same command to resume", err=True)
    elif "checkpoint" in ctx.params:  # (compare and report have no --checkpoint to suggest)
        click.echo("interrupted; no output was written (use --checkpoint to keep completed work)", err=True)
    else:
        click.echo("interrupted; no output was written", err=True)
    sys.exit(130)


def _raised_while_interrupted(exc: BaseException) -> bool:
    """Whether ``exc`` was raised while an interrupt was being handled: a clean-up that fails on the half-done work
    the interrupt left (``zipfile`` refuses to close an archive whose member it was writing, a CI run under SIGTERM)
    replaces the KeyboardInterrupt, which stays in the exception's context chain."""
    seen: set[int] = set()
    link: BaseException | None = exc
    while link is not None and id(link) not in seen:
        if isinstance(link, KeyboardInterrupt):
            return True
        seen.add(id(link))
        link = link.__cause__ or link.__context__
    return False


@contextlib.contextmanager
def _importing() -> Iterator[None]:
    """Import a command's modules with the cyclic garbage collector paused.

    A command's first imports (the design schema's pydantic validators; numpy and scipy for the others) build
    some 10^5 objects that live as long as the process.  The collector would walk them again and again while
    they are built, and once more at exit.  In the console script's own process (:func:`main`) they are then
    frozen (:func:`gc.freeze`), so later collections skip them; imported from another program, the collector is
    only paused.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        ctx = click.get_current_context(silent=True)
        if ctx is not None and ctx.find_root().obj is _OWN_PROCESS:
            gc.freeze()
        if enabled:
            gc.enable()


@contextlib.contextmanager
def _executor(address: str | None) -> Iterator[Any]:
    """A Dask distributed executor for ``--scheduler ADDRESS`` (None: local)."""
    if address is None:
        yield None
        return
    try:
        from distributed import Client
    except ImportError:
        raise DesignError("needs the optional dependency: pip install 'condapprove[dask]'", loc="--scheduler") from None
    try:
        client = Client(address, timeout="4s")
    except ValueError as exc:  # (an address Dask cannot parse: "", "tcp://", "garbage://x")
        raise DesignError(f"not a scheduler address: {exc}; got {address!r}", loc="--scheduler") from None
    except OSError as exc:
        raise CondapproveError(f"cannot reach the Dask scheduler at {address}: {exc}") from None
    try:
        yield client.get_executor()
    finally:
        client.close()


@contextlib.contextmanager
def _progress(quiet: bool) -> Iterator[Callable[[int, int], None] | None]:
    """A progress bar on stderr when it is a terminal (rich), else nothing."""
    if quiet or not sys.stderr.isatty():
        yield None
        return
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    with Progress(TextColumn("simulating"), BarColumn(), TextColumn("{task.completed}/{task.total} blocks"),
                  TimeRemainingColumn(), transient=True, console=None) as bar:
        task = bar.add_task("simulate", total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update


def _emit(text: str, output: str | None) -> None:
    if output is None:
        click.echo(text, nl=not text.endswith("\n"))
        return
    from ._io import write_atomic

    try:
        write_atomic(output, text)
    except OSError as exc:
        raise DesignError(f"cannot write the output: {exc.strerror}", file=output) from None


def _check_places(output: str | None = None, *, plot_dir: str | None = None, checkpoint: str | None = None) -> None:
    """Before any simulating: the output's folder exists, and the plot folder exists or can be made (it is made now),
    so that a command never fails on them after its work, or after writing its output.  (A checkpoint folder is made,
    or refused, as the run starts: :class:`.simulation.checkpoint.Checkpoint`.)"""
    if output is not None:
        if not output:
            raise DesignError("must name a file; got ''", loc="--output")
        folder = os.path.dirname(output) or "."
        if not os.path.isdir(folder):
            raise DesignError(f"cannot write the output: no folder {folder!r}", loc="--output", file=output)
        if not os.access(folder, os.W_OK | os.X_OK):
            raise DesignError(f"cannot write the output: the folder {folder!r} is not writable", loc="--output",
                              file=output)
    if checkpoint == "":  # (it would be the current folder, filled with chunk files)
        raise DesignError("must name a folder; got ''", loc="--checkpoint")
    if plot_dir is not None:
        if not plot_dir:
            raise DesignError("must name a folder; got ''", loc="--plot")
        try:
            os.makedirs(plot_dir, exist_ok=True)
        except OSError as exc:
            raise DesignError(f"cannot make the folder: {exc.strerror}", loc="--plot", file=plot_dir) from None


def _usable_cpus() -> int:
    """The CPUs this process may run on (its affinity mask where the system has one)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - macOS, Windows
        return os.cpu_count() or 1


def _check_run_options(*, replicates: int | None = None, seed: int | None = None, jobs: int = 1,
                       chunk_size: int | None = None, max_replicates: int | None = None) -> int:
    """Check the options the simulating commands share, naming them as the command line does (``--replicates: must
    be ...``), before any work; return the processes to use: ``--jobs``, at most the CPUs this process may use (more
    would only take turns on them: the results are the same whatever the number, and ``--jobs 999`` would fork
    hundreds of processes)."""
    from .simulation.summary import BLOCK_SIZE
    from .spec.schema import MAX_REPLICATES

    for name, value in (("--replicates", replicates), ("--max-replicates", max_replicates)):
        if value is not None and not 1 <= value <= MAX_REPLICATES:
            raise DesignError(f"must be between 1 and {MAX_REPLICATES:,}; got {value}", loc=name)
    if chunk_size is not None and not (0 < chunk_size <= MAX_REPLICATES and chunk_size % BLOCK_SIZE == 0):
        raise DesignError(f"must be a positive multiple of {BLOCK_SIZE} (the replicates of a block); got {chunk_size}",
                          loc="--chunk-size")
    if seed is not None and seed < 0:
        raise DesignError(f"must be >= 0; got {seed}", loc="--seed")
    if jobs < 1:
        raise DesignError(f"must be >= 1; got {jobs}", loc="--jobs")
    cpus = _usable_cpus()
    if jobs > cpus:
        click.echo(f"note: --jobs {jobs} is more than the {cpus} CPUs this process may use; using {cpus}", err=True)
        return cpus
    return jobs


def _check_scenarios(design: Any, scenarios: tuple[str, ...]) -> None:
    """``--scenario`` names only scenarios of the design (with a "did you mean" hint)."""
    from ._validation import check_one_of

    for s in scenarios:
        check_one_of(s, "scenario", [x.name for x in design.scenarios], loc="--scenario")


# options shared by several commands
_REPLICATES = click.option("--replicates", "-n", type=int,
                           help="Replicates per scenario, at most 10^8 (default: the design's).")
_SEED = click.option("--seed", type=int, help="Root seed (default: the design's, else fresh entropy, recorded).")
_SCENARIOS = click.option("--scenario", "scenarios", multiple=True, help="Only these scenarios (repeatable).")
_OUTPUT = click.option("--output", "-o", type=click.Path(dir_okay=False),
                       help="Write here (atomically) instead of stdout.")
_JOBS = click.option("--jobs", "-j", type=int, default=1, show_default=True,
                     help="Processes that simulate: this one and N-1 workers forked from it (at most the usable CPUs).")
_CHECKPOINT = click.option("--checkpoint", type=click.Path(file_okay=False),
                           help="Folder to save completed chunks in; rerun the same command to resume.")
_PLOT = click.option("--plot", "plot_dir", type=click.Path(file_okay=False),
                     help="Write PNG and SVG plots in this folder.")


def _format(*choices: str, default: str) -> Callable[[F], F]:
    return click.option("--format", "fmt", type=click.Choice(list(choices)), default=default, show_default=True)



def _version() -> str:
    from . import __version__  # looked up only when needed (importlib.metadata is slow to import)

    return str(__version__)


class _Group(click.Group):
    """click's group, except that a usage error (an unknown option, a value that is not a number, a missing
    argument) is one line on stderr, naming the option as condapprove's own errors do, with exit status 2::

        --jobs: 'x' is not a valid integer (see: condapprove simulate --help)

    (click prints four lines: usage, a hint and an empty line around the message.)"""

    def main(self, args: Any = None, prog_name: str | None = None, complete_var: str | None = None,
             standalone_mode: bool = True, **extra: Any) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        try:
            rv = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click.UsageError as exc:
            click.echo(_usage_line(exc), err=True)
            sys.exit(exc.exit_code)
        except click.ClickException as exc:
            exc.show()
            sys.exit(exc.exit_code)
        except click.Abort:
            click.echo("Aborted!", err=True)
            sys.exit(1)
        sys.exit(rv if isinstance(rv, int) else 0)


def _usage_line(exc: click.UsageError) -> str:
    """One line for a click usage error: ``OPTION: message (see: COMMAND --help)``, as condapprove's own errors
    name an option (``--replicates: must be ...``)."""
    if (isinstance(exc, click.BadParameter) and not isinstance(exc, click.MissingParameter)
            and isinstance(exc.param, click.Option) and exc.param_hint is None):
        message = f"{exc.param.opts[0]}: {exc.message}"
    else:
        message = exc.format_message()
    command = exc.ctx.command_path if exc.ctx is not None else "condapprove"
    return f"{message.rstrip('.')} (see: {command} --help)"


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(None, "--version", package_name="condapprove", prog_name="condapprove")
@click.option("--debug", is_flag=True, help="Show tracebacks of errors.")
def cli(debug: bool) -> None:
    """Evidence and post-marketing study design under Japan's conditional, time-limited approval."""


@cli.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=True))
@_guard
def validate(files: tuple[str, ...]) -> None:
    """Check design FILES; print every problem as FILE:LINE:COL: field: message."""
    with _importing():
        from .spec.loader import load_design_with_source

    bad: list[str] = []
    for f in files:
        try:
            load_design_with_source(f)
        except DesignError as exc:
            bad.extend(p.format() for p in exc.problems)
        else:
            click.echo(f"{f}: ok")
    if bad:
        _die_input(bad)


@cli.command()
@click.option("--output", "-o", type=click.Path(dir_okay=False), help="Write the schema to this file.")
@_guard
def schema(output: str | None) -> None:
    """Print the JSON Schema of design files (for editors' validation and completion)."""
    with _importing():
        from .spec.schema import Design

    doc = Design.model_json_schema()
    doc["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    doc["title"] = "condapprove design file"
    _emit(json.dumps(doc, indent=2) + "\n", output)


@cli.command()
@click.argument("file", type=click.Path())
@_REPLICATES
@_SEED
@_SCENARIOS
@_format("table", "json", "csv", default="table")
@_OUTPUT
@_JOBS
@click.option("--chunk-size", type=int, default=None, help="Replicates per unit of work (results do not depend on it).")
@click.option("--mcse-target", type=float, default=None,
              help="Add replicates until every probability's Monte-Carlo SE is at most this.")
@click.option("--max-replicates", type=int, default=None, help="Cap for --mcse-target (default: the design's).")
@click.option("--scheduler", help="Address of a Dask distributed scheduler to run the chunks on (condapprove[dask]).")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
@_CHECKPOINT
@_PLOT
@_guard
def simulate(file: str, replicates: int | None, seed: int | None, scenarios: tuple[str, ...], fmt: str,
             output: str | None, jobs: int, chunk_size: int | None, mcse_target: float | None,
             max_replicates: int | None, scheduler: str | None, quiet: bool, checkpoint: str | None,
             plot_dir: str | None) -> None:
    """Simulate the post-marketing study of design FILE under each scenario."""
    with _importing():
        from .simulation import simulate as run
        from .spec.loader import load_design_with_source

    jobs = _check_run_options(replicates=replicates, seed=seed, jobs=jobs, chunk_size=chunk_size,
                              max_replicates=max_replicates)
    if mcse_target is not None and not 0 < mcse_target < 0.5:
        raise DesignError(f"must be in (0, 0.5); got {mcse_target:g}", loc="--mcse-target")
    _check_places(output, plot_dir=plot_dir, checkpoint=checkpoint)
    loaded = load_design_with_source(file)
    _check_scenarios(loaded.design, scenarios)
    with warnings.catch_warnings(), _executor(scheduler) as executor, _progress(quiet) as progress:
        warnings.simplefilter("ignore")  # design warnings are part of the result and printed with it
        result = run(loaded.design, replicates=replicates, seed=seed, scenarios=scenarios or None,
                     chunk_size=chunk_size, n_jobs=jobs, design_path=loaded.path, design_sha256=loaded.sha256,
                     mcse_target=mcse_target, max_replicates=max_replicates, executor=executor, progress=progress,
                     checkpoint=checkpoint)
    if fmt == "json":
        text = result.to_json()
    elif fmt == "csv":
        text = result.to_frame().to_csv(index=False)
    else:
        text = result.summary() + "\n"
    _emit(text, output)
    if output is not None:
        click.echo(f"wrote {output}", err=True)
    if plot_dir is not None:
        _write_plots(plot_dir, [(os.path.splitext(os.path.basename(file))[0], result)])


@cli.command()
@click.argument("file", type=click.Path())
@_format("table", "json", default="table")
@_OUTPUT
@_guard
def estimate(file: str, fmt: str, output: str | None) -> None:
    """Estimate presumed efficacy from the approval cohort of design FILE and state the evidence verdict."""
    with _importing():
        from .evidence import evaluate_evidence
        from .results import json_text, to_builtin
        from .spec.loader import load_design_with_source

    loaded = load_design_with_source(file)
    pre = loaded.design.pre_approval
    if pre is None:
        raise DesignError("required for `condapprove estimate`: the design has no pre_approval section",
                          loc="pre_approval", file=file)
    priors = {name: spec.build() for name, spec in pre.priors.items()}
    with warnings.catch_warnings(record=True) as caught:  # each said once, in one line (not Python's source echo)
        warnings.simplefilter("always")
        result = evaluate_evidence(pre.build_cohort(), pre.criteria(), priors=priors)
    for message in dict.fromkeys(str(w.message) for w in caught):
        click.echo(f"warning: {message}", err=True)
    if fmt == "json":
        doc = {"design": loaded.design.name, "design_sha256": loaded.sha256, "condapprove_version": _version(),
               "endpoint": pre.endpoint.name, **to_builtin(result.to_dict()), "verdict": result.verdict}
        text = json_text(doc)
    else:
        text = f"{loaded.design.name}\nendpoint: {pre.endpoint.name}\n" + result.summary() + "\n"
    _emit(text, output)
    if output is not None:
        click.echo(f"wrote {output}", err=True)


def _table_or_data(frame: Any, fmt: str, text: str | None) -> str:
    if fmt == "json":  # (every digit: pandas' to_json keeps 10 decimals, 0.9999999999999 became 1.0)
        from .results import json_text

        return json_text(frame.to_dict(orient="records"))
    if fmt == "csv":
        return str(frame.to_csv(index=False))
    if text is None:  # (a figure undefined for a design, None in its column, was shown as "None"; NaN as "NaN")
        held = frame.columns[frame.dtypes == object]
        shown = frame.assign(**{c: frame[c].where(frame[c].notna(), "-") for c in held})
        text = str(shown.to_string(index=False, na_rep="-"))
    return text + "\n"


@cli.command()
@click.argument("files", nargs=-1, required=True, type=click.Path())
@_REPLICATES
@_SEED
@_SCENARIOS
@_format("table", "json", "csv", default="table")
@_OUTPUT
@_JOBS
@_PLOT
@_guard
def compare(files: tuple[str, ...], replicates: int | None, seed: int | None, scenarios: tuple[str, ...], fmt: str,
            output: str | None, jobs: int, plot_dir: str | None) -> None:
    """Simulate designs FILES side by side with common random numbers (same seed, same streams per scenario)."""
    with _importing():
        from .explore import compare as run
        from .spec.loader import load_design_with_source

    if len(files) < 2:
        raise DesignError(f"give at least 2 design files; got {len(files)}", loc="FILES")
    jobs = _check_run_options(replicates=replicates, seed=seed, jobs=jobs)
    _check_places(output, plot_dir=plot_dir)
    designs = [load_design_with_source(f).design for f in files]
    result = run(designs, labels=list(files), replicates=replicates, seed=seed, scenarios=scenarios or None,
                 n_jobs=jobs)
    _emit(_table_or_data(result.to_frame(), fmt, result.summary()), output)
    if plot_dir is not None:
        _write_plots(plot_dir, [(os.path.splitext(os.path.basename(f))[0], r) for f, r in zip(files, result.results)])


def _vary_option(values: tuple[str, ...]) -> dict[str, list[float]]:
    from .explore import parse_values

    out: dict[str, list[float]] = {}
    for item in values:
        path, sep, spec = item.partition("=")
        if not sep or not path:
            raise DesignError(f"must be PATH=V1,V2,... or PATH=START:STOP:STEP; got {item!r}", loc="--vary")
        if path.strip() in out:  # (a second value list would silently replace the first)
            raise DesignError(f"{path.strip()!r} is given twice; give its values once", loc="--vary")
        out[path.strip()] = parse_values(spec)
    return out


@cli.command()
@click.argument("file", type=click.Path())
@click.option("--vary", "vary", multiple=True, required=True,
              help="PATH=V1,V2,... or PATH=START:STOP:STEP (repeatable: a grid).")
@_REPLICATES
@_SEED
@_SCENARIOS
@_format("table", "json", "csv", default="csv")
@_OUTPUT
@_JOBS
@_PLOT
@_CHECKPOINT
@_guard
def sweep(file: str, vary: tuple[str, ...], replicates: int | None, seed: int | None, scenarios: tuple[str, ...],
          fmt: str, output: str | None, jobs: int, plot_dir: str | None, checkpoint: str | None) -> None:
    """Simulate design FILE over a grid of field values (tidy output, one row per point and scenario)."""
    with _importing():
        from .explore import sweep as run
        from .spec.loader import load_design_with_source

    jobs = _check_run_options(replicates=replicates, seed=seed, jobs=jobs)
    grid = _vary_option(vary)
    _check_places(output, plot_dir=plot_dir, checkpoint=checkpoint)
    design = load_design_with_source(file).design
    _check_scenarios(design, scenarios)
    result = run(design, grid, replicates=replicates, seed=seed, scenarios=scenarios or None,
                 n_jobs=jobs, checkpoint=checkpoint)
    _emit(_table_or_data(result.to_frame(), fmt, None), output)
    if plot_dir is not None:
        labels = [", ".join(f"{p.rsplit('.', 1)[-1]}={v:g}" for p, v in zip(result.paths, pt)) for pt in result.points]
        _write_plots(plot_dir, list(zip(labels, result.results)))


@cli.command()
@click.argument("file", type=click.Path())
@click.option("--vary", "path", required=True, help="Dotted path of the field to size, e.g. post_marketing.treated.target_n.")
@click.option("--target", type=float, required=True, help="Required P(confirmed by the cut-off), in (0, 1).")
@click.option("--scenario", required=True, help="The scenario whose P(confirmed) must reach the target.")
@click.option("--null", "null_scenario", help="The no-effect scenario (default: detected).")
@click.option("--lower", type=float, required=True, help="Lower end of the search.")
@click.option("--upper", type=float, required=True, help="Upper end of the search.")
@click.option("--scan", is_flag=True, help="Simulate every value of an integer field from --lower up (the smallest "
              "meeting the target, for saw-toothed power) instead of bisecting.")
@_REPLICATES
@_SEED
@_format("table", "json", default="table")
@_JOBS
@_CHECKPOINT
@_guard
def size(file: str, path: str, target: float, scenario: str, null_scenario: str | None, lower: float, upper: float,
         scan: bool, replicates: int | None, seed: int | None, fmt: str, jobs: int, checkpoint: str | None) -> None:
    """Smallest value of a field reaching P(confirmed) >= TARGET under a scenario (the null kept <= alpha)."""
    with _importing():
        from .explore import size as run
        from .results import json_text
        from .spec.loader import load_design_with_source

    jobs = _check_run_options(replicates=replicates, seed=seed, jobs=jobs)
    _check_places(checkpoint=checkpoint)
    design = load_design_with_source(file).design
    result = run(design, path, target=target, scenario=scenario, null_scenario=null_scenario, lower=lower,
                 upper=upper, replicates=replicates, seed=seed, n_jobs=jobs, checkpoint=checkpoint, scan=scan)
    if fmt == "json":
        click.echo(json_text(result.to_dict()), nl=False)
    else:
        click.echo(result.summary())
    if result.value is None:
        sys.exit(2)


def _write_plots(directory: str, results: list[tuple[str, Any]]) -> None:
    """PNG and SVG plots of simulation results into ``directory`` (one set per labelled result)."""
    from .reporting.plots import plot_decision_curves, plot_expected_numbers, plot_oc_curve, save_figure

    written: list[Any] = []  # (the folder made by _check_places)
    used: set[str] = set()
    for label, res in results:
        base = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in label).strip("_") or "design"
        stem, k = base, 1
        while stem in used:  # (two files of one name in different folders: -2, -3, ... instead of overwriting)
            k += 1
            stem = f"{base}-{k}"
        used.add(stem)
        for name, fn in (("oc", plot_oc_curve), ("decisions", plot_decision_curves),
                         ("numbers", plot_expected_numbers)):
            written += save_figure(fn(res), directory, f"{stem}-{name}")
    if len(results) > 1:
        ax = plot_oc_curve([r for _, r in results], labels=[lab for lab, _ in results])
        written += save_figure(ax, directory, "comparison-oc")
    click.echo(f"wrote {len(written)} plot files in {directory}", err=True)


@cli.command()
@click.argument("files", nargs=-1, required=True, type=click.Path())
@click.option("--output", "-o", type=click.Path(dir_okay=False), required=True, help="The HTML file to write.")
@_REPLICATES
@_SEED
@_guard
def report(files: tuple[str, ...], output: str, replicates: int | None, seed: int | None) -> None:
    """One self-contained HTML page per run: design, evidence verdict, operating characteristics, plots, provenance.

    Several FILES give one page with a section per design.
    """
    with _importing():
        from .reporting.html import design_report
        from .simulation import simulate as run
        from .spec.loader import load_design_with_source

    _check_run_options(replicates=replicates, seed=seed)
    _check_places(output)
    pages = []
    for loaded in [load_design_with_source(f) for f in files]:  # (every file checked before any simulating)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = run(loaded.design, replicates=replicates, seed=seed, design_path=loaded.path,
                      design_sha256=loaded.sha256)
        pages.append(design_report(loaded.design, simulation=res, design_path=loaded.path))
    html = pages[0] if len(pages) == 1 else _join_pages(pages)
    _emit(html, output)
    click.echo(f"wrote {output}", err=True)


def _join_pages(pages: list[str]) -> str:
    """Several report pages as one: the first page's head, every page's body in turn."""
    head, _, _ = pages[0].partition("<body")
    bodies = []
    for p in pages:
        body = p.partition("<body")[2]
        bodies.append(body.partition(">")[2].rpartition("</body>")[0])
    sep = '<hr style="margin:3rem 0;border:0;border-top:2px solid #ccd">'
    return head + "<body>" + sep.join(bodies) + "</body></html>\n"


@cli.command()
@click.option("--report", type=click.Path(dir_okay=False),
              help="Write a validation report here (JSON if the name ends in .json, else text), atomically.")
@click.option("--verbose", "-v", is_flag=True, help="Print the full report (every check), not only the summary.")
@_guard
def selftest(report: str | None, verbose: bool) -> None:
    """Installation qualification: check this installation against R reference values (a few seconds).

    Exit status 0 when every check agrees with its reference value, 1 when any does not.
    """
    with _importing():
        from .selftest import run_selftest

    result = run_selftest(report=report)
    click.echo(result.to_text() if verbose else result.summary())
    if report is not None:
        click.echo(f"wrote {report}", err=True)
    if not result.passed:
        sys.exit(1)


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``condapprove`` console script."""
    os.environ.setdefault("PYTHONHASHSEED", "0")
    # pydantic looks for plugins in every installed distribution's entry points when the first model is built: about
    # 12 ms of `validate` here, more in a larger environment; the command uses none (set the variable to load them)
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    signal.signal(signal.SIGTERM, _terminated)
    try:
        cli.main(args=argv, prog_name="condapprove", obj=_OWN_PROCESS)
    finally:
        # what the command built after its imports lives until exit too (a run's first call loads numba's typing
        # registries and the compiled loops: some 5 x 10^4 objects): frozen, the collection at exit skips them
        # (docs/performance.md, item 126)
        gc.freeze()


def _remove_partial_chunks(folder: str) -> None:
    """Remove the temporary files of chunks an interrupt left behind in a checkpoint folder (and its sweep's or
    size's subfolders).  ``_io.write_atomic`` removes its own, but an interrupt raised inside ``tempfile.mkstemp``,
    after the file is made and before its name is returned, leaves one (a CI run of ``--jobs 2`` under SIGTERM left
    one while the window also held two ``os.umask`` calls)."""
    import glob

    for tmp in glob.glob(os.path.join(glob.escape(folder), "**", ".chunk-*.tmp"), recursive=True):
        with contextlib.suppress(OSError):
            os.unlink(tmp)


def _terminated(signum: int, frame: Any) -> None:
    """SIGTERM (``kill``, a job scheduler's stop) ends a command as Ctrl-C does: temporary files removed, completed
    checkpoint chunks kept, one line said, exit status 130 (without it the process died on the spot, leaving its
    temporary files)."""
    raise KeyboardInterrupt


if __name__ == "__main__":  # pragma: no cover
    main()
