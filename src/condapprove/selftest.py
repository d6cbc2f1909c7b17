"""Installation qualification: check the *installed* package against trusted reference values.

:func:`run_selftest` recomputes a representative set of results through the public API
(:mod:`condapprove.estimate`, :mod:`condapprove.boundaries`, :mod:`condapprove.priors`,
:mod:`condapprove.endpoints`, :mod:`condapprove.simulation.analytic`) and compares each with
a value computed independently in R (base R 4.2.2, rpact 3.3.4, metafor 3.8.1, survival 3.5.3),
as rpact's ``testPackage()`` does. It takes a few seconds and can write a validation report
(plain text, or JSON for a ``.json`` file) recording the platform, the versions of condapprove
and its dependencies, every check with its expected and observed value, tolerance, verdict and
reference, and the overall verdict. From the command line: ``condapprove selftest --report FILE``.

The reference values ship inside the package (``condapprove/reference/*.json``, read with
:mod:`importlib.resources`). They are copied, unchanged, from the fixtures under
``tests/reference/`` of the source tree by ``tests/reference/make_selftest_data.py``, and the
test suite asserts that they still equal what that script produces, so the fixtures stay the
single source of truth.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
import platform
import sys
import time
import warnings
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from importlib import resources
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._io import write_atomic
from .errors import DesignError
from .results import ResultMixin, to_builtin

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = ["DEPENDENCIES", "Check", "FamilyResult", "SelftestResult", "run_selftest"]

#: Distributions whose versions the report records, after condapprove itself.
DEPENDENCIES: tuple[str, ...] = ("numpy", "scipy", "pandas", "statsmodels", "pydantic", "PyYAML", "click")

_FORMAT = 1
_Observed = dict[str, float]


# ------------------------------------------------------------------------------------------ results
@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Check(ResultMixin):
    """One quantity compared with its reference value.

    Attributes
    ----------
    name : str
        The call and the quantity, e.g. ``"binomial_interval(x=12, n=13, clopper-pearson, two-sided, 0.95): low"``.
    family : str
        The group of checks it belongs to (``"binomial"``, ``"survival"``, ...).
    expected : float
        The reference value.
    observed : float
        The value computed by the installed package (NaN when the computation failed).
    tolerance : float
        Relative tolerance ``rtol``.
    abs_tolerance : float
        Absolute tolerance ``atol``; the check passes when
        ``|observed - expected| <= atol + rtol * |expected|``.
    tolerance_reason : str
        Why the tolerance is what it is.
    passed : bool
        Whether the observed value agrees with the expected one within the tolerance.
    reference : str
        Where the expected value comes from, e.g. ``"R 4.2.2 binom.test (Clopper-Pearson)"``.
    error : str or None
        The exception raised while computing the value, if any.
    """

    name: str
    family: str
    expected: float
    observed: float
    tolerance: float
    abs_tolerance: float
    tolerance_reason: str
    passed: bool
    reference: str
    error: str | None = None

    @property
    def difference(self) -> float:
        """``|observed - expected|`` (0 when both are the same infinity)."""
        if self.observed == self.expected:
            return 0.0
        return abs(self.observed - self.expected)


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class FamilyResult(ResultMixin):
    """The checks of one family of methods.

    Attributes
    ----------
    name : str
        Short name (the packaged file's stem), e.g. ``"group_sequential"``.
    title : str
        What the family covers.
    sources : tuple of str
        The fixtures of the source tree the values were copied from.
    tolerance, abs_tolerance : float
        The family's relative and absolute tolerance (a case may state its own, with a reason).
    tolerance_reason : str
        Why.
    n_cases, n_checks, n_failed : int
        Calls made, quantities compared, and comparisons that failed.
    """

    name: str
    title: str
    sources: tuple[str, ...]
    tolerance: float
    abs_tolerance: float
    tolerance_reason: str
    n_cases: int
    n_checks: int
    n_failed: int


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class SelftestResult(ResultMixin):
    """Outcome of :func:`run_selftest`: every check, the environment and the verdict.

    Attributes
    ----------
    checks : tuple of Check
        Every comparison, in the order run.
    families : tuple of FamilyResult
        Per-family counts and tolerances.
    passed : bool
        True when there was at least one check and every check passed.
    n_checks, n_failed : int
        Number of checks, and of failed ones.
    condapprove_version : str
        Version of the installed package.
    location : str
        Folder the package was imported from.
    platform : dict of str
        Operating system, machine, Python implementation and version, interpreter path.
    versions : dict of str
        Versions of the dependencies listed in :data:`DEPENDENCIES` ("not installed" when absent).
    reference_sha256 : str
        SHA-256 of the reference data as checked (canonical JSON), identifying the data set.
    started : str
        Start time, ISO 8601 in UTC.
    elapsed_seconds : float
        Wall-clock duration.
    """

    checks: tuple[Check, ...]
    families: tuple[FamilyResult, ...]
    passed: bool
    n_checks: int
    n_failed: int
    condapprove_version: str
    location: str
    platform: dict[str, str]
    versions: dict[str, str]
    reference_sha256: str
    started: str
    elapsed_seconds: float

    @property
    def verdict(self) -> str:
        """``"PASS"`` or ``"FAIL"``."""
        return "PASS" if self.passed else "FAIL"

    @property
    def failures(self) -> tuple[Check, ...]:
        """The checks that failed."""
        return tuple(c for c in self.checks if not c.passed)

    def __repr__(self) -> str:
        return (f"SelftestResult(verdict={self.verdict!r}, n_checks={self.n_checks}, n_failed={self.n_failed}, "
                f"condapprove_version={self.condapprove_version!r})")

    def summary(self, *, max_failures: int = 10) -> str:
        """A short text for the terminal: the verdict, counts per family and the first failures."""
        lines = [f"condapprove {self.condapprove_version} installation qualification: {self.verdict}"]
        if self.n_checks == 0:
            lines.append(f"no reference data found in {self.location}: the installation is incomplete "
                         "(reinstall condapprove)")
        else:
            n_cases = sum(f.n_cases for f in self.families)
            lines.append(f"{self.n_checks - self.n_failed} of {self.n_checks} checks agree with their reference "
                         f"values ({len(self.families)} families, {n_cases} cases) in {self.elapsed_seconds:.1f} s")
        width = max((len(f.name) for f in self.families), default=0)
        for f in self.families:
            state = "all pass" if f.n_failed == 0 else f"{f.n_failed} FAILED"
            lines.append(f"  {f.name:<{width}}  {f.n_checks:>4} checks  {state:<9}  "
                         f"(rtol {f.tolerance:g}, atol {f.abs_tolerance:g})")
        failures = self.failures
        if failures:
            shown = failures[:max_failures]
            lines.append(f"failed checks ({len(shown)} of {len(failures)} shown):")
            for c in shown:
                lines.append(f"  {c.name}")
                detail = c.error if c.error else (f"expected {_num(c.expected)}, observed {_num(c.observed)}, "
                                                  f"|difference| {c.difference:.3g}")
                lines.append(f"    {detail} (rtol {c.tolerance:g}, atol {c.abs_tolerance:g}; {c.reference})")
        lines.append(f"{self.platform.get('python', '')} on {self.platform.get('platform', '')}; "
                     + ", ".join(f"{k} {v}" for k, v in self.versions.items()))
        return "\n".join(lines)

    def to_frame(self) -> pd.DataFrame:
        """One row per check (family, name, expected, observed, difference, tolerances, passed, reference)."""
        import pandas as pd

        rows = [{"family": c.family, "name": c.name, "expected": c.expected, "observed": c.observed,
                 "difference": c.difference, "tolerance": c.tolerance, "abs_tolerance": c.abs_tolerance,
                 "passed": c.passed, "reference": c.reference, "error": c.error} for c in self.checks]
        columns = ["family", "name", "expected", "observed", "difference", "tolerance", "abs_tolerance", "passed",
                   "reference", "error"]
        return pd.DataFrame(rows, columns=columns)

    def to_json(self) -> str:
        """The validation report as JSON (non-finite numbers as the strings "nan", "inf", "-inf")."""
        body = {"report": "condapprove installation qualification", "verdict": self.verdict, **self.to_dict()}
        return json.dumps(_json_safe(body), indent=1, allow_nan=False) + "\n"

    def to_text(self) -> str:
        """The validation report as plain text: environment, families, every check, verdict."""
        rule = "=" * 100
        out = [rule, "condapprove installation qualification report", rule, "",
               f"verdict            {self.verdict} ({self.n_checks - self.n_failed} of {self.n_checks} checks pass)",
               f"started (UTC)      {self.started}",
               f"duration           {self.elapsed_seconds:.2f} s",
               f"condapprove        {self.condapprove_version}",
               f"installed at       {self.location}",
               f"reference data     sha256 {self.reference_sha256}", "", "Platform"]
        out += [f"  {k:<17}{v}" for k, v in self.platform.items()]
        out += ["", "Versions", f"  {'condapprove':<17}{self.condapprove_version}"]
        out += [f"  {k:<17}{v}" for k, v in self.versions.items()]
        criterion = ("Pass criterion: |observed - expected| <= atol + rtol * |expected| (equal if infinite; "
                     "NaN or an error fails).")
        out += ["", criterion]
        by_family: dict[str, list[Check]] = {}
        for c in self.checks:
            by_family.setdefault(c.family, []).append(c)
        for f in self.families:
            checks = by_family.get(f.name, [])
            out += ["", rule, f"[{f.name}] {f.title}", rule,
                    f"sources            {', '.join(f.sources)}",
                    f"tolerance          rtol {f.tolerance:g}, atol {f.abs_tolerance:g}: {f.tolerance_reason}"]
            seen = {(f.tolerance, f.abs_tolerance, f.tolerance_reason)}
            for c in checks:
                key = (c.tolerance, c.abs_tolerance, c.tolerance_reason)
                if key not in seen:
                    seen.add(key)
                    out.append(f"  (some cases)     rtol {c.tolerance:g}, atol {c.abs_tolerance:g}: "
                               f"{c.tolerance_reason}")
            counts = f"result             {f.n_checks - f.n_failed} of {f.n_checks} checks pass ({f.n_cases} cases)"
            header = (f"{'result':<7}{'expected':>23} {'observed':>23} {'|difference|':>12} {'rtol':>7} {'atol':>7}  "
                      "check [reference]")
            out += [counts, "", header]
            for c in checks:
                line = (f"{'PASS' if c.passed else 'FAIL':<7}{_num(c.expected):>23} {_num(c.observed):>23} "
                        f"{c.difference:>12.3g} {c.tolerance:>7g} {c.abs_tolerance:>7g}  {c.name} [{c.reference}]")
                out.append(line)
                if c.error:
                    out.append(f"{'':7}error: {c.error}")
        verdict = (f"VERDICT: {self.verdict} -- {self.n_checks - self.n_failed} of {self.n_checks} checks agree "
                   f"with their reference values; {self.n_failed} failed.")
        out += ["", rule, verdict, rule]
        return "\n".join(out) + "\n"

    def write_report(self, path: str | os.PathLike[str]) -> None:
        """Write the report atomically: JSON when ``path`` ends in ``.json``, plain text otherwise."""
        target = _report_iv(path)
        text = self.to_json() if target.suffix.lower() == ".json" else self.to_text()
        try:
            write_atomic(target, text)
        except OSError as exc:
            raise DesignError(f"cannot write the report: {exc.strerror}", file=str(target)) from None


def _num(value: float) -> str:
    return repr(float(value)) if math.isfinite(value) else str(value)


def _json_safe(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_safe(v) for v in value]
    return value


# ------------------------------------------------------------------------------------------ runners
def _g(value: float) -> str:
    """How numbers appear in quantity names (the same format as the data generator)."""
    return format(value, "g")


def _binomial_interval(a: Mapping[str, Any]) -> _Observed:
    from .estimate import binomial_interval

    ci = binomial_interval(a["x"], a["n"], method=a["method"], confidence_level=a["confidence_level"],
                           alternative=a["alternative"])
    return {"low": ci.low, "high": ci.high}


def _binomial_test(a: Mapping[str, Any]) -> _Observed:
    from .estimate import binomial_test

    exact = binomial_test(a["x"], a["n"], a["p0"], alternative=a["alternative"], pvalue_method="exact")
    midp = binomial_test(a["x"], a["n"], a["p0"], alternative=a["alternative"], pvalue_method="mid-p")
    return {"pvalue (exact)": exact.pvalue, "pvalue (mid-p)": midp.pvalue}


def _two_proportions(a: Mapping[str, Any]) -> _Observed:
    from .estimate import two_proportions

    res = two_proportions(a["x1"], a["n1"], a["x2"], a["n2"], alternative=a["alternative"],
                          confidence_level=a["confidence_level"])
    return {"pvalue": res.pvalue, "low": res.ci.low, "high": res.ci.high}


def _t(res: Any) -> _Observed:
    return {"statistic": res.statistic, "pvalue": res.pvalue, "df": res.df, "estimate": res.estimate,
            "se": res.se, "low": res.ci.low, "high": res.ci.high}


def _one_sample_t(a: Mapping[str, Any]) -> _Observed:
    from .estimate import one_sample_t

    return _t(one_sample_t(a["x"], a["mu0"], alternative=a["alternative"], confidence_level=a["confidence_level"]))


def _welch_t(a: Mapping[str, Any]) -> _Observed:
    from .estimate import welch_t

    return _t(welch_t(a["x"], a["y"], mu0=a["mu0"], alternative=a["alternative"],
                      confidence_level=a["confidence_level"]))


def _welch_t_from_summary(a: Mapping[str, Any]) -> _Observed:
    from .estimate import welch_t_from_summary

    return _t(welch_t_from_summary(a["mean1"], a["se1"], a["n1"], a["mean2"], a["se2"], a["n2"], spread="se",
                                   alternative=a["alternative"]))


def _kaplan_meier(a: Mapping[str, Any]) -> _Observed:
    from .estimate import kaplan_meier

    km = kaplan_meier(a["durations"], a["event_observed"], confidence_level=a["confidence_level"])
    out: _Observed = {}
    for t in a["landmarks"]:
        low, high = km.interval_at(t)
        out |= {f"S({_g(t)})": km.survival_at(t), f"S({_g(t)}) lower": low, f"S({_g(t)}) upper": high}
    low, high = km.median_interval()
    out |= {"median": km.median, "median lower": low, "median upper": high}
    return out


def _logrank_test(a: Mapping[str, Any]) -> _Observed:
    from .estimate import logrank_test

    res = logrank_test(a["durations"], a["event_observed"], a["group"])
    return {"chi2": res.chi2, "pvalue": res.pvalue, "variance": res.variance,
            "expected (group 0)": res.expected[0], "expected (group 1)": res.expected[1]}


def _cox_hazard_ratio(a: Mapping[str, Any]) -> _Observed:
    from .estimate import cox_hazard_ratio

    res = cox_hazard_ratio(a["durations"], a["event_observed"], a["group"])
    ci95, ci90 = res.interval(0.95), res.interval(0.90)
    return {"log_hr": res.log_hr, "se": res.se, "statistic": res.statistic, "pvalue": res.pvalue,
            "95% lower": ci95.low, "95% upper": ci95.high, "90% lower": ci90.low, "90% upper": ci90.high}


def _random_effects(a: Mapping[str, Any]) -> _Observed:
    from .estimate import random_effects

    res = random_effects(a["yi"], a["vi"], method=a["method"], test=a["test"])
    pi = res.prediction_interval(0.95)
    return {"estimate": res.estimate, "se": res.se, "statistic": res.statistic, "pvalue": res.pvalue,
            "ci_lb": res.ci.low, "ci_ub": res.ci.high, "tau2": res.tau2, "i2": res.i2, "q": res.q,
            "q_pvalue": res.q_pvalue, "pi95_lb": pi.low, "pi95_ub": pi.high}


def _tau2_interval(a: Mapping[str, Any]) -> _Observed:
    from .estimate import random_effects

    res = random_effects(a["yi"], a["vi"])
    tau2, i2 = res.tau2_interval(a["confidence_level"]), res.i2_interval(a["confidence_level"])
    return {"tau2 lower": tau2.low, "tau2 upper": tau2.high, "I2 lower": i2.low, "I2 upper": i2.high}


def _group_sequential(a: Mapping[str, Any]) -> _Observed:
    from .boundaries import group_sequential

    kwargs: dict[str, Any] = {}
    if a["futility"] is not None:
        kwargs["futility"] = a["futility"]
    if a["beta_spending"] is not None:
        kwargs["beta_spending"] = a["beta_spending"]
        kwargs["beta_parameter"] = a["beta_parameter"]
    design = group_sequential(a["information_rates"], alpha=a["alpha"], beta=a["beta"], spending=a["spending"],
                              parameter=a["parameter"], binding=a["binding"], **kwargs)
    out: _Observed = {"inflation factor": design.inflation_factor}
    for k, (c, alpha) in enumerate(zip(design.critical_values, design.cumulative_alpha, strict=True), start=1):
        out |= {f"critical value (look {k})": c, f"cumulative alpha (look {k})": alpha}
    for k, f in enumerate(design.futility_bounds, start=1):  # interim looks only
        out[f"futility bound (look {k})"] = f
    if design.n_looks > 1:
        ch = design.characteristics()
        out |= {"power": ch.power[-1], "expected information under H1 (ratio)": ch.asn_ratio_h1,
                "expected information under H0 (ratio)": ch.asn_ratio_h0}
    return out


def _posterior(post: Any, a: Mapping[str, Any]) -> _Observed:
    out: _Observed = {"mean": post.mean, "sd": post.sd}
    out |= {f"P(theta > {_g(t)})": post.prob_greater(t) for t in a["prob_greater_at"]}
    out |= {f"quantile {_g(q)}": post.ppf(q) for q in a.get("quantiles", ())}
    for k, w in enumerate(getattr(post, "weights", ()), start=1):
        out[f"posterior weight {k}"] = w
    return out


def _beta_posterior(a: Mapping[str, Any]) -> _Observed:
    from .estimate import beta_posterior
    from .priors import Beta

    post = beta_posterior(a["x"], a["n"], prior=Beta(a["a"], a["b"]))
    ci95, ci80 = post.interval(0.95), post.interval(0.80)
    return _posterior(post, a) | {"95% lower": ci95.low, "95% upper": ci95.high, "80% lower": ci80.low,
                                  "80% upper": ci80.high}


def _beta_mixture_posterior(a: Mapping[str, Any]) -> _Observed:
    from .estimate import beta_posterior
    from .priors import BetaMixture

    return _posterior(beta_posterior(a["x"], a["n"], prior=BetaMixture(a["weights"], a["a"], a["b"])), a)


def _normal_mixture_posterior(a: Mapping[str, Any]) -> _Observed:
    from .estimate import normal_posterior
    from .priors import NormalMixture

    prior = NormalMixture(a["weights"], a["means"], a["sds"])
    return _posterior(normal_posterior(a["estimate"], a["se"], prior=prior), a)


def _exact_binomial_pvalue(a: Mapping[str, Any]) -> _Observed:
    import numpy as np

    from .endpoints import BinaryOutcome, binary_pvalues

    out = BinaryOutcome(x_treated=np.array([a["x"]]), n_treated=np.array([a["n"]]))
    return {"pvalue": float(binary_pvalues(out, test="exact_binomial", benchmark=a["p0"])[0])}


def _fisher_pvalue(a: Mapping[str, Any]) -> _Observed:
    import numpy as np

    from .endpoints import BinaryOutcome, binary_pvalues

    out = BinaryOutcome(x_treated=np.array([a["xt"]]), n_treated=np.array([a["nt"]]),
                        x_control=np.array([a["xc"]]), n_control=np.array([a["nc"]]))
    return {"pvalue": float(binary_pvalues(out, test="fisher")[0])}


def _binary_power_fixed_n(a: Mapping[str, Any]) -> _Observed:
    from .simulation.analytic import binary_power_fixed_n

    power = binary_power_fixed_n(a["nt"], a["nc"], treated_rate=a["pt"], control_rate=a["pc"], test=a["test"],
                                 alpha=a["alpha"], benchmark=a["p0"])
    return {"power": power}


_RUNNERS: dict[str, Callable[[Mapping[str, Any]], _Observed]] = {
    "binomial_interval": _binomial_interval,
    "binomial_test": _binomial_test,
    "two_proportions": _two_proportions,
    "one_sample_t": _one_sample_t,
    "welch_t": _welch_t,
    "welch_t_from_summary": _welch_t_from_summary,
    "kaplan_meier": _kaplan_meier,
    "logrank_test": _logrank_test,
    "cox_hazard_ratio": _cox_hazard_ratio,
    "random_effects": _random_effects,
    "tau2_interval": _tau2_interval,
    "group_sequential": _group_sequential,
    "beta_posterior": _beta_posterior,
    "beta_mixture_posterior": _beta_mixture_posterior,
    "normal_mixture_posterior": _normal_mixture_posterior,
    "exact_binomial_pvalue": _exact_binomial_pvalue,
    "fisher_pvalue": _fisher_pvalue,
    "binary_power_fixed_n": _binary_power_fixed_n,
}


# ------------------------------------------------------------------------------------------ machinery
def _load_reference() -> list[dict[str, Any]]:
    """The packaged reference files (``condapprove/reference/*.json``), in file-name order."""
    folder = resources.files("condapprove") / "reference"
    if not folder.is_dir():
        return []
    entries = sorted((e for e in folder.iterdir() if e.name.endswith(".json")), key=lambda e: e.name)
    return [json.loads(e.read_text(encoding="utf-8")) for e in entries]


def _agrees(expected: float, observed: float, rtol: float, atol: float) -> bool:
    if math.isnan(observed) or math.isnan(expected):
        return False
    if math.isinf(expected) or math.isinf(observed):
        return expected == observed
    return abs(observed - expected) <= atol + rtol * abs(expected)


def _run_case(case: Mapping[str, Any], family: str, default_tol: Mapping[str, Any]) -> list[Check]:
    tol = case.get("tolerance", default_tol)
    rtol, atol, reason = float(tol["rtol"]), float(tol["atol"]), str(tol["reason"])
    observed: _Observed = {}
    error: str | None = None
    runner = _RUNNERS.get(case["call"])
    if runner is None:
        error = f"no runner for {case['call']!r} (reference data newer than this condapprove?)"
    else:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # documented conventions may warn; the values are what is checked
                observed = runner(case["args"])
        except Exception as exc:  # noqa: BLE001 - any failure is a failed check, reported with its message
            error = f"{type(exc).__name__}: {exc}"
    checks = []
    for quantity, expected in case["expected"].items():
        value = observed.get(quantity)
        why = error if error is not None else (None if value is not None else f"{quantity!r} was not computed")
        obs = math.nan if value is None else float(value)
        checks.append(Check(
            name=f"{case['id']}: {quantity}", family=family, expected=float(expected), observed=obs,
            tolerance=rtol, abs_tolerance=atol, tolerance_reason=reason,
            passed=why is None and _agrees(float(expected), obs, rtol, atol), reference=str(case["reference"]),
            error=why))
    return checks


def _run_family(data: Mapping[str, Any], index: int) -> tuple[FamilyResult, list[Check]]:
    name = str(data.get("family", f"file {index}"))
    try:
        if data.get("format") != _FORMAT:
            raise ValueError(f"reference data format {data.get('format')!r}, this condapprove reads {_FORMAT}")
        tol = data["tolerance"]
        checks = [c for case in data["cases"] for c in _run_case(case, name, tol)]
        n_cases = len(data["cases"])
        title, sources = str(data["title"]), tuple(str(s) for s in data["sources"])
        rtol, atol, reason = float(tol["rtol"]), float(tol["atol"]), str(tol["reason"])
    except (KeyError, TypeError, ValueError) as exc:  # malformed data: one failed check says so
        message = f"{type(exc).__name__}: {exc}"
        checks = [Check(name=f"{name}: reference data", family=name, expected=math.nan, observed=math.nan,
                        tolerance=0.0, abs_tolerance=0.0, tolerance_reason="", passed=False,
                        reference="packaged reference data", error=f"malformed: {message}")]
        n_cases, title, sources, rtol, atol, reason = 0, name, (), 0.0, 0.0, ""
    family = FamilyResult(name=name, title=title, sources=sources, tolerance=rtol, abs_tolerance=atol,
                          tolerance_reason=reason, n_cases=n_cases, n_checks=len(checks),
                          n_failed=sum(not c.passed for c in checks))
    return family, checks


def _version(dist: str) -> str:
    try:
        return version(dist)
    except PackageNotFoundError:
        return "not installed"


def _platform() -> dict[str, str]:
    return {
        "system": f"{platform.system()} {platform.release()}",
        "platform": platform.platform(),
        "machine": platform.machine(),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "executable": sys.executable,
    }


def _report_iv(report: Any) -> Path:
    if not isinstance(report, (str, os.PathLike)) or not str(os.fspath(report)).strip():
        raise DesignError(f"`report` must be a file path; got {report!r}.")
    path = Path(os.fspath(report))
    if path.is_dir():
        raise DesignError(f"`report` must be a file path, not a folder; got {str(path)!r}.")
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise DesignError(f"`report` must be a file in an existing folder; got {str(path)!r}.",
                          hint=f"create the folder {str(folder)!r} first")
    return path


def run_selftest(*, report: str | os.PathLike[str] | None = None) -> SelftestResult:
    """Check the installed package against trusted reference values (installation qualification).

    Parameters
    ----------
    report : str or path-like, optional
        Write a validation report here (atomically): JSON when the name ends in ``.json``, plain
        text otherwise. The folder must exist.

    Returns
    -------
    SelftestResult
        Every check, per-family counts, platform and versions, and the verdict
        (``passed``; ``summary()`` for the terminal, ``to_text()``/``to_json()`` for the report).

    Raises
    ------
    DesignError
        If ``report`` is not a writable file path (checked before anything runs).

    Notes
    -----
    Each packaged case calls one public function (``binomial_interval``, ``welch_t``,
    ``kaplan_meier``, ``cox_hazard_ratio``, ``random_effects``, ``group_sequential``,
    ``beta_posterior``, ``binary_power_fixed_n``, ...) and compares each quantity with its
    reference value :math:`e`: the check passes when the observed :math:`o` satisfies
    :math:`|o - e| \\le \\mathrm{atol} + \\mathrm{rtol}\\,|e|`. The tolerance is stated per family
    (relative 1e-6, the project standard, with an absolute floor for values at or next to 0) and
    overridden with a reason where the reference is itself less precise (rpact's fixed
    integration grid: absolute 1e-6; coxph's Newton-Raphson stopping point:
    absolute 1e-8). A computation that raises, returns NaN or omits a quantity fails. The
    verdict is PASS only when there is at least one check and all pass; warnings raised by
    documented conventions are silenced, as the values are what is qualified.

    The reference values were computed in R (binom.test, prop.test, fisher.test, t.test,
    survival's survfit/survdiff/coxph, metafor's rma and confint, rpact's
    getDesignGroupSequential and getDesignCharacteristics, numerical integration for mixture
    posteriors) and are copied from the source tree's ``tests/reference/`` fixtures.

    References
    ----------
    .. [1] rpact: ``testPackage()``, installation qualification of an R package for
       regulated use. https://www.rpact.org
    .. [2] R Foundation (2021). R: Regulatory Compliance and Validation Issues, a guidance
       document for the use of R in regulated clinical trial environments.

    Examples
    --------
    >>> from condapprove.selftest import run_selftest
    >>> result = run_selftest()
    >>> result.verdict, result.n_failed
    ('PASS', 0)
    >>> print(result.summary().splitlines()[0])
    condapprove ... installation qualification: PASS
    """
    target = None if report is None else _report_iv(report)
    started = datetime.now(UTC).isoformat(timespec="seconds")
    t0 = time.perf_counter()
    data = _load_reference()
    families: list[FamilyResult] = []
    checks: list[Check] = []
    for index, family_data in enumerate(data):
        family, family_checks = _run_family(family_data, index)
        families.append(family)
        checks.extend(family_checks)
    elapsed = time.perf_counter() - t0
    canonical = json.dumps(to_builtin(data), sort_keys=True, separators=(",", ":")).encode("utf-8")
    import condapprove

    n_failed = sum(not c.passed for c in checks)
    result = SelftestResult(
        checks=tuple(checks),
        families=tuple(families),
        passed=bool(checks) and n_failed == 0,
        n_checks=len(checks),
        n_failed=n_failed,
        condapprove_version=condapprove.__version__,
        location=str(Path(condapprove.__file__).resolve().parent),
        platform=_platform(),
        versions={dist: _version(dist) for dist in DEPENDENCIES},
        reference_sha256=hashlib.sha256(canonical).hexdigest(),
        started=started,
        elapsed_seconds=elapsed,
    )
    if target is not None:
        result.write_report(target)
    return result
