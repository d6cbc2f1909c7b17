"""Akuugo: assurance of the post-marketing trial, computed two ways.

Assurance is the probability of confirming efficacy averaged over what the approval RCT says
about the effect.  The script (1) turns the RCT's published summaries (+8.3, SE 1.4, n 46 vs
+2.3, SE 2.5, n 15) into a posterior for the treated-minus-sham difference (vague normal
prior), (2) simulates ``designs/akuugo_trial.yaml`` with that posterior as a drawn scenario
(the engine draws a true effect per replicate), and (3) recomputes the assurance by
integrating the power curve over the same posterior with Gauss-Hermite quadrature, the power
at each node coming from :func:`condapprove.explore.sweep`.  The two agree within Monte-Carlo
error; the design's own assurance scenario, which ignores the sham arm's uncertainty, is shown
for contrast.  Plots the power curve with the posterior in ``--outdir``.

Run: ``python examples/assurance_akuugo.py --replicates 20000 --outdir out``
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import numpy as np

import condapprove
from condapprove.estimate import welch_t_from_summary
from condapprove.explore import set_path, sweep
from condapprove.priors import Normal
from condapprove.reporting import save_figure

DESIGNS = Path(__file__).resolve().parents[1] / "designs"
SHAM = 2.3  # primer: sham change +2.3


def main(argv: list[str] | None = None) -> int:
    """Posterior, simulated assurance, quadrature assurance, plot."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicates", type=int, default=20000, help="Monte-Carlo replicates per scenario")
    parser.add_argument("--outdir", type=Path, default=Path("out"), help="folder for the plots")
    parser.add_argument("--nodes", type=int, default=9, help="Gauss-Hermite nodes")
    args = parser.parse_args(argv)

    rct = welch_t_from_summary(8.3, 1.4, 46, SHAM, 2.5, 15, spread="se")
    post = Normal(0.0, 20.0).update(rct.estimate, rct.se)
    print(f"RCT difference {rct.estimate:.2f} (SE {rct.se:.3f}); posterior N({post.mean:.3f}, {post.sd:.3f}^2), "
          f"P(difference > 0) = {post.prob_greater(0.0):.4f}")

    design = condapprove.load_design(DESIGNS / "akuugo_trial.yaml")
    seed = design.simulation.seed
    # (2) the assurance scenario with the posterior of the difference (sham fixed at 2.3)
    drawn = set_path(set_path(design, "scenarios.3.treated_mean.normal.0", SHAM + post.mean),
                     "scenarios.3.treated_mean.normal.1", post.sd)
    both = condapprove.simulate(drawn, replicates=args.replicates, seed=seed, scenarios=["assurance (RCT estimate)"])
    own = condapprove.simulate(design, replicates=args.replicates, seed=seed, scenarios=["assurance (RCT estimate)"])
    a_sim = both.scenarios[0].p_confirmed
    print(f"assurance, effect drawn per replicate: {a_sim.value:.4f} ± {a_sim.mcse:.4f}")

    # (3) quadrature over the power curve
    nodes, weights = np.polynomial.hermite_e.hermegauss(args.nodes)
    weights = weights / math.sqrt(2.0 * math.pi)
    effects = [post.mean + post.sd * z for z in nodes]
    curve = sweep(design, {"scenarios.as in the RCT.treated_mean": [SHAM + d for d in effects]},
                  replicates=args.replicates, seed=seed, scenarios=["as in the RCT"])
    power = np.array([r.scenarios[0].p_confirmed.value for r in curve.results])
    mcse = np.array([r.scenarios[0].p_confirmed.mcse for r in curve.results])
    a_quad, a_quad_se = float(weights @ power), float(math.sqrt(weights**2 @ mcse**2))
    print(f"assurance, Gauss-Hermite over the power curve ({args.nodes} nodes): {a_quad:.4f} ± {a_quad_se:.4f}")
    z = (a_sim.value - a_quad) / math.hypot(a_sim.mcse, a_quad_se)
    print(f"difference {a_sim.value - a_quad:+.4f} ({z:+.1f} combined MCSE)")
    print(f"design's own assurance scenario (treated N(8.3, 1.4^2), sham fixed): "
          f"{own.scenarios[0].p_confirmed.value:.4f} ± {own.scenarios[0].p_confirmed.mcse:.4f}")

    from matplotlib.figure import Figure

    fig = Figure(figsize=(6.4, 3.6))
    ax = fig.subplots()
    ax.errorbar(effects, power, yerr=2 * mcse, fmt="o-", capsize=2, label="P(confirmed) at a fixed difference")
    grid = np.linspace(min(effects), max(effects), 300)
    dens = post.pdf(grid)
    ax.fill_between(grid, 0, dens / dens.max() * 0.3, alpha=0.25, label="posterior of the difference (scaled)")
    ax.axhline(a_sim.value, color="k", ls="--", lw=0.8, label=f"assurance {a_sim.value:.3f}")
    ax.set_xlabel("true treated − sham difference (Fugl-Meyer points)")
    ax.set_ylabel("probability")
    ax.set_ylim(-0.02, 1.02)
    ax.legend(fontsize=8, loc="upper left")
    png, svg = save_figure(fig, args.outdir, "akuugo-assurance")
    print(f"wrote {png} and {svg}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
