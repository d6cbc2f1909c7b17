"""Case study: Amchepry (Sumitomo Pharma; iPS-cell-derived dopaminergic progenitors for Parkinson's disease).

Rebuilds the approval cohort's evidence (7 patients, 6 assessed, 4/6 improved their OFF motor
score) against an assumed natural-history improvement rate, with its sensitivity to that rate and
to the unassessed seventh patient; then simulates the post-marketing trial of
``designs/amchepry_trial.yaml`` (35 patients at 7 sites, 2-year follow-up) and variants of it:
site-to-site heterogeneity, the natural-history rate, more patients, more sites and more
manufacturing capacity.  All simulations share one seed (common random numbers).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import condapprove
from condapprove.estimate import binomial_interval, binomial_test
from condapprove.evidence import evaluate_evidence
from condapprove.explore import sweep

_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:  # _kit lives beside this module
    sys.path.insert(0, _HERE)
import _kit

__all__ = ["SLUG", "SUMMARY", "TITLE", "check_published", "compute", "figures", "render"]

SLUG = "amchepry"
TITLE = "Amchepry: six assessed patients, seven sites, and a 2-year follow-up"
SUMMARY = ("4/6 improved against an assumed natural-history rate, and the unassessed seventh patient; a "
           "35-patient trial at 7 sites: site heterogeneity, more patients, sites and manufacturing capacity")

_SEED = 20260306  # the design's seed (approval date)
_SCEN = {"none": "no effect", "modest": "modest", "cohort": "as in the approval cohort"}
_P0 = (0.10, 0.15, 0.20, 0.25, 0.30)
_SITE_SD = (0.0, 0.5, 1.0)
_RATE_CHANGE = "post_marketing.treated.accrual.rate_changes.1.rate_per_month"
_CAPACITY = "post_marketing.treated.accrual.capacity_per_month"
_TARGET = "post_marketing.treated.target_n"
#: design variants: key -> (label, fields changed)
_VARIANTS: dict[str, tuple[str, dict[str, float]]] = {
    "planned": ("planned: 35 patients, 7 sites, capacity 1.2/month", {}),
    "sites4": ("only 4 sites open (1.0 patients/month)", {_RATE_CHANGE: 1.0}),
    "n25": ("25 patients", {_TARGET: 25}),
    "n45": ("45 patients", {_TARGET: 45}),
    "n50cap2": ("50 patients, capacity 2.0/month", {_TARGET: 50, _CAPACITY: 2.0}),
    "sites10": ("10 sites (2.5 patients/month)", {_RATE_CHANGE: 2.5}),
    "sites10cap2": ("10 sites, capacity 2.0/month", {_RATE_CHANGE: 2.5, _CAPACITY: 2.0}),
}


_mc = _kit.mc  # a Monte-Carlo mean or quantile with its MCSE
_p = _kit.probability  # a Monte-Carlo probability with an Agresti-Coull MCSE
_prob = _kit.share


def _put(out: dict[str, Any], prefix: str, sc: Any) -> None:
    out[f"{prefix}.pconf"] = _p(sc.p_confirmed)
    out[f"{prefix}.miss"] = _p(sc.p_target_not_reached)
    out[f"{prefix}.undecided"] = _p(sc.p_undecided)
    out[f"{prefix}.month"] = _mc(sc.mean_decision_month)
    out[f"{prefix}.evaluable"] = _mc(sc.expected_treated_evaluable)
    out[f"{prefix}.enrolled"] = _mc(sc.expected_treated_enrolled)


def _k(x: float) -> str:
    return f"{round(100 * x):02d}"


def compute(replicates: int = 20000) -> dict[str, Any]:
    """Every number of the page.

    Parameters
    ----------
    replicates : int
        Monte-Carlo replicates per scenario and design variant.

    Returns
    -------
    dict
        ``{"replicates": n, "numbers": {key: {"value": ..., "mcse": ...}}}``.
    """
    E, out = _kit.exact, {}
    trial = _kit.design("amchepry_trial")

    # ---- the approval cohort (exact)
    pre = trial.pre_approval
    assert pre is not None
    priors = {name: spec.build() for name, spec in pre.priors.items()}
    ev = evaluate_evidence(pre.build_cohort(), pre.criteria(), priors=priors)
    cohort = pre.build_cohort()
    out["x"], out["n"] = E(cohort.responders), E(cohort.n)
    out["treated"] = E(7)  # primer: n = 7, 6 assessed
    out["mean_change"] = E("-20.4%")  # primer: mean change of the OFF motor score
    out["rate"] = E(ev.estimate)
    out["verdict"] = E(ev.verdict)
    out["p0"] = E(float(trial.post_marketing.control.rate))
    for method, iv in ev.intervals.items():
        out[f"ci.{method}.low"], out[f"ci.{method}.high"] = E(iv["low"]), E(iv["high"])
    out["post.vague.mean"] = E(ev.posteriors["vague"]["mean"])
    out["post.vague.pgt"] = E(float(priors["vague"].update(4, 6).prob_greater(0.20)))
    for p0 in _P0:
        out[f"p46.{_k(p0)}"] = E(float(binomial_test(4, 6, p0, alternative="greater").pvalue))
        out[f"p47.{_k(p0)}"] = E(float(binomial_test(4, 7, p0, alternative="greater").pvalue))
    out["ci47.low"] = E(float(binomial_interval(4, 7).low))
    out["ci47.high"] = E(float(binomial_interval(4, 7).high))
    out["cutoff"] = E(float(trial.cutoff_month))

    # ---- the planned trial and its variants (common random numbers)
    inv = {v: k for k, v in _SCEN.items()}
    two = [_SCEN["none"], _SCEN["modest"]]
    with _kit.quiet():
        base = condapprove.simulate(trial, replicates=replicates, seed=_SEED)
        for sc in base.scenarios:
            _put(out, f"base.{inv[sc.name]}", sc)
        sites = sweep(trial, {"post_marketing.heterogeneity.site_sd": list(_SITE_SD)}, replicates=replicates,
                      seed=_SEED, scenarios=two)
        for v, res in zip(_SITE_SD, sites.results):
            for sc in res.scenarios:
                _put(out, f"site{_k(v)}.{inv[sc.name]}", sc)
        nat = sweep(trial, {"post_marketing.control.rate": list(_P0)}, replicates=replicates, seed=_SEED,
                    scenarios=[_SCEN["modest"], _SCEN["cohort"]])
        for v, res in zip(_P0, nat.results):
            for sc in res.scenarios:
                _put(out, f"nat{_k(v)}.{inv[sc.name]}", sc)
        for key, (_, fields) in _VARIANTS.items():
            if fields:
                res = sweep(trial, {p: [x] for p, x in fields.items()}, replicates=replicates, seed=_SEED,
                            scenarios=two).results[0]
            else:
                res = base
            for sc in res.scenarios:
                if sc.name in two:
                    _put(out, f"var.{key}.{inv[sc.name]}", sc)
    return {"replicates": int(replicates), "numbers": out}


# ------------------------------------------------------------------ render
def render(doc: dict[str, Any]) -> str:
    """The page's Markdown, from the numbers of :func:`compute` only."""
    N = _kit.numbers_of(doc)
    reps = doc.get("replicates")

    def f(key: str, digits: int = 3) -> str:
        return _kit.fmt(N, key, digits)

    def v(key: str) -> Any:
        return N[key]["value"]

    def pv(key: str) -> str:
        p = v(key)
        return f"{p:.4f} ({'pass' if p <= 0.025 else 'fail'})"

    L: list[str] = []
    add = L.append
    add(f"# {TITLE}")
    add("")
    add("*Generated by `docs/cases/amchepry.py` (`python docs/cases/build.py --only amchepry`): every number comes "
        f"from `condapprove` run on `designs/amchepry_trial.yaml` and variants of it, with {reps} Monte-Carlo "
        "replicates per scenario and variant, all with the design's seed (common random numbers). ± is one "
        "Monte-Carlo standard error (for a probability the Agresti–Coull one, which does not vanish at 0 or 1); "
        "MCSEs below the last digit shown are omitted.*")
    add("")
    add("## Published facts")
    add("")
    add(_kit.table(["fact", "value", "source"], [
        ["product", "Amchepry (Sumitomo Pharma), iPS-cell-derived dopaminergic progenitors; Parkinson's disease",
         "domain primer, section 4"],
        ["approval", "conditional and time-limited, 2026-03-06, limit 7 years", "domain primer, section 4"],
        ["approval cohort", (f"{v('treated')} patients treated, {v('n')} assessed; {v('x')}/{v('n')} improved "
                             f"their OFF motor score, mean change {v('mean_change')}"), "domain primer, section 4"],
        ["post-marketing condition", "post-marketing clinical trial at 7 sites, 35 patients, 2-year follow-up",
         "domain primer, section 4"],
    ]))
    add("")
    add("Not public, and assumptions here (commented in `designs/amchepry_trial.yaml`): a single-arm trial judging "
        f"improvement at 24 months by the exact one-sided binomial test at 2.5% against a natural-history "
        f"improvement rate of {v('p0'):.0%}; sites opening in steps (1 site from month 6, 3 from month 12, all 7 from "
        "month 18, each referring 0.25 patients a month); manufacturing capacity of 1.2 evaluable patients a month; "
        "15% of enrolled patients never treated and 10% of the treated lost before 24 months (both replaced); a "
        "site effect on the log odds of improvement with SD 0.5; 12 months from the data cut-off to filing "
        f"(cut-off at month {v('cutoff'):.0f}, so the last evaluable patient must be treated by month 48).")
    add("")
    add("## How strong was the presumed efficacy?")
    add("")
    add(f"{v('x')}/{v('n')} improved = {v('rate'):.1%}. `condapprove estimate designs/amchepry_trial.yaml`:")
    add("")
    rows = [[m, f"{v(f'ci.{m}.low'):.3f}", f"{v(f'ci.{m}.high'):.3f}"]
            for m in ("clopper-pearson", "wilson", "jeffreys", "mid-p") if f"ci.{m}.low" in N]
    add(_kit.table(["95% interval for the improvement rate", "low", "high"], rows))
    add("")
    add(f"Verdict against a natural-history rate of {v('p0'):.0%}: **{v('verdict')}** (exact one-sided p = "
        f"{v('p46.20'):.4f}; Clopper–Pearson lower bound {v('ci.clopper-pearson.low'):.3f}; under a uniform prior "
        f"P(rate > 20%) = {v('post.vague.pgt'):.3f}). The verdict rests on two things that are not published or not "
        "settled: the natural-history rate, and the patient who was treated but not assessed.")
    add("")
    rows = [[f"{p:.0%}", pv(f"p46.{_k(p)}"), pv(f"p47.{_k(p)}")] for p in _P0]
    add(_kit.table(["natural-history rate p0", "exact p, 4/6 assessed", "exact p, 4/7 (7th counted as not improved)"],
                   rows))
    add("")
    passing = [p for p in _P0 if v(f"p46.{_k(p)}") <= 0.025]
    add(f"With the six assessed patients the evidence passes only for a natural-history rate up to "
        f"{max(passing):.0%}; counting the seventh patient as not improved (4/7, 95% interval "
        f"{v('ci47.low'):.3f}–{v('ci47.high'):.3f}) it fails already at 20%. The presumed efficacy of an "
        "n = 6 cohort is a statement about the comparator as much as about the product.")
    add("")
    add("## What chance did the planned trial have by the deadline?")
    add("")
    heads = ["", "no effect (20%)", "modest (40%)", "as in the approval cohort (66.7%)"]
    keys = ("none", "modest", "cohort")
    rows = [["P(confirmed by cut-off)", *[f(f"base.{k}.pconf") for k in keys]],
            ["P(35 evaluable not reached by cut-off)", *[f(f"base.{k}.miss") for k in keys]],
            ["P(undecided at cut-off)", *[f(f"base.{k}.undecided") for k in keys]],
            ["mean decision month", *[f(f"base.{k}.month", 1) for k in keys]],
            ["E[treated evaluable at decision]", *[f(f"base.{k}.evaluable", 1) for k in keys]],
            ["E[patients enrolled]", *[f(f"base.{k}.enrolled", 1) for k in keys]]]
    add(_kit.table(heads, rows))
    add("")
    add(f"The trial decides late: the mean decision month is {v('base.modest.month'):.0f} of {v('cutoff'):.0f}, and "
        f"in {v('base.modest.miss'):.0%} of replicates the 35th evaluable patient has not completed follow-up by the "
        f"cut-off: the 7 sites' referrals (1.75 a month, of whom about 77% become evaluable) barely exceed the "
        f"manufacturing capacity of 1.2 a month, and the last evaluable patient must be treated by month 48. An effect as large as in "
        f"the approval cohort is confirmed almost surely ({f('base.cohort.pconf')}); a modest one (40% against 20%) "
        f"only with probability {f('base.modest.pconf')}. Under no effect the trial confirms with probability "
        f"{f('base.none.pconf')}: the sites.")
    add("")
    add("## Site-to-site heterogeneity")
    add("")
    add("Each site shifts the log odds of improvement of its patients; the exact test treats the 35 patients as "
        "independent. The site SD is not public:")
    add("")
    rows = [[f"{s:g}" + (" (assumed)" if s == 0.5 else ""), f(f"site{_k(s)}.none.pconf"),
             f(f"site{_k(s)}.modest.pconf")] for s in _SITE_SD]
    add(_kit.table(["site SD (log odds)", "P(confirmed), no effect", "P(confirmed), modest"], rows))
    add("")
    add(f"With 7 sites and 35 patients, a site SD of 1 (a site one SD above average has 2.7 times the odds of "
        f"improvement) makes the trial confirm a product without effect with probability {f('site100.none.pconf')}; "
        f"without site variation the exact test holds its level ({f('site00.none.pconf')}). Power under the modest "
        "effect barely changes: the sites add noise, which the test does not see, in both directions.")
    add("")
    add("## The natural-history rate")
    add("")
    rows = [[f"{p:.0%}" + (" (assumed)" if abs(p - 0.20) < 1e-9 else ""), f(f"nat{_k(p)}.modest.pconf"),
             f(f"nat{_k(p)}.cohort.pconf")] for p in _P0]
    add(_kit.table(["benchmark p0", "P(confirmed), true rate 40%", "P(confirmed), true rate 66.7%"], rows))
    add("")
    add(f"If natural history improves 30% of patients rather than 20%, a true 40% improvement rate is confirmed with "
        f"probability {f('nat30.modest.pconf')}: the 35-patient trial is sized for a large effect only.")
    add("")
    add("## More patients, more sites, more capacity")
    add("")
    rows = [[label, f(f"var.{k}.none.pconf"), f(f"var.{k}.modest.pconf"), f(f"var.{k}.modest.miss"),
             f(f"var.{k}.modest.month", 1), f(f"var.{k}.modest.evaluable", 1)] for k, (label, _) in _VARIANTS.items()]
    add(_kit.table(["design (others as planned)", "P(confirmed), no effect", "P(confirmed), modest",
                    "P(target not reached)", "mean decision month", "E[evaluable at decision]"], rows))
    add("")
    add("![Power and timing of the design variants](img/amchepry-variants.svg)")
    add("")
    add(f"More patients alone help little: with 45 patients and the same capacity the target is missed in "
        f"{v('var.n45.modest.miss'):.0%} of replicates, the analysis at the cut-off has about "
        f"{v('var.n45.modest.evaluable'):.0f} evaluable patients, and the power at the modest effect moves from "
        f"{f('var.planned.modest.pconf')} to {f('var.n45.modest.pconf')}. More sites alone remove the risk of missing the "
        f"target ({f('var.sites10.modest.miss')} with 10 sites) but not the late decision, since manufacturing caps "
        f"the pace; with 10 sites and a capacity of 2 a month the decision comes at month "
        f"{v('var.sites10cap2.modest.month'):.0f} instead of {v('var.planned.modest.month'):.0f}. If only 4 sites "
        f"open, the target is missed in {v('var.sites4.modest.miss'):.0%} of replicates.")
    add("")
    add("## Which design would have done better?")
    add("")
    add(f"The planned 35-patient trial has enough power only for an effect near the approval cohort's; for a modest "
        f"effect it confirms with probability {f('var.planned.modest.pconf')}, and its false-confirmation rate depends "
        f"on the unknown site variation. The better design raises manufacturing capacity together with the "
        f"number of patients: 50 patients with a capacity of 2 a month confirm a modest effect with probability "
        f"{f('var.n50cap2.modest.pconf')}, though the target is still missed in {v('var.n50cap2.modest.miss'):.0%} "
        f"of replicates; and opening more sites early buys time (10 sites with capacity 2: decision at month "
        f"{v('var.sites10cap2.modest.month'):.0f}). Sites and lots are the same statistical problem as in the "
        "Akuugo case: an analysis that models them is needed to keep the one-sided 2.5% honest.")
    add("")
    add("![False and true confirmation against the site SD](img/amchepry-sites.svg)")
    add("")
    add("## Reproduce")
    add("")
    add("```bash")
    add("condapprove estimate designs/amchepry_trial.yaml")
    add("condapprove simulate designs/amchepry_trial.yaml -n 20000")
    add("condapprove sweep designs/amchepry_trial.yaml --vary post_marketing.heterogeneity.site_sd=0,0.5,1 -n 20000")
    add("condapprove sweep designs/amchepry_trial.yaml --vary post_marketing.treated.target_n=35,50 "
        "--vary post_marketing.treated.accrual.capacity_per_month=1.2,2 -n 20000")
    add("python docs/cases/build.py --only amchepry")
    add("```")
    add("")
    return "\n".join(L)


# ------------------------------------------------------------------ figures
def figures(doc: dict[str, Any], outdir: Path) -> list[Path]:
    """Write ``amchepry-variants.svg`` and ``amchepry-sites.svg`` to ``outdir`` from the page's numbers."""
    from matplotlib.figure import Figure

    N = _kit.numbers_of(doc)
    keys = list(_VARIANTS)

    fig = Figure(figsize=(7.6, 3.8))
    left, right = fig.subplots(1, 2, sharey=True)
    ypos = list(range(len(keys)))[::-1]
    labels = [_VARIANTS[k][0] for k in keys]
    for ax, what, title, color in ((left, "pconf", "P(confirmed), modest effect", "#1f77b4"),
                                   (right, "miss", "P(target not reached by cut-off)", "#d62728")):
        vals = [N[f"var.{k}.modest.{what}"]["value"] for k in keys]
        errs = [2 * N[f"var.{k}.modest.{what}"]["mcse"] for k in keys]
        ax.barh(ypos, vals, xerr=errs, color=color, alpha=0.8, capsize=2)
        ax.set_xlim(0, 1)
        ax.set_title(title, fontsize=9)
        ax.grid(axis="x", alpha=0.3)
    left.set_yticks(ypos)
    left.set_yticklabels(labels, fontsize=7)
    fig.suptitle("Amchepry: design variants (true improvement 40% vs 20%; ± 2 MCSE)", fontsize=10)
    fig.tight_layout()
    paths = [_kit.save_svg(fig, Path(outdir), "amchepry-variants")]

    fig = Figure(figsize=(6.0, 3.4))
    ax = fig.subplots()
    for key, label, color in (("none", "no effect (false confirmation)", "#d62728"),
                              ("modest", "modest effect (power)", "#1f77b4")):
        ys = [N[f"site{_k(s)}.{key}.pconf"]["value"] for s in _SITE_SD]
        es = [2 * N[f"site{_k(s)}.{key}.pconf"]["mcse"] for s in _SITE_SD]
        ax.errorbar(_SITE_SD, ys, yerr=es, fmt="o-", color=color, label=label, capsize=2, ms=4)
    ax.axhline(0.025, color="grey", ls=":", lw=0.8)
    ax.set_xlabel("site SD (log odds of improvement)")
    ax.set_ylabel("P(confirmed by the cut-off)")
    ax.set_ylim(-0.02, 1.02)
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    ax.set_title("Amchepry: what site variation does to the exact test (± 2 MCSE)", fontsize=9)
    paths.append(_kit.save_svg(fig, Path(outdir), "amchepry-sites"))
    return paths


# ------------------------------------------------------------------ published facts
def check_published(doc: dict[str, Any]) -> None:
    """Assert the published facts: 7 treated, 4/6 assessed improved; and what follows exactly from them."""
    N = _kit.numbers_of(doc)
    assert (N["treated"]["value"], N["x"]["value"], N["n"]["value"]) == (7, 4, 6)
    assert N["mean_change"]["value"] == "-20.4%"
    assert abs(N["rate"]["value"] - 4 / 6) < 1e-12
    # exact tail P(X >= 4 | 6, 0.2) = 15*0.2^4*0.8^2 + 6*0.2^5*0.8 + 0.2^6 = 0.01696
    assert abs(N["p46.20"]["value"] - 0.01696) < 1e-5
    assert N["verdict"]["value"] == "efficacy presumed"
    assert N["p47.20"]["value"] > 0.025  # the seventh patient counted as not improved: fails
    z = N["site00.none.pconf"]
    assert z["value"] <= 0.025 + 4 * z["mcse"]
