"""HeartSheet: the post-marketing survey as planned against the accrual that happened.

Compares ``designs/heartsheet_survey_planned.yaml`` (1.5 treated a month) with
``designs/heartsheet_survey_actual.yaml`` (about 12 treated in 3 years, then faster; filed with
49 vs 102) using :func:`condapprove.explore.compare`, which simulates both with one seed so
that each scenario sees the same patients in both designs (common random numbers).  Prints the
side-by-side table and the power lost to the shortfall, and plots P(confirmed) per scenario and
the cumulative probability of confirmation over calendar time.

Run: ``python examples/compare_heartsheet_accrual.py --replicates 20000 --outdir out``
"""

from __future__ import annotations

import argparse
from pathlib import Path

import condapprove
from condapprove.explore import compare
from condapprove.reporting import save_figure

DESIGNS = Path(__file__).resolve().parents[1] / "designs"


def main(argv: list[str] | None = None) -> int:
    """Compare, print, plot."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicates", type=int, default=20000, help="Monte-Carlo replicates per scenario")
    parser.add_argument("--outdir", type=Path, default=Path("out"), help="folder for the plots")
    args = parser.parse_args(argv)

    planned = condapprove.load_design(DESIGNS / "heartsheet_survey_planned.yaml")
    actual = condapprove.load_design(DESIGNS / "heartsheet_survey_actual.yaml")
    cmp = compare([planned, actual], labels=["planned", "actual"], replicates=args.replicates)
    print(cmp.summary())
    print()

    by_name = {label: {s.name: s for s in res.scenarios} for label, res in zip(cmp.labels, cmp.results)}
    for name in by_name["planned"]:
        p, a = by_name["planned"][name].p_confirmed, by_name["actual"][name].p_confirmed
        print(f"{name}: P(confirmed) planned {p.value:.3f} ± {p.mcse:.3f}, actual {a.value:.3f} ± {a.mcse:.3f}, "
              f"difference {p.value - a.value:+.3f}")

    from matplotlib.figure import Figure

    fig = Figure(figsize=(9, 3.5))
    left, right = fig.subplots(1, 2)
    names = list(by_name["planned"])
    width = 0.38
    for i, label in enumerate(cmp.labels):
        vals = [by_name[label][n].p_confirmed.value for n in names]
        errs = [2 * by_name[label][n].p_confirmed.mcse for n in names]
        left.bar([j + (i - 0.5) * width for j in range(len(names))], vals, width, yerr=errs, label=label, capsize=2)
    left.set_xticks(range(len(names)))
    left.set_xticklabels(names)
    left.set_ylabel("P(confirmed by the cut-off)")
    left.legend()
    for label, res in zip(cmp.labels, cmp.results):
        s = {x.name: x for x in res.scenarios}["HR 0.5"]
        right.plot(s.months, s.cumulative_confirmed, label=f"{label}, HR 0.5")
    right.set_xlabel("months after approval")
    right.set_ylabel("P(confirmed by then)")
    right.legend()
    fig.tight_layout()
    png, svg = save_figure(fig, args.outdir, "heartsheet-accrual")
    print(f"wrote {png} and {svg}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
