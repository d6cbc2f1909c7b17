"""The case-study pages (docs/cases/) are current, reproducible and show their published facts.

For every case module ``docs/cases/<slug>.py`` present:

(a) the committed page ``<slug>.md`` is exactly ``render`` of the committed numbers ``<slug>.json``;
(b) ``compute`` at a small replicate count agrees with the committed numbers: exact numbers to 1e-9
    (text equal), Monte-Carlo numbers within 4 combined standard errors;
(c) the published facts each page must show are there, checked against independent computations.
"""

from __future__ import annotations

import importlib.util
import json
import math
import re
import sys
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from scipy import stats

ROOT = Path(__file__).resolve().parents[1]
CASES = ROOT / "docs" / "cases"
#: Replicates per scenario of the fresh computation (the committed pages use many more).
SMALL = 2000


def _load_build() -> Any:
    spec = importlib.util.spec_from_file_location("_case_studies_build", CASES / "build.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


build = _load_build()
SLUGS = build.present()


def committed(slug: str) -> dict[str, Any]:
    return json.loads((CASES / f"{slug}.json").read_text(encoding="utf-8"))


@cache
def fresh(slug: str) -> dict[str, Any]:
    """``compute`` at :data:`SMALL` replicates, round-tripped through JSON as the build does."""
    return json.loads(build.dumps(build.load(slug).compute(SMALL)))


def numbers(doc: dict[str, Any]) -> dict[str, Any]:
    return doc["numbers"]


def value(doc: dict[str, Any], key: str) -> Any:
    return doc["numbers"][key]["value"]


def test_every_case_of_the_site_is_known() -> None:
    assert set(SLUGS) <= set(build.SLUGS)
    assert {"heartsheet", "stemirac", "collategene"} <= set(SLUGS)


@pytest.mark.parametrize("slug", SLUGS)
def test_committed_page_is_the_rendering_of_the_committed_numbers(slug: str) -> None:
    doc = committed(slug)
    build.check_document(slug, doc)
    page = (CASES / f"{slug}.md").read_text(encoding="utf-8")
    assert page == build.page(build.load(slug), doc), (
        f"docs/cases/{slug}.md is not render({slug}.json): run python docs/cases/build.py --only {slug}")


@pytest.mark.parametrize("slug", SLUGS)
def test_page_links_only_existing_figures(slug: str) -> None:
    page = (CASES / f"{slug}.md").read_text(encoding="utf-8")
    links = re.findall(r"\]\((img/[^)]+)\)", page)
    for link in links:
        assert link.startswith(f"img/{slug}-") and link.endswith(".svg"), link
        assert (CASES / link).is_file(), f"{slug}.md links {link}, which is not committed"


def test_index_lists_the_cases_present() -> None:
    assert (CASES / "index.md").read_text(encoding="utf-8") == build.index_page(), (
        "docs/cases/index.md is out of date: run python docs/cases/build.py --only <any case>")
    assert all(build.load(slug).SUMMARY.strip() for slug in SLUGS), "a case's row says nothing of what it shows"


def _agree(key: str, old: dict[str, Any], new: dict[str, Any]) -> str | None:
    """None when the committed and fresh numbers agree, else why not."""
    if (old["mcse"] is None) != (new["mcse"] is None):
        return f"{key}: exact in one computation and Monte-Carlo in the other"
    a, b = old["value"], new["value"]
    if isinstance(a, str) or isinstance(b, str):
        return None if a == b else f"{key}: {a!r} != {b!r}"
    if old["mcse"] is None:
        return None if math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12) else f"{key}: exact {a!r} != {b!r}"
    se = math.hypot(old["mcse"], new["mcse"])
    # Both MCSEs 0 (a probability of 0 or 1 in both runs, a capped count, a fixed true value): equal values.
    tol = max(4.0 * se, 1e-9 * max(1.0, abs(a)))
    return None if abs(a - b) <= tol else f"{key}: committed {a:.6g} ± {old['mcse']:.2g}, fresh {b:.6g} ± {new['mcse']:.2g}"


@pytest.mark.parametrize("slug", SLUGS)
def test_committed_numbers_agree_with_a_fresh_computation(slug: str) -> None:
    old, new = committed(slug), fresh(slug)
    build.check_document(slug, new)
    assert new["replicates"] == SMALL
    assert {k: v for k, v in old.items() if k not in ("replicates", "numbers")} == \
        {k: v for k, v in new.items() if k not in ("replicates", "numbers")}
    assert set(numbers(old)) == set(numbers(new)), (
        sorted(set(numbers(old)) ^ set(numbers(new)))[:10])
    problems = [p for k in sorted(numbers(old)) if (p := _agree(k, numbers(old)[k], numbers(new)[k]))]
    # With hundreds of Monte-Carlo numbers per page, 4 SE is exceeded by chance with probability ~6e-5 each.
    assert not problems, f"{slug}: {len(problems)} numbers disagree, e.g. " + "; ".join(problems[:5])


def test_the_agreement_rule_can_fail() -> None:
    mc = {"value": 0.50, "mcse": 0.01}
    assert _agree("k", mc, {"value": 0.53, "mcse": 0.01}) is None
    assert _agree("k", mc, {"value": 0.57, "mcse": 0.01}) is not None
    assert _agree("k", {"value": 1.0, "mcse": 0.0}, {"value": 0.999, "mcse": 0.0}) is not None
    assert _agree("k", {"value": 0.1, "mcse": None}, {"value": 0.1 + 1e-6, "mcse": None}) is not None
    assert _agree("k", {"value": "pass", "mcse": None}, {"value": "fail", "mcse": None}) is not None
    assert _agree("k", {"value": 0.1, "mcse": None}, mc) is not None


# ---------------------------------------------------------------- (c) published facts, page by page
def _page(slug: str) -> str:
    return (CASES / f"{slug}.md").read_text(encoding="utf-8")


def _cp(x: int, n: int) -> tuple[float, float]:
    """Clopper-Pearson 95% interval from beta quantiles (independent of condapprove)."""
    low = 0.0 if x == 0 else float(stats.beta.ppf(0.025, x, n - x + 1))
    high = 1.0 if x == n else float(stats.beta.ppf(0.975, x + 1, n - x))
    return low, high


@pytest.mark.skipif("heartsheet" not in SLUGS, reason="no HeartSheet case module")
def test_heartsheet_shows_its_published_facts() -> None:
    doc, page = committed("heartsheet"), _page("heartsheet")
    assert value(doc, "pre.n") == 7 and value(doc, "pre.responders") == 5
    assert "n = 7" in page and "5 \"responders\"" in page and "0 improved, 5 unchanged, 2 worse" in page
    assert "60 treated vs 120 controls" in page and "49 treated vs 102 controls" in page
    assert "2015-09-18" in page and "5 + 3" in page and "refused July 2024" in page
    low, high = _cp(5, 7)
    assert value(doc, "pre.interval.clopper-pearson.low") == pytest.approx(low, abs=1e-9)
    assert value(doc, "pre.interval.clopper-pearson.high") == pytest.approx(high, abs=1e-9)
    assert f"{low:.3f} – {high:.3f}" in page
    assert value(doc, "pre.improved.high") == pytest.approx(_cp(0, 7)[1], abs=1e-9)
    assert value(doc, "pre.p0.0.3.pvalue") == pytest.approx(float(stats.binom.sf(4, 7, 0.3)), rel=1e-9)
    # the designs' cut-offs: 5 + 3 years less a 12-month filing lead; the original 5-year limit
    assert value(doc, "design.actual.cutoff_month") == 84 and value(doc, "design.limit5.cutoff_month") == 48
    # the filed survey enrols (about) 49 treated and is capped at 49 / 102
    assert 44 <= value(doc, "cmp.filed.HR 0.5.expected_treated_enrolled") <= 49
    assert 90 <= value(doc, "cmp.filed.HR 0.5.expected_controls_enrolled") <= 102
    # the planned survey keeps the one-sided level, and the accrual shortfall costs power
    assert value(doc, "cmp.planned.no effect.p_confirmed") < 0.035
    assert value(doc, "cmp.actual.HR 0.5.p_confirmed") < value(doc, "cmp.planned.HR 0.5.p_confirmed")
    assert value(doc, "cmp.limit5.HR 0.5.p_confirmed") < value(doc, "cmp.actual.HR 0.5.p_confirmed")


@pytest.mark.skipif("stemirac" not in SLUGS, reason="no Stemirac case module")
def test_stemirac_shows_its_published_facts() -> None:
    doc, page = committed("stemirac"), _page("stemirac")
    assert value(doc, "pre.responders") == 12 and value(doc, "pre.n") == 13
    assert "12/13" in page and "2018-12-28" in page and "7 years" in page and "November 2025" in page
    low, high = _cp(12, 13)
    assert value(doc, "pre.interval.clopper-pearson.low") == pytest.approx(low, abs=1e-9)
    assert value(doc, "pre.interval.clopper-pearson.high") == pytest.approx(high, abs=1e-9)
    assert f"{low:.3f} – {high:.3f}" in page  # 0.640 – 0.998
    assert value(doc, "pre.p0.0.3.pvalue") == pytest.approx(float(stats.binom.sf(11, 13, 0.3)), rel=1e-9)
    assert value(doc, "pre.verdict") == "efficacy presumed"
    # the exact test's level and power at 60 patients, without simulation, as the library's closed form
    assert value(doc, "cmp.exact.no effect.p_confirmed_exact") < 0.025
    # the historical rate matters: a benchmark 10 points too low confirms a null product often
    assert value(doc, "bench.0.2.no effect.p_confirmed_exact") > 0.3


@pytest.mark.skipif("collategene" not in SLUGS, reason="no Collategene case module")
def test_collategene_shows_its_published_facts() -> None:
    doc, page = committed("collategene"), _page("collategene")
    assert value(doc, "rct.nt") == 27 and value(doc, "rct.nc") == 13
    assert "n = 40 (27 treated vs 13 placebo)" in page and "2019-03-26" in page and "withdrawn 2024" in page
    assert "120 treated vs 80 controls" in page
    p = float(stats.hypergeom.sf(11, 40, 15, 27))  # Fisher one-sided: 12 or more healed of 27, 15 healed of 40
    assert value(doc, "rct.x.12.fisher_one_sided") == pytest.approx(p, rel=1e-9)
    # the trial's power two ways: the library's closed form and the page's enumeration of significant outcomes
    assert value(doc, "rct.curse.power") == pytest.approx(value(doc, "rct.power.0.45.0.25"), rel=1e-9)
    assert value(doc, "rct.curse.mean_diff") > 0.2  # the winner's curse
    # the crude survey is biased against the product and misses the RCT's effect more often than weighting
    assert value(doc, "cmp.crude.effect as in the RCT.mean_estimate") < value(
        doc, "cmp.weighted.effect as in the RCT.mean_estimate")
    assert value(doc, "cmp.crude.effect as in the RCT.p_confirmed") < value(
        doc, "cmp.randomised.effect as in the RCT.p_confirmed")


@pytest.mark.parametrize("slug", [s for s in SLUGS if hasattr(build.load(s), "check_published")])
def test_case_module_published_checks(slug: str) -> None:
    build.load(slug).check_published(build._kit.view(committed(slug)))
