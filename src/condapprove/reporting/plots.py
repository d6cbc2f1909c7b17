"""Figures of simulation and estimation results (matplotlib, imported lazily).

Every ``plot_*`` function draws on the :class:`~matplotlib.axes.Axes` it is given, or on a
new :class:`~matplotlib.figure.Figure` (no pyplot state, so nothing is shown and nothing
leaks between calls), and returns the axes; :func:`save_figure` writes a figure as PNG
and SVG.  matplotlib is an optional dependency: ``pip install 'condapprove[plot]'``.

Monte-Carlo error bars are ``value ± 1.96 MCSE`` (95% Monte-Carlo intervals).
"""

from __future__ import annotations

import io
import math
import os
import textwrap
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._text import percent
from ..errors import DesignError
from ..simulation.results import ScenarioResult, SimulationResult

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from ..estimate.heterogeneity import RandomEffectsResult

__all__ = ["figure_bytes", "plot_decision_curves", "plot_expected_numbers", "plot_forest", "plot_oc_curve", "save_figure"]

#: 95% normal quantile for Monte-Carlo error bars.
Z95 = 1.959963984540054

#: Okabe-Ito colours (distinguishable with the common colour-vision deficiencies).
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000")
INK = "#1f2933"
MUTED = "#616e7c"
GRID = "#e4e7eb"

_INSTALL_HINT = "plotting needs matplotlib, an optional dependency: pip install 'condapprove[plot]'"


def _new_axes(ax: Axes | None, figsize: tuple[float, float]) -> Axes:
    """``ax``, or the axes of a new pyplot-free figure with constrained layout."""
    try:
        from matplotlib.figure import Figure
    except ImportError as exc:  # pragma: no cover - exercised only without matplotlib
        raise ImportError(_INSTALL_HINT) from exc
    if ax is not None:
        return ax
    fig = Figure(figsize=figsize, layout="constrained")
    return fig.add_subplot()


def _style(ax: Axes, *, grid_axis: str = "y") -> None:
    """A quiet house style: light grid behind the data, no top/right spines."""
    ax.set_axisbelow(True)
    ax.grid(True, axis=grid_axis, color=GRID, linewidth=0.8)  # type: ignore[arg-type]
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    for side in ("left", "bottom"):
        ax.spines[side].set_color("#9aa5b1")
    ax.tick_params(colors=INK, labelsize=9)
    ax.xaxis.label.set_color(INK)
    ax.yaxis.label.set_color(INK)
    ax.title.set_color(INK)


def _design_dict(result: SimulationResult) -> dict[str, Any]:
    return result.provenance.resolved_design or {}


def _effect_label(result: SimulationResult) -> str:
    """The scale of ``mean_true_effect`` in words."""
    pm = _design_dict(result).get("post_marketing", {})
    kind = pm.get("endpoint", {}).get("type")
    comparator = "benchmark" if pm.get("control", {}).get("kind") == "benchmark" else "control"
    if kind == "binary":
        return f"true difference in response rate (treated \u2212 {comparator})"
    if kind == "continuous":
        return f"true difference in mean (treated \u2212 {comparator})"
    if kind == "time_to_event":
        return "true log hazard ratio (treated vs control; < 0 favours treated)"
    return "true effect"


def _alpha_of(result: SimulationResult) -> float | None:
    """The one-sided type I error of a frequentist decision rule (None for a Bayesian rule)."""
    pm = _design_dict(result).get("post_marketing", {})
    decision = pm.get("decision", {}) or {}
    rule = decision.get("rule", "fixed")
    if rule == "bayesian":
        return None
    if rule == "group_sequential":
        return float(decision.get("alpha", 0.025))
    return float((pm.get("analysis", {}) or {}).get("alpha", 0.025))


def _has_futility(result: SimulationResult) -> bool:
    decision = _design_dict(result).get("post_marketing", {}).get("decision", {}) or {}
    declared = any(decision.get(k) is not None
                   for k in ("futility_conditional_power_below", "futility_z_below", "futility_below"))
    return declared or any(s.p_futility.value > 0 for s in result.scenarios)


def _effect_drawn(s: ScenarioResult) -> bool:
    """Whether the scenario draws its true effect from a design prior (its mean varies by replicate)."""
    return s.mean_true_effect.mcse > 1e-9 * max(1.0, abs(s.mean_true_effect.value))


def _wrap(label: str, width: int = 18) -> str:
    return "\n".join(textwrap.wrap(label, width)) or label


def _oc_iv(results: SimulationResult | Sequence[SimulationResult],
           labels: Sequence[str] | None) -> tuple[list[SimulationResult], list[str]]:
    items = [results] if isinstance(results, SimulationResult) else list(results)
    if not items or not all(isinstance(r, SimulationResult) for r in items):
        raise DesignError(f"`results` must be a SimulationResult or a non-empty sequence of them; got {results!r}.")
    if labels is None:
        labels = [r.provenance.design_name for r in items]
    labels = [str(x) for x in labels]
    if len(labels) != len(items):
        raise DesignError(f"`labels` must have one entry per result ({len(items)}); got {len(labels)}.")
    return items, labels


def plot_oc_curve(
    results: SimulationResult | Sequence[SimulationResult],
    *,
    ax: Axes | None = None,
    x: Callable[[ScenarioResult], float] | Sequence[float] | None = None,
    labels: Sequence[str] | None = None,
    alpha: float | None = None,
    annotate: bool | None = None,
) -> Axes:
    """Operating-characteristic curve: P(confirmed by the cut-off) against the true effect.

    Parameters
    ----------
    results : SimulationResult or sequence of SimulationResult
        One result draws one curve through its scenarios; several (e.g. a sweep over a
        design parameter) draw one curve each.  When every result holds a single
        scenario (a sweep over the effect), they are joined into one curve.
    ax : matplotlib.axes.Axes, optional
        Where to draw; default a new figure.
    x : callable or sequence of float, optional
        The horizontal position of each scenario: a function of the
        :class:`~condapprove.simulation.ScenarioResult`, or one number per scenario
        (all results' scenarios in order).  Default: the scenario's mean true effect
        (``mean_true_effect.value``, on the scale of the analysis: difference in rates or
        means, log hazard ratio).
    labels : sequence of str, optional
        Legend label of each result (default: the design names).
    alpha : float, optional
        Height of the type I error reference line.  Default: the one-sided level of each
        design's frequentist decision rule (no line for a Bayesian rule).
    annotate : bool, optional
        Write each scenario's name beside its point (default: when there is one curve).

    Returns
    -------
    matplotlib.axes.Axes
        One :class:`~matplotlib.container.ErrorbarContainer` per curve (and one per
        result with assurance scenarios), a dotted horizontal line per distinct alpha, and
        hollow diamonds at the exact probabilities where the design has them.

    Notes
    -----
    Error bars are 95% Monte-Carlo intervals, ``value ± 1.96 MCSE``.  Scenarios whose
    true effect is drawn from a design prior (assurance; ``mean_true_effect.mcse > 0``)
    are shown as unconnected squares at their mean true effect: their probability is an
    average over effects, not a point of the curve.

    Examples
    --------
    >>> import condapprove
    >>> from condapprove.reporting import plot_oc_curve
    >>> res = condapprove.simulate(condapprove.load_design("designs/akuugo_trial.yaml"), replicates=2048, seed=1)
    >>> [round(s.mean_true_effect.value, 1) for s in res.scenarios]  # the default x
    [0.0, 3.0, 6.0, 6.0]
    >>> ax = plot_oc_curve(res)  # doctest: +SKIP
    >>> ax.figure.savefig("oc.png")  # doctest: +SKIP
    """
    items, names = _oc_iv(results, labels)
    ax = _new_axes(ax, (7.5, 4.6))
    flat = [(i, s) for i, r in enumerate(items) for s in r.scenarios]
    if x is None:
        xs = [s.mean_true_effect.value for _, s in flat]
    elif callable(x):
        xs = [float(x(s)) for _, s in flat]
    else:
        xs = [float(v) for v in x]
        if len(xs) != len(flat):
            raise DesignError(f"`x` must have one value per scenario ({len(flat)}); got {len(xs)}.")
    if not all(math.isfinite(v) for v in xs):
        raise DesignError(f"`x` must be finite numbers; got {xs!r}.")
    joined = len(items) > 1 and all(len(r.scenarios) == 1 for r in items)
    groups: list[tuple[str, list[int]]]
    if joined:
        groups = [("", list(range(len(flat))))]
    else:
        groups = [(names[i], [j for j, (k, _) in enumerate(flat) if k == i]) for i in range(len(items))]
    if annotate is None:
        annotate = len(groups) == 1
    exact_drawn = False
    placed: list[tuple[float, float, str, float]] = []
    for g, (label, idx) in enumerate(groups):
        colour = PALETTE[g % len(PALETTE)]
        fixed = sorted((j for j in idx if not _effect_drawn(flat[j][1])), key=lambda j: xs[j])
        drawn = sorted((j for j in idx if _effect_drawn(flat[j][1])), key=lambda j: xs[j])
        legend = label if len(groups) > 1 else "simulated"
        if fixed:
            ax.errorbar([xs[j] for j in fixed], [flat[j][1].p_confirmed.value for j in fixed],
                        yerr=[Z95 * flat[j][1].p_confirmed.mcse for j in fixed], fmt="o-", color=colour,
                        markersize=5, linewidth=1.8, capsize=3, elinewidth=1.0, label=legend)
        if drawn:
            ax.errorbar([xs[j] for j in drawn], [flat[j][1].p_confirmed.value for j in drawn],
                        yerr=[Z95 * flat[j][1].p_confirmed.mcse for j in drawn], fmt="s", color=colour,
                        markerfacecolor="white", markersize=6, capsize=3, elinewidth=1.0,
                        label=f"{legend}, assurance (effect drawn)" if len(groups) > 1 else "assurance (effect drawn)")
        exact = [(xs[j], v) for j in idx if (v := flat[j][1].p_confirmed_exact) is not None]
        if exact:
            ax.plot([e[0] for e in exact], [e[1] for e in exact], linestyle="none",
                    marker="D", markersize=8, markerfacecolor="none", markeredgecolor=INK, markeredgewidth=0.9,
                    label="_exact" if exact_drawn else "exact (no simulation)")
            exact_drawn = True
        if annotate:
            ys = [flat[j][1].p_confirmed.value for j in fixed]
            for pos, j in enumerate(fixed):
                a, b = max(pos - 1, 0), min(pos + 1, len(fixed) - 1)
                dx = xs[fixed[b]] - xs[fixed[a]]
                slope = (ys[b] - ys[a]) / dx if dx else 0.0
                placed.append((xs[j], ys[pos], flat[j][1].name, slope))
            placed += [(xs[j], flat[j][1].p_confirmed.value, flat[j][1].name, 0.0) for j in drawn]
    levels = sorted({v for v in ([alpha] if alpha is not None else [_alpha_of(r) for r in items]) if v is not None})
    for level in levels:
        ax.axhline(level, color=MUTED, linestyle=":", linewidth=1.2, label=f"one-sided \u03b1 = {level:g}")
    ax.set_ylim(-0.03, 1.03)
    _label_points(ax, placed)
    ax.set_xlabel(_effect_label(items[0]) if x is None else "scenario")
    ax.set_ylabel("P(confirmed by data cut-off)")
    ax.set_title("Operating characteristics (95% Monte-Carlo error bars)", fontsize=11, loc="left")
    _style(ax, grid_axis="both")
    ax.legend(fontsize=8, frameon=False, loc="best")
    return ax


def _label_points(ax: Axes, points: list[tuple[float, float, str, float]]) -> None:
    """Name each point beside it, on the side away from its curve, nudging labels apart.

    ``points`` holds ``(x, y, name, slope)`` with the local slope of the point's curve (0
    for a point on no curve).  A label goes to the right of its point (to the left in the
    right third of the axes), below it where the curve rises that way and above it where
    it falls.  Overlap is judged in axes fractions from the label's estimated extent
    (8-point text, about 0.57 em a character, over the axes' share of the figure width).
    """
    if not points:
        return
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    fig = ax.get_figure(root=True)
    width_pt = (fig.get_figwidth() if fig is not None else 7.5) * 72.0 * 0.82
    per_char = 8.0 * 0.57 / width_pt
    taken: list[tuple[float, float, float]] = []  # (left, right, y) of placed labels, axes fractions
    for x, y, name, slope in sorted(points, key=lambda p: (-p[1], p[0])):
        fx = (x - x0) / (x1 - x0)
        fy0 = (y - y0) / (y1 - y0)
        right = fx > 0.66
        above = (slope < 0) if not right else (slope > 0)
        step = 0.05 if above else -0.05
        fy = fy0 + (0.045 if above else -0.045)
        if fy < 0.03 or fy > 0.97:
            step, fy = -step, fy0 - (0.045 if above else -0.045)
        w = per_char * len(name) + 0.02
        lo, hi = (fx - w, fx) if right else (fx, fx + w)
        while any(abs(fy - ty) < 0.045 and lo < tr and tl < hi for tl, tr, ty in taken):
            fy += step
        taken.append((lo, hi, fy))
        ax.annotate(name, (x, y), xytext=(fx + (-0.015 if right else 0.015), fy), textcoords="axes fraction",
                    ha="right" if right else "left", va="center", fontsize=8, color=MUTED,
                    arrowprops={"arrowstyle": "-", "color": "#c3cad3", "linewidth": 0.6, "shrinkA": 0,
                                "shrinkB": 3})


def plot_decision_curves(result: SimulationResult, *, ax: Axes | None = None) -> Axes:
    """Cumulative probability of each decision over calendar months, per scenario.

    Parameters
    ----------
    result : SimulationResult
        A simulation (its :meth:`~condapprove.simulation.SimulationResult.decision_curves`).
    ax : matplotlib.axes.Axes, optional
        Where to draw; default a new figure.

    Returns
    -------
    matplotlib.axes.Axes
        One solid line per scenario (P(confirmed by month)), one dashed line per scenario
        (P(stopped for futility by month)) when the design can stop for futility, and a
        vertical line at the data cut-off.

    Notes
    -----
    The curves are evaluated at whole months from approval (and at the cut-off); their
    values at the cut-off are ``p_confirmed`` and ``p_futility``.

    Examples
    --------
    >>> import condapprove
    >>> from condapprove.reporting import plot_decision_curves
    >>> res = condapprove.simulate(condapprove.load_design("designs/akuugo_trial.yaml"), replicates=2048, seed=1)
    >>> ax = plot_decision_curves(res)  # doctest: +SKIP
    """
    if not isinstance(result, SimulationResult):
        raise DesignError(f"`result` must be a SimulationResult; got {type(result).__name__}.")
    ax = _new_axes(ax, (7.5, 4.6))
    curves = result.decision_curves()
    futility = _has_futility(result)
    for k, s in enumerate(result.scenarios):
        colour = PALETTE[k % len(PALETTE)]
        mine = curves[curves["scenario"] == s.name]
        conf = mine[mine["decision"] == "confirmed"]
        ax.plot(conf["month"], conf["probability"], color=colour, linewidth=1.8, label=s.name)
        if futility:
            fut = mine[mine["decision"] == "futility"]
            ax.plot(fut["month"], fut["probability"], color=colour, linewidth=1.4, linestyle="--",
                    label=f"_{s.name} futility")
    cutoff = result.provenance.cutoff_month
    ax.axvline(cutoff, color=INK, linewidth=1.0, linestyle="-.", label="_cut-off")
    ax.annotate(f"data cut-off\nmonth {cutoff:g}", (cutoff, 1.0), xytext=(-6, -4), textcoords="offset points",
                ha="right", va="top", fontsize=8, color=INK)
    ax.set_xlim(0, cutoff * 1.02)
    ax.set_ylim(-0.02, 1.04)
    ax.set_xlabel("months after approval")
    ax.set_ylabel("cumulative probability")
    ax.set_title("Decisions over calendar time" + (" (solid: confirmed, dashed: futility)" if futility
                                                   else " (P(confirmed) by month)"), fontsize=11, loc="left")
    _style(ax, grid_axis="both")
    ax.legend(fontsize=8, frameon=False, loc="upper left")
    return ax


#: Expected numbers shown by :func:`plot_expected_numbers`, in order.
_NUMBERS = (
    ("expected_treated_enrolled", "treated enrolled"),
    ("expected_treated_evaluable", "treated evaluable"),
    ("expected_controls_enrolled", "controls enrolled"),
    ("expected_controls_evaluable", "controls evaluable"),
    ("expected_events", "events"),
)


def plot_expected_numbers(result: SimulationResult, *, ax: Axes | None = None) -> Axes:
    """Grouped bars of the expected numbers of patients (and events) per scenario.

    Parameters
    ----------
    result : SimulationResult
        A simulation.
    ax : matplotlib.axes.Axes, optional
        Where to draw; default a new figure.

    Returns
    -------
    matplotlib.axes.Axes
        One :class:`~matplotlib.container.BarContainer` per quantity present in the
        design -- treated enrolled and evaluable; controls enrolled and evaluable (with a
        concurrent or external control); events (time to event) -- each with one bar per
        scenario and 95% Monte-Carlo error bars.

    Notes
    -----
    "Enrolled" counts patients enrolled by the end of enrolment (dropouts and patients
    never treated included); "evaluable" counts those evaluable at the decision; events
    are counted at the decision.  All are means over replicates.

    Examples
    --------
    >>> import condapprove
    >>> from condapprove.reporting import plot_expected_numbers
    >>> res = condapprove.simulate(condapprove.load_design("designs/heartsheet_survey_planned.yaml"),
    ...                            replicates=2048, seed=1)
    >>> ax = plot_expected_numbers(res)  # doctest: +SKIP
    """
    if not isinstance(result, SimulationResult):
        raise DesignError(f"`result` must be a SimulationResult; got {type(result).__name__}.")
    ax = _new_axes(ax, (7.5, 4.6))
    present = [(key, label) for key, label in _NUMBERS
               if any(getattr(s, key) is not None for s in result.scenarios)]
    n_s = len(result.scenarios)
    width = 0.8 / len(present)
    for q, (key, label) in enumerate(present):
        pos = [i - 0.4 + width * (q + 0.5) for i in range(n_s)]
        ests = [getattr(s, key) for s in result.scenarios]
        values = [e.value if e is not None else 0.0 for e in ests]
        errors = [Z95 * e.mcse if e is not None else 0.0 for e in ests]
        bars = ax.bar(pos, values, width * 0.92, yerr=errors, capsize=2,
                      color=PALETTE[q % len(PALETTE)], label=label,
                      error_kw={"elinewidth": 0.9, "ecolor": INK})
        ax.bar_label(bars, labels=[f"{v:.0f}" for v in values], fontsize=7, color=MUTED, padding=2)
    ax.set_xticks(range(n_s), [_wrap(s.name) for s in result.scenarios])
    ax.set_ylabel("expected number (mean over replicates)")
    ax.set_title("Expected numbers by scenario (95% Monte-Carlo error bars)", fontsize=11, loc="left")
    ax.margins(y=0.12)
    _style(ax)
    ax.legend(fontsize=8, frameon=False, ncols=min(len(present), 3), loc="upper center",
              bbox_to_anchor=(0.5, -0.16))
    return ax


def plot_forest(
    random_effects_result: RandomEffectsResult,
    *,
    ax: Axes | None = None,
    labels: Sequence[str] | None = None,
    xlabel: str | None = None,
    reference: float | None = None,
    reference_label: str | None = None,
) -> Axes:
    """Forest plot of per-lot estimates, the pooled estimate and the prediction interval.

    Parameters
    ----------
    random_effects_result : RandomEffectsResult
        From :func:`condapprove.estimate.heterogeneity.random_effects`.
    ax : matplotlib.axes.Axes, optional
        Where to draw; default a new figure (its height grows with the number of lots).
    labels : sequence of str, optional
        One label per lot (default ``"lot 1"``, ``"lot 2"``, ...).
    xlabel : str, optional
        The scale of the estimates (default: ``"estimate"``).
    reference : float, optional
        Draw a vertical dashed reference line here (e.g. the benchmark on the same scale).
    reference_label : str, optional
        Text written at the top of the reference line (default ``"reference <value>"``).

    Returns
    -------
    matplotlib.axes.Axes
        Two :class:`~matplotlib.container.ErrorbarContainer` (the lots' intervals and the
        prediction interval), one square per lot (area proportional to its weight) and a
        diamond patch for the pooled estimate.

    Notes
    -----
    Lot ``i`` is drawn at ``yi ± z sqrt(vi)`` with ``z`` the normal quantile at the
    result's ``confidence_level`` (1.96 at 95%); the diamond spans the interval for the
    mean effect (:meth:`~RandomEffectsResult.interval`) and the bottom row the prediction
    interval for the true effect of a new lot (:meth:`~RandomEffectsResult.prediction_interval`),
    both at the same level.

    Examples
    --------
    >>> from condapprove.estimate.heterogeneity import log_odds, random_effects
    >>> from condapprove.reporting import plot_forest
    >>> es = log_odds([5, 7, 3], [8, 10, 8])
    >>> ax = plot_forest(random_effects(es.yi, es.vi), xlabel="log odds")  # doctest: +SKIP
    """
    from scipy.special import ndtri

    from ..estimate.heterogeneity import RandomEffectsResult

    if not isinstance(random_effects_result, RandomEffectsResult):
        raise DesignError("`random_effects_result` must be a RandomEffectsResult; "
                          f"got {type(random_effects_result).__name__}.")
    re = random_effects_result
    k = int(re.k)
    names = [f"lot {i + 1}" for i in range(k)] if labels is None else [str(x) for x in labels]
    if len(names) != k:
        raise DesignError(f"`labels` must have one entry per lot ({k}); got {len(names)}.")
    ax = _new_axes(ax, (7.5, 1.6 + 0.42 * (k + 3)))
    from matplotlib.patches import Polygon

    level = re.confidence_level
    z = float(ndtri(0.5 + level / 2))
    ys = [float(k - i + 2) for i in range(k)]  # lots at k+2 .. 3; pooled at 1.5; new lot at 0.5
    yi = [float(v) for v in re.yi]
    half = [z * math.sqrt(float(v)) for v in re.vi]
    ax.errorbar(yi, ys, xerr=half, fmt="none", ecolor=INK, elinewidth=1.1, capsize=0)
    weights = [float(w) for w in re.weights]
    ax.scatter(yi, ys, s=[30 + 250 * w for w in weights], marker="s", color=PALETTE[0], zorder=3)
    lo, hi = re.interval(level)
    ax.add_patch(Polygon([(lo, 1.5), (re.estimate, 1.8), (hi, 1.5), (re.estimate, 1.2)], closed=True,
                         facecolor=PALETTE[1], edgecolor=INK, linewidth=0.8, zorder=3))
    plo, phi = re.prediction_interval(level)
    ax.errorbar([re.estimate], [0.5], xerr=[[re.estimate - plo], [phi - re.estimate]], fmt="|", color=PALETTE[1],
                markersize=10, elinewidth=2.2, capsize=5)
    ax.axvline(re.estimate, color=PALETTE[1], linewidth=0.8, linestyle=":", zorder=1)
    if reference is not None:
        text = reference_label or f"reference {reference:g}"
        ax.axvline(reference, color=MUTED, linewidth=1.0, linestyle="--", label=text)
        ax.annotate(text, (reference, k + 2.75), xytext=(4, 0), textcoords="offset points", va="center",
                    fontsize=8, color=MUTED)
    pooled = f"pooled ({re.method}, {re.test})"
    ax.set_yticks([*ys, 1.5, 0.5], [*names, pooled, "new lot (prediction)"])
    rows = [(y, v, v - h, v + h) for y, v, h in zip(ys, yi, half)]
    rows += [(1.5, re.estimate, lo, hi), (0.5, re.estimate, plo, phi)]
    for y, v, a, b in rows:
        ax.annotate(f"{v:.2f} [{a:.2f}, {b:.2f}]", (1.0, y), xycoords=("axes fraction", "data"),
                    xytext=(8, 0), textcoords="offset points", va="center", fontsize=8, color=INK)
    ax.set_ylim(0, k + 3)
    ax.set_xlabel(xlabel or "estimate")
    ax.set_title(f"Lots, pooled estimate and a new lot ({percent(level)}; \u03c4 = {re.tau:.2f}, "
                 f"I\u00b2 = {percent(re.i2)})", fontsize=11, loc="left")
    _style(ax, grid_axis="x")
    ax.tick_params(axis="y", length=0)
    ax.spines["left"].set_visible(False)
    return ax


def _figure_of(fig_or_ax: Figure | Axes) -> Figure:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    if isinstance(fig_or_ax, Axes):
        fig = fig_or_ax.get_figure(root=True)
    else:
        fig = fig_or_ax
    if not isinstance(fig, Figure):
        raise DesignError(f"`fig_or_ax` must be a matplotlib Figure or Axes; got {type(fig_or_ax).__name__}.")
    return fig


def figure_bytes(fig_or_ax: Figure | Axes, fmt: str = "png", *, dpi: int = 150) -> bytes:
    """The figure rendered as PNG or SVG bytes.

    No date goes into the metadata and SVG element ids are salted with a constant, so the
    same figure gives the same bytes.
    """
    import matplotlib

    if fmt not in ("png", "svg"):
        raise DesignError(f"`fmt` must be 'png' or 'svg'; got {fmt!r}.")
    fig = _figure_of(fig_or_ax)
    buf = io.BytesIO()
    metadata: dict[str, Any] = ({"Software": "condapprove (matplotlib)"} if fmt == "png"
                                else {"Creator": "condapprove (matplotlib)", "Date": None})
    with matplotlib.rc_context({"svg.hashsalt": "condapprove"}):
        fig.savefig(buf, format=fmt, dpi=dpi, metadata=metadata, facecolor="white")
    return buf.getvalue()


def save_figure(fig_or_ax: Figure | Axes, directory: str | os.PathLike[str], stem: str) -> tuple[Path, Path]:
    """Write a figure as ``<stem>.png`` (150 dpi) and ``<stem>.svg`` in ``directory``.

    Each file is written to a temporary file in ``directory`` and renamed over the
    target (``os.replace``), so a reader never sees a half-written figure.

    Parameters
    ----------
    fig_or_ax : matplotlib.figure.Figure or matplotlib.axes.Axes
        The figure, or any axes on it.
    directory : str or path
        Where to write (created if missing).
    stem : str
        File name without extension (no path separators).

    Returns
    -------
    tuple of pathlib.Path
        The PNG and SVG paths.

    Examples
    --------
    >>> from condapprove.reporting import plot_oc_curve, save_figure
    >>> png, svg = save_figure(plot_oc_curve(res), "figures", "oc")  # doctest: +SKIP
    """
    if not isinstance(stem, str) or not stem or stem in {".", ".."} or any(c in stem for c in "/\\\0"):
        raise DesignError(f"`stem` must be a non-empty file name without path separators; got {stem!r}.")
    from .._io import write_atomic

    fig = _figure_of(fig_or_ax)
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    png, svg = folder / f"{stem}.png", folder / f"{stem}.svg"
    write_atomic(png, figure_bytes(fig, "png", dpi=150))
    write_atomic(svg, figure_bytes(fig, "svg"))
    return png, svg
