"""Shared helpers of the case-study pages (``docs/cases/<slug>.py``).

A case module defines ``SLUG``, ``TITLE``, ``compute(replicates) -> dict``, ``render(doc) -> str`` and,
optionally, ``figures(doc, outdir) -> list[Path]``.  ``compute`` returns the JSON document

``{"replicates": n, "numbers": {key: {"value": float | int | str, "mcse": float | None}}, ...}``

where ``mcse`` is None for an exact number (no simulation) and the Monte-Carlo standard error otherwise.
``docs/cases/build.py`` writes it to ``<slug>.json`` and ``render`` of it to ``<slug>.md``;
``tests/test_case_studies.py`` checks both against a fresh ``compute`` at a small replicate count.

``render`` and ``figures`` are called with :func:`view` of the document: the document itself, with the
entries of ``numbers`` also reachable at the top level, so ``doc["numbers"][key]`` and ``doc[key]`` both
work.  Use :func:`numbers_of` to get the inner mapping whichever was passed.

Stable API (other case modules import it): :data:`ROOT`, :data:`DESIGNS`, :func:`design`, :func:`exact`,
:func:`mc`, :func:`numbers_of`, :func:`view`, :func:`value`, :func:`fmt`, :func:`pm`, :func:`pct`,
:func:`table`, :func:`scenario_numbers`, :func:`evidence_numbers`, :func:`quiet`, :func:`save_svg`,
:func:`write_atomic`, :func:`bar_chart`, :func:`line_chart`.
"""

from __future__ import annotations

import contextlib
import math
import os
import tempfile
import warnings
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

#: The repository root.
ROOT = Path(__file__).resolve().parents[2]
#: The shipped design files.
DESIGNS = ROOT / "designs"

#: Figures of a :class:`condapprove.ScenarioResult` copied by :func:`scenario_numbers` by default.
SCENARIO_FIGURES: tuple[str, ...] = (
    "p_confirmed", "p_futility", "p_undecided", "p_target_not_reached", "decision_month_median",
    "expected_treated_enrolled", "expected_controls_enrolled", "expected_events", "mean_estimate",
    "mean_true_effect",
)


def design(name: str) -> Any:
    """Load ``designs/<name>.yaml`` (``name`` without the extension).

    Parameters
    ----------
    name : str
        File stem in ``designs/``.

    Returns
    -------
    condapprove.Design
    """
    import condapprove

    return condapprove.load_design(DESIGNS / f"{name}.yaml")


def exact(value: float | str) -> dict[str, Any]:
    """An exact number (computed without simulation): ``{"value": value, "mcse": None}``.

    Parameters
    ----------
    value : float, int or str
        The number (numpy scalars are converted to Python numbers).

    Returns
    -------
    dict
    """
    if isinstance(value, str):
        return {"value": value, "mcse": None}
    if isinstance(value, bool):
        raise TypeError("booleans are not numbers here; store 'yes'/'no' or 1/0")
    if isinstance(value, int) or (hasattr(value, "dtype") and getattr(value.dtype, "kind", "") in "iu"):
        return {"value": int(value), "mcse": None}
    v = float(value)
    if not math.isfinite(v):
        raise ValueError(f"exact numbers must be finite; got {value!r}")
    return {"value": v, "mcse": None}


def mc(estimate: Any, mcse: float | None = None) -> dict[str, Any]:
    """A Monte-Carlo number: from a :class:`condapprove.MonteCarloEstimate`, or ``(value, mcse)``.

    Parameters
    ----------
    estimate : MonteCarloEstimate or float
        The estimate, or its value when ``mcse`` is given.
    mcse : float, optional
        The Monte-Carlo standard error when ``estimate`` is a plain number.

    Returns
    -------
    dict
        ``{"value": float, "mcse": float}``.
    """
    if mcse is None:
        value, se = float(estimate.value), float(estimate.mcse)
    else:
        value, se = float(estimate), float(mcse)
    if not (math.isfinite(value) and math.isfinite(se)):
        raise ValueError(f"Monte-Carlo numbers must be finite; got {value!r} ± {se!r}")
    return {"value": value, "mcse": se}


def probability(estimate: Any) -> dict[str, Any]:
    """A Monte-Carlo probability (a :class:`condapprove.MonteCarloEstimate`) with an Agresti-Coull MCSE; see
    :func:`share`."""
    return share(float(estimate.value), int(estimate.n_sims))


def share(p: float, n: int) -> dict[str, Any]:
    """A probability from a share ``p`` of ``n`` replicates, with an Agresti-Coull MCSE.

    The MCSE is sqrt(q (1 - q) / n) with q = (x + 2) / (n + 4), x = p n: the plain binomial formula is 0 at
    p = 0 or 1 and understates the error close to them, which would make the pages' agreement checks too strict.
    """
    q = (round(p * n) + 2.0) / (n + 4.0)
    return mc(float(p), math.sqrt(q * (1.0 - q) / n))


def numbers_of(doc: Mapping[str, Any]) -> Mapping[str, Any]:
    """The ``numbers`` mapping of a case document, or ``doc`` itself when it is already that mapping."""
    inner = doc.get("numbers")
    if isinstance(inner, Mapping) and all(isinstance(v, Mapping) for v in inner.values()):
        return inner
    return doc


def view(doc: Mapping[str, Any]) -> dict[str, Any]:
    """The document as passed to ``render``/``figures``: itself, plus its numbers at the top level."""
    return {**numbers_of(doc), **doc}


def value(doc: Mapping[str, Any], key: str) -> Any:
    """The value of number ``key``."""
    return numbers_of(doc)[key]["value"]


def fmt(doc: Mapping[str, Any], key: str, digits: int = 3, *, percent: bool = False) -> str:
    """Number ``key`` as text: ``value ± mcse`` for a Monte-Carlo number, the value for an exact one.

    Parameters
    ----------
    doc : mapping
        The case document (or its ``numbers``).
    key : str
        The number's key.
    digits : int
        Decimals (of the percentage when ``percent``).
    percent : bool
        Show as a percentage (value and MCSE times 100, followed by ``%``).

    Returns
    -------
    str
        A Monte-Carlo number whose MCSE rounds to 0 at ``digits`` decimals is shown without it
        (the text says MCSEs below the last digit are omitted).
    """
    entry = numbers_of(doc)[key]
    return pm(entry["value"], entry["mcse"], digits, percent=percent)


def pm(v: Any, se: float | None, digits: int = 3, *, percent: bool = False) -> str:
    """Format a value with an optional MCSE (see :func:`fmt`)."""
    if isinstance(v, str):
        return v
    if isinstance(v, int) and se is None and not percent:
        return str(v)
    scale, tail = (100.0, "%") if percent else (1.0, "")
    text = f"{v * scale:.{digits}f}"
    if se is not None and round(se * scale, digits) > 0:
        text += f" ± {se * scale:.{digits}f}"
    return text + tail


def pct(doc: Mapping[str, Any], key: str, digits: int = 1) -> str:
    """Number ``key`` as a percentage (see :func:`fmt`)."""
    return fmt(doc, key, digits, percent=True)


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A Markdown pipe table (cells converted with ``str``; ``|`` escaped)."""
    def cell(x: Any) -> str:
        return str(x).replace("|", "\\|").replace("\n", " ")

    if any(len(r) != len(headers) for r in rows):
        raise ValueError("every row needs one cell per header")
    lines = ["| " + " | ".join(cell(h) for h in headers) + " |",
             "| " + " | ".join("---" for _ in headers) + " |"]
    lines += ["| " + " | ".join(cell(c) for c in r) + " |" for r in rows]
    return "\n".join(lines)


def scenario_numbers(prefix: str, scenario: Any, figures: Sequence[str] = SCENARIO_FIGURES) -> dict[str, Any]:
    """Numbers ``<prefix>.<figure>`` of one :class:`condapprove.ScenarioResult`.

    Figures the scenario does not have (None, e.g. events of a binary endpoint) are left out;
    ``p_confirmed_exact`` is added as an exact number when the library computed it; the
    per-look confirmation probabilities are added as ``<prefix>.p_confirmed_<look>``.

    Parameters
    ----------
    prefix : str
        Key prefix, e.g. ``"cmp.planned.HR 0.5"``.
    scenario : ScenarioResult
        One scenario of a simulation.
    figures : sequence of str
        Attributes to copy.

    Returns
    -------
    dict
    """
    out: dict[str, Any] = {}
    for name in figures:
        est = getattr(scenario, name)
        if est is not None and math.isfinite(est.value) and math.isfinite(est.mcse):
            out[f"{prefix}.{name}"] = mc(est)
    if len(scenario.look_labels) > 1:
        for label, est in zip(scenario.look_labels, scenario.p_confirmed_by_look):
            out[f"{prefix}.p_confirmed_{label}"] = mc(est)
    if scenario.p_confirmed_exact is not None:
        out[f"{prefix}.p_confirmed_exact"] = exact(scenario.p_confirmed_exact)
    return out


def evidence_numbers(prefix: str, result: Any) -> dict[str, Any]:
    """Exact numbers of an :class:`condapprove.evidence.EvidenceResult`.

    Keys: ``<prefix>.verdict``; ``<prefix>.interval.<method>.low/high``;
    ``<prefix>.posterior.<prior>.mean/low/high``; ``<prefix>.criterion.<i>.value/threshold/passed/text``
    (criteria in the order given) and ``<prefix>.sensitivity.<i>.value/threshold/passed/text`` (the
    sensitivity rows: other priors, other interval methods).

    Parameters
    ----------
    prefix : str
        Key prefix.
    result : EvidenceResult
        From :func:`condapprove.evidence.evaluate_evidence`.

    Returns
    -------
    dict
    """
    out: dict[str, Any] = {f"{prefix}.verdict": exact(result.verdict)}
    for method, iv in result.intervals.items():
        out[f"{prefix}.interval.{method}.low"] = exact(iv["low"])
        out[f"{prefix}.interval.{method}.high"] = exact(iv["high"])
    for name, post in result.posteriors.items():
        for k in ("mean", "low", "high"):
            out[f"{prefix}.posterior.{name}.{k}"] = exact(post[k])
    for i, c in enumerate(result.criteria):
        out[f"{prefix}.criterion.{i}.value"] = exact(c.value)
        out[f"{prefix}.criterion.{i}.threshold"] = exact(c.threshold)
        out[f"{prefix}.criterion.{i}.passed"] = exact("pass" if c.passed else "fail")
        out[f"{prefix}.criterion.{i}.text"] = exact(c.criterion)
    for i, c in enumerate(result.sensitivity):
        out[f"{prefix}.sensitivity.{i}.value"] = exact(c.value)
        out[f"{prefix}.sensitivity.{i}.threshold"] = exact(c.threshold)
        out[f"{prefix}.sensitivity.{i}.passed"] = exact("pass" if c.passed else "fail")
        out[f"{prefix}.sensitivity.{i}.text"] = exact(c.criterion)
    return out


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    """Silence the library's design warnings (targets out of reach are the point of some cases)."""
    from condapprove import DesignWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DesignWarning)
        yield


def save_svg(fig: Any, outdir: Path, name: str) -> Path:
    """Write a matplotlib figure (or axes) to ``outdir/<name>.svg`` atomically, byte-reproducibly.

    Parameters
    ----------
    fig : matplotlib Figure or Axes
        What to save.
    outdir : Path
        Folder (created if missing).
    name : str
        File stem, ``<slug>-<what>``.

    Returns
    -------
    Path
    """
    from condapprove.reporting.plots import figure_bytes

    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    target = outdir / f"{name}.svg"
    write_atomic(target, figure_bytes(fig, "svg"))
    return target


def write_atomic(path: Path, data: bytes | str) -> None:
    """Write ``data`` to a temporary file beside ``path`` and rename it over ``path``."""
    path = Path(path)
    raw = data.encode("utf-8") if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(raw)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _axes(figsize: tuple[float, float]) -> Any:
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize, layout="constrained")
    ax = fig.add_subplot()
    ax.set_axisbelow(True)
    ax.grid(True, axis="y", color="#e4e7eb", linewidth=0.8)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    return ax


#: Okabe-Ito colours, as in :mod:`condapprove.reporting.plots`.
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000")


def bar_chart(doc: Mapping[str, Any], categories: Sequence[str], series: Sequence[tuple[str, Sequence[str]]], *,
              ylabel: str, title: str = "", hline: float | None = None, ylim: tuple[float, float] | None = (0, 1),
              figsize: tuple[float, float] = (7.5, 3.8)) -> Any:
    """Grouped bars of numbers with 95% Monte-Carlo error bars (± 1.96 MCSE).

    Parameters
    ----------
    doc : mapping
        The case document.
    categories : sequence of str
        Groups along the x axis.
    series : sequence of (label, keys)
        One bar per category in each series; ``keys`` has one number key per category.
    ylabel, title : str
        Labels.
    hline : float, optional
        A dashed reference line (e.g. the one-sided level).
    ylim : (float, float) or None
        y limits.
    figsize : (float, float)
        Inches.

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax = _axes(figsize)
    k = len(series)
    width = 0.8 / max(k, 1)
    for j, (label, keys) in enumerate(series):
        xs = [i - 0.4 + width * (j + 0.5) for i in range(len(categories))]
        vals, errs = _values_and_errors(doc, keys)
        ax.bar(xs, vals, width=width * 0.92, label=label, color=PALETTE[j % len(PALETTE)], yerr=errs,
               error_kw={"elinewidth": 0.8, "capsize": 2, "ecolor": "#1f2933"})
    ax.set_xticks(range(len(categories)), list(categories))
    _finish(ax, ylabel=ylabel, title=title, hline=hline, ylim=ylim)
    ax.legend(frameon=False, fontsize=8, ncols=min(k, 4), loc="upper left")
    return ax


def line_chart(doc: Mapping[str, Any], xs: Sequence[float], series: Sequence[tuple[str, Sequence[str]]], *,
               xlabel: str, ylabel: str, title: str = "", hline: float | None = None,
               ylim: tuple[float, float] | None = (0, 1), figsize: tuple[float, float] = (6.5, 3.6)) -> Any:
    """Lines of numbers against ``xs`` with 95% Monte-Carlo error bars (± 1.96 MCSE).

    Parameters
    ----------
    doc : mapping
        The case document.
    xs : sequence of float
        x values.
    series : sequence of (label, keys)
        One line per series; ``keys`` has one number key per x value.
    xlabel, ylabel, title : str
        Labels.
    hline : float, optional
        A dashed reference line.
    ylim : (float, float) or None
        y limits.
    figsize : (float, float)
        Inches.

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax = _axes(figsize)
    for j, (label, keys) in enumerate(series):
        vals, errs = _values_and_errors(doc, keys)
        ax.errorbar(list(xs), vals, yerr=errs, label=label, color=PALETTE[j % len(PALETTE)], marker="o",
                    markersize=4, linewidth=1.4, capsize=2, elinewidth=0.8)
    ax.set_xticks(list(xs), [f"{x:g}" for x in xs])
    ax.set_xlabel(xlabel)
    _finish(ax, ylabel=ylabel, title=title, hline=hline, ylim=ylim)
    ax.legend(frameon=False, fontsize=8)
    return ax


def _values_and_errors(doc: Mapping[str, Any], keys: Sequence[str]) -> tuple[list[float], list[float]]:
    """The numbers of ``keys`` and their 95% Monte-Carlo error bars (1.96 MCSE; 0 for exact numbers)."""
    return ([float(value(doc, key)) for key in keys],
            [1.96 * float(numbers_of(doc)[key]["mcse"] or 0.0) for key in keys])


def _finish(ax: Any, *, ylabel: str, title: str, hline: float | None, ylim: tuple[float, float] | None) -> None:
    """The y label, title, reference line and y limits shared by the charts."""
    if hline is not None:
        ax.axhline(hline, color="#616e7c", linestyle="--", linewidth=0.8)
    if ylim is not None:
        ax.set_ylim(*ylim)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title, loc="left", fontsize=10)
