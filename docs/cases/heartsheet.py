"""Case study: HeartSheet, the accrual shortfall (numbers, page and figures).

Run through ``python docs/cases/build.py --only heartsheet``; see ``docs/cases/_kit.py`` for the interface.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

try:
    from . import _kit
except ImportError:  # imported as a top-level module by build.py and the tests
    import _kit

SLUG = "heartsheet"
TITLE = "HeartSheet: an accrual shortfall under a 5 + 3-year limit"
SUMMARY = ("accrual shortfall: 7 patients, a 60 vs 120 survey planned in 5 years, 49 vs 102 filed after 8; "
           "the original limit, the extension and a registry alternative")

#: One seed for every simulation of the page (common random numbers across designs).
SEED = 20150918
#: The post-marketing designs compared, label -> (design file stem, short description).
DESIGNS: dict[str, tuple[str, str]] = {
    "planned": ("heartsheet_survey_planned", "as planned: 1.5 treated a month, 60 vs 120, 80 deaths"),
    "actual": ("heartsheet_survey_actual", "accrual as it happened, 60/120 targets kept, 5 + 3 years"),
    "filed": ("heartsheet_extended", "as filed: 49 vs 102 at the cut-off of the extension"),
    "limit5": ("heartsheet_original_limit", "accrual as it happened, original 5-year limit"),
    "registry": ("heartsheet_registry", "alternative: treated as they came vs a 200-patient registry"),
}
SCENARIOS = ("no effect", "HR 0.7", "HR 0.5")
#: Reference rates of "LVEF not worse" without treatment, for the sensitivity of the verdict (assumption).
P0_GRID = (0.1, 0.2, 0.3, 0.4, 0.5)
#: Control medians (months) of the sensitivity sweep (assumption; the designs use 30).
MEDIAN_GRID = (18.0, 30.0, 48.0)


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
    from condapprove.estimate.proportions import binomial_interval, binomial_test
    from condapprove.evidence import evaluate_evidence
    from condapprove.explore import compare, sweep

    exact, out = _kit.exact, {}
    filed = _kit.design("heartsheet_extended")
    pre = filed.pre_approval
    cohort = pre.build_cohort()
    priors = {name: spec.build() for name, spec in pre.priors.items()}
    out.update(_kit.evidence_numbers("pre", evaluate_evidence(cohort, pre.criteria(), priors=priors)))
    out["pre.responders"] = exact(cohort.responders)
    out["pre.n"] = exact(cohort.n)
    lo, hi = binomial_interval(0, 7)                     # primer: 0 of 7 improved
    out["pre.improved.low"], out["pre.improved.high"] = exact(lo), exact(hi)
    for p0 in P0_GRID:
        out[f"pre.p0.{p0:g}.pvalue"] = exact(binomial_test(cohort.responders, cohort.n, p0,
                                                           alternative="greater").pvalue)
        out[f"pre.p0.{p0:g}.posterior_vague"] = exact(priors["vague"].update(cohort.responders, cohort.n)
                                                      .prob_greater(p0))

    designs = {label: _kit.design(stem) for label, (stem, _) in DESIGNS.items()}
    for label, d in designs.items():
        out[f"design.{label}.cutoff_month"] = exact(float(d.cutoff_month))
    with _kit.quiet():
        cmp = compare(list(designs.values()), labels=list(designs), replicates=replicates, seed=SEED)
    for label, res in zip(cmp.labels, cmp.results):
        for s in res.scenarios:
            out.update(_kit.scenario_numbers(f"cmp.{label}.{s.name}", s))

    with _kit.quiet():
        sw = sweep(designs["filed"], {"post_marketing.endpoint.baseline.median_months": list(MEDIAN_GRID)},
                   replicates=replicates, seed=SEED, scenarios=["HR 0.7", "HR 0.5"])
    for (median,), res in zip(sw.points, sw.results):
        for s in res.scenarios:
            out.update(_kit.scenario_numbers(f"median.{median:g}.{s.name}", s,
                                             ("p_confirmed", "expected_events")))
    return {"replicates": int(replicates), "seed": SEED, "numbers": out}


def _cmp_table(doc: dict[str, Any]) -> str:
    rows = []
    figs = [("P(confirmed by the cut-off)", "p_confirmed", 3),
            ("P(undecided at the cut-off)", "p_undecided", 3),
            ("median decision month", "decision_month_median", 1),
            ("E[treated enrolled]", "expected_treated_enrolled", 1),
            ("E[controls enrolled]", "expected_controls_enrolled", 1),
            ("E[cardiac deaths at decision]", "expected_events", 1),
            ("mean estimated log HR", "mean_estimate", 3)]
    for scen in SCENARIOS:
        for label, fig, digits in figs:
            cells = []
            for d in DESIGNS:
                key = f"cmp.{d}.{scen}.{fig}"
                cells.append(_kit.fmt(doc, key, digits) if key in _kit.numbers_of(doc) else "—")
            rows.append([f"{scen}: {label}", *cells])
    return _kit.table(["scenario: figure", *DESIGNS], rows)


def render(doc: dict[str, Any]) -> str:
    """The Markdown page from the numbers (see ``_kit``)."""
    f, n = _kit.fmt, _kit.numbers_of(doc)

    def v(key: str) -> Any:
        return n[key]["value"]

    p0_rows = [[f"{p0:g}", f(doc, f"pre.p0.{p0:g}.pvalue", 4),
                "pass" if v(f"pre.p0.{p0:g}.pvalue") <= 0.025 else "fail",
                f(doc, f"pre.p0.{p0:g}.posterior_vague", 3)] for p0 in P0_GRID]
    crit_rows = []
    i = 0
    while f"pre.criterion.{i}.text" in n:
        crit_rows.append([v(f"pre.criterion.{i}.text"), f(doc, f"pre.criterion.{i}.value", 4),
                          f"{v(f'pre.criterion.{i}.threshold'):g}", v(f"pre.criterion.{i}.passed")])
        i += 1
    i = 0
    while f"pre.sensitivity.{i}.text" in n:
        crit_rows.append([v(f"pre.sensitivity.{i}.text") + " (sensitivity)", f(doc, f"pre.sensitivity.{i}.value", 4),
                          f"{v(f'pre.sensitivity.{i}.threshold'):g}", v(f"pre.sensitivity.{i}.passed")])
        i += 1
    ci_rows = [[m, f"{v(f'pre.interval.{m}.low'):.3f} – {v(f'pre.interval.{m}.high'):.3f}"]
               for m in ("clopper-pearson", "wilson", "jeffreys", "mid-p")]
    post_rows = [[name, f"{v(f'pre.posterior.{name}.mean'):.3f}",
                  f"{v(f'pre.posterior.{name}.low'):.3f} – {v(f'pre.posterior.{name}.high'):.3f}"]
                 for name in ("vague", "skeptical")]
    design_rows = [[f"`{label}`", f"`designs/{stem}.yaml`", text, f"{v(f'design.{label}.cutoff_month'):g}"]
                   for label, (stem, text) in DESIGNS.items()]
    med_rows = [[f"{m:g}", *(f(doc, f"median.{m:g}.{s}.{fig}", 3 if fig == "p_confirmed" else 1)
                             for s in ("HR 0.7", "HR 0.5") for fig in ("p_confirmed", "expected_events"))]
                for m in MEDIAN_GRID]

    def c(d: str, s: str, fig: str = "p_confirmed", digits: int = 3) -> str:
        return f(doc, f"cmp.{d}.{s}.{fig}", digits)

    return f"""# {TITLE}

<!-- Generated by docs/cases/build.py from docs/cases/heartsheet.py; do not edit by hand. -->

*Every number on this page is computed by `docs/cases/heartsheet.py` with the public `condapprove` API
({doc['replicates']} Monte-Carlo replicates per scenario, seed {doc['seed']}); ± is one Monte-Carlo standard error
(omitted when it is below the last digit shown); numbers without ± are exact. Regenerate with
`python docs/cases/build.py --only heartsheet`.*

## Published facts

| fact | value |
| --- | --- |
| product | HeartSheet (Terumo): autologous skeletal myoblast sheets, severe ischemic heart failure |
| conditional, time-limited approval | 2015-09-18, limit 5 years, extended by 3 years (5 + 3) |
| pre-approval evidence | single arm, n = {v('pre.n')}; {v('pre.responders')} "responders" on LVEF (0 improved, 5 unchanged, 2 worse) |
| post-marketing condition | use-results comparison survey, at least 60 treated vs 120 controls within 5 years; time to cardiac death |
| what happened | about 12 treated in 3 years; filed with 49 treated vs 102 controls after 8 years; not superior; refused July 2024 |

Source: the product table (section 4) of the project's domain primer, compiled from public sources.

## How strong was the presumed efficacy?

Seven patients, none improved: the exact (Clopper–Pearson) 95% interval for the improvement rate is
{v('pre.improved.low'):.3f} – {v('pre.improved.high'):.3f}. The five "responders" are patients whose LVEF did not
worsen; their rate is {v('pre.responders')}/{v('pre.n')}, with these 95% intervals
(`condapprove estimate designs/heartsheet_extended.yaml`):

{_kit.table(["interval method", "95% interval"], ci_rows)}

{_kit.table(["prior", "posterior mean", "95% interval"], post_rows)}

No public figure says how often LVEF does not worsen without treatment. **Assumption:** 30% (p0). Against it
the evidence criteria of the design file give:

{_kit.table(["criterion", "value", "threshold", "result"], crit_rows)}

Verdict at p0 = 0.3: **{v('pre.verdict')}**. The verdict depends on the assumed reference rate:

{_kit.table(["reference rate p0", "exact one-sided p-value (5/7)", "at 2.5%", "P(rate > p0), uniform prior"],
            p0_rows)}

Five of seven is significant at one-sided 2.5% only if fewer than {v('pre.interval.clopper-pearson.low'):.1%} of
untreated patients would keep their LVEF (the Clopper–Pearson lower bound): the presumed efficacy rested on a non-worsening endpoint, seven patients and an unstated reference.

## What chance did the planned evaluation have by the deadline?

Five post-marketing designs, simulated with common random numbers (the same patients in every design):

{_kit.table(["label", "file", "design", "data cut-off (month)"], design_rows)}

All assume concurrent controls without modelled confounding, exponential cardiac death with a control median of
30 months (assumption), 0.5% a month lost to follow-up and a 12-month filing lead; the hazard ratios of 0.7 and
0.5 are assumptions (the product's true effect is unknown).

{_cmp_table(doc)}

![P(confirmed by the cut-off) per design and scenario](img/heartsheet-designs.svg)

* **As planned** the survey would have reached its 80 deaths around month
  {c('planned', 'HR 0.5', 'decision_month_median', 0)} and confirmed a large effect (HR 0.5) with probability
  {c('planned', 'HR 0.5')}, a moderate one (HR 0.7) with {c('planned', 'HR 0.7')}.
* **With the accrual that happened** and the original 5-year limit the analysis would have fallen at month
  {v('design.limit5.cutoff_month'):g} with about {c('limit5', 'HR 0.5', 'expected_treated_enrolled', 0)} treated
  patients: P(confirmed) {c('limit5', 'HR 0.5')} at HR 0.5. The 60-patient target was out of reach in both. The 3-year extension raised it to
  {c('actual', 'HR 0.5')}; as filed (49 vs 102, enrolment capped at those numbers) it is {c('filed', 'HR 0.5')} at HR 0.5 and only
  {c('filed', 'HR 0.7')} at HR 0.7.
* A false confirmation (no effect) stays near the one-sided 2.5% in every design ({c('filed', 'no effect')} as
  filed), because no confounding is modelled; an open-label comparison with sicker treated patients would lower
  the power further (see the Collategene case).

## Which alternative would have done better?

The bottleneck is the number of treated deaths, not the controls. Against a historical registry of 200 fully
observed patients (`registry`, an assumption) P(confirmed) is {c('registry', 'HR 0.5')} at HR 0.5 and
{c('registry', 'HR 0.7')} at HR 0.7 with the same treated patients — better than the concurrent 102 controls,
and the controls need not be recruited, but still far from the planned {c('planned', 'HR 0.5')}: only accrual
(or a larger effect) could have rescued the survey. A moderate effect (HR 0.7) was never going to be confirmed
by any of these designs (at most {c('planned', 'HR 0.7')}).

## Sensitivity to the assumed control median

The control median of 30 months is an assumption. The survey as filed, with other medians
(`explore.sweep` of `post_marketing.endpoint.baseline.median_months`, same seed):

{_kit.table(["control median (months)", "HR 0.7: P(confirmed)", "HR 0.7: E[deaths]", "HR 0.5: P(confirmed)",
             "HR 0.5: E[deaths]"], med_rows)}

![P(confirmed) of the survey as filed against the control median](img/heartsheet-median.svg)

A longer median means fewer deaths in the same 7 years and less power. Even with a short median of 18 months
(about {f(doc, 'median.18.HR 0.5.expected_events', 0)} deaths) the survey as filed confirms a large effect with
probability {f(doc, 'median.18.HR 0.5.p_confirmed')}.
"""


def figures(doc: dict[str, Any], outdir: Path) -> list[Path]:
    """The page's SVG figures, drawn from the numbers alone."""
    labels = list(DESIGNS)
    series = [(s, [f"cmp.{d}.{s}.p_confirmed" for d in labels]) for s in SCENARIOS]
    a = _kit.bar_chart(doc, labels, series, ylabel="P(confirmed by the cut-off)",
                       title="HeartSheet-like survey: designs side by side", hline=0.025)
    lines = [(s, [f"median.{m:g}.{s}.p_confirmed" for m in MEDIAN_GRID]) for s in ("HR 0.7", "HR 0.5")]
    b = _kit.line_chart(doc, list(MEDIAN_GRID), lines, xlabel="control median time to cardiac death (months)",
                        ylabel="P(confirmed by the cut-off)", title="Survey as filed (49 vs 102): sensitivity")
    return [_kit.save_svg(a, outdir, "heartsheet-designs"), _kit.save_svg(b, outdir, "heartsheet-median")]
