"""Presumed efficacy of Delytact's approval cohort, and what it implies for the post-marketing survey.

Shows the estimation side of condapprove on a published cohort (16/19 alive at one year
against a historical ~15%): exact and approximate intervals, beta posteriors under a vague,
a skeptical and a robustified skeptical prior, the declarative evidence verdict of the design
file, and then the simulated chance that the all-case survey of ``designs/delytact_survey.yaml``
confirms efficacy by its data cut-off.  Writes ``delytact-posteriors.png/.svg`` to ``--outdir``.

Run: ``python examples/estimate_delytact.py --replicates 20000 --outdir out``
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

import condapprove
from condapprove.estimate import binomial_interval, binomial_test
from condapprove.evidence import evaluate_evidence
from condapprove.reporting import save_figure

DESIGNS = Path(__file__).resolve().parents[1] / "designs"


def main(argv: list[str] | None = None) -> int:
    """Print the estimates and the verdict, simulate the survey, plot the posteriors."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicates", type=int, default=20000, help="Monte-Carlo replicates per scenario")
    parser.add_argument("--outdir", type=Path, default=Path("out"), help="folder for the plots")
    args = parser.parse_args(argv)

    design = condapprove.load_design(DESIGNS / "delytact_survey.yaml")
    pre = design.pre_approval
    x, n, p0 = 16, 19, 0.15  # primer: 16/19 alive at one year; historical ~15%

    print(f"approval cohort: {x}/{n} alive at one year = {x / n:.1%}")
    for method in ("clopper-pearson", "wilson", "jeffreys", "mid-p"):
        low, high = binomial_interval(x, n, method=method)
        print(f"  {method:16s} 95% CI: {low:.3f} - {high:.3f}")
    test = binomial_test(x, n, p0, alternative="greater")
    print(f"  exact one-sided test against {p0:.0%}: p = {test.pvalue:.3g}")

    priors = {name: spec.build() for name, spec in pre.priors.items()}
    for name, prior in priors.items():
        post = prior.update(x, n)
        low, high = post.interval(0.95)
        print(f"  prior {name:17s} posterior mean {post.mean:.3f}, 95% {low:.3f} - {high:.3f}, "
              f"P(p > {p0}) = {post.prob_greater(p0):.6f}")

    evidence = evaluate_evidence(pre.build_cohort(), pre.criteria(), priors=priors)
    print()
    print(evidence.summary())

    result = condapprove.simulate(design, replicates=args.replicates, seed=design.simulation.seed)
    print()
    for s in result.scenarios:
        print(f"survey, {s.name} ({s.truth}): P(confirmed by cut-off) = "
              f"{s.p_confirmed.value:.3f} ± {s.p_confirmed.mcse:.3f}")

    from matplotlib.figure import Figure

    fig = Figure(figsize=(6, 3.5))
    ax = fig.subplots()
    grid = np.linspace(0.0, 1.0, 501)
    for name, prior in priors.items():
        ax.plot(grid, prior.update(x, n).pdf(grid), label=name)
    ax.axvline(p0, color="grey", ls=":", label="historical 15%")
    ax.set_xlabel("one-year survival")
    ax.set_ylabel("posterior density")
    ax.legend(fontsize=8)
    png, svg = save_figure(fig, args.outdir, "delytact-posteriors")
    print(f"wrote {png} and {svg}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
