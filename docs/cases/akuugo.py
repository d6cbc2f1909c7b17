"""Case study: Akuugo (SanBio; modified bone-marrow stromal cells for chronic motor paralysis after TBI).

Rebuilds the sham-controlled RCT's evidence (46 vs 15; Fugl-Meyer +8.3, SE 1.4, vs +2.3, SE 2.5)
both as the design file states it (one-sample t against the sham's mean) and as a two-arm
comparison (Welch), then simulates the post-marketing trial of ``designs/akuugo_trial.yaml``:
its operating characteristics, what lot-to-lot heterogeneity costs (a sweep over the lot SD),
what a later start of shipping (lot comparability) or a larger trial does under the deadline, and
an assurance that carries the sham arm's uncertainty.  All simulations share one seed (common
random numbers).
"""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import Any

import condapprove
from condapprove.estimate import welch_t_from_summary
from condapprove.evidence import evaluate_evidence
from condapprove.explore import sweep
from condapprove.priors import Normal

_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:  # _kit lives beside this module
    sys.path.insert(0, _HERE)
import _kit

__all__ = ["SLUG", "SUMMARY", "TITLE", "check_published", "compute", "figures", "render"]

SLUG = "akuugo"
TITLE = "Akuugo: a sham-controlled trial, lots that differ, and a late start"
SUMMARY = ("a 46 vs 15 sham-controlled trial as a one-sample t and as Welch's comparison; what lot-to-lot "
           "heterogeneity, a later start and a larger trial do under the deadline; an assurance")

_SEED = 20240731  # the design's seed (approval date)
_SCEN = {"none": "no effect", "half": "half the RCT effect", "rct": "as in the RCT",
         "assur": "assurance (RCT estimate)"}
_LOT_SD = (0.0, 1.5, 3.0, 4.5, 6.0)
_START = (6, 18, 30, 36)
_TARGET = (60, 90, 120)
# primer: +8.3 (SE 1.4, n 46) vs +2.3 (SE 2.5, n 15)
_T_MEAN, _T_SE, _T_N, _C_MEAN, _C_SE, _C_N = 8.3, 1.4, 46, 2.3, 2.5, 15


_mc = _kit.mc  # a Monte-Carlo mean or quantile with its MCSE
_p = _kit.probability  # a Monte-Carlo probability with an Agresti-Coull MCSE
_prob = _kit.share


def _put(out: dict[str, Any], prefix: str, sc: Any) -> None:
    out[f"{prefix}.pconf"] = _p(sc.p_confirmed)
    out[f"{prefix}.interim"] = _p(sc.p_confirmed_by_look[0])
    out[f"{prefix}.futility"] = _p(sc.p_futility)
    out[f"{prefix}.undecided"] = _p(sc.p_undecided)
    out[f"{prefix}.month"] = _mc(sc.mean_decision_month)
    out[f"{prefix}.treated"] = _mc(sc.expected_treated_enrolled)
    out[f"{prefix}.estimate"] = _mc(sc.mean_estimate)


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
    trial = _kit.design("akuugo_trial")

    # ---- the RCT (exact)
    pre = trial.pre_approval
    assert pre is not None
    ev = evaluate_evidence(pre.build_cohort(), pre.criteria())
    out["sd"] = E(round(_T_SE * math.sqrt(_T_N), 1))
    out["t.low"], out["t.high"] = E(ev.intervals["t"]["low"]), E(ev.intervals["t"]["high"])
    out["t.pvalue"] = E(ev.criteria[0].value)
    out["verdict"] = E(ev.verdict)
    w = welch_t_from_summary(_T_MEAN, _T_SE, _T_N, _C_MEAN, _C_SE, _C_N, spread="se", alternative="greater")
    w2 = welch_t_from_summary(_T_MEAN, _T_SE, _T_N, _C_MEAN, _C_SE, _C_N, spread="se")
    out["welch.diff"], out["welch.se"], out["welch.df"] = E(w.estimate), E(w.se), E(w.df)
    out["welch.p1"] = E(w.pvalue)
    out["welch.low"], out["welch.high"] = E(w2.ci.low), E(w2.ci.high)
    post = Normal(0.0, 20.0).update(w.estimate, w.se)  # a vague prior on the difference
    out["post.mean"] = E(post.mean)
    out["post.gt0"], out["post.gt3"] = E(float(post.prob_greater(0.0))), E(float(post.prob_greater(3.0)))

    # ---- the planned trial and its variants (common random numbers)
    with _kit.quiet():
        base = condapprove.simulate(trial, replicates=replicates, seed=_SEED)
        lots = sweep(trial, {"post_marketing.heterogeneity.lot_sd": list(_LOT_SD)}, replicates=replicates,
                     seed=_SEED, scenarios=[_SCEN["none"], _SCEN["rct"], _SCEN["assur"]])
        start = sweep(trial, {"post_marketing.treated.accrual.start_month": list(_START)}, replicates=replicates,
                      seed=_SEED, scenarios=[_SCEN["none"], _SCEN["half"], _SCEN["rct"]])
        size = sweep(trial, {"post_marketing.treated.target_n": list(_TARGET)}, replicates=replicates,
                     seed=_SEED, scenarios=[_SCEN["none"], _SCEN["half"], _SCEN["rct"]])
        assur = sweep(trial, {"scenarios.3.treated_mean.normal.1": [float(w.se)]}, replicates=replicates,
                      seed=_SEED, scenarios=[_SCEN["assur"]])
    out["cutoff"] = E(float(trial.cutoff_month))
    inv = {v: k for k, v in _SCEN.items()}
    for sc in base.scenarios:
        _put(out, f"base.{inv[sc.name]}", sc)
    for v, res in zip(_LOT_SD, lots.results):
        for sc in res.scenarios:
            _put(out, f"lot{v:g}.{inv[sc.name]}", sc)
    for v, res in zip(_START, start.results):
        for sc in res.scenarios:
            _put(out, f"start{v}.{inv[sc.name]}", sc)
    for v, res in zip(_TARGET, size.results):
        for sc in res.scenarios:
            _put(out, f"n{v}.{inv[sc.name]}", sc)
    _put(out, "assur_se.assur", assur.results[0].scenarios[0])
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

    L: list[str] = []
    add = L.append
    add(f"# {TITLE}")
    add("")
    add("*Generated by `docs/cases/akuugo.py` (`python docs/cases/build.py --only akuugo`): every number comes from "
        f"`condapprove` run on `designs/akuugo_trial.yaml` and variants of it, with {reps} Monte-Carlo replicates "
        "per scenario and variant, all with the design's seed (common random numbers). ± is one Monte-Carlo "
        "standard error (for a probability the Agresti–Coull one, which does not vanish at 0 or 1); MCSEs below "
        "the last digit shown are omitted.*")
    add("")
    add("## Published facts")
    add("")
    add(_kit.table(["fact", "value", "source"], [
        ["product", ("Akuugo (SanBio), allogeneic modified bone-marrow stromal cells; chronic motor paralysis after "
                    "traumatic brain injury"), "domain primer, section 4"],
        ["approval", "conditional and time-limited, 2024-07-31, limit 7 years", "domain primer, section 4"],
        ["approval evidence", ("sham-controlled RCT, 46 treated vs 15 sham; Fugl-Meyer motor change at 24 weeks "
                              "+8.3 (SE 1.4) vs +2.3 (SE 2.5)"), "domain primer, section 4"],
        ["post-marketing condition", ("a post-marketing clinical trial; no shipment until commercial lots are shown "
                                     "comparable (the first lot failed)"), "domain primer, section 4"],
    ]))
    add("")
    add("Not public, and assumptions here (commented in `designs/akuugo_trial.yaml`): shipping and enrolment start "
        "18 months after approval, 3 treated patients a month after a 6-month ramp-up, 2:1 randomisation against "
        "sham, 90 treated and 45 sham evaluable patients, 10% lost before week 24, lots of 10 patients whose mean "
        "change varies with SD 3 points, one interim at half the information (O'Brien–Fleming-type spending, "
        "futility when conditional power < 10%), and 12 months from the data cut-off to filing (cut-off at month "
        f"{v('cutoff'):.0f}). The patient-level SD, SE × √n = 1.4 × √46 = {v('sd'):.1f}, is derived.")
    add("")
    add("## How strong was the presumed efficacy?")
    add("")
    add(_kit.table(["analysis of the RCT", "estimate", "95% CI", "one-sided p"], [
        ["treated change against the sham mean taken as known (one-sample t; the design file's criterion)",
         "8.3", f"{v('t.low'):.1f} to {v('t.high'):.1f}", f"{v('t.pvalue'):.1e}"],
        ["treated − sham difference (Welch, both arms' SEs)", (f"{v('welch.diff'):.1f} (SE {v('welch.se'):.2f}, "
         f"df {v('welch.df'):.1f})"), f"{v('welch.low'):.1f} to {v('welch.high'):.1f}", f"{v('welch.p1'):.4f}"],
    ]))
    add("")
    add(f"`condapprove estimate designs/akuugo_trial.yaml` returns **{v('verdict')}**, but its criterion treats the "
        f"sham arm's +2.3 as a known value. Compared as two arms, the 6-point difference has an SE of "
        f"{v('welch.se'):.2f} because the sham arm has only 15 patients: the one-sided p-value is {v('welch.p1'):.3f}, "
        f"just under 2.5%, and the 95% interval reaches down to {v('welch.low'):.1f} points. Under a vague normal "
        f"prior on the difference (N(0, 20²)) the posterior probability of any benefit is {v('post.gt0'):.3f}, and of "
        f"more than 3 points {v('post.gt3'):.3f}. The presumed efficacy is real but thin: a confirmatory trial has "
        "to be designed for effects well below the RCT's point estimate.")
    add("")
    add("## What chance did the planned trial have by the deadline?")
    add("")
    heads = ["", "no effect (2.3 vs 2.3)", "half the RCT effect", "as in the RCT (8.3 vs 2.3)",
             "assurance N(8.3, 1.4²)"]
    keys = ("none", "half", "rct", "assur")
    rows = [["P(confirmed by cut-off)", *[f(f"base.{k}.pconf") for k in keys]],
            ["… at the interim", *[f(f"base.{k}.interim") for k in keys]],
            ["P(stopped for futility)", *[f(f"base.{k}.futility") for k in keys]],
            ["P(undecided at cut-off)", *[f(f"base.{k}.undecided") for k in keys]],
            ["mean decision month", *[f(f"base.{k}.month", 1) for k in keys]],
            ["E[treated enrolled]", *[f(f"base.{k}.treated", 1) for k in keys]]]
    add(_kit.table(heads, rows))
    add("")
    add(f"As planned, the trial decides around month {v('base.rct.month'):.0f}, well before the cut-off, and confirms "
        f"the RCT's effect with probability {f('base.rct.pconf')}. Two things in this table are not what the design "
        f"intended. The assurance scenario draws the treated mean from N(8.3, 1.4²) but keeps the sham at 2.3: "
        f"drawing the *difference* from N(6.0, {v('welch.se'):.2f}²), which carries the sham arm's uncertainty, lowers "
        f"the assurance from {f('base.assur.pconf')} to {f('assur_se.assur.pconf')}. And under no effect the trial "
        f"confirms with probability {f('base.none.pconf')}, above its one-sided 2.5%: the lots.")
    add("")
    add("## Lot-to-lot heterogeneity")
    add("")
    add("Each run of 10 consecutive treated patients shares a lot effect on the mean change; the trial's t test "
        "treats the patients as independent. The lot SD is not public (the first commercial lot failed comparability, "
        "so it is not small); the same simulated patients with lot SDs from 0 to 6 points:")
    add("")
    rows = [[f"{x:g}", f(f"lot{x:g}.none.pconf"), f(f"lot{x:g}.rct.pconf"), f(f"lot{x:g}.assur.pconf"),
             f(f"lot{x:g}.rct.futility")] for x in _LOT_SD]
    add(_kit.table(["lot SD (points)", "P(confirmed), no effect", "P(confirmed), RCT effect",
                    "P(confirmed), assurance", "P(futility), RCT effect"], rows))
    add("")
    add("![False and true confirmation against the lot SD](img/akuugo-lots.svg)")
    add("")
    add(f"Without lot variation the trial holds its level ({f('lot0.none.pconf')}) and has power {f('lot0.rct.pconf')}. "
        f"At the assumed SD of 3 points the false-confirmation rate is {f('lot3.none.pconf')}, and at 6 points "
        f"{f('lot6.none.pconf')}, while the power falls to {f('lot6.rct.pconf')}. Lot variation is not only a "
        "manufacturing question: unless the analysis models lots (a random lot effect, or a test on lot means), "
        "the confirmatory trial's type I error depends on it.")
    add("")
    add("## A late start, or a larger trial")
    add("")
    add("The trial cannot enrol until commercial lots are shown comparable. If that takes longer than the assumed "
        "18 months, or if the trial is made larger to absorb the lot variation, the deadline starts to bite:")
    add("")
    rows = [[f"starts month {s}" + (" (planned)" if s == 18 else ""), f(f"start{s}.none.pconf"),
             f(f"start{s}.half.pconf"), f(f"start{s}.rct.pconf"), f(f"start{s}.rct.undecided"),
             f(f"start{s}.rct.month", 1)] for s in _START]
    rows += [[f"{n} treated / {n // 2} sham" + (" (planned)" if n == 90 else ""), f(f"n{n}.none.pconf"),
              f(f"n{n}.half.pconf"), f(f"n{n}.rct.pconf"), f(f"n{n}.rct.undecided"), f(f"n{n}.rct.month", 1)]
             for n in _TARGET]
    add(_kit.table(["variant (others as planned)", "P(confirmed), no effect", "P(confirmed), half the effect",
                    "P(confirmed), RCT effect", "P(undecided), RCT effect", "mean decision month, RCT effect"],
                   rows))
    add("")
    add("![P(confirmed) and P(undecided) against the start of enrolment](img/akuugo-start.svg)")
    add("")
    add(f"A start at month 30 instead of 18 still leaves time (undecided {f('start30.rct.undecided')} at the RCT "
        f"effect); at month 36 the trial reaches the cut-off undecided with probability {f('start36.rct.undecided')}, "
        f"and the half-size effect is confirmed with probability {f('start36.half.pconf')} instead of "
        f"{f('start18.half.pconf')}. With a start at month 18, 120 treated patients raise the power at half the RCT "
        f"effect from {f('n90.half.pconf')} to {f('n120.half.pconf')}, at the cost of a decision about "
        f"{v('n120.rct.month') - v('n90.rct.month'):.0f} months later and an undecided risk of "
        f"{f('n120.rct.undecided')}.")
    add("")
    add("## Which design would have done better?")
    add("")
    add(f"The planned 90/45 trial is adequate for the RCT's point estimate but not for the effect the RCT actually "
        f"supports (a difference with a 95% interval down to {v('welch.low'):.1f} points): at half the effect it confirms "
        f"with probability {f('base.half.pconf')}. With an 18-month start, the larger trial (120/60) is the better "
        f"design: power {f('n120.half.pconf')} at half the effect and {f('n120.rct.pconf')} at the RCT effect, "
        f"undecided at the cut-off with probability {f('n120.rct.undecided')}. Its margin depends on shipping "
        f"starting on time: the planned trial started at month 36 is undecided with probability "
        f"{f('start36.rct.undecided')}. Whatever the size, the analysis should "
        f"account for lots: at the assumed lot SD the planned test confirms a product without effect with "
        f"probability {f('base.none.pconf')} instead of 0.025.")
    add("")
    add("## Reproduce")
    add("")
    add("```bash")
    add("condapprove estimate designs/akuugo_trial.yaml")
    add("condapprove simulate designs/akuugo_trial.yaml -n 20000")
    add("condapprove sweep designs/akuugo_trial.yaml --vary post_marketing.heterogeneity.lot_sd=0:6:1.5 -n 20000")
    add("condapprove sweep designs/akuugo_trial.yaml --vary post_marketing.treated.accrual.start_month=6,18,30,36")
    add("python docs/cases/build.py --only akuugo")
    add("```")
    add("")
    return "\n".join(L)


# ------------------------------------------------------------------ figures
def figures(doc: dict[str, Any], outdir: Path) -> list[Path]:
    """Write ``akuugo-lots.svg`` and ``akuugo-start.svg`` to ``outdir`` from the page's numbers."""
    from matplotlib.figure import Figure

    N = _kit.numbers_of(doc)

    def series(fmt: str, xs: Any) -> tuple[list[float], list[float]]:
        return ([N[fmt.format(x)]["value"] for x in xs], [2 * N[fmt.format(x)]["mcse"] for x in xs])

    fig = Figure(figsize=(7.6, 3.4))
    left, right = fig.subplots(1, 2)
    y, e = series("lot{:g}.none.pconf", _LOT_SD)
    left.errorbar(_LOT_SD, y, yerr=e, fmt="o-", color="#d62728", capsize=2, ms=4)
    left.axhline(0.025, color="grey", ls=":", lw=0.8)
    left.text(0.1, 0.027, "one-sided 2.5%", fontsize=7, color="dimgrey", va="bottom")
    left.set_xlabel("lot SD (Fugl-Meyer points)")
    left.set_ylabel("P(confirmed), no effect")
    left.set_title("false confirmation", fontsize=9)
    left.grid(alpha=0.3)
    for key, label, color in (("rct", "RCT effect (6 points)", "#1f77b4"),
                              ("assur", "assurance N(8.3, 1.4²)", "#2ca02c")):
        y, e = series("lot{:g}." + key + ".pconf", _LOT_SD)
        right.errorbar(_LOT_SD, y, yerr=e, fmt="o-", color=color, label=label, capsize=2, ms=4)
    right.set_xlabel("lot SD (Fugl-Meyer points)")
    right.set_ylabel("P(confirmed by the cut-off)")
    right.set_title("power", fontsize=9)
    right.set_ylim(0.5, 1.0)
    right.legend(fontsize=7)
    right.grid(alpha=0.3)
    fig.suptitle("Akuugo: what lot-to-lot variation costs (± 2 MCSE)", fontsize=10)
    fig.tight_layout()
    paths = [_kit.save_svg(fig, Path(outdir), "akuugo-lots")]

    fig = Figure(figsize=(6.4, 3.6))
    ax = fig.subplots()
    for key, label, color in (("rct", "RCT effect", "#1f77b4"), ("half", "half the RCT effect", "#ff7f0e")):
        y, e = series("start{}." + key + ".pconf", _START)
        ax.errorbar(_START, y, yerr=e, fmt="o-", color=color, label=f"P(confirmed), {label}", capsize=2, ms=4)
        y, e = series("start{}." + key + ".undecided", _START)
        ax.errorbar(_START, y, yerr=e, fmt="s--", color=color, label=f"P(undecided), {label}", capsize=2, ms=4)
    ax.axvline(18, color="grey", ls=":", lw=0.8)
    ax.text(18.3, 0.6, "planned", fontsize=7, color="dimgrey")
    ax.set_xlabel("month after approval when enrolment starts (lot comparability shown)")
    ax.set_ylabel("probability")
    ax.set_ylim(-0.02, 1.02)
    ax.legend(fontsize=7, loc="center left")
    ax.grid(alpha=0.3)
    ax.set_title("Akuugo: a late start against the 7-year limit (± 2 MCSE)", fontsize=9)
    paths.append(_kit.save_svg(fig, Path(outdir), "akuugo-start"))
    return paths


# ------------------------------------------------------------------ published facts
def check_published(doc: dict[str, Any]) -> None:
    """Assert the published facts: 46 vs 15, +8.3 (SE 1.4) vs +2.3 (SE 2.5), difference 6.0."""
    N = _kit.numbers_of(doc)
    assert (_T_N, _C_N) == (46, 15)
    assert N["sd"]["value"] == 9.5  # 1.4 * sqrt(46)
    assert round(N["welch.diff"]["value"], 1) == 6.0  # 8.3 - 2.3
    assert round(N["welch.se"]["value"], 2) == 2.87  # sqrt(1.4^2 + 2.5^2)
    assert 0.02 < N["welch.p1"]["value"] < 0.025  # one-sided Welch: just under 2.5%
    assert N["verdict"]["value"] == "efficacy presumed"
    # lots make the patient-level test anti-conservative; no lots hold the level (within MC error)
    z0, z6 = N["lot0.none.pconf"], N["lot6.none.pconf"]
    assert z0["value"] <= 0.025 + 4 * z0["mcse"]
    assert z6["value"] > 0.025 + 4 * z6["mcse"]
