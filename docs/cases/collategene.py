"""Case study: Collategene, a blinded RCT followed by an open-label survey (numbers, page and figures).

Run through ``python docs/cases/build.py --only collategene``; see ``docs/cases/_kit.py`` for the interface.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

try:
    from . import _kit
except ImportError:  # imported as a top-level module by build.py and the tests
    import _kit

SLUG = "collategene"
TITLE = "Collategene: a blinded trial, then an open-label survey"
SUMMARY = ("a 27 vs 13 blinded trial, then an open-label survey: confounding by indication, "
           "crude vs propensity-weighted vs randomised comparisons")

#: One seed for every simulation of the page (common random numbers across designs).
SEED = 20190326
#: The post-marketing designs compared, label -> (design file stem, short description).
DESIGNS: dict[str, tuple[str, str]] = {
    "crude": ("collategene_survey", "all-case survey, crude comparison (pooled z test)"),
    "weighted": ("collategene_survey_adjusted", "the same survey, propensity-score weighting (weighted z test)"),
    "randomised": ("collategene_randomised", "alternative: the same patients, controls formed by randomisation"),
}
SCENARIOS = ("no effect", "effect as in the RCT")
#: The approval trial's interim (primer): treated and placebo patients.
RCT_N = (27, 13)
#: Assumed counts of healed ulcers in the approval trial (not public): about 45% and 25% of 27 and 13.
RCT_X = (12, 3)
#: Treated counts of the sensitivity table of the approval trial (placebo count fixed at RCT_X[1]).
X_GRID = (10, 12, 14, 16, 18)
#: Assumed true healing rates (treated, control) for the approval trial's power.
RCT_POWER = ((0.45, 0.25), (0.55, 0.25), (0.65, 0.25), (0.45, 0.05))
#: Strength of the confounding by indication: 0 = none, 1 = as assumed in the designs (the control
#: prevalences move from the treated's towards and beyond the designs' values).
STRENGTH = (0.0, 0.5, 1.0, 1.5)


def _confounded(d: Any, k: float) -> Any:
    """``d`` with the control prevalences at ``treated - k * (treated - control)`` (k = 1: as written)."""
    from condapprove.explore import set_path

    for cov in d.post_marketing.control.confounding.covariates:
        base = f"post_marketing.control.confounding.covariates.{cov.name}.prevalence_control"
        target = cov.prevalence_treated - k * (cov.prevalence_treated - cov.prevalence_control)
        d = set_path(d, base, round(target, 10))
    return d


def compute(replicates: int) -> dict[str, Any]:
    """All numbers of the page.

    Parameters
    ----------
    replicates : int
        Replicates per scenario and design.

    Returns
    -------
    dict
        The case document (see ``_kit``).
    """
    from condapprove.estimate.proportions import two_proportions
    from condapprove.explore import compare
    from condapprove.simulation.analytic import binary_power_fixed_n

    exact, out = _kit.exact, {}
    (nt, nc), (xt, xc) = RCT_N, RCT_X
    out["rct.nt"], out["rct.nc"], out["rct.xt"], out["rct.xc"] = exact(nt), exact(nc), exact(xt), exact(xc)
    for x in X_GRID:
        two = two_proportions(x, nt, xc, nc)
        one = two_proportions(x, nt, xc, nc, alternative="greater")
        out[f"rct.x.{x}.diff"] = exact(two.statistic)
        out[f"rct.x.{x}.low"], out[f"rct.x.{x}.high"] = exact(two.ci.low), exact(two.ci.high)
        out[f"rct.x.{x}.fisher_one_sided"] = exact(one.pvalue)
    for pt, pc in RCT_POWER:
        out[f"rct.power.{pt:g}.{pc:g}"] = exact(binary_power_fixed_n(nt, nc, treated_rate=pt, control_rate=pc,
                                                                     test="fisher", alpha=0.025))
    # The winner's curse, exactly: the mean observed difference over the trial outcomes that are significant
    # (Fisher, one-sided 2.5%), weighted by their binomial probabilities at 45% vs 25%.
    pt, pc = RCT_POWER[0]
    mass = total = 0.0
    for x1 in range(nt + 1):
        w1 = math.comb(nt, x1) * pt**x1 * (1 - pt) ** (nt - x1)
        for x2 in range(nc + 1):
            if two_proportions(x1, nt, x2, nc, alternative="greater").pvalue <= 0.025:
                w = w1 * math.comb(nc, x2) * pc**x2 * (1 - pc) ** (nc - x2)
                mass += w
                total += w * (x1 / nt - x2 / nc)
    out["rct.curse.power"] = exact(mass)
    out["rct.curse.mean_diff"] = exact(total / mass)

    designs = {label: _kit.design(stem) for label, (stem, _) in DESIGNS.items()}
    for label, d in designs.items():
        out[f"design.{label}.cutoff_month"] = exact(float(d.cutoff_month))
    with _kit.quiet():
        cmp = compare(list(designs.values()), labels=list(designs), replicates=replicates, seed=SEED)
    for label, res in zip(cmp.labels, cmp.results):
        for s in res.scenarios:
            out.update(_kit.scenario_numbers(f"cmp.{label}.{s.name}", s))

    variants, labels = [], []
    for k in STRENGTH:
        for label in ("crude", "weighted"):
            variants.append(_confounded(designs[label], k))
            labels.append(f"{label}.{k:g}")
    with _kit.quiet():
        strength = compare(variants, labels=labels, replicates=replicates, seed=SEED)
    for label, res in zip(strength.labels, strength.results):
        for s in res.scenarios:
            out.update(_kit.scenario_numbers(f"bias.{label}.{s.name}", s, ("p_confirmed", "mean_estimate")))
    for k in STRENGTH:
        d = _confounded(designs["crude"], k)
        for i, cov in enumerate(d.post_marketing.control.confounding.covariates):
            out[f"bias.{k:g}.prevalence_control.{i}"] = exact(cov.prevalence_control)
    return {"replicates": int(replicates), "seed": SEED, "numbers": out}


def render(doc: dict[str, Any]) -> str:
    """The Markdown page from the numbers (see ``_kit``)."""
    f, n = _kit.fmt, _kit.numbers_of(doc)

    def v(key: str) -> Any:
        return n[key]["value"]

    def c(d: str, s: str, fig: str = "p_confirmed", digits: int = 3) -> str:
        return f(doc, f"cmp.{d}.{s}.{fig}", digits)

    xt, xc, nt, nc = v("rct.xt"), v("rct.xc"), v("rct.nt"), v("rct.nc")
    rct_rows = [[f"{x}/{nt} vs {xc}/{nc}", f"{v(f'rct.x.{x}.diff'):.3f}",
                 f"{v(f'rct.x.{x}.low'):.3f} – {v(f'rct.x.{x}.high'):.3f}",
                 f"{v(f'rct.x.{x}.fisher_one_sided'):.4f}",
                 "yes" if v(f"rct.x.{x}.fisher_one_sided") <= 0.025 else "no"] for x in X_GRID]
    power_rows = [[f"{pt:.0%}", f"{pc:.0%}", f(doc, f"rct.power.{pt:g}.{pc:g}", 3)] for pt, pc in RCT_POWER]
    design_rows = [[f"`{label}`", f"`designs/{stem}.yaml`", text] for label, (stem, text) in DESIGNS.items()]
    figs = [("P(confirmed by the cut-off)", "p_confirmed", 3), ("P(targets not reached)", "p_target_not_reached", 3),
            ("median decision month", "decision_month_median", 1),
            ("E[treated / controls enrolled]", None, 1),
            ("mean estimated effect (difference of healing rates)", "mean_estimate", 3),
            ("mean true effect (no covariates)", "mean_true_effect", 3)]
    cmp_rows = []
    for scen in SCENARIOS:
        for label, fig, digits in figs:
            cells = []
            for d in DESIGNS:
                if fig is None:
                    cells.append(c(d, scen, "expected_treated_enrolled", 1) + " / "
                                 + c(d, scen, "expected_controls_enrolled", 1))
                else:
                    cells.append(c(d, scen, fig, digits))
            cmp_rows.append([f"{scen}: {label}", *cells])
    bias_rows = [[f"{k:g}", f"{v(f'bias.{k:g}.prevalence_control.0'):.3f} / {v(f'bias.{k:g}.prevalence_control.1'):.3f}",
                  *(f(doc, f"bias.{d}.{k:g}.{s}.{fig}", 3) for d in ("crude", "weighted")
                    for s, fig in (("no effect", "p_confirmed"), ("effect as in the RCT", "p_confirmed"),
                                   ("effect as in the RCT", "mean_estimate")))] for k in STRENGTH]

    return f"""# {TITLE}

<!-- Generated by docs/cases/build.py from docs/cases/collategene.py; do not edit by hand. -->

*Every number on this page is computed by `docs/cases/collategene.py` with the public `condapprove` API
({doc['replicates']} Monte-Carlo replicates per scenario, seed {doc['seed']}); ± is one Monte-Carlo standard error
(omitted when it is below the last digit shown); numbers without ± are exact. Regenerate with
`python docs/cases/build.py --only collategene`.*

## Published facts

| fact | value |
| --- | --- |
| product | Collategene (AnGes): HGF plasmid, ischemic leg ulcers |
| conditional, time-limited approval | 2019-03-26, limit 5 years |
| pre-approval evidence | double-blind RCT, interim analysis of n = {nt + nc} ({nt} treated vs {nc} placebo) |
| post-marketing condition | all-case use-results comparison survey (about 120 treated vs 80 controls reported; uncertain) |
| what happened | the open-label survey did not reproduce the RCT; withdrawn 2024 |

Source: the product table (section 4) of the project's domain primer, compiled from public sources. The
trial's outcome counts are not in it: **the counts and healing rates below are assumptions**, shown with their
sensitivity.

## How strong was the presumed efficacy?

A blinded, randomised comparison is the strongest design of any product under the scheme, but it was small.
**Assumption:** healing at 3 months in {xt}/{nt} treated and {xc}/{nc} placebo patients (about 45% vs 25%).
Difference, Newcombe 95% interval and Fisher's exact one-sided p-value (`estimate.two_proportions`), for the
assumed count and others:

{_kit.table(["healed (treated vs placebo)", "difference", "95% interval (Newcombe)", "Fisher one-sided p",
             "significant at 2.5%"], rct_rows)}

With 13 placebo patients, only a large difference is significant. The exact probability that the
{nt} vs {nc} trial is significant (Fisher, one-sided 2.5%; `simulation.analytic.binary_power_fixed_n`):

{_kit.table(["true healing, treated", "true healing, placebo", "P(significant)"], power_rows)}

At the effect assumed for the survey (45% vs 25%) the interim had a power of
{f(doc, 'rct.power.0.45.0.25', 3)}, and a trial this small that *is* significant overestimates the effect: over
the significant outcomes the mean observed difference is {v('rct.curse.mean_diff'):.3f} for a true 0.200
(exact enumeration of all {nt + 1} × {nc + 1} outcomes). A confirmatory study sized on such an estimate starts
with too little power.

## What chance did the post-marketing survey have by the deadline?

The designs of the survey (all assumptions beyond the primer's 120 vs 80): 3.5 treated and 2.5 untreated
controls a month from the same centres, 10% lost, data cut-off at month {v('design.crude.cutoff_month'):g}. The
treated are sicker (confounding by indication): dialysis 50% vs 30% (log OR −0.7), a large ulcer 60% vs 35%
(log OR −0.9). "Effect as in the RCT" is healing 45% vs 25% for a patient with neither.

{_kit.table(["label", "file", "analysis"], design_rows)}

{_kit.table(["scenario: figure", *DESIGNS], cmp_rows)}

![P(confirmed) per design and scenario](img/collategene-designs.svg)

* The **crude** comparison is biased against the product: its mean estimate is
  {c('crude', 'effect as in the RCT', 'mean_estimate')} where weighting gives
  {c('weighted', 'effect as in the RCT', 'mean_estimate')}, and an effect of the RCT's size is confirmed with
  probability {c('crude', 'effect as in the RCT')} — the pattern of a survey that does not reproduce its RCT.
* **Propensity weighting** removes the measured bias and confirms with probability
  {c('weighted', 'effect as in the RCT')}, but its z test with a sandwich SE rejects a true null with probability
  {c('weighted', 'no effect')} at a nominal 2.5%; its level needs a check before it is the confirmatory analysis.
* A **randomised** comparison of the same patients confirms with probability
  {c('randomised', 'effect as in the RCT')} and holds its level ({c('randomised', 'no effect')}).

## The effect of bias on confirmation

How strongly the controls differ from the treated (k = 0: the same mix; k = 1: as assumed in the designs;
k = 1.5: more different), the same patients throughout (common random numbers):

{_kit.table(["k", "control prevalence: dialysis / large ulcer", "crude: P(conf.), no effect",
             "crude: P(conf.), RCT effect", "crude: mean estimate", "weighted: P(conf.), no effect",
             "weighted: P(conf.), RCT effect", "weighted: mean estimate"], bias_rows)}

![P(confirmed) against the strength of confounding](img/collategene-bias.svg)

The crude survey's power falls steeply with the imbalance
({f(doc, 'bias.crude.0.effect as in the RCT.p_confirmed', 3)} without it,
{f(doc, 'bias.crude.1.effect as in the RCT.p_confirmed', 3)} as assumed,
{f(doc, 'bias.crude.1.5.effect as in the RCT.p_confirmed', 3)} at k = 1.5); weighting keeps it near
{f(doc, 'bias.weighted.1.effect as in the RCT.p_confirmed', 3)} because the confounders are measured and in the
model. Confounders that are not measured — or the optimism or pessimism of open-label assessment, which a
blinded trial avoids — are not removed by weighting; these simulations cannot show them.

## Which alternative would have done better?

A randomised post-marketing comparison (or at least a survey whose confounders are recorded and adjusted for,
with a calibrated test) was the way to reproduce a blinded trial's result: both reach about
{c('randomised', 'effect as in the RCT')} where the crude survey reaches {c('crude', 'effect as in the RCT')},
and only the randomised one keeps the one-sided 2.5% level without further checks.
"""


def figures(doc: dict[str, Any], outdir: Path) -> list[Path]:
    """The page's SVG figures, drawn from the numbers alone."""
    labels = list(DESIGNS)
    series = [(s, [f"cmp.{d}.{s}.p_confirmed" for d in labels]) for s in SCENARIOS]
    a = _kit.bar_chart(doc, labels, series, ylabel="P(confirmed by the cut-off)",
                       title="Collategene-like survey: analysis and design", hline=0.025)
    lines = [(f"{d}, {s}", [f"bias.{d}.{k:g}.{s}.p_confirmed" for k in STRENGTH])
             for d in ("crude", "weighted") for s in SCENARIOS]
    b = _kit.line_chart(doc, list(STRENGTH), lines, xlabel="strength of confounding by indication (1 = as assumed)",
                        ylabel="P(confirmed by the cut-off)", title="Bias and confirmation", hline=0.025)
    return [_kit.save_svg(a, outdir, "collategene-designs"), _kit.save_svg(b, outdir, "collategene-bias")]
