"""The numbers of the hand-written documentation pages are current and reproducible.

Every number that condapprove *produces* on ``docs/index.md``, ``design-files.md``, ``simulation.md``,
``estimation.md``, ``exploring.md``, ``reliability.md``, ``architecture.md`` and ``methods.md`` (estimates,
intervals, p-values, simulated probabilities and their MCSEs, expected patients, months, counts of checks) is
listed below with the text that shows it and the way it is computed. Inputs and definitions (alpha 0.025, a
design's accrual rate, "7 years") are not listed. The case-study pages, ``getting-started.md``, ``concepts.md``
and the generated reference are checked elsewhere (``tests/test_case_studies.py``, ``tests/test_docs_site.py``).

For every number the test reads the page, finds the quoted text and recomputes the number with the public API
(or the CLI, in-process):

* an exact number (no simulation) must equal the printed one to the printed precision;
* a simulated number is recomputed with the design file and the seed the page states but with
  :data:`FRESH` replicates instead of the page's :data:`N_PAGE`, and must agree within 4 combined
  Monte-Carlo standard errors (the fresh run's and the page's) plus half a unit of the last printed digit.
  A probability printed as ``0`` or ``1`` is read as exact (no rounding allowance);
* an MCSE printed after ``±`` must be the MCSE of :data:`N_PAGE` replicates to 20% and the printed precision.

So a page edit, or an engine change that moves a number beyond Monte-Carlo error, fails the test.

To regenerate the numbers at the page's replicate count (what to write on a page after a change), run
``python tests/test_docs_numbers.py [PAGE]``: it prints every checked number, the page's text and the value the
code now gives with :data:`N_PAGE` replicates and the stated seed.
"""

from __future__ import annotations

import json
import math
import re
import sys
import tempfile
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from scipy.special import expit, logit

import condapprove as ca
from condapprove import estimate as est
from condapprove import explore, priors

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
DESIGNS = ROOT / "designs"

#: Replicates per scenario of the runs the pages report (``condapprove simulate designs/FILE -n 20000``).
N_PAGE = 20000
#: Replicates per scenario of the fresh runs of the test (4 blocks of 2048).
FRESH = 8192
#: Monte-Carlo tolerance, in combined standard errors.
K_SE = 4.0

_NUM = re.compile(r"[−-]?\d+(?:,\d{3})*(?:\.\d+)?")


# ------------------------------------------------------------------------------------------ values
@dataclass(frozen=True)
class Got:
    """A recomputed number.

    ``mcse`` is None for an exact number, else the Monte-Carlo SE of the fresh run (``n`` replicates);
    ``prob`` marks a probability (its SE is floored as if one more replicate had gone either way, so a
    fresh 0 or 1 still allows a small page value); ``rtol`` is a relative tolerance of exact numbers.
    """

    value: float
    mcse: float | None = None
    n: int = FRESH
    prob: bool = False
    rtol: float = 0.0

    def se(self) -> float | None:
        """The MCSE, for a probability at least that of one more replicate either way."""
        if self.mcse is None or not self.prob:
            return self.mcse
        p = (self.value * self.n + 1) / (self.n + 2)
        return max(self.mcse, math.sqrt(p * (1 - p) / self.n))

    def scaled(self, factor: float, shift: float = 0.0) -> Got:
        if factor == 1 and shift == 0:
            return self
        se = self.se()
        return Got(shift + factor * self.value, None if se is None else abs(factor) * se, self.n, False, self.rtol)


@dataclass(frozen=True)
class Source:
    """How a number is computed: ``how`` says it in words (or as the command), ``compute`` does it."""

    how: str
    compute: Callable[[int], Got] = field(repr=False)  # argument: replicates of a simulation

    def __call__(self, replicates: int = FRESH) -> Got:
        return self.compute(replicates)


def parse(printed: str) -> float:
    return float(printed.replace("−", "-").replace(",", ""))


def decimals(printed: str) -> int:
    return len(printed.split(".")[1]) if "." in printed else 0


def disagreement(printed: str, got: Got) -> str | None:
    """None when the printed number agrees with the recomputed one (rules in the module docstring)."""
    x = parse(printed)
    half = 0.5 * 10.0 ** -decimals(printed)
    if got.mcse is None:
        tol = half + got.rtol * abs(got.value) + 1e-12
        what = f"exact {got.value:.6g}"
    else:
        se = got.se()
        assert se is not None
        if got.prob and printed in ("0", "1"):
            half = 0.0
        tol = K_SE * se * math.sqrt(1 + got.n / N_PAGE) + half + 1e-12
        what = f"fresh {got.value:.6g} ± {se:.2g} ({got.n} replicates)"
    return None if abs(x - got.value) <= tol else f"page {printed} vs {what}; tolerance {tol:.3g}"


# ------------------------------------------------------------------------------------------ simulations
@cache
def _run(design: str, vary: tuple[tuple[str, float], ...], replicates: int) -> pd.DataFrame:
    """The design simulated with its own seed (``vary``: a sweep of one point, as ``condapprove sweep``)."""
    d = ca.load_design(DESIGNS / f"{design}.yaml")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ca.CondapproveWarning)  # a target not reached: the pages say so
        if vary:
            frame = explore.sweep(d, {k: [v] for k, v in vary}, replicates=replicates).to_frame()
        else:
            frame = ca.simulate(d, replicates=replicates).to_frame()
    return frame.set_index("scenario")


def _figure(design: str, scenario: str, figure: str, vary: tuple[tuple[str, float], ...], n: int) -> Got:
    row = _run(design, vary, n).loc[scenario]
    mcse = row.get(f"{figure}_mcse")
    return Got(float(row[figure]), 0.0 if mcse is None or pd.isna(mcse) else float(mcse), n,
               prob=figure.startswith("p_"))


def _command(design: str, vary: tuple[tuple[str, float], ...]) -> str:
    if vary:
        return (f"condapprove sweep designs/{design}.yaml "
                + " ".join(f"--vary {k}={v}" for k, v in vary) + f" -n {N_PAGE}")
    return f"condapprove simulate designs/{design}.yaml -n {N_PAGE}"


def sim(design: str, scenario: str, figure: str = "p_confirmed", *, vary: dict[str, float] | None = None,
        scale: float = 1.0, shift: float = 0.0) -> Source:
    """A figure of one scenario of a shipped design, simulated with the design's seed."""
    v = tuple(sorted((vary or {}).items()))
    how = f"{_command(design, v)}: {scenario!r} {figure}" + (f" × {scale:g}" if scale != 1 else "") + (
        f" + {shift:g}" if shift else "")
    return Source(how, lambda n: _figure(design, scenario, figure, v, n).scaled(scale, shift))


def mcse(design: str, scenario: str, figure: str = "p_confirmed") -> Source:
    """The MCSE of a probability at the page's :data:`N_PAGE` replicates, √(p(1 − p)/N)."""
    def compute(n: int) -> Got:
        p = _figure(design, scenario, figure, (), n).value
        return Got(math.sqrt(p * (1 - p) / N_PAGE), rtol=0.2)
    return Source(f"{_command(design, ())}: {scenario!r} {figure}_mcse", compute)


def sim_extreme(design: str, scenarios: Sequence[str], figure: str, which: str, *, scale: float = 1.0,
                shift: float = 0.0) -> Source:
    """The smallest or largest of a figure over scenarios (a range such as "95–100%")."""
    def compute(n: int) -> Got:
        gots = [_figure(design, s, figure, (), n) for s in scenarios]
        pick = (min if which == "min" else max)(gots, key=lambda g: g.value)
        return pick.scaled(scale, shift)
    return Source(f"{which} over {list(scenarios)} of {_command(design, ())}: {figure}"
                  + (f" × {scale:g}" if scale != 1 else "") + (f" + {shift:g}" if shift else ""), compute)


def sim_diff(a: Source, b: Source, scale: float = 1.0) -> Source:
    """scale × (a − b), its MCSE as if independent (conservative for common random numbers)."""
    def compute(n: int) -> Got:
        ga, gb = a(n), b(n)
        assert ga.mcse is not None and gb.mcse is not None
        return Got(scale * (ga.value - gb.value), abs(scale) * math.hypot(ga.mcse, gb.mcse), n)
    return Source(f"{scale:g} × ({a.how}) − ({b.how})", compute)


def exact(how: str, fn: Callable[[], float], rtol: float = 0.0) -> Source:
    return Source(how, lambda n: Got(float(fn()), rtol=rtol))


# ------------------------------------------------------------------------------------------ exact helpers
def _design(name: str) -> ca.Design:
    return ca.load_design(DESIGNS / f"{name}.yaml")


def _cp(x: int, n: int, end: int) -> float:
    return est.binomial_interval(x, n)[end]


def _collategene_model(treated_rate: float, *, att: bool) -> float:
    """Expected crude (or ATT) risk difference of the Collategene model: independent binary confounders."""
    covs = _design("collategene_survey").post_marketing.control.confounding.covariates

    def average(rate: float, arm: str) -> float:
        total = 0.0
        for present in np.ndindex(*(2,) * len(covs)):
            w, lp = 1.0, float(logit(rate))
            for c, x in zip(covs, present, strict=True):
                prev = c.prevalence_treated if arm == "treated" else c.prevalence_control
                w *= prev if x else 1 - prev
                lp += c.effect * x
            total += w * float(expit(lp))
        return total

    return average(treated_rate, "treated") - average(0.25, "treated" if att else "control")


def _site_averaged_rate() -> float:
    """Amchepry: P(improved) of a patient at a random site, E[expit(logit 0.2 + N(0, 0.5²))]."""
    het = _design("amchepry_trial").post_marketing.heterogeneity
    x, w = np.polynomial.hermite_e.hermegauss(80)
    return float(np.sum(w * expit(logit(0.20) + het.site_sd * x)) / np.sum(w))


def _exact_test_power(p: float, n: int = 35, p0: float = 0.20, alpha: float = 0.025) -> float:
    """Rejection probability of the one-sided exact binomial test (critical value from the library)."""
    crit = next(x for x in range(n + 1) if est.binomial_test(x, n, p0).pvalue <= alpha)
    return float(stats.binom.sf(crit - 1, n, p))


def _independent_ps_size(n_t: int = 120, n_c: int = 80, reps: int = 40000, seed: int = 20190326) -> Got:
    """Size of the propensity-weighted z test at fixed sizes, implemented without condapprove.

    Collategene-like null: healing 25% for a patient without the confounders in both arms; dialysis and a
    large ulcer as in ``collategene_survey_adjusted.yaml``. Main-effects logistic propensity score (Newton on
    the four covariate cells), ATT weights e/(1 − e) for the controls, weighted difference of healing rates,
    HC0 sandwich SE (per arm Σ w²(y − ȳ_w)² / (Σ w)²), one-sided z test at 2.5%.
    """
    covs = _design("collategene_survey_adjusted").post_marketing.control.confounding.covariates
    rng = np.random.default_rng(seed)
    cells = np.array(list(np.ndindex(2, 2)), dtype=float)  # (dialysis, large ulcer)

    def cell_probs(arm: int) -> np.ndarray:
        prev = [(c.prevalence_treated, c.prevalence_control)[arm] for c in covs]
        return np.array([np.prod([q if x else 1 - q for q, x in zip(prev, cell, strict=True)]) for cell in cells])

    rate = expit(logit(0.25) + cells @ np.array([c.effect for c in covs]))
    nt = rng.multinomial(n_t, cell_probs(0), size=reps).astype(float)
    nc = rng.multinomial(n_c, cell_probs(1), size=reps).astype(float)
    st, sc = rng.binomial(nt.astype(int), rate), rng.binomial(nc.astype(int), rate)
    X = np.column_stack([np.ones(4), cells])
    beta = np.zeros((reps, 3))
    for _ in range(30):  # Newton: logit P(treated | cell)
        e = expit(beta @ X.T)
        grad = (nt - (nt + nc) * e) @ X
        hess = np.einsum("rc,ci,cj->rij", (nt + nc) * e * (1 - e), X, X)
        beta += np.linalg.solve(hess, grad[..., None])[..., 0]
    e = expit(beta @ X.T)
    w = e / (1 - e)
    yt = st.sum(1) / n_t
    var_t = yt * (1 - yt) / n_t
    sw = (w * nc).sum(1)
    yc = (w * sc).sum(1) / sw
    var_c = (w**2 * (sc * (1 - 2 * yc[:, None]) + yc[:, None] ** 2 * nc)).sum(1) / sw**2
    z = (yt - yc) / np.sqrt(var_t + var_c)
    p = float(np.mean(z > stats.norm.ppf(0.975)))
    return Got(p, math.sqrt(p * (1 - p) / reps), reps, prob=True)


@cache
def _cli(*args: str) -> str:
    from click.testing import CliRunner

    from condapprove.cli import cli
    result = CliRunner().invoke(cli, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def _selftest_counts() -> tuple[int, int]:
    """(checks, families) of the packaged reference data that ``condapprove selftest`` runs."""
    folder = resources.files("condapprove") / "reference"
    files = [json.loads(e.read_text(encoding="utf-8")) for e in folder.iterdir() if e.name.endswith(".json")]
    return sum(len(c["expected"]) for f in files for c in f["cases"]), len(files)


def _delytact_external_deaths() -> float:
    """Expected deaths of the 60 historical controls, fully followed: n λ/(λ + δ)."""
    pm = _design("delytact_external").post_marketing
    b = pm.endpoint.baseline.survival_at
    lam = -math.log(b["survival"]) / b["months"]
    return pm.control.n * lam / (lam + pm.endpoint.dropout_rate_per_month)


def _hr_at_1_year(survival: float) -> float:
    """Hazard ratio that turns the Delytact reference's 1-year survival (15%) into ``survival``."""
    return math.log(survival) / math.log(_design("delytact_external").post_marketing.endpoint.baseline
                                         .survival_at["survival"])


def _schoenfeld_power(events: int, hr: float, ratio: float, alpha: float = 0.025) -> float:
    """Schoenfeld's approximation: Φ(√(D p (1 − p)) |log HR| − z_{1−α}), p the treated fraction."""
    p = 1 / (1 + ratio)
    return float(stats.norm.cdf(math.sqrt(events * p * (1 - p)) * abs(math.log(hr)) - stats.norm.ppf(1 - alpha)))


# ------------------------------------------------------------------------------------------ the table
@dataclass(frozen=True)
class Quote:
    """A sentence (``quote``, verbatim from ``page``) and the numbers in it that the library produces."""

    page: str
    quote: str
    numbers: tuple[tuple[str, Source], ...]
    stale: str | None = None  # why, when the page (not ours to edit) shows an out-of-date number


@dataclass(frozen=True)
class Row:
    """A table row: ``label`` (first cell) of the first table after the heading starting with ``section``;
    one tuple of sources per further cell, one source per number of the cell, in order."""

    page: str
    section: str
    label: str
    cells: tuple[tuple[Source, ...], ...]


def q(page: str, quote: str, *numbers: tuple[str, Source], stale: str | None = None) -> Quote:
    return Quote(page, quote, tuple(numbers), stale)


HS_P, HS_A = "heartsheet_survey_planned", "heartsheet_survey_actual"
HS_SCEN = ("no effect", "HR 0.7", "HR 0.5")
CG_C, CG_W = "collategene_survey", "collategene_survey_adjusted"
CG_SCEN = ("no effect", "effect as in the RCT")
AK = "akuugo_trial"
AK_SCEN = ("no effect", "half the RCT effect", "as in the RCT", "assurance (RCT estimate)")
SB = "stemirac_bayesian"
SB_SCEN = ("no effect", "modest", "as in the approval cohort", "assurance (vague posterior)",
           "assurance (skeptical posterior)")
AM = "amchepry_trial"
AM_SCEN = ("no effect", "modest", "as in the approval cohort")
DX = "delytact_external"
DX_SCEN = ("no effect", "HR 0.7", "1-year survival 40%", "as in the approval cohort", "assurance")
SIM = "simulation.md"


def _cells(design: str, scenarios: Sequence[str], *figures: str) -> tuple[tuple[Source, ...], ...]:
    """One cell per scenario holding ``figures`` (``"±"`` adds the MCSE of the figure before it)."""
    out = []
    for s in scenarios:
        cell: list[Source] = []
        for i, f in enumerate(figures):
            cell.append(mcse(design, s, figures[i - 1]) if f == "±" else sim(design, s, f))
        out.append(tuple(cell))
    return tuple(out)


def _both(a: str, b: str, scenarios: Sequence[str], *figures: str) -> tuple[tuple[Source, ...], ...]:
    return _cells(a, scenarios, *figures) + _cells(b, scenarios, *figures)


ROWS: tuple[Row, ...] = (
    # --- HeartSheet (time to event; two files side by side)
    Row(SIM, "### HeartSheet", "P(confirmed)", _both(HS_P, HS_A, HS_SCEN, "p_confirmed", "±")),
    Row(SIM, "### HeartSheet", "P(undecided at cut-off)", _both(HS_P, HS_A, HS_SCEN, "p_undecided")),
    Row(SIM, "### HeartSheet", "P(80 deaths not reached)", _both(HS_P, HS_A, HS_SCEN, "p_target_not_reached")),
    Row(SIM, "### HeartSheet", "median decision month", _both(HS_P, HS_A, HS_SCEN, "decision_month_median")),
    Row(SIM, "### HeartSheet", "E[treated / controls enrolled]",
        _both(HS_P, HS_A, HS_SCEN, "expected_treated_enrolled", "expected_controls_enrolled")),
    Row(SIM, "### HeartSheet", "E[deaths at decision]", _both(HS_P, HS_A, HS_SCEN, "expected_events")),
    Row(SIM, "### HeartSheet", "mean estimated / true log HR",
        _both(HS_P, HS_A, HS_SCEN, "mean_estimate", "mean_true_effect")),
    # --- Collategene (binary, confounded; crude and weighted on the same data)
    Row(SIM, "### Collategene", "P(confirmed)", _both(CG_C, CG_W, CG_SCEN, "p_confirmed", "±")),
    Row(SIM, "### Collategene", "mean estimated effect", _both(CG_C, CG_W, CG_SCEN, "mean_estimate")),
    Row(SIM, "### Collategene", "mean true effect (no covariates)", _both(CG_C, CG_W, CG_SCEN, "mean_true_effect")),
    Row(SIM, "### Collategene", "P(targets not reached)", _both(CG_C, CG_W, CG_SCEN, "p_target_not_reached")),
    # --- Akuugo (continuous, lots, group sequential)
    Row(SIM, "### Akuugo", "P(confirmed)", _cells(AK, AK_SCEN, "p_confirmed", "±")),
    Row(SIM, "### Akuugo", "at the interim / final", _cells(AK, AK_SCEN, "p_confirmed_interim_1", "p_confirmed_final")),
    Row(SIM, "### Akuugo", "P(stopped for futility)", _cells(AK, AK_SCEN, "p_futility")),
    Row(SIM, "### Akuugo", "median decision month", _cells(AK, AK_SCEN, "decision_month_median")),
    Row(SIM, "### Akuugo", "E[treated enrolled]", _cells(AK, AK_SCEN, "expected_treated_enrolled")),
    # --- Stemirac Bayesian (binary vs benchmark, power prior)
    Row(SIM, "### Stemirac", "P(confirmed)",
        _cells(SB, SB_SCEN[:2], "p_confirmed", "±") + _cells(SB, SB_SCEN[2:4], "p_confirmed")
        + _cells(SB, SB_SCEN[4:], "p_confirmed", "±")),
    Row(SIM, "### Stemirac", "at 20 / 40 / 60 patients",
        _cells(SB, SB_SCEN, "p_confirmed_interim_1", "p_confirmed_interim_2", "p_confirmed_final")),
    Row(SIM, "### Stemirac", "median decision month", _cells(SB, SB_SCEN, "decision_month_median")),
    Row(SIM, "### Stemirac", "mean estimated / true effect", _cells(SB, SB_SCEN, "mean_estimate", "mean_true_effect")),
    # --- Amchepry (binary vs benchmark, sites, capacity)
    Row(SIM, "### Amchepry", "P(confirmed)", _cells(AM, AM_SCEN[:2], "p_confirmed", "±")
        + _cells(AM, AM_SCEN[2:], "p_confirmed")),
    Row(SIM, "### Amchepry", "P(targets not reached)", _cells(AM, AM_SCEN, "p_target_not_reached")),
    Row(SIM, "### Amchepry", "median decision month", _cells(AM, AM_SCEN, "decision_month_median")),
    Row(SIM, "### Amchepry", "E[enrolled] / E[evaluable at decision]",
        _cells(AM, AM_SCEN, "expected_treated_enrolled", "expected_treated_evaluable")),
    Row(SIM, "### Amchepry", "mean estimated / true effect", _cells(AM, AM_SCEN, "mean_estimate", "mean_true_effect")),
    # --- Delytact (time to event vs an external cohort)
    Row(SIM, "### Delytact", "P(confirmed)", _cells(DX, DX_SCEN[:3], "p_confirmed", "±")
        + _cells(DX, DX_SCEN[3:4], "p_confirmed") + _cells(DX, DX_SCEN[4:], "p_confirmed", "±")),
    Row(SIM, "### Delytact", "at month 36 / final", _cells(DX, DX_SCEN, "p_confirmed_interim_1", "p_confirmed_final")),
    Row(SIM, "### Delytact", "P(40 treated deaths not reached by the cut-off)",
        _cells(DX, DX_SCEN, "p_target_not_reached")),
    Row(SIM, "### Delytact", "median decision month", _cells(DX, DX_SCEN, "decision_month_median")),
    Row(SIM, "### Delytact", "E[deaths at decision], both cohorts", _cells(DX, DX_SCEN, "expected_events")),
    Row(SIM, "### Delytact", "mean estimated log HR", _cells(DX, DX_SCEN, "mean_estimate")),
)

_CP_DELYTACT = (("0.604", exact("Clopper-Pearson 95% of 16/19: estimate.binomial_interval(16, 19).low",
                                lambda: _cp(16, 19, 0))),
                ("0.966", exact("estimate.binomial_interval(16, 19).high", lambda: _cp(16, 19, 1))))
_PS_SIZE = sim(CG_W, "no effect")

QUOTES: tuple[Quote, ...] = (
    # ------------------------------------------------------------------ simulation.md
    q(SIM, "the figures below were measured with\n`condapprove simulate designs/FILE -n 20000` and the design's seed",
      ("20000", exact("N_PAGE, the replicates of the fresh runs' reference", lambda: N_PAGE))),
    q(SIM, "Replicates are simulated in blocks of 2048 (`BLOCK_SIZE`)",
      ("2048", exact("condapprove.simulation.engine.BLOCK_SIZE", lambda: _block_size()))),
    q(SIM, "probabilities without one have\nan MCSE below 0.004",
      ("0.004", exact("largest MCSE of a probability at 20000 replicates, √(0.25/20000), is below it",
                      lambda: min(0.004, math.sqrt(0.25 / N_PAGE)), rtol=0.2))),
    # HeartSheet
    q(SIM, "(cut-off at month 84)", ("84", exact("heartsheet_survey_actual.yaml: Design.cutoff_month",
                                                lambda: _design(HS_A).cutoff_month))),
    q(SIM, "Schoenfeld's approximation gives 83% power at HR 0.5 with 1:2 allocation",
      ("83", exact("Φ(√(80 · 1/3 · 2/3) |log 0.5| − z_0.975) × 100", lambda: 100 * _schoenfeld_power(80, 0.5, 2)))),
    q(SIM, "so about 49\ntreated are enrolled by the cut-off",
      ("49", sim(HS_A, "no effect", "expected_treated_enrolled"))),
    q(SIM, "the 80th death comes 4.4–5 years after approval",
      ("4.4", sim_extreme(HS_P, HS_SCEN, "decision_month_median", "min", scale=1 / 12)),
      ("5", sim_extreme(HS_P, HS_SCEN, "decision_month_median", "max", scale=1 / 12))),
    q(SIM, "target is not reached in 95–100% of replicates",
      ("95", sim_extreme(HS_A, HS_SCEN, "p_target_not_reached", "min", scale=100)),
      ("100", sim_extreme(HS_A, HS_SCEN, "p_target_not_reached", "max", scale=100))),
    q(SIM, "with about 49 treated\npatients and 57–66 deaths",
      ("49", sim(HS_A, "HR 0.5", "expected_treated_enrolled")),
      ("57", sim_extreme(HS_A, HS_SCEN, "expected_events", "min")),
      ("66", sim_extreme(HS_A, HS_SCEN, "expected_events", "max"))),
    q(SIM, "a large effect (HR 0.5) is confirmed in 62% of replicates instead of 77%",
      ("62", sim(HS_A, "HR 0.5", scale=100)), ("77", sim(HS_P, "HR 0.5", scale=100))),
    # Collategene
    q(SIM, "cut-off at month 48", ("48", exact("collategene_survey.yaml: Design.cutoff_month",
                                             lambda: _design(CG_C).cutoff_month))),
    q(SIM, "The crude estimate is 4.4 points below the weighted one in both scenarios",
      ("4.4", sim_diff(sim(CG_W, "no effect", "mean_estimate"), sim(CG_C, "no effect", "mean_estimate"), 100))),
    q(SIM, "The crude estimate is 4.4 points below the weighted one in both scenarios",
      ("4.4", sim_diff(sim(CG_W, "effect as in the RCT", "mean_estimate"),
                       sim(CG_C, "effect as in the RCT", "mean_estimate"), 100))),
    q(SIM, "(the model gives −0.044 and 0.088\nexactly) and 11 points below the covariate-free effect",
      ("−0.044", exact("crude risk difference of the model, no effect", lambda: _collategene_model(0.25, att=False))),
      ("0.088", exact("crude risk difference of the model, 0.45 vs 0.25", lambda: _collategene_model(0.45, att=False))),
      ("11", exact("100 × (0.20 − crude risk difference of the model)",
                   lambda: 100 * (0.20 - _collategene_model(0.45, att=False))))),
    q(SIM, "an effect of the RCT's size is confirmed in only 30% of\nreplicates",
      ("30", sim(CG_C, "effect as in the RCT", scale=100))),
    q(SIM, "match the ATT risk differences of the model (0 and 0.132;",
      ("0", exact("ATT risk difference of the model, no effect", lambda: _collategene_model(0.25, att=True))),
      ("0.132", exact("ATT risk difference of the model, 0.45 vs 0.25", lambda: _collategene_model(0.45, att=True)))),
    q(SIM, "power doubles to 63%", ("63", sim(CG_W, "effect as in the RCT", scale=100))),
    q(SIM, "rejects a true null 4.0% of the time at a nominal 2.5%", ("4.0", sim(CG_W, "no effect", scale=100))),
    q(SIM, "(an independent implementation of the same analysis at\nfixed sizes 120/80 gives 4.0%)",
      ("4.0", Source("_independent_ps_size(): numpy, 40000 replicates at 120/80 (this file)",
                     lambda n: _independent_ps_size().scaled(100)))),
    q(SIM, "In 18–19%\nof replicates the 120/80 targets are not evaluable by month 48",
      ("18", sim_extreme(CG_C, CG_SCEN, "p_target_not_reached", "min", scale=100)),
      ("19", sim_extreme(CG_C, CG_SCEN, "p_target_not_reached", "max", scale=100))),
    # Akuugo
    q(SIM, "Fugl-Meyer change at 24 weeks with SD 9.5 (the primer's SE\n1.4 at n = 46)",
      ("9.5", exact("1.4 × √46", lambda: 1.4 * math.sqrt(46)))),
    q(SIM, "t test against the\nsham's 2.3, p = 5e-5; 95% t interval 5.5–11.1",
      ("5e-5", exact("estimate.one_sample_t_from_summary(8.3, 9.5, 46, mu0=2.3, alternative='greater').pvalue",
                     lambda: est.one_sample_t_from_summary(8.3, 9.5, 46, 2.3, alternative="greater").pvalue * 1e5)),
      ("5.5", exact("estimate.mean_interval_from_summary(8.3, 9.5, 46).low",
                    lambda: est.mean_interval_from_summary(8.3, 9.5, 46).low)),
      ("11.1", exact("estimate.mean_interval_from_summary(8.3, 9.5, 46).high",
                     lambda: est.mean_interval_from_summary(8.3, 9.5, 46).high))),
    q(SIM, "Under no effect the trial stops for futility at the interim in 75% of replicates",
      ("75", sim(AK, "no effect", "p_futility", scale=100))),
    q(SIM, "having enrolled 76 treated\npatients on average instead of about 100",
      ("76", sim(AK, "no effect", "expected_treated_enrolled")),
      ("100", exact("target_n / (1 − dropout) = 90 / 0.9", lambda: 90 / (1 - _design(AK).post_marketing.treated
                                                                         .dropout)))),
    q(SIM, "the final look's bound) stops 7% of replicates", ("7", sim(AK, "as in the RCT", "p_futility", scale=100))),
    q(SIM, "power at the RCT effect falls from 0.906 to 0.859",
      ("0.906", sim(AK, "as in the RCT", vary={"post_marketing.heterogeneity.lot_sd": 0.0})),
      ("0.859", sim(AK, "as in the RCT"))),
    q(SIM, "the false-confirmation rate rises from 0.0216 to 0.0359",
      ("0.0216", sim(AK, "no effect", vary={"post_marketing.heterogeneity.lot_sd": 0.0})),
      ("0.0359", sim(AK, "no effect"))),
    # Stemirac Bayesian
    q(SIM, "a₀ = 0.25 (Beta(4, 1.25): the 13 patients count as 3.25)",
      ("4", exact("priors.Beta(1, 1).power_prior(12, 13, 0.25).a", lambda: priors.Beta(1, 1).power_prior(12, 13, 0.25).a)),
      ("1.25", exact("... .b", lambda: priors.Beta(1, 1).power_prior(12, 13, 0.25).b)),
      ("3.25", exact("a0 × n0", lambda: 0.25 * 13))),
    q(SIM, "under a uniform prior (Beta(13, 2)) and under a skeptical Beta(3, 7)\n(Beta(15, 8))",
      ("13", exact("priors.Beta(1, 1).update(12, 13).a", lambda: priors.Beta(1, 1).update(12, 13).a)),
      ("2", exact("priors.Beta(1, 1).update(12, 13).b", lambda: priors.Beta(1, 1).update(12, 13).b)),
      ("15", exact("priors.Beta(3, 7).update(12, 13).a", lambda: priors.Beta(3, 7).update(12, 13).a)),
      ("8", exact("priors.Beta(3, 7).update(12, 13).b", lambda: priors.Beta(3, 7).update(12, 13).b))),
    q(SIM, "confirm a product with no effect in 19% of\nreplicates", ("19", sim(SB, "no effect", scale=100))),
    q(SIM, "(the same file with `a0: 0` gives 6.0%",
      ("6.0", sim(SB, "no effect", vary={"post_marketing.decision.power_prior.a0": 0.0}, scale=100))),
    q(SIM, "stopping early also inflates the estimate (0.178 for 0.150)",
      ("0.178", sim(SB, "modest", "mean_estimate")), ("0.150", sim(SB, "modest", "mean_true_effect"))),
    q(SIM, "even\nthe skeptical prior's posterior gives 99%",
      ("99", sim(SB, "assurance (skeptical posterior)", scale=100))),
    # Amchepry
    q(SIM, "cut-off at month 72, so the last useful patient is treated by month 48",
      ("72", exact("amchepry_trial.yaml: Design.cutoff_month", lambda: _design(AM).cutoff_month)),
      ("48", exact("cut-off − followup_months", lambda: _design(AM).cutoff_month
                   - _design(AM).post_marketing.endpoint.followup_months))),
    q(SIM, "The approval cohort's 4/6 passes both criteria (exact test\np = 0.017, Clopper–Pearson lower bound 0.223",
      ("0.017", exact("estimate.binomial_test(4, 6, 0.2).pvalue", lambda: est.binomial_test(4, 6, 0.2).pvalue)),
      ("0.223", exact("estimate.binomial_interval(4, 6).low", lambda: _cp(4, 6, 0)))),
    q(SIM, "About 47 enrolments are needed for 35 evaluable patients",
      ("47", sim(AM, "modest", "expected_treated_enrolled"))),
    q(SIM, "the analysis falls about 3 months before the cut-off\n(median month 68.8)",
      ("3", sim(AM, "modest", "decision_month_median", scale=-1, shift=72)),
      ("68.8", sim(AM, "modest", "decision_month_median"))),
    q(SIM, "in 14–15% of replicates the 35th patient is not evaluable in time",
      ("14", sim_extreme(AM, AM_SCEN, "p_target_not_reached", "min", scale=100)),
      ("15", sim_extreme(AM, AM_SCEN, "p_target_not_reached", "max", scale=100))),
    q(SIM, "-n 20000`, same patients) P(confirmed) is 0.015, 0.689 and 1.000",
      ("0.015", sim(AM, "no effect", vary={"post_marketing.heterogeneity.site_sd": 0.0})),
      ("0.689", sim(AM, "modest", vary={"post_marketing.heterogeneity.site_sd": 0.0})),
      ("1.000", sim(AM, "as in the approval cohort", vary={"post_marketing.heterogeneity.site_sd": 0.0}))),
    q(SIM, "a patient at a random site improves with probability 0.211, not 0.200",
      ("0.211", exact("E[expit(logit 0.2 + N(0, 0.5²))] by Gauss–Hermite quadrature", _site_averaged_rate))),
    q(SIM, "(hence the mean\nestimate 0.012 under no effect;", ("0.012", sim(AM, "no effect", "mean_estimate"))),
    q(SIM, "at 35 patients the exact test rejects 1.4% at 0.200 and 2.2% at 0.211",
      ("1.4", exact("exact one-sided binomial test at n = 35, p0 = 0.2: rejection probability at 0.2 × 100",
                    lambda: 100 * _exact_test_power(0.20))),
      ("2.2", exact("... at the site-averaged rate × 100", lambda: 100 * _exact_test_power(_site_averaged_rate())))),
    q(SIM, "hardly changed (0.689 without, 0.687 with)",
      ("0.689", sim(AM, "modest", vary={"post_marketing.heterogeneity.site_sd": 0.0})), ("0.687", sim(AM, "modest"))),
    # Delytact
    q(SIM, "1-year survival 15% (`survival_at`; median 4.4 months)",
      ("4.4", exact("12 log 2 / log(1/0.15)", lambda: 12 * math.log(2) / -math.log(0.15)))),
    q(SIM, "or at the cut-off (month 72)", ("72", exact("delytact_external.yaml: Design.cutoff_month",
                                                      lambda: _design(DX).cutoff_month))),
    q(SIM, "`condapprove simulate designs/delytact_external.yaml -n 20000` (seed 20210611)",
      ("20210611", exact("delytact_external.yaml: simulation.seed", lambda: _design(DX).simulation.seed))),
    q(SIM, "| 1-year survival 40% (HR 0.483) | as in the approval cohort (HR 0.091) |",
      ("0.483", exact("log 0.40 / log 0.15", lambda: _hr_at_1_year(0.40))),
      ("0.091", exact("log(16/19) / log 0.15", lambda: _hr_at_1_year(16 / 19)))),
    q(SIM, "its 60 patients are observed in full at every look (about 58 deaths;",
      ("58", exact("60 λ/(λ + 0.005), λ = log(1/0.15)/12", _delytact_external_deaths))),
    q(SIM, "The level holds (2.2%)", ("2.2", sim(DX, "no effect", scale=100))),
    q(SIM, "(1-year survival 40%) is confirmed in 93%", ("93", sim(DX, "1-year survival 40%", scale=100))),
    q(SIM, "(−1.73 for −2.40)", ("−1.73", sim(DX, "as in the approval cohort", "mean_estimate")),
      ("−2.40", sim(DX, "as in the approval cohort", "mean_true_effect"))),
    # ------------------------------------------------------------------ estimation.md
    q("estimation.md", "(Clopper–Pearson 0.604–0.966 for 16/19)", *_CP_DELYTACT),
    q("estimation.md", "and shows the verdict under four priors and four interval methods",
      ("four priors", exact("`condapprove estimate designs/delytact_survey.yaml`: rows of the prior table",
                            lambda: _estimate_table_rows("prior"))),
      ("four interval methods", exact("... rows of the interval table", lambda: _estimate_table_rows("interval")))),
    # ------------------------------------------------------------------ methods.md
    q("methods.md", "Delytact's 16/19 gives\n  0.604–0.966.", *_CP_DELYTACT),
    q("methods.md", "at a nominal one-sided 2.5% its size is about 4% in the Collategene-like survey",
      ("4", sim(CG_W, "no effect", scale=100))),
    q("methods.md", "`mcse_target` adds blocks of 2048 replicates per scenario",
      ("2048", exact("condapprove.simulation.engine.BLOCK_SIZE", lambda: _block_size()))),
    # ------------------------------------------------------------------ exploring.md
    q("exploring.md", "the randomness belongs to blocks of 2048 replicates",
      ("2048", exact("condapprove.simulation.engine.BLOCK_SIZE", lambda: _block_size()))),
    # ------------------------------------------------------------------ architecture.md
    q("architecture.md", "one `numpy.random.Generator` per (scenario, block of 2048 replicates)",
      ("2048", exact("condapprove.simulation.engine.BLOCK_SIZE", lambda: _block_size()))),
    # ------------------------------------------------------------------ design-files.md (not ours to edit)
    q("design-files.md", "e.g. not 7 at ratio 0.5: the 11 patients give 8 treated",
      ("11", exact("validation message of akuugo_trial.yaml with target_n: 7, ratio 0.5",
                   lambda: _allocation_message()[0])),
      ("8", exact("... its treated count", lambda: _allocation_message()[1]))),
    q("design-files.md", "`tests/bad_designs/` holds 69\nmalformed files",
      ("69", exact("number of tests/bad_designs/*.yaml", lambda: len(list((ROOT / "tests" / "bad_designs")
                                                                         .glob("*.yaml")))))),
    q("design-files.md", "| `delytact_survey.yaml` | binary vs benchmark | `pre_approval` with four priors and three criteria |",
      ("four priors", exact("delytact_survey.yaml: len(pre_approval.priors)",
                            lambda: len(_design("delytact_survey").pre_approval.priors))),
      ("three criteria", exact("delytact_survey.yaml: len(pre_approval.evidence)",
                               lambda: len(_design("delytact_survey").pre_approval.evidence)))),
    # ------------------------------------------------------------------ reliability.md (not ours to edit)
    q("reliability.md", "69 malformed designs in `tests/bad_designs/`",
      ("69", exact("number of tests/bad_designs/*.yaml", lambda: len(list((ROOT / "tests" / "bad_designs")
                                                                         .glob("*.yaml")))))),
    q("reliability.md", "runs 1,185 packaged reference checks (7 families:",
      ("1,185", exact("checks in the packaged reference data (condapprove/reference/*.json)",
                      lambda: _selftest_counts()[0])),
      ("7", exact("reference data files (families)", lambda: _selftest_counts()[1]))),
    q("reliability.md", "The propensity-weighted z test's size is about 0.04 at a nominal\n  0.025",
      ("0.04", _PS_SIZE)),
)

_WORDS = {"two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7}


def _block_size() -> int:
    from condapprove.simulation import engine
    return engine.BLOCK_SIZE


def _estimate_table_rows(first_header: str) -> int:
    """Rows of the table of ``condapprove estimate designs/delytact_survey.yaml`` headed ``first_header``."""
    lines = _cli("estimate", str(DESIGNS / "delytact_survey.yaml")).splitlines()
    start = next(i for i, line in enumerate(lines) if line.split()[:1] == [first_header])
    rows = 0
    for line in lines[start + 2:]:
        if not line.strip():
            break
        rows += 1
    return rows


def _allocation_message() -> tuple[int, int]:
    """(patients, treated) in the validation message for target_n 7 randomised 1:0.5."""
    text = (DESIGNS / "akuugo_trial.yaml").read_text(encoding="utf-8")
    text = re.sub(r"target_n: 90\b", "target_n: 7", text, count=1)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "allocation.yaml"
        path.write_text(text, encoding="utf-8")
        with pytest.raises(ca.CondapproveError) as info:
            ca.load_design(path)
    m = re.search(r"the (\d+) patients give (\d+) treated, not 7", str(info.value))
    assert m, str(info.value)
    return int(m.group(1)), int(m.group(2))


# ------------------------------------------------------------------------------------------ reading pages
@cache
def page_text(page: str) -> str:
    return (DOCS / page).read_text(encoding="utf-8")


def _row_line(row: Row) -> str:
    """The row's line in the first table after its section heading."""
    lines = page_text(row.page).splitlines()
    start = next((i for i, line in enumerate(lines) if line.startswith(row.section)), None)
    assert start is not None, f"{row.page}: no heading starting {row.section!r}"
    for line in lines[start + 1:]:
        if line.startswith("#"):
            break
        if line.startswith(f"| {row.label} |"):
            return line
    raise AssertionError(f"{row.page}, {row.section}: no table row {row.label!r}")


def line_numbers(line: str) -> list[list[str]]:
    """The numbers of each cell of a table line but the first."""
    cells = [c.strip() for c in line.strip().strip("|").split("|")][1:]
    return [_NUM.findall(c) for c in cells]


def row_numbers(row: Row) -> list[list[str]]:
    return line_numbers(_row_line(row))


def _check(printed: str, source: Source) -> str | None:
    """Compare a printed number ("0.604", "1,133", "four priors", "5e-5": the source gives p × 1e5)."""
    if printed.split()[0] in _WORDS:
        printed = str(_WORDS[printed.split()[0]])
    elif printed.endswith("e-5"):
        printed = printed[:-3]
    return disagreement(printed, source())


def _id(item: Row | Quote) -> str:
    if isinstance(item, Row):
        return f"{item.page}:{item.section[4:]}:{item.label}"
    return f"{item.page}:{' '.join(item.quote.split())[:50]}"


def _marks(item: Quote) -> list[pytest.MarkDecorator]:
    return [pytest.mark.xfail(strict=True, reason=f"stale: {item.stale}")] if item.stale else []


# ------------------------------------------------------------------------------------------ tests
@pytest.mark.parametrize("row", ROWS, ids=_id)
def test_table_row_is_current(row: Row) -> None:
    numbers = row_numbers(row)
    assert len(numbers) == len(row.cells), f"{_id(row)}: {len(numbers)} cells on the page, {len(row.cells)} in the test"
    problems = []
    for i, (printed, sources) in enumerate(zip(numbers, row.cells, strict=True)):
        assert len(printed) == len(sources), f"{_id(row)}, cell {i + 1}: numbers {printed} vs {len(sources)} sources"
        for p, s in zip(printed, sources, strict=True):
            if (why := _check(p, s)) is not None:
                problems.append(f"cell {i + 1}: {why} [{s.how}]")
    assert not problems, f"{_id(row)}: " + "; ".join(problems)


@pytest.mark.parametrize("item", [pytest.param(x, marks=_marks(x), id=_id(x)) for x in QUOTES])
def test_quoted_number_is_current(item: Quote) -> None:
    assert item.quote in page_text(item.page), f"{item.page} no longer says {item.quote!r}: update the test table"
    problems = []
    for printed, source in item.numbers:
        assert printed in item.quote, f"{printed!r} is not in the quote {item.quote!r}"
        if (why := _check(printed, source)) is not None:
            problems.append(f"{printed}: {why} [{source.how}]")
    assert not problems, f"{_id(item)}: " + "; ".join(problems)


def test_every_checked_page_is_listed() -> None:
    """The pages of the brief are all covered; the index has no produced number (it links to the others)."""
    pages = {r.page for r in ROWS} | {x.page for x in QUOTES}
    assert pages == {"simulation.md", "estimation.md", "methods.md", "exploring.md", "architecture.md",
                     "design-files.md", "reliability.md"}
    # index.md: no digit except the Act's article numbers and the local preview port
    assert set(re.findall(r"\d+", page_text("index.md"))) <= {"23", "26", "127", "0", "1", "8000", "2"}


def test_the_agreement_rule_can_fail() -> None:
    mc = Got(0.50, 0.005, FRESH, prob=True)
    assert disagreement("0.51", mc) is None
    assert disagreement("0.55", mc) is not None
    assert disagreement("0", Got(0.0, 0.0, FRESH, prob=True)) is None
    assert disagreement("0.01", Got(0.0, 0.0, FRESH, prob=True)) is not None
    assert disagreement("1", Got(0.99, 0.0011, FRESH, prob=True)) is not None
    assert disagreement("0.604", Got(0.6042)) is None
    assert disagreement("0.605", Got(0.6042)) is not None
    assert disagreement("84", Got(84.0, 0.0)) is None and disagreement("85", Got(84.0, 0.0)) is not None


def test_a_stale_number_is_caught() -> None:
    """A page edit beyond MC error fails: the HeartSheet planned power at HR 0.5 moved by 0.03."""
    row = ROWS[0]
    printed = row_numbers(row)[2][0]
    assert _check(printed, row.cells[2][0]) is None
    assert _check(f"{parse(printed) + 0.03:.3f}", row.cells[2][0]) is not None
    assert _check(f"{parse(printed) - 0.03:.3f}", row.cells[2][0]) is not None


# ------------------------------------------------------------------------------------------ regeneration
def _regenerate(pages: Sequence[str]) -> None:  # pragma: no cover - a maintenance script
    """Print every checked number with the value the code gives at the page's replicate count and seed."""
    for row in ROWS:
        if pages and row.page not in pages:
            continue
        printed = row_numbers(row)
        values = []
        for cell, sources in zip(printed, row.cells, strict=True):
            values.append(" / ".join(f"{p} -> {s(N_PAGE).value:.4g}" for p, s in zip(cell, sources, strict=True)))
        print(f"{row.page} {row.section} | {row.label} | " + " | ".join(values))
    for item in QUOTES:
        if pages and item.page not in pages:
            continue
        now = ", ".join(f"{p} -> {s(N_PAGE).value:.4g}" for p, s in item.numbers)
        print(f"{item.page}: {' '.join(item.quote.split())!r}: {now}")


if __name__ == "__main__":  # pragma: no cover
    _regenerate(sys.argv[1:])
