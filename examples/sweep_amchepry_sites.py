"""Amchepry: how site-to-site variation and the number of patients change the post-marketing trial.

Sweeps ``designs/amchepry_trial.yaml`` (35 patients at 7 sites, 2-year follow-up, exact test
against an assumed natural-history rate of 20%) over the SD of the site effect on the log odds
of improvement and over the target number of patients, with
:func:`condapprove.explore.sweep` (one seed, common random numbers).  Prints the tidy result
and plots P(confirmed) against the site SD for each target, for the no-effect scenario (false
confirmation) and the modest one (power).

Run: ``python examples/sweep_amchepry_sites.py --replicates 20000 --outdir out``
"""

from __future__ import annotations

import argparse
from pathlib import Path

import condapprove
from condapprove.explore import sweep
from condapprove.reporting import save_figure

DESIGNS = Path(__file__).resolve().parents[1] / "designs"
SITE_SD = "post_marketing.heterogeneity.site_sd"
TARGET = "post_marketing.treated.target_n"


def main(argv: list[str] | None = None) -> int:
    """Sweep, print, plot."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicates", type=int, default=20000, help="Monte-Carlo replicates per scenario")
    parser.add_argument("--outdir", type=Path, default=Path("out"), help="folder for the plots")
    args = parser.parse_args(argv)

    design = condapprove.load_design(DESIGNS / "amchepry_trial.yaml")
    res = sweep(design, {SITE_SD: [0.0, 0.25, 0.5, 0.75, 1.0], TARGET: [25, 35]}, replicates=args.replicates,
                scenarios=["no effect", "modest"])
    frame = res.to_frame()
    cols = [SITE_SD, TARGET, "scenario", "p_confirmed", "p_confirmed_mcse", "p_target_not_reached",
            "decision_month_median"]
    print(frame[cols].to_string(index=False))
    print()
    worst = frame[(frame["scenario"] == "no effect") & (frame[TARGET] == 35)].sort_values(SITE_SD).iloc[-1]
    print(f"false confirmation at site SD {worst[SITE_SD]:g} with 35 patients: "
          f"{worst['p_confirmed']:.3f} ± {worst['p_confirmed_mcse']:.3f} (nominal 0.025)")

    from matplotlib.figure import Figure

    fig = Figure(figsize=(9, 3.5))
    axes = dict(zip(("no effect", "modest"), fig.subplots(1, 2)))
    for (scenario, target), part in frame.groupby(["scenario", TARGET]):
        part = part.sort_values(SITE_SD)
        axes[scenario].errorbar(part[SITE_SD], part["p_confirmed"], yerr=2 * part["p_confirmed_mcse"],
                                fmt="o-", capsize=2, label=f"{target:g} patients")
    axes["no effect"].axhline(0.025, color="grey", ls=":")
    for scenario, ax in axes.items():
        ax.set_title(f"{scenario}: P(confirmed by the cut-off)")
        ax.set_xlabel("site SD (log odds)")
        ax.legend()
    fig.tight_layout()
    png, svg = save_figure(fig, args.outdir, "amchepry-sites-sweep")
    print(f"wrote {png} and {svg}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
