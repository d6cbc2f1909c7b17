"""Build the installation-qualification data (``src/condapprove/reference/*.json``) from the R fixtures.

Run from the repository root::

    python tests/reference/make_selftest_data.py

``condapprove selftest`` (:mod:`condapprove.selftest`) checks the *installed* package against
trusted reference values. Those values are not computed here: every expected number is copied,
unchanged, from a fixture under ``tests/reference/`` that an R script in the same folder wrote
(R 4.2.2 with rpact 3.3.4, metafor 3.8.1 and survival 3.5.3). This script only chooses a
representative subset of the cases (small n, x = 0, x = n, ties, one-sided alternatives, every
spending family, binding and non-binding futility, mixtures...) so that the self-test runs in a
few seconds, and rewrites them in one self-describing layout:

.. code-block:: text

    {"format": 1, "family": ..., "title": ..., "sources": [fixture, ...], "generated_by": this script,
     "tolerance": {"rtol": ..., "atol": ..., "reason": ...},
     "cases": [{"id": ..., "call": <runner in condapprove.selftest>, "args": {...},
                "expected": {quantity: value, ...}, "reference": "R 4.2.2 binom.test", ["tolerance": {...}]}]}

A quantity passes when ``|observed - expected| <= atol + rtol * |expected|``; a case may override
its family's tolerance (with a reason). The fixtures stay the single source of truth:
``tests/test_selftest.py`` asserts that the packaged files equal what :func:`build` produces now.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

__all__ = ["OUT", "SOURCE", "build", "main", "render"]

SOURCE = Path(__file__).resolve().parent
OUT = SOURCE.parent.parent / "src" / "condapprove" / "reference"
FORMAT = 1
GENERATED_BY = "tests/reference/make_selftest_data.py"

Case = dict[str, Any]


# ------------------------------------------------------------------------------------------ helpers
def _load(name: str) -> dict[str, Any]:
    return json.loads((SOURCE / name).read_text())


def _r(version_string: str) -> str:
    """'R version 4.2.2 Patched (2022-11-10 r83330)' -> 'R 4.2.2'."""
    match = re.search(r"R version (\d+\.\d+\.\d+)", version_string)
    if match is None:  # pragma: no cover - the fixtures all record it
        raise ValueError(f"cannot read the R version from {version_string!r}")
    return f"R {match.group(1)}"


def _list(value: Any) -> list[Any]:
    """jsonlite's auto_unbox writes one-element vectors as scalars: make them lists again."""
    return list(value) if isinstance(value, list) else [value]


def _g(value: float) -> str:
    """How numbers appear in quantity names (the same format as condapprove.selftest)."""
    return format(value, "g")


def _case(id_: str, call: str, args: dict[str, Any], expected: dict[str, Any], reference: str,
          tolerance: dict[str, Any] | None = None) -> Case:
    finite = {k: float(v) for k, v in expected.items() if v is not None}
    case: Case = {"id": id_, "call": call, "args": args, "expected": finite, "reference": reference}
    if tolerance is not None:
        case["tolerance"] = tolerance
    return case


def _family(family: str, title: str, sources: Iterable[str], rtol: float, atol: float, reason: str,
            cases: list[Case]) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "family": family,
        "title": title,
        "sources": [f"tests/reference/{s}" for s in sources],
        "generated_by": GENERATED_BY,
        "tolerance": {"rtol": rtol, "atol": atol, "reason": reason},
        "cases": cases,
    }


def _pick(rows: list[dict[str, Any]], pred: Callable[[dict[str, Any]], bool]) -> list[dict[str, Any]]:
    out = [r for r in rows if pred(r)]
    if not out:  # a fixture changed shape: fail loudly rather than ship an empty family
        raise ValueError("a selection matched no fixture row")
    return out


# ------------------------------------------------------------------------------------------ binomial
_XN = [(0, 5), (5, 5), (1, 10), (12, 13), (16, 19), (13, 60)]
_INTERVAL_REFERENCE = {
    "clopper-pearson": "binom.test (Clopper-Pearson)",
    "wilson": "prop.test(correct = FALSE) (Wilson score)",
    "jeffreys": "qbeta(x + 1/2, n - x + 1/2) (Jeffreys)",
    "mid-p": "uniroot on pbinom + dbinom / 2 (mid-p)",
}


def _binomial() -> dict[str, Any]:
    ref = _load("proportions.json")
    r = _r(ref["meta"]["r_version"])
    cases: list[Case] = []
    settings = {("two-sided", 0.95), ("two-sided", 0.9), ("greater", 0.95)}
    for row in _pick(ref["intervals"], lambda x: (x["x"], x["n"]) in _XN
                     and (x["alternative"], x["confidence_level"]) in settings):
        args = {k: row[k] for k in ("x", "n", "method", "confidence_level", "alternative")}
        cases.append(_case(
            f"binomial_interval(x={row['x']}, n={row['n']}, {row['method']}, {row['alternative']}, "
            f"{_g(row['confidence_level'])})",
            "binomial_interval", args, {"low": row["low"], "high": row["high"]},
            f"{r} {_INTERVAL_REFERENCE[row['method']]}"))
    for row in _pick(ref["binom_test"], lambda x: (x["x"], x["n"]) in _XN and x["p0"] in (0.15, 0.5)):
        args = {k: row[k] for k in ("x", "n", "p0", "alternative")}
        cases.append(_case(
            f"binomial_test(x={row['x']}, n={row['n']}, p0={_g(row['p0'])}, {row['alternative']})",
            "binomial_test", args, {"pvalue (exact)": row["pvalue_exact"], "pvalue (mid-p)": row["pvalue_midp"]},
            f"{r} binom.test; mid-p from pbinom + dbinom / 2"))
    pairs = [(9, 12, 3, 11), (0, 5, 0, 5), (16, 19, 3, 19), (35, 46, 6, 15), (2, 3, 1, 30)]
    for row in _pick(ref["two_proportions"], lambda x: (x["x1"], x["n1"], x["x2"], x["n2"]) in pairs
                     and x["confidence_level"] == 0.95 and x["alternative"] in ("two-sided", "greater")):
        args = {k: row[k] for k in ("x1", "n1", "x2", "n2", "alternative", "confidence_level")}
        cases.append(_case(
            f"two_proportions({row['x1']}/{row['n1']} vs {row['x2']}/{row['n2']}, {row['alternative']}, "
            f"{_g(row['confidence_level'])})",
            "two_proportions", args, {"pvalue": row["pvalue"], "low": row["low"], "high": row["high"]},
            f"{r} fisher.test; Newcombe hybrid score interval from prop.test(correct = FALSE)"))
    return _family(
        "binomial", "Binomial intervals, exact binomial test, two proportions", ["proportions.json"], 1e-6, 1e-9,
        "relative 1e-6 (the project standard; R's values are exact to ~1e-15); absolute 1e-9 for bounds "
        "and p-values at or next to 0, where a relative comparison is meaningless", cases)


# ------------------------------------------------------------------------------------------ t tests
def _t_expected(row: dict[str, Any]) -> dict[str, Any]:
    return {k: row[k] for k in ("statistic", "pvalue", "df", "estimate", "se", "low", "high")}


def _t_tests() -> dict[str, Any]:
    ref = _load("continuous.json")
    r = _r(ref["meta"]["r_version"])
    samples = {k: [float(v) for v in _list(x)] for k, x in ref["samples"].items()}
    cases: list[Case] = []
    settings = {("two-sided", 0.95), ("greater", 0.95), ("less", 0.9)}
    for row in _pick(ref["one_sample"], lambda x: x["sample"] in ("a", "d", "e", "g") and x["mu0"] == 2
                     and (x["alternative"], x["confidence_level"]) in settings):
        args = {"x": samples[row["sample"]], "mu0": row["mu0"], "alternative": row["alternative"],
                "confidence_level": row["confidence_level"]}
        cases.append(_case(
            f"one_sample_t(sample {row['sample']}, n={len(args['x'])}, mu0={_g(row['mu0'])}, {row['alternative']}, "
            f"{_g(row['confidence_level'])})",
            "one_sample_t", args, _t_expected(row), f"{r} t.test"))
    pairs = {("b", "c"), ("d", "g"), ("h", "b")}
    settings = {(0, "two-sided", 0.95), (1.5, "two-sided", 0.95), (0, "greater", 0.8)}
    for row in _pick(ref["welch"], lambda x: (x["x"], x["y"]) in pairs
                     and (x["mu0"], x["alternative"], x["confidence_level"]) in settings):
        args = {"x": samples[row["x"]], "y": samples[row["y"]], "mu0": row["mu0"], "alternative": row["alternative"],
                "confidence_level": row["confidence_level"]}
        cases.append(_case(
            f"welch_t(sample {row['x']} vs {row['y']}, mu0={_g(row['mu0'])}, {row['alternative']}, "
            f"{_g(row['confidence_level'])})",
            "welch_t", args, _t_expected(row), f"{r} t.test(var.equal = FALSE)"))
    for row in _pick(ref["summary"], lambda x: x["welch"]["alternative"] in ("two-sided", "greater")):
        args = {k: row[k] for k in ("mean1", "se1", "n1", "mean2", "se2", "n2")}
        args["alternative"] = row["welch"]["alternative"]
        cases.append(_case(
            f"welch_t_from_summary({row['name']}, {args['alternative']})",
            "welch_t_from_summary", args, _t_expected(row["welch"]),
            f"{r} t.test(var.equal = FALSE) on data with exactly these means and SEs"))
    return _family(
        "t_tests", "One-sample and Welch t tests and intervals", ["continuous.json"], 1e-6, 1e-9,
        "relative 1e-6 (the project standard); absolute 1e-9 for statistics and estimates at 0", cases)


# ------------------------------------------------------------------------------------------ survival
def _survival() -> dict[str, Any]:
    ref = _load("survival.json")
    r = f"{_r(ref['r_version'])} survival {ref['survival_version']}"
    cases: list[Case] = []
    chosen = {("delytact_like", 0.95), ("delytact_like", 0.9), ("ties_small", 0.95), ("heavy_censoring", 0.95),
              ("median_midpoint", 0.95), ("sim_n20", 0.95)}
    for case in ref["kaplan_meier"]:
        for fit in case["fits"]:
            if (case["name"], fit["level"]) not in chosen:
                continue
            last = max(_list(case["durations"]))
            expected: dict[str, Any] = {}
            landmarks = []
            for t, s, lo, hi in zip(_list(fit["landmarks"]), _list(fit["landmark_surv"]),
                                    _list(fit["landmark_lower"]), _list(fit["landmark_upper"]), strict=True):
                if t > last or lo is None or hi is None:  # beyond follow-up, or R's NA at S = 0 or 1
                    continue
                landmarks.append(t)
                expected |= {f"S({_g(t)})": s, f"S({_g(t)}) lower": lo, f"S({_g(t)}) upper": hi}
            if fit["median"] is not None and fit["median_lower"] is not None:
                expected["median"] = fit["median"]
                expected["median lower"] = fit["median_lower"]
                expected["median upper"] = fit["median_upper"]  # None (not reached): dropped by _case
            args = {"durations": _list(case["durations"]), "event_observed": _list(case["event_observed"]),
                    "confidence_level": fit["level"], "landmarks": landmarks}
            cases.append(_case(
                f"kaplan_meier({case['name']}, n={len(args['durations'])}, {_g(fit['level'])})", "kaplan_meier",
                args, expected, f"{r} survfit(conf.type = 'log-log'), summary(times =), quantile()"))
    for case in ref["two_sample"]:
        args = {k: _list(case[k]) for k in ("durations", "event_observed", "group")}
        exp = _list(case["expected"])
        cases.append(_case(
            f"logrank_test({case['name']}, n={len(args['durations'])})", "logrank_test", args,
            {"chi2": case["chisq"], "pvalue": case["pvalue"], "variance": case["variance"],
             "expected (group 0)": exp[0], "expected (group 1)": exp[1]},
            f"{r} survdiff"))
    for case in ref["two_sample"]:
        if "cox" not in case:
            continue
        cox = case["cox"]
        args = {k: _list(case[k]) for k in ("durations", "event_observed", "group")}
        cases.append(_case(
            f"cox_hazard_ratio({case['name']}, n={len(args['durations'])})", "cox_hazard_ratio", args,
            {"log_hr": cox["coef"], "se": cox["se"], "statistic": cox["z"], "pvalue": cox["pvalue"],
             "95% lower": cox["lower95"], "95% upper": cox["upper95"],
             "90% lower": cox["lower90"], "90% upper": cox["upper90"]},
            f"{r} coxph(ties = 'efron')",
            tolerance={"rtol": 1e-6, "atol": 1e-8,
                       "reason": "R stops Newton-Raphson within ~1e-9 of the maximum (condapprove solves the score "
                                 "equation), so a log hazard ratio and z near 0 agree in absolute terms"}))
    return _family(
        "survival", "Kaplan-Meier, log-rank test, Cox proportional hazards", ["survival.json"], 1e-6, 1e-9,
        "relative 1e-6 (the project standard); absolute 1e-9 for survival bounds near 0", cases)


# ------------------------------------------------------------------------------------------ random effects
_FITS = {
    "bcg": {(m, t) for m in ("REML", "DL", "PM", "ML") for t in ("z", "hartung-knapp")},
    "k3_zero_cell": {("REML", "z"), ("REML", "hartung-knapp"), ("DL", "z")},
    "k2_logodds": {("REML", "z")},
    "k5_logodds": {("DL", "hartung-knapp"), ("ML", "z")},
    "heterogeneous": {("PM", "z"), ("ML", "z")},
    "homogeneous": {("REML", "z")},
}
_RMA_KEYS = ("estimate", "se", "statistic", "pvalue", "ci_lb", "ci_ub", "tau2", "i2", "q", "q_pvalue",
             "pi95_lb", "pi95_ub")


def _random_effects() -> dict[str, Any]:
    ref = _load("heterogeneity_rma.json")
    r = f"{_r(ref['r_version'])} metafor {ref['metafor_version']}"
    cases: list[Case] = []
    for case in ref["cases"]:
        for fit in case["fits"]:
            if (fit["method"], fit["test"]) not in _FITS.get(case["name"], set()) or fit["warned"]:
                continue
            yi, vi = _list(case["yi"]), _list(case["vi"])
            test_r = "knha" if fit["test"] == "hartung-knapp" else "z"
            cases.append(_case(
                f"random_effects({case['name']}, k={len(yi)}, {fit['method']}, {fit['test']})", "random_effects",
                {"yi": yi, "vi": vi, "method": fit["method"], "test": fit["test"]},
                {k: fit[k] for k in _RMA_KEYS},
                f"{r} rma(method = '{fit['method']}', test = '{test_r}'), predict()"))
    for case in ref["cases"]:
        if case["name"] not in ("bcg", "k3_unequal", "heterogeneous"):
            continue
        for qp in case["qprofile"]:
            if qp["null_set"] or (case["name"] != "bcg" and qp["level"] != 0.95):
                continue
            yi, vi = _list(case["yi"]), _list(case["vi"])
            cases.append(_case(
                f"random_effects({case['name']}, k={len(yi)}).tau2_interval({_g(qp['level'])})", "tau2_interval",
                {"yi": yi, "vi": vi, "confidence_level": qp["level"]},
                {"tau2 lower": qp["tau2_lb"], "tau2 upper": qp["tau2_ub"],
                 "I2 lower": qp["i2_lb"], "I2 upper": qp["i2_ub"]},
                f"{r} confint(rma(method = 'REML')) (Q-profile)"))
    return _family(
        "random_effects", "Random-effects meta-analysis across lots (tau2, I2, prediction intervals)",
        ["heterogeneity_rma.json"], 1e-6, 1e-8,
        "relative 1e-6 (the project standard); absolute 1e-8 because ML/REML Fisher scoring stops at a tau2 of "
        "the order of its convergence threshold (1e-10) when the maximum is at tau2 = 0", cases)


# ------------------------------------------------------------------------------------------ group sequential
_RPACT = {"asOF": "obrien-fleming", "asP": "pocock", "asKD": "kim-demets", "asHSD": "hwang-shih-decani",
          "bsOF": "obrien-fleming", "bsP": "pocock", "bsKD": "kim-demets", "bsHSD": "hwang-shih-decani"}
_GS_CASES = ("of_k1_a025", "of_k3_a025_b20", "of_k5_a025_b20", "of_k4_unequal_a05", "p_k3_a025_b10",
             "p_k5_a05_b20", "kd_k3_rho1", "hsd_k3_gm4", "hsd_k5_g2_unequal", "of_k3_fut_binding",
             "p_k4_fut_nonbinding", "kd_k3_fut_partial_binding", "bs_of_of_k3", "bs_p_kd_k2_binding",
             "bs_hsd_hsd_k5_unequal")


def _group_sequential() -> dict[str, Any]:
    ref = _load("boundaries_rpact.json")
    r = f"{_r(ref['r_version'])} rpact {ref['rpact_version']}"
    cases: list[Case] = []
    for case in _pick(ref["cases"], lambda c: c["id"] in _GS_CASES):
        tight = case["tight"]
        rates = [float(v) for v in _list(tight["informationRates"])]
        futility = None
        if case["futilityBounds"] is not None:
            futility = [None if v <= -6 else v for v in _list(case["futilityBounds"])]  # rpact's -6: no bound
        args = {
            "information_rates": rates, "alpha": case["alpha"], "beta": case["beta"],
            "spending": _RPACT[case["typeOfDesign"]], "parameter": case["gammaA"], "futility": futility,
            "binding": case["bindingFutility"],
            "beta_spending": None if case["typeBetaSpending"] is None else _RPACT[case["typeBetaSpending"]],
            "beta_parameter": case["gammaB"],
        }
        expected: dict[str, Any] = {}
        for k, c in enumerate(_list(tight["criticalValues"]), start=1):
            expected[f"critical value (look {k})"] = c
        for k, a in enumerate(_list(tight["alphaSpent"]), start=1):
            expected[f"cumulative alpha (look {k})"] = a
        if case["kMax"] > 1:
            for k, f in enumerate(_list(tight["futilityBounds"]), start=1):
                if f > -6:
                    expected[f"futility bound (look {k})"] = f
        expected["inflation factor"] = tight["inflationFactor"]
        if case["kMax"] > 1:
            expected["power"] = _list(tight["power"])[-1]
            expected["expected information under H1 (ratio)"] = tight["averageSampleNumber1"]
            expected["expected information under H0 (ratio)"] = tight["averageSampleNumber0"]
        fn = "getDesignGroupSequential(tolerance = 1e-10)"
        if case["kMax"] > 1:
            fn += ", getDesignCharacteristics()"
        cases.append(_case(f"group_sequential({case['id']})", "group_sequential", args, expected, f"{r} {fn}"))
    return _family(
        "group_sequential", "Group-sequential boundaries and their characteristics", ["boundaries_rpact.json"],
        0.0, 1e-6,
        "absolute 1e-6: rpact integrates on a fixed 91-point Newton-Cotes grid, so its values differ from the "
        "exact ones (ours are accurate to ~1e-12) by up to ~2e-7", cases)


# ------------------------------------------------------------------------------------------ posteriors
def _posteriors() -> dict[str, Any]:
    ref = _load("bayes.json")
    r = _r(ref["meta"]["r_version"])
    cases: list[Case] = []
    chosen = {(1, 1, 16, 19), (1, 1, 0, 10), (0.5, 0.5, 12, 13), (3, 17, 10, 10), (15, 85, 5, 40)}
    for row in _pick(ref["beta"], lambda x: (x["prior_a"], x["prior_b"], x["x"], x["n"]) in chosen):
        ts = _list(row["prob_greater"]["t"])
        expected = {"mean": row["mean"], "sd": row["sd"], "95% lower": row["low95"], "95% upper": row["high95"],
                    "80% lower": row["low80"], "80% upper": row["high80"]}
        expected |= {f"P(theta > {_g(t)})": p for t, p in zip(ts, _list(row["prob_greater"]["p"]), strict=True)}
        cases.append(_case(
            f"beta_posterior(x={row['x']}, n={row['n']}, Beta({_g(row['prior_a'])}, {_g(row['prior_b'])}))",
            "beta_posterior",
            {"x": row["x"], "n": row["n"], "a": row["prior_a"], "b": row["prior_b"], "prob_greater_at": ts},
            expected, f"{r} qbeta, pbeta"))
    mixtures = [((0.8, 0.2), (12, 13)), ((0.5, 0.3, 0.2), (2, 15)), ((0.6, 0.4), (16, 19)), ((0.9, 0.1), (0, 5))]
    for row in _pick(ref["beta_mixture"], lambda x: (tuple(_list(x["weights"])), (x["x"], x["n"])) in mixtures):
        weights, a, b = _list(row["weights"]), _list(row["a"]), _list(row["b"])
        ts, qs = _list(row["prob_greater"]["t"]), _list(row["quantiles"]["q"])
        expected = {f"posterior weight {k}": w for k, w in enumerate(_list(row["post_weights"]), start=1)}
        expected |= {"mean": row["mean"], "sd": row["sd"]}
        expected |= {f"P(theta > {_g(t)})": p for t, p in zip(ts, _list(row["prob_greater"]["p"]), strict=True)}
        expected |= {f"quantile {_g(q)}": v for q, v in zip(qs, _list(row["quantiles"]["value"]), strict=True)}
        prior = " + ".join(f"{_g(w)} Beta({_g(aa)}, {_g(bb)})" for w, aa, bb in zip(weights, a, b, strict=True))
        cases.append(_case(
            f"beta_posterior(x={row['x']}, n={row['n']}, {prior})", "beta_mixture_posterior",
            {"x": row["x"], "n": row["n"], "weights": weights, "a": a, "b": b, "prob_greater_at": ts,
             "quantiles": qs},
            expected, f"{r} integrate (prior x binomial likelihood), uniroot"))
    normals = [((0.8, 0.2), 6.0), ((0.5, 0.5), 0), ((1,), -2), ((0.3, 0.5, 0.2), 10)]
    for row in _pick(ref["normal_mixture"], lambda x: (tuple(_list(x["weights"])), x["estimate"]) in normals):
        weights, means, sds = _list(row["weights"]), _list(row["means"]), _list(row["sds"])
        ts, qs = _list(row["prob_greater"]["t"]), _list(row["quantiles"]["q"])
        expected = {f"posterior weight {k}": w for k, w in enumerate(_list(row["post_weights"]), start=1)}
        expected |= {"mean": row["mean"], "sd": row["sd"]}
        expected |= {f"P(theta > {_g(t)})": p for t, p in zip(ts, _list(row["prob_greater"]["p"]), strict=True)}
        expected |= {f"quantile {_g(q)}": v for q, v in zip(qs, _list(row["quantiles"]["value"]), strict=True)}
        prior = " + ".join(f"{_g(w)} N({_g(m)}, {_g(s)})" for w, m, s in zip(weights, means, sds, strict=True))
        cases.append(_case(
            f"normal_posterior(estimate={_g(row['estimate'])}, se={_g(row['se'])}, {prior})",
            "normal_mixture_posterior",
            {"estimate": row["estimate"], "se": row["se"], "weights": weights, "means": means, "sds": sds,
             "prob_greater_at": ts, "quantiles": qs},
            expected, f"{r} integrate (prior x normal likelihood), uniroot"))
    return _family(
        "posteriors", "Beta and normal (mixture) posteriors", ["bayes.json"], 1e-6, 1e-9,
        "relative 1e-6 (the project standard); absolute 1e-9 for tail probabilities and means near 0", cases)


# ------------------------------------------------------------------------------------------ engine
def _engine() -> dict[str, Any]:
    ref = _load("engine_binary.json")
    r = _r(ref["r_version"])
    cases: list[Case] = []
    for row in _pick(ref["binom_greater"], lambda x: x["n"] in (13, 60) and x["p0"] in (0.15, 0.3)):
        cases.append(_case(
            f"exact binomial p-value (x={row['x']}, n={row['n']}, p0={_g(row['p0'])})", "exact_binomial_pvalue",
            {k: row[k] for k in ("x", "n", "p0")}, {"pvalue": row["pvalue"]},
            f"{r} binom.test(alternative = 'greater')"))
    for row in _pick(ref["fisher_greater"], lambda x: (x["nt"], x["nc"]) in ((10, 10), (35, 70))):
        cases.append(_case(
            f"Fisher p-value ({row['xt']}/{row['nt']} vs {row['xc']}/{row['nc']})", "fisher_pvalue",
            {k: row[k] for k in ("xt", "nt", "xc", "nc")}, {"pvalue": row["pvalue"]},
            f"{r} fisher.test(alternative = 'greater')"))
    for row in ref["power_fixed_n"]:
        args = {k: row.get(k) for k in ("test", "nt", "nc", "pt", "pc", "p0", "alpha")}
        if row["test"] == "exact_binomial":
            name = f"exact binomial, n={row['nt']}, p={_g(row['pt'])} vs {_g(row['p0'])}"
            how = "sum of dbinom over binom.test(alternative = 'greater') rejections"
        else:
            name = f"Fisher, n={row['nt']}:{row['nc']}, p={_g(row['pt'])} vs {_g(row['pc'])}"
            how = "sum of dbinom x dbinom over fisher.test(alternative = 'greater') rejections"
        cases.append(_case(
            f"binary_power_fixed_n({name}, alpha={_g(row['alpha'])})", "binary_power_fixed_n", args,
            {"power": row["power"]}, f"{r} {how}"))
    return _family(
        "engine", "Engine: one-sided exact p-values and exact power at fixed sizes", ["engine_binary.json"],
        1e-6, 1e-12,
        "relative 1e-6 (R's fisher.test treats tables within a relative 1e-7 of the observed one as ties); "
        "absolute 1e-12 for p-values next to 0", cases)


# ------------------------------------------------------------------------------------------ driver
_BUILDERS = {
    "binomial.json": _binomial,
    "t_tests.json": _t_tests,
    "survival.json": _survival,
    "random_effects.json": _random_effects,
    "group_sequential.json": _group_sequential,
    "posteriors.json": _posteriors,
    "engine.json": _engine,
}


def render(content: dict[str, Any]) -> str:
    """The exact text of a packaged file (floats as Python's shortest round-trip repr)."""
    return json.dumps(content, indent=1, ensure_ascii=False, allow_nan=False) + "\n"


def build() -> dict[str, str]:
    """File name -> text of every packaged reference file, built from the fixtures now."""
    return {name: render(make()) for name, make in _BUILDERS.items()}


def main(argv: list[str] | None = None) -> int:
    """Write the packaged files (``--check``: only report whether they are up to date)."""
    check = "--check" in (sys.argv[1:] if argv is None else argv)
    files = build()
    stale = sorted(n for n, text in files.items() if not (OUT / n).exists() or (OUT / n).read_text() != text)
    extra = sorted(p.name for p in OUT.glob("*.json") if p.name not in files) if OUT.exists() else []
    if check:
        for n in stale + extra:
            print(f"out of date: {OUT / n}")
        return 1 if stale or extra else 0
    OUT.mkdir(parents=True, exist_ok=True)
    for n in stale:
        (OUT / n).write_text(files[n])
        print(f"wrote {OUT / n}")
    for n in extra:
        (OUT / n).unlink()
        print(f"removed {OUT / n}")
    n_cases = sum(len(json.loads(t)["cases"]) for t in files.values())
    n_checks = sum(len(c["expected"]) for t in files.values() for c in json.loads(t)["cases"])
    print(f"{len(files)} files, {n_cases} cases, {n_checks} checks")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
