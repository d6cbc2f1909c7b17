"""Figures and the self-contained HTML report (condapprove.reporting)."""

from __future__ import annotations

import datetime as dt
import re
import sys
import warnings

import numpy as np
import pytest

pytest.importorskip("matplotlib")

import condapprove
from condapprove.errors import DesignError
from condapprove.estimate.heterogeneity import log_odds, random_effects
from condapprove.reporting import (
    Section,
    design_report,
    html_table,
    plot_decision_curves,
    plot_expected_numbers,
    plot_forest,
    plot_oc_curve,
    render_report,
    save_figure,
)
from condapprove.reporting.html import Markup, _add_months
from condapprove.spec import load_design_with_source, parse_design

from .conftest import DESIGNS

REPLICATES = 2048
Z95 = 1.959963984540054


def _simulate(name: str, **kw: object) -> condapprove.SimulationResult:
    design = condapprove.load_design(DESIGNS / name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # design warnings are part of the result
        return condapprove.simulate(design, replicates=REPLICATES, seed=11, **kw)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def two_arm() -> condapprove.SimulationResult:
    """Binary, randomised, exact values, no futility, no assurance."""
    return _simulate("two_arm_trial.yaml")


@pytest.fixture(scope="module")
def akuugo() -> condapprove.SimulationResult:
    """Continuous, group sequential with futility, one interim, one assurance scenario."""
    return _simulate("akuugo_trial.yaml")


@pytest.fixture(scope="module")
def heartsheet() -> condapprove.SimulationResult:
    """Time to event with concurrent controls (events reported)."""
    return _simulate("heartsheet_survey_planned.yaml")


@pytest.fixture(scope="module")
def stemirac() -> condapprove.SimulationResult:
    """Benchmark control with a Bayesian rule (no alpha line, no controls)."""
    return _simulate("stemirac_bayesian.yaml")


def _errorbar_containers(ax):
    from matplotlib.container import ErrorbarContainer

    return [c for c in ax.containers if isinstance(c, ErrorbarContainer)]


def _f(values) -> np.ndarray:
    """Line data as floats (errorbar keeps its input as an object array, for units)."""
    return np.asarray(values, dtype=np.float64)


def _yerr_halfwidths(container) -> np.ndarray:
    (segments,) = [lc.get_segments() for lc in container.lines[2]]
    return np.array([abs(s[1][1] - s[0][1]) / 2 for s in segments])


# ---------------------------------------------------------------- plot_oc_curve
def test_oc_curve_one_result(two_arm) -> None:
    ax = plot_oc_curve(two_arm)
    (bars,) = _errorbar_containers(ax)
    order = np.argsort([s.mean_true_effect.value for s in two_arm.scenarios])
    line = bars.lines[0]
    np.testing.assert_allclose(_f(line.get_xdata()), [two_arm.scenarios[i].mean_true_effect.value for i in order])
    np.testing.assert_allclose(_f(line.get_ydata()), [two_arm.scenarios[i].p_confirmed.value for i in order])
    np.testing.assert_allclose(_yerr_halfwidths(bars), [Z95 * two_arm.scenarios[i].p_confirmed.mcse for i in order],
                               rtol=1e-9)
    labels = [ln.get_label() for ln in ax.lines]
    assert "one-sided \u03b1 = 0.025" in labels
    (alpha_line,) = [ln for ln in ax.lines if ln.get_label().startswith("one-sided")]
    assert _f(alpha_line.get_ydata())[0] == pytest.approx(0.025)
    (exact,) = [ln for ln in ax.lines if ln.get_label() == "exact (no simulation)"]
    assert len(_f(exact.get_xdata())) == 3
    assert "response rate" in ax.get_xlabel()
    assert ax.get_ylabel() == "P(confirmed by data cut-off)"
    names = {t.get_text() for t in ax.texts}
    assert {s.name for s in two_arm.scenarios} <= names


def test_oc_curve_assurance_scenarios_apart(akuugo) -> None:
    ax = plot_oc_curve(akuugo)
    fixed, drawn = _errorbar_containers(ax)
    assert len(_f(fixed.lines[0].get_xdata())) == 3
    assert len(_f(drawn.lines[0].get_xdata())) == 1
    assert drawn.get_label() == "assurance (effect drawn)"
    assert "mean" in ax.get_xlabel()


def test_oc_curve_bayesian_has_no_alpha_line(stemirac) -> None:
    ax = plot_oc_curve(stemirac)
    assert not any(ln.get_label().startswith("one-sided") for ln in ax.lines)
    ax = plot_oc_curve(stemirac, alpha=0.05)
    assert any(ln.get_label() == "one-sided \u03b1 = 0.05" for ln in ax.lines)


def test_oc_curve_several_results(two_arm, akuugo) -> None:
    ax = plot_oc_curve([two_arm, two_arm], labels=["a", "b"], annotate=False)
    assert [c.get_label() for c in _errorbar_containers(ax)] == ["a", "b"]
    assert len(ax.texts) == 0
    assert len(ax.get_legend().get_texts()) >= 2


def test_oc_curve_sweep_of_single_scenarios_is_one_curve() -> None:
    results = [_simulate("heartsheet_survey_planned.yaml", scenarios=[name]) for name in ("no effect", "HR 0.5")]
    ax = plot_oc_curve(results)
    (curve,) = _errorbar_containers(ax)
    np.testing.assert_allclose(_f(curve.lines[0].get_xdata()), [np.log(0.5), 0.0], atol=1e-12)
    assert "log hazard ratio" in ax.get_xlabel()


def test_oc_curve_custom_x(two_arm) -> None:
    ax = plot_oc_curve(two_arm, x=[3.0, 1.0, 2.0])
    (bars,) = _errorbar_containers(ax)
    np.testing.assert_allclose(_f(bars.lines[0].get_xdata()), [1.0, 2.0, 3.0])
    ax = plot_oc_curve(two_arm, x=lambda s: s.p_confirmed_exact)
    (bars,) = _errorbar_containers(ax)
    np.testing.assert_allclose(sorted(_f(bars.lines[0].get_xdata())),
                               sorted(s.p_confirmed_exact for s in two_arm.scenarios))


def test_oc_curve_rejects_bad_input(two_arm) -> None:
    message = r"`x` must have one value per scenario \(3\); got 2."
    with pytest.raises(DesignError, match=message):
        plot_oc_curve(two_arm, x=[1.0, 2.0])
    with pytest.raises(DesignError, match="`labels` must have one entry per result"):
        plot_oc_curve([two_arm], labels=["a", "b"])
    with pytest.raises(DesignError, match="`results` must be a SimulationResult"):
        plot_oc_curve([])


def test_draws_on_given_axes(two_arm) -> None:
    from matplotlib.figure import Figure

    fig = Figure()
    left, right = fig.subplots(1, 2)
    assert plot_oc_curve(two_arm, ax=right) is right
    assert plot_decision_curves(two_arm, ax=left) is left
    assert left.lines and right.containers


# ---------------------------------------------------------------- plot_decision_curves
def test_decision_curves_without_futility(two_arm) -> None:
    ax = plot_decision_curves(two_arm)
    cutoff = two_arm.provenance.cutoff_month
    # one solid line per scenario and the cut-off; no futility lines (the design cannot stop for futility)
    assert len(ax.lines) == len(two_arm.scenarios) + 1
    solid = ax.lines[: len(two_arm.scenarios)]
    for line, s in zip(solid, two_arm.scenarios):
        assert line.get_label() == s.name
        assert line.get_linestyle() == "-"
        assert _f(line.get_ydata())[-1] == pytest.approx(s.p_confirmed.value)
        assert _f(line.get_xdata())[-1] == pytest.approx(cutoff)
    assert list(ax.lines[-1].get_xdata()) == [cutoff, cutoff]
    assert any("data cut-off" in t.get_text() and f"month {cutoff:g}" in t.get_text() for t in ax.texts)
    assert ax.get_xlabel() == "months after approval"
    assert ax.get_ylabel() == "cumulative probability"


def test_decision_curves_with_futility(akuugo) -> None:
    ax = plot_decision_curves(akuugo)
    n = len(akuugo.scenarios)
    assert len(ax.lines) == 2 * n + 1
    dashed = [ln for ln in ax.lines if ln.get_linestyle() == "--"]
    assert len(dashed) == n
    for line, s in zip(dashed, akuugo.scenarios):
        assert _f(line.get_ydata())[-1] == pytest.approx(s.p_futility.value)
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == [s.name for s in akuugo.scenarios]


# ---------------------------------------------------------------- plot_expected_numbers
@pytest.mark.parametrize("fixture, expected", [
    ("two_arm", ["treated enrolled", "treated evaluable", "controls enrolled", "controls evaluable"]),
    ("heartsheet", ["treated enrolled", "treated evaluable", "controls enrolled", "controls evaluable", "events"]),
    ("stemirac", ["treated enrolled", "treated evaluable"]),
])
def test_expected_numbers_bars(fixture, expected, request) -> None:
    from matplotlib.container import BarContainer

    result = request.getfixturevalue(fixture)
    ax = plot_expected_numbers(result)
    bars = [c for c in ax.containers if isinstance(c, BarContainer)]
    assert [b.get_label() for b in bars] == expected
    keys = {"treated enrolled": "expected_treated_enrolled", "treated evaluable": "expected_treated_evaluable",
            "controls enrolled": "expected_controls_enrolled", "controls evaluable": "expected_controls_evaluable",
            "events": "expected_events"}
    for b in bars:
        assert len(b.patches) == len(result.scenarios)
        assert b.errorbar is not None
        want = [getattr(s, keys[b.get_label()]) for s in result.scenarios]
        np.testing.assert_allclose([p.get_height() for p in b.patches], [w.value for w in want])
        np.testing.assert_allclose(_yerr_halfwidths(b.errorbar), [Z95 * w.mcse for w in want], rtol=1e-9, atol=1e-12)
    assert [t.get_text().replace("\n", " ") for t in ax.get_xticklabels()] == [s.name for s in result.scenarios]
    assert "expected number" in ax.get_ylabel()


# ---------------------------------------------------------------- plot_forest
def test_forest_plot() -> None:
    es = log_odds([5, 2, 7, 4], [6, 7, 8, 9])
    re_ = random_effects(es.yi, es.vi)
    ax = plot_forest(re_, labels=["A", "B", "C", "D"], xlabel="log odds", reference=-1.7)
    lots, prediction = _errorbar_containers(ax)
    np.testing.assert_allclose(lots.lines[2][0].get_segments()[0][:, 0],
                               [es.yi[0] - Z95 * np.sqrt(es.vi[0]), es.yi[0] + Z95 * np.sqrt(es.vi[0])])
    lo, hi = re_.prediction_interval(0.95)
    np.testing.assert_allclose(sorted(prediction.lines[2][0].get_segments()[0][:, 0]), [lo, hi])
    (diamond,) = ax.patches
    xs = diamond.get_xy()[:, 0]
    ci = re_.interval(0.95)
    assert min(xs) == pytest.approx(ci.low) and max(xs) == pytest.approx(ci.high)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["A", "B", "C", "D", "pooled (REML, z)",
                                                            "new lot (prediction)"]
    from matplotlib.collections import PathCollection

    (squares,) = [c for c in ax.collections if isinstance(c, PathCollection)]
    assert len(squares.get_offsets()) == 4  # one square per lot, area growing with its weight
    np.testing.assert_array_equal(np.argsort(squares.get_sizes()), np.argsort(re_.weights))
    assert ax.get_xlabel() == "log odds"
    assert any(ln.get_label() == "reference -1.7" for ln in ax.lines)


def test_forest_rejects_bad_labels() -> None:
    es = log_odds([5, 2], [6, 7])
    with pytest.raises(DesignError, match=r"`labels` must have one entry per lot \(2\); got 1."):
        plot_forest(random_effects(es.yi, es.vi), labels=["only one"])
    with pytest.raises(DesignError, match="`random_effects_result` must be a RandomEffectsResult"):
        plot_forest(es)  # type: ignore[arg-type]


# ---------------------------------------------------------------- save_figure
def test_save_figure_writes_png_and_svg(two_arm, tmp_path) -> None:
    ax = plot_oc_curve(two_arm)
    out = tmp_path / "figs"
    png, svg = save_figure(ax, out, "oc")
    assert (png, svg) == (out / "oc.png", out / "oc.svg")
    assert png.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert b"<svg" in svg.read_bytes()
    assert sorted(p.name for p in out.iterdir()) == ["oc.png", "oc.svg"]  # no temporary file left
    first = (png.read_bytes(), svg.read_bytes())
    save_figure(ax.figure, out, "oc")  # a Figure works too, and overwrites in place
    assert (png.read_bytes(), svg.read_bytes()) == first  # reproducible bytes
    assert sorted(p.name for p in out.iterdir()) == ["oc.png", "oc.svg"]
    from PIL import Image

    with Image.open(png) as im:
        dpi = im.info.get("dpi")
    assert dpi is not None and round(dpi[0]) == 150


@pytest.mark.parametrize("stem", ["", "a/b", "..", "x\\y"])
def test_save_figure_rejects_bad_stem(two_arm, tmp_path, stem) -> None:
    with pytest.raises(DesignError, match="`stem` must be a non-empty file name"):
        save_figure(plot_oc_curve(two_arm), tmp_path, stem)


def test_missing_matplotlib_names_the_extra(two_arm, monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    with pytest.raises(ImportError, match=r"condapprove\[plot\]"):
        plot_oc_curve(two_arm)


# ---------------------------------------------------------------- HTML
REMOTE = re.compile(r"""(?:src|href|action|poster|data)\s*=\s*["']?\s*(?:https?:)?//"""
                    r"""|url\(\s*["']?\s*(?:https?:)?//|@import""", re.IGNORECASE)


def _assert_self_contained(page: str) -> None:
    assert REMOTE.search(page) is None
    assert "http://" not in page and "https://" not in page
    assert "<link" not in page and "<script" not in page.lower()


@pytest.fixture(scope="module")
def delytact_page() -> tuple[str, condapprove.SimulationResult]:
    loaded = load_design_with_source(DESIGNS / "delytact_survey.yaml")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sim = condapprove.simulate(loaded.design, replicates=REPLICATES, seed=3, design_path=loaded.path,
                                   design_sha256=loaded.sha256)
    return design_report(loaded.design, simulation=sim, design_path=loaded.path), sim


def test_report_is_self_contained_and_complete(delytact_page) -> None:
    page, sim = delytact_page
    _assert_self_contained(page)
    assert page.startswith("<!DOCTYPE html>")
    assert "Delytact-like all-case survey, 1-year survival vs historical 15%" in page
    for s in sim.scenarios:
        assert f"<th class=\"num\">{s.name}</th>" in page
    # evidence: verdict, every criterion with pass/fail, the sensitivity table
    assert "Efficacy presumed" in page and "efficacy presumed" in page
    assert "lower 95% bound (clopper-pearson) &gt; 0.15" in page
    assert "exact binomial test of p &lt;= 0.15: p-value &lt;= 0.025" in page
    assert page.count('<span class="pill pass">pass</span>') == 3 + 6
    assert "Sensitivity to the prior and the interval method" in page
    # design summary
    for text in ("2021-06-11", "7 years (deadline 2028-06-11)", "month 72 after approval (2027-06-11)",
                 "use-results survey", "alive at 1 year", "historical benchmark 0.15", "exact binomial test"):
        assert text in page, text
    # operating characteristics with MCSE; exact values
    p = sim["diluted in practice"].p_confirmed
    assert f'{p.value:.4f} <span class="pm">\u00b1 {p.mcse:.4f}</span>' in page
    assert "exact (no simulation)" in page
    # three embedded figures
    assert len(re.findall(r'<img src="data:image/png;base64,[A-Za-z0-9+/=]+"', page)) == 3
    # warnings and provenance
    assert "cannot be reached before the cut-off" in page
    assert sim.provenance.design_sha256 in page
    assert f"{sim.provenance.seed_entropy} (argument)" in page
    assert f"{REPLICATES:,} per scenario" in page
    assert condapprove.__version__ in page


def test_report_is_deterministic(two_arm) -> None:
    design = condapprove.load_design(DESIGNS / "two_arm_trial.yaml")
    assert design_report(design, simulation=two_arm) == design_report(design, simulation=two_arm)


def test_report_escapes_text(two_arm) -> None:
    design = condapprove.load_design(DESIGNS / "two_arm_trial.yaml")
    evil = design.model_copy(update={"name": "<script>alert('x')</script> & co",
                                     "description": "<img src=x onerror=alert(1)>"})
    page = design_report(evil, simulation=two_arm, figures=False)
    _assert_self_contained(page)
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; co" in page
    assert "<img" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page


def test_report_without_simulation_or_evidence() -> None:
    path = DESIGNS / "two_arm_trial.yaml"
    design = condapprove.load_design(path)
    page = design_report(design, design_path=str(path))
    _assert_self_contained(page)
    assert "Not simulated" in page
    assert "Evidence at approval" not in page  # no pre_approval section
    import hashlib

    assert hashlib.sha256(path.read_bytes()).hexdigest() in page
    assert "<img" not in page



def test_report_says_fractions_and_counts_as_they_are() -> None:
    """A dropout of 0.4% is not "0%", an information fraction of 1/3 not "33%" only by rounding to whole percent
    (0.996 was "100%"); a time-to-event design's targets and looks in patients count those enrolled, not "evaluable"
    (found by an audit of the outputs)."""
    from condapprove.spec import design_from_mapping

    spec = condapprove.load_design(DESIGNS / "akuugo_trial.yaml").model_dump()
    spec["post_marketing"]["treated"].update(dropout=0.004, never_treated=0.996)
    spec["post_marketing"]["control"]["dropout"] = 0.996
    spec["post_marketing"]["analyses"] = [{"information": 1 / 3}]
    page = design_report(design_from_mapping(spec))
    assert "dropout 0.4%; never treated 99.6%" in page and "; dropout 99.6%" in page
    assert "interim 1 at 33.3% of the information" in page

    tte = condapprove.load_design(DESIGNS / "heartsheet_extended.yaml").model_dump()
    tte["post_marketing"]["analyses"] = [{"patients": 30}]
    tte["post_marketing"]["decision"] = {"rule": "group_sequential", "alpha": 0.025, "spending": "obrien-fleming"}
    page = design_report(design_from_mapping(tte))
    assert "target 49 enrolled;" in page and "target 102 enrolled;" in page
    assert "interim 1 at 30 enrolled patients" in page and "evaluable patients" not in page
    page = design_report(condapprove.load_design(DESIGNS / "stemirac_group_sequential.yaml"))
    assert "target 60 evaluable;" in page and "interim 1 at 20 evaluable patients" in page


def test_report_with_an_mcse_target_says_each_scenarios_replicates() -> None:
    """With an MCSE target the scenarios ran 2,048 or 4,096 replicates: the page said "4,096 replicates per
    scenario" for all of them (header, facts, provenance)."""
    design = condapprove.load_design(DESIGNS / "stemirac_survey.yaml")
    res = condapprove.simulate(design, replicates=2048, seed=11, mcse_target=0.008, max_replicates=8192)
    counts = [s.p_confirmed.n_sims for s in res.scenarios]
    assert sorted(set(counts)) == [2048, 4096]
    page = design_report(design, simulation=res)
    assert "2,048 to 4,096 replicates per scenario (until every MCSE &lt;= 0.008)" in page
    assert "<dd>2,048 to 4,096 per scenario (until every MCSE &lt;= 0.008) (blocks of" in page
    assert not re.search(r"(?<!to )4,096 (replicates )?per scenario", page)
    row = re.search(r"<tr[^>]*><t[dh][^>]*>replicates</t[dh]>(.*?)</tr>", page, re.DOTALL)
    assert row is not None and re.findall(r">([\d,]+)<", row[1]) == [f"{n:,}" for n in counts]


def test_report_forest_plot_of_lots() -> None:
    text = (DESIGNS / "delytact_survey.yaml").read_text()
    text = text.replace("  cohort: {responders: 16, n: 19}", "  cohort: {responders: 16, n: 19}\n"
                        "  lots: {events: [5, 6, 5], n: [6, 7, 6]}")
    text = text.replace("    - {criterion: exact_test, p0: 0.15, alpha: 0.025}",
                        "    - {criterion: exact_test, p0: 0.15, alpha: 0.025}\n"
                        "    - {criterion: new_lot_prediction, greater_than: 0.15}")
    design = parse_design(text)
    assert design.pre_approval is not None and design.pre_approval.lots is not None
    page = design_report(design)
    _assert_self_contained(page)
    assert "prediction bound for a new lot" in page
    assert page.count("data:image/png;base64,") == 1
    assert "Forest plot of the approval cohort" in page


def test_report_rejects_foreign_simulation(two_arm) -> None:
    design = condapprove.load_design(DESIGNS / "akuugo_trial.yaml")
    with pytest.raises(DesignError, match="`simulation` must come from this design"):
        design_report(design, simulation=two_arm, figures=False)


def test_render_report_and_tables() -> None:
    page = render_report([Section(title="A <b>", body="1 < 2"),
                          Section(title="A <b>", body=Markup("<p>kept</p>"))],
                         title="T & U", subtitle="<i>", facts=[("k", "v", "good")])
    _assert_self_contained(page)
    assert "<title>T &amp; U</title>" in page
    assert "<h2>A &lt;b&gt;</h2>" in page and "<p>1 &lt; 2</p>" in page and "<p>kept</p>" in page
    assert 'id="a-b"' in page and 'id="a-b-2"' in page  # unique anchors
    assert '<div class="fact good">' in page
    with pytest.raises(DesignError, match="`sections` must hold at least one Section"):
        render_report([], title="x")
    with pytest.raises(DesignError, match="every row must have 2 cells"):
        html_table(["a", "b"], [["1"]])
    assert "&lt;x&gt;" in html_table(["a"], [["<x>"]], numeric=[False])


@pytest.mark.parametrize("start, months, expected", [
    (dt.date(2021, 6, 11), 72, dt.date(2027, 6, 11)),
    (dt.date(2020, 1, 31), 1, dt.date(2020, 2, 29)),
    (dt.date(2015, 9, 18), 84, dt.date(2022, 9, 18)),
    (dt.date(2024, 12, 1), 1.5, dt.date(2025, 1, 16)),
])
def test_add_months(start, months, expected) -> None:
    assert _add_months(start, months) == expected
