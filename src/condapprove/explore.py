"""Explore designs: compare several, sweep a grid of field values, size a study.

All three run :func:`condapprove.simulate` with one seed, so each scenario draws the same
random numbers in every design (streams are keyed by the scenario's name): differences
between designs are not Monte-Carlo noise of independent runs (common random numbers).
Fields are addressed by dotted paths into the design as written in its file, e.g.
``post_marketing.treated.target_n`` or ``scenarios.modest.treated_rate`` (a scenario may be
named instead of numbered).
"""

from __future__ import annotations

import dataclasses
import difflib
import itertools
import math
import os
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ._typing import SeedLike
from ._validation import check_one_of
from .errors import DesignError, DesignWarning
from .results import MonteCarloEstimate, ResultMixin
from .simulation import SimulationResult, simulate
from .spec import Design, design_from_mapping

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = [
    "MAX_GRID_POINTS",
    "ComparisonResult",
    "SizeResult",
    "SweepResult",
    "compare",
    "numeric_paths",
    "parse_values",
    "set_path",
    "size",
    "sweep",
]

#: Most points a sweep's grid may have (the product of its value lists): each point is a whole simulation.
MAX_GRID_POINTS = 10_000


# ---------------------------------------------------------------- dotted paths
def _resolve(data: Any, parts: Sequence[str]) -> tuple[Any, str | int]:
    """The container holding the last part, and the key of the value in it.

    An item of a list is named by its ``name``, which may itself hold dots (``scenarios.HR 0.7.hazard_ratio``: the
    longest run of parts that is a name), or else by its position; a name comes first, as :func:`numeric_paths`
    writes names (a scenario named "1" is that one, not the second).
    """
    cur = data
    i = 0
    while i < len(parts):
        key: str | int
        if isinstance(cur, list):
            names = [x.get("name") if isinstance(x, dict) else None for x in cur]
            for j in range(len(parts), i, -1):
                name = ".".join(parts[i:j])
                if name in names:
                    key, i = names.index(name), j
                    break
            else:
                if not (parts[i].isdigit() and int(parts[i]) < len(cur)):
                    raise KeyError(parts[i])
                key, i = int(parts[i]), i + 1
        elif isinstance(cur, dict) and parts[i] in cur:
            key, i = parts[i], i + 1
        else:
            raise KeyError(parts[i])
        if i == len(parts):
            return cur, key
        cur = cur[key]
    raise KeyError("")


def numeric_paths(design: Design) -> list[str]:
    """Every dotted path of a numeric field of ``design`` (defaults included)."""
    out: list[str] = []

    def walk(x: Any, prefix: str) -> None:
        if isinstance(x, dict):
            for k, v in x.items():
                walk(v, f"{prefix}{k}.")
        elif isinstance(x, list):
            for i, v in enumerate(x):
                walk(v, f"{prefix}{v['name'] if isinstance(v, dict) and 'name' in v else i}.")
        elif isinstance(x, (int, float)) and not isinstance(x, bool):
            out.append(prefix[:-1])

    walk(design.model_dump(mode="json"), "")
    return out


def _numeric_field(design: Design, path: str) -> tuple[dict[str, Any], Any, str | int]:
    """The design's data, and the holder and key of the numeric field at ``path`` (an error naming ``--vary``
    when there is none)."""
    data = design.model_dump(mode="json", exclude_unset=False)
    try:
        holder, key = _resolve(data, path.split("."))
        current = holder[key]
    except (KeyError, IndexError, TypeError):
        close = difflib.get_close_matches(path, numeric_paths(design), n=1, cutoff=0.5)
        raise DesignError(f"must be a numeric field of the design; got {path!r}", loc="--vary",
                          hint=f"did you mean {close[0]!r}?" if close else None) from None
    if isinstance(current, bool) or not isinstance(current, (int, float)):
        raise DesignError(f"must be a numeric field of the design; {path!r} holds {current!r}", loc="--vary")
    return data, holder, key


def _distinct_fields(design: Design, paths: Sequence[str]) -> None:
    """Refuse two paths to one field (``scenarios.1.treated_rate`` and ``scenarios.modest.treated_rate``): the
    later value would silently replace the earlier one at every point of the grid."""
    data = design.model_dump(mode="json", exclude_unset=False)
    seen: dict[tuple[int, str | int], str] = {}
    for p in paths:
        holder, key = _resolve(data, p.split("."))
        first = seen.setdefault((id(holder), key), p)
        if first != p:
            raise DesignError(f"{p!r} and {first!r} name the same field; give it once", loc="--vary")


def set_path(design: Design, path: str, value: float, *, value_loc: str = "--vary") -> Design:
    """A copy of ``design`` with the numeric field at ``path`` set to ``value`` (validated; an invalid value is
    reported at ``value_loc``, the option that gave it)."""
    data, holder, key = _numeric_field(design, path)
    if isinstance(holder[key], int) and not float(value).is_integer():
        raise DesignError(f"{path} is an integer field; got {value:g}", loc=value_loc)
    holder[key] = int(value) if isinstance(holder[key], int) else float(value)
    try:
        return design_from_mapping(data)
    except DesignError as exc:
        first = exc.problems[0]
        raise DesignError(f"{path} = {value:g} makes the design invalid: {first.loc}: {first.message}",
                          loc=value_loc) from None


def parse_values(spec: str) -> list[float]:
    """``"1,2,5"`` or ``"START:STOP:STEP"`` (STOP included when reached) to a list of finite numbers, at most
    :data:`MAX_GRID_POINTS` of them.  A range is counted in decimal, as written: ``0.1:0.3:0.1`` gives 0.1, 0.2
    and 0.3 (not 0.30000000000000004).

    Examples
    --------
    >>> parse_values("30:60:15")
    [30.0, 45.0, 60.0]
    >>> parse_values("0.3, 0.45")
    [0.3, 0.45]
    >>> parse_values("0.1:0.3:0.1")
    [0.1, 0.2, 0.3]
    """
    from decimal import Decimal, DecimalException, InvalidOperation, localcontext

    try:
        if ":" in spec:
            start, stop, step = (Decimal(x.strip()) for x in spec.split(":"))
            if not (start.is_finite() and stop.is_finite() and step.is_finite()) or step <= 0 or stop < start:
                raise ValueError
            with localcontext() as ctx:  # (exact for doubles' range: quotients up to 10^632)
                ctx.prec = 700
                try:
                    count = (stop - start) // step + 1
                except DecimalException:  # (a quotient beyond 700 digits or the exponent's range: 0:1e1000000:1)
                    count = Decimal("Infinity")
        else:
            items = spec.split(",")
            if any(not x.strip() for x in items):  # ("1,,2" or "1,2,": a value left out by mistake)
                raise ValueError
            values = [float(x) for x in items]
            if not all(math.isfinite(v) for v in values):
                raise ValueError
            return values
    except (ValueError, InvalidOperation):
        raise DesignError(f"values must be finite numbers V1,V2,... or START:STOP:STEP with STEP > 0; got {spec!r}",
                          loc="--vary") from None
    if count > MAX_GRID_POINTS:
        shown = (f"{int(count):,}" if count < 10**15 else f"{count:.3g}" if count.is_finite()
                 else "over 10^700")
        raise DesignError(f"START:STOP:STEP gives {shown} values, more than {MAX_GRID_POINTS:,}: take a larger step; "
                          f"got {spec!r}", loc="--vary")
    with localcontext() as ctx:
        ctx.prec = 700
        out = [float(start + i * step) for i in range(int(count))]
    if not all(math.isfinite(v) for v in out):
        raise DesignError(f"values must be finite numbers; got {spec!r}", loc="--vary")
    if len(set(out)) < len(out):  # (steps below a double's resolution: 1e-400:1e-399:1e-400 gives ten zeros)
        raise DesignError(f"START:STOP:STEP gives values that are the same number in double precision: take a larger "
                          f"step; got {spec!r}", loc="--vary")
    return out


def _fresh_seed() -> int:
    """Fresh entropy for a run without a seed, as :func:`condapprove.simulate` draws it (128 bits)."""
    import secrets

    return secrets.randbits(128)


def _quiet_simulate(design: Design, **kw: Any) -> SimulationResult:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DesignWarning)
        return simulate(design, **kw)


# ---------------------------------------------------------------- compare
@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class ComparisonResult(ResultMixin):
    """Several designs simulated with common random numbers.

    Attributes
    ----------
    labels : tuple of str
        One label per design (file names, or the designs' names).
    results : tuple of SimulationResult
        In the same order.
    """

    labels: tuple[str, ...]
    results: tuple[SimulationResult, ...]

    def to_frame(self) -> pd.DataFrame:
        """Tidy: one row per design and scenario, every figure with its MCSE, and the seed (its entropy)."""
        import pandas as pd

        records = [{"design": label, **row, "seed": int(res.provenance.seed_entropy)}
                   for label, res in zip(self.labels, self.results) for row in res.to_frame().to_dict("records")]
        return pd.DataFrame.from_records(records)

    def summary(self) -> str:
        """Designs side by side (columns), scenarios and figures as rows."""
        from ._text import render_table

        figures = [("p_confirmed", "P(confirmed)"), ("p_futility", "P(futility)"), ("p_undecided", "P(undecided)"),
                   ("decision_month_median", "median decision month"), ("expected_treated_enrolled",
                                                                         "E[treated enrolled]")]
        names = list(dict.fromkeys(s.name for r in self.results for s in r.scenarios))
        rows = []
        for name in names:
            for key, label in figures:
                cells = []
                for res in self.results:
                    try:
                        est = getattr(res[name], key)
                    except KeyError:
                        cells.append("-")
                        continue
                    cells.append(f"{est:.4f}" if key.startswith("p_") else f"{est:.2f}")
                rows.append([f"{name}: {label}", *cells])
        seed = self.results[0].provenance.seed_entropy
        head = f"{len(self.results)} designs, common random numbers (seed {seed})"
        return head + "\n\n" + render_table(["", *self.labels], rows)


def compare(designs: Sequence[Design], *, labels: Sequence[str] | None = None, replicates: int | None = None,
            seed: SeedLike = None, scenarios: Sequence[str] | None = None, n_jobs: int = 1) -> ComparisonResult:
    """Simulate several designs with the same seed (common random numbers per scenario).

    Parameters
    ----------
    designs : sequence of Design
        At least two designs.
    labels : sequence of str, optional
        Their labels (default: the designs' names).
    replicates, seed, scenarios, n_jobs
        As in :func:`condapprove.simulate`; one seed for all designs (default: the first
        design's seed, else fresh entropy).

    Returns
    -------
    ComparisonResult

    Examples
    --------
    >>> import condapprove
    >>> from condapprove.explore import compare
    >>> a = condapprove.load_design("designs/stemirac_survey.yaml")
    >>> b = condapprove.load_design("designs/delytact_survey.yaml")
    >>> cmp = compare([a, b], replicates=2048, seed=1)
    >>> cmp.to_frame()[["design", "scenario"]].shape
    (6, 2)
    """
    if len(designs) < 2:
        raise DesignError(f"`designs` must hold at least 2 designs; got {len(designs)}.")
    labels = list(labels) if labels is not None else [d.name for d in designs]
    if len(labels) != len(designs):
        raise DesignError(f"`labels` must hold one label per design ({len(designs)}); got {len(labels)}.")
    if seed is None:
        seed = designs[0].simulation.seed
    if seed is None:
        seed = _fresh_seed()
    if scenarios is not None:
        known = {x.name for d in designs for x in d.scenarios}
        unknown = [s for s in scenarios if s not in known]
        if unknown:
            close = difflib.get_close_matches(unknown[0], sorted(known), n=1)
            raise DesignError(f"{unknown[0]!r} is a scenario of none of the designs", loc="--scenario",
                              hint=f"did you mean {close[0]!r}?" if close else None)
    results = []
    for d in designs:
        wanted = None if scenarios is None else [s for s in scenarios if s in {x.name for x in d.scenarios}]
        if scenarios is not None and not wanted:
            raise DesignError(f"none of the scenarios {list(scenarios)} is in design {d.name!r}", loc="--scenario")
        results.append(_quiet_simulate(d, replicates=replicates, seed=seed, scenarios=wanted, n_jobs=n_jobs))
    return ComparisonResult(labels=tuple(labels), results=tuple(results))


# ---------------------------------------------------------------- sweep
@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class SweepResult(ResultMixin):
    """A grid of design variants simulated with common random numbers.

    Attributes
    ----------
    paths : tuple of str
        The varied fields.
    points : tuple of tuple of float or int
        The grid (one value per path at each point; an int for an integer field).
    results : tuple of SimulationResult
        One per point.
    """

    paths: tuple[str, ...]
    points: tuple[tuple[float | int, ...], ...]
    results: tuple[SimulationResult, ...]

    def to_frame(self) -> pd.DataFrame:
        """Tidy: one row per grid point and scenario; the varied fields first, the seed (its entropy) last."""
        import pandas as pd

        records = [{**dict(zip(self.paths, point)), **row, "seed": int(res.provenance.seed_entropy)}
                   for point, res in zip(self.points, self.results) for row in res.to_frame().to_dict("records")]
        return pd.DataFrame.from_records(records)


def sweep(design: Design, vary: Mapping[str, Sequence[float]], *, replicates: int | None = None, seed: SeedLike = None,
          scenarios: Sequence[str] | None = None, n_jobs: int = 1,
          progress: Callable[[int, int], None] | None = None,
          checkpoint: str | os.PathLike[str] | None = None) -> SweepResult:
    """Simulate ``design`` at every combination of the values in ``vary`` (dotted path -> values).

    With ``checkpoint`` (a folder), each grid point keeps its completed chunks in a subfolder
    ``point-<i>``, so an interrupted sweep resumes where it stopped with identical results.

    Examples
    --------
    >>> import condapprove
    >>> from condapprove.explore import sweep
    >>> d = condapprove.load_design("designs/stemirac_survey.yaml")
    >>> res = sweep(d, {"post_marketing.treated.target_n": [30, 60]}, replicates=2048, seed=1)
    >>> res.to_frame()[["post_marketing.treated.target_n", "scenario"]].shape
    (6, 2)
    """
    if not vary:
        raise DesignError("`vary` must name at least one field; got none.", loc="--vary")
    n_points = math.prod(len(v) for v in vary.values())
    if not 1 <= n_points <= MAX_GRID_POINTS:
        raise DesignError(f"the grid must have between 1 and {MAX_GRID_POINTS:,} points; got {n_points:,}",
                          loc="--vary")
    paths = list(vary)
    integer = []  # (an integer field's values are shown as integers: 30, not 30.0)
    for p in paths:  # validate every path before any simulation
        _, holder, key = _numeric_field(design, p)
        integer.append(isinstance(holder[key], int))
        set_path(design, p, float(vary[p][0]))
    _distinct_fields(design, paths)
    seed_varied = "simulation.seed" in paths  # each point then runs with its own seed
    if seed_varied and seed is not None:
        raise DesignError("a varied simulation.seed sets each point's seed; give the seed or vary it, not both",
                          loc="--seed")
    seed = design.simulation.seed if seed is None else seed
    if seed is None:
        seed = _fresh_seed()
    points = list(itertools.product(*(list(vary[p]) for p in paths)))
    results = []
    for i, point in enumerate(points):
        d = design
        for p, v in zip(paths, point):
            d = set_path(d, p, float(v))
        ckpt = None if checkpoint is None else os.path.join(os.fspath(checkpoint), f"point-{i}")
        results.append(_quiet_simulate(d, replicates=replicates, seed=d.simulation.seed if seed_varied else seed,
                                       scenarios=scenarios, n_jobs=n_jobs, checkpoint=ckpt))
        if progress is not None:
            progress(i + 1, len(points))
    return SweepResult(paths=tuple(paths), results=tuple(results),
                       points=tuple(tuple(int(v) if whole else float(v) for v, whole in zip(p, integer))
                                    for p in points))


# ---------------------------------------------------------------- size
@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class SizeResult(ResultMixin):
    """A value of a field that meets a target probability of confirmation, its neighbour below missing it.

    Attributes
    ----------
    path : str
        The field searched.
    value : float or None
        The value found (an int for an integer field), or None if no value searched meets the
        target.
    method : {"bisection", "scan"}
        How it was searched (:func:`size`): bisection finds the smallest value when P(confirmed)
        increases with the field; the scan of an integer field is the smallest value whatever.
    scenario, null_scenario : str
        The scenario whose P(confirmed) must reach ``target``, and the no-effect scenario whose
        P(confirmed) must stay <= the alpha of the design at ``value`` (+ 3 MCSE of Monte-Carlo slack).
    target : float
        The required probability.
    p_confirmed : MonteCarloEstimate
        P(confirmed) under ``scenario`` at ``value``; when none is found, at the upper end
        (bisection) or the highest of the values scanned (scan).
    p_confirmed_below : MonteCarloEstimate or None
        The same at the next value below ``value`` (the next valid one for an integer field): it
        misses the target.
    p_null : MonteCarloEstimate
        P(confirmed) under the null scenario at ``value``.
    resolved : bool
        False when ``p_confirmed`` is within 2 MCSE of the target at ``value`` or one step below:
        the simulation cannot tell them apart, so more replicates are needed for this precision.
    evaluated : tuple of tuple
        Every (value, P(confirmed), MCSE) the search computed, in order.
    seed : int
        The seed of every simulation of the search (given, the design's, or fresh entropy).
    """

    path: str
    value: float | None
    method: str
    scenario: str
    null_scenario: str | None
    target: float
    p_confirmed: MonteCarloEstimate
    p_confirmed_below: MonteCarloEstimate | None
    p_null: MonteCarloEstimate | None
    resolved: bool
    evaluated: tuple[tuple[float, float, float], ...]
    seed: int | None

    def summary(self) -> str:
        """A few lines for the terminal."""
        seed = f" (seed {self.seed})" if self.seed is not None else ""
        if self.value is None:
            if self.method == "scan":
                best = max(self.evaluated, key=lambda e: e[1])
                return (f"{self.path}: no value from {self.evaluated[0][0]:g} to {self.evaluated[-1][0]:g} reaches "
                        f"P(confirmed) >= {self.target:g} under {self.scenario!r}; the best was {self.p_confirmed} "
                        f"at {best[0]:g}{seed}")
            return (f"{self.path}: at the upper end, {self.evaluated[-1][0]:g}, P(confirmed | {self.scenario}) = "
                    f"{self.p_confirmed}, below the target {self.target:g}; bisection assumes P(confirmed) "
                    f"increases with the field and searched no lower value (an integer field: --scan tries every "
                    f"value; or sweep the range){seed}")
        v = f"{self.value:g}"
        lines = [f"{self.path} = {v}: P(confirmed | {self.scenario}) = {self.p_confirmed} (target {self.target:g})"]
        if self.p_confirmed_below is not None:
            lines.append(f"one step below: {self.p_confirmed_below}")
        if self.p_null is not None:
            lines.append(f"P(confirmed | {self.null_scenario}) = {self.p_null}")
        lines.append(f"{self.method}, {len(self.evaluated)} values simulated{seed}")
        if not self.resolved:
            lines.append("not resolved: the probability is within 2 MCSE of the target; rerun with more replicates")
        return "\n".join(lines)


def _null_scenario(design: Design) -> str | None:
    pm = design.post_marketing
    for s in design.scenarios:
        kind = pm.endpoint.type
        if kind == "time_to_event" and s.hazard_ratio == 1.0:
            return s.name
        ref = getattr(pm.control, "rate" if kind == "binary" else "mean", None)
        treated = s.treated_rate if kind == "binary" else s.treated_mean
        control = s.control_rate if kind == "binary" else s.control_mean
        if isinstance(treated, (int, float)) and treated == (control if control is not None else ref):
            return s.name
    return None


def size(design: Design, path: str, *, target: float, scenario: str, lower: float, upper: float,
         null_scenario: str | None = None, replicates: int | None = None, seed: SeedLike = None,
         n_jobs: int = 1, checkpoint: str | os.PathLike[str] | None = None, scan: bool = False) -> SizeResult:
    """A value of the field ``path`` in [lower, upper] with P(confirmed | scenario) >= target whose neighbour below
    misses it: the smallest such value when P(confirmed) increases with the field, or with ``scan``.

    By default the search is a bisection, which assumes P(confirmed) increases with the field
    (e.g. a sample size or an accrual rate): the upper end is simulated first, and if it misses
    the target no lower value is tried.  Integer fields are bisected over integers, then stepped
    down while the value below also meets the target; real fields are searched to 1e-3 of the
    range.  An exact test's power is saw-toothed in n, so a value further below may meet the
    target too: ``scan`` (integer fields) simulates every value from ``lower`` up and returns the
    first that meets it, the smallest whatever the shape (at the cost of one simulation per
    value; at most :data:`MAX_GRID_POINTS` integers in the range).  An integer the design cannot
    take (a 1:0.5 allocation takes even numbers of patients only, 1:0.035 multiples of 200) is
    passed over for the nearest valid one, however far.  Common random numbers make the
    simulated probability nearly monotone in the field.  The no-effect scenario
    (``null_scenario``, default: one whose treated value equals the control or benchmark) must
    keep P(confirmed) <= the alpha of the design at the answer + 3 MCSE, else an error says so.
    With ``checkpoint`` (a folder), each evaluated value keeps its chunks in a subfolder
    ``value-<v>`` (``repr(v)``), so an interrupted search resumes with identical results.

    Examples
    --------
    >>> import condapprove
    >>> from condapprove.explore import size
    >>> d = condapprove.load_design("designs/stemirac_survey.yaml")
    >>> res = size(d, "post_marketing.treated.target_n", target=0.6, scenario="modest",
    ...            lower=20, upper=100, replicates=4096, seed=1)
    >>> res.p_confirmed.value >= 0.6 > res.p_confirmed_below.value
    True
    """
    if not 0 < target < 1:
        raise DesignError(f"must be in (0, 1); got {target:g}", loc="--target")
    names = [s.name for s in design.scenarios]
    check_one_of(scenario, "scenario", names, loc="--scenario")
    null = null_scenario if null_scenario is not None else _null_scenario(design)
    if null is not None:
        check_one_of(null, "null_scenario", names, loc="--null")
    for name, end in (("--lower", lower), ("--upper", upper)):
        if not math.isfinite(end):
            raise DesignError(f"must be a finite number; got {end:g}", loc=name)
    if not lower < upper:
        raise DesignError(f"the search needs lower < upper; got {lower:g} and {upper:g}", loc="--lower")
    seed = design.simulation.seed if seed is None else seed
    if seed is None:
        seed = _fresh_seed()
    _, holder, key = _numeric_field(design, path)
    if path == "simulation.seed":  # (the search compares values on common random numbers: one seed for all)
        raise DesignError("the seed is not a design quantity to size; vary another field", loc="--vary")
    integer = isinstance(holder[key], int)
    if integer:
        if math.ceil(lower) > math.floor(upper):
            raise DesignError(f"{path} is an integer field, and no whole number lies between {lower:g} and {upper:g}",
                              loc="--lower")
        lower, upper = math.ceil(lower), math.floor(upper)
        if scan and upper - lower + 1 > MAX_GRID_POINTS:
            raise DesignError(f"--scan simulates every value, and {lower:,} to {upper:,} holds "
                              f"{upper - lower + 1:,}, more than {MAX_GRID_POINTS:,}: narrow the range",
                              loc="--scan")
    elif scan:
        raise DesignError(f"--scan tries every value of an integer field; {path} is not one", loc="--scan")
    probe = set_path(design, path, lower, value_loc="--lower")
    set_path(design, path, upper, value_loc="--upper")  # (both ends valid before any simulation)
    evaluated: list[tuple[float, float, float]] = []
    cache: dict[float, SimulationResult] = {}
    designs: dict[float, Design | None] = {}

    def variant(v: float) -> Design | None:
        """The design at ``v``, or None where the value makes it invalid (an integer field's interior values)."""
        if v not in designs:
            try:
                designs[v] = set_path(probe, path, v)
            except DesignError:
                if not integer:
                    raise
                designs[v] = None
        return designs[v]

    def valid_near(v: int, lo: int, hi: int) -> int | None:
        """The valid integer strictly between ``lo`` and ``hi`` nearest ``v`` (above first), or None.

        The whole interval is searched: valid values may be sparse (a control ratio of 0.035 takes
        multiples of 200 treated patients only), and a check costs a validation, not a simulation."""
        for d in range(max(v - lo, hi - v) + 1):
            for c in ((v + d, v - d) if d else (v,)):
                if lo < c < hi and variant(c) is not None:
                    return c
        return None

    def valid_below(v: int) -> int | None:
        """The next valid integer below ``v``, down to ``lower``, or None."""
        for c in range(v - 1, int(lower) - 1, -1):
            if variant(c) is not None:
                return c
        return None

    def run(v: float) -> SimulationResult:
        if v not in cache:
            wanted = [scenario] + ([null] if null is not None and null != scenario else [])
            # (the value's shortest exact text: ``:g`` merged values agreeing to 6 digits into one folder)
            ckpt = None if checkpoint is None else os.path.join(os.fspath(checkpoint), f"value-{v!r}")
            d = variant(v)
            assert d is not None
            cache[v] = _quiet_simulate(d, replicates=replicates, seed=seed, scenarios=wanted, n_jobs=n_jobs,
                                       checkpoint=ckpt)
            est = cache[v][scenario].p_confirmed
            evaluated.append((v, est.value, est.mcse))
        return cache[v]

    def ok(v: float) -> bool:
        return run(v)[scenario].p_confirmed.value >= target

    method = "scan" if scan else "bisection"
    int_seed = int(run(lower if scan else upper).provenance.seed_entropy)  # (the entropy every value's run used)

    def missed(top: MonteCarloEstimate) -> SizeResult:
        return SizeResult(path=path, value=None, method=method, scenario=scenario, null_scenario=null,
                          target=target, p_confirmed=top, p_confirmed_below=None, p_null=None, resolved=False,
                          evaluated=tuple(evaluated), seed=int_seed)

    below_value: float | None
    if scan:
        hi: float | None = None
        prev: int | None = None
        for c in range(int(lower), int(upper) + 1):
            if variant(c) is None:
                continue
            if ok(c):
                hi = c
                break
            prev = c
        if hi is None:
            return missed(max((run(v)[scenario].p_confirmed for v, _, _ in evaluated), key=lambda e: e.value))
        below_value = prev
    else:
        if not ok(upper):
            return missed(run(upper)[scenario].p_confirmed)
        lo, hi = lower, upper
        if ok(lo):
            hi = lo
        else:
            tol = 1.0 if integer else 1e-3 * (upper - lower)
            while hi - lo > tol:
                mid: float | None = (valid_near(math.floor((lo + hi) / 2), int(lo), int(hi)) if integer
                                     else (lo + hi) / 2)
                if mid is None:  # (no valid integer strictly between: lo and hi are neighbours)
                    break
                if ok(mid):
                    hi = mid
                else:
                    lo = mid
        if integer:  # exact tests make power saw-toothed in n: step down while the value below also meets the target
            while (b := valid_below(int(hi))) is not None and ok(b):
                hi = b
            below_value = valid_below(int(hi))
        else:
            below_value = hi - 1e-3 * (upper - lower) if hi - 1e-3 * (upper - lower) >= lower else None
    found = run(hi)[scenario].p_confirmed
    below = run(below_value)[scenario].p_confirmed if below_value is not None else None
    p_null = run(hi)[null].p_confirmed if null is not None else None
    at = variant(hi)
    assert at is not None
    alpha = at.post_marketing.alpha
    if p_null is not None and p_null.value > alpha + 3 * p_null.mcse:
        raise DesignError(f"at {path} = {hi:g} the no-effect scenario {null!r} confirms with probability "
                          f"{p_null} > alpha = {alpha:g}", loc="--null")
    resolved = abs(found.value - target) > 2 * found.mcse and (below is None or
                                                                abs(below.value - target) > 2 * below.mcse)
    return SizeResult(path=path, value=int(hi) if integer else float(hi), method=method, scenario=scenario,
                      null_scenario=null, target=target, p_confirmed=found, p_confirmed_below=below, p_null=p_null,
                      resolved=resolved, evaluated=tuple(evaluated), seed=int_seed)
