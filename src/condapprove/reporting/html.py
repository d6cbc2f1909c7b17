"""A self-contained HTML report of a design: evidence verdict, operating characteristics, figures.

The page loads nothing from anywhere: the CSS is inline, the fonts are the reader's
system fonts, and the figures are embedded as base64 PNG.  Every piece of text that
comes from a design or a result is HTML-escaped; only fragments wrapped in
:class:`Markup` (built here from escaped parts) are inserted as they are.

* :func:`render_report` -- any list of :class:`Section` as one page (the page frame).
* :func:`design_report` -- the full report of a design, its evidence and its simulation.
* :func:`html_table` -- an escaped HTML table.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as _dt
import hashlib
import html
import json
import math
import re
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._text import fixed, percent, significant
from ..errors import CondapproveError, DesignError
from ..results import MonteCarloEstimate

if TYPE_CHECKING:  # pragma: no cover
    from ..evidence import CriterionResult, EvidenceResult
    from ..simulation.results import SimulationResult
    from ..spec.schema import Accrual, Design

__all__ = ["Markup", "Section", "design_report", "html_table", "render_report"]


class Markup(str):
    """A string of trusted HTML, inserted without escaping (everything else is escaped)."""

    __slots__ = ()


def _esc(value: Any) -> str:
    """Escape ``value`` for HTML unless it is :class:`Markup`."""
    if isinstance(value, Markup):
        return str(value)
    return html.escape(str(value), quote=True)


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Section:
    """One section of a report.

    Attributes
    ----------
    title : str
        Heading (plain text; escaped).
    body : str
        The content: plain text is escaped; a :class:`Markup` string is trusted HTML.
    anchor : str or None
        The section's ``id`` for in-page links (default: derived from the title).
    """

    title: str
    body: str
    anchor: str | None = None

    @property
    def slug(self) -> str:
        """The ``id`` of the section in the page."""
        base = self.anchor or self.title
        return re.sub(r"[^a-z0-9]+", "-", base.lower()).strip("-") or "section"


def html_table(headers: Sequence[Any], rows: Sequence[Sequence[Any]], *, numeric: Sequence[bool] | None = None,
               caption: str | None = None, row_classes: Sequence[str] | None = None, css_class: str = "") -> Markup:
    """An HTML table; cells are escaped unless they are :class:`Markup`.

    Parameters
    ----------
    headers : sequence
        Column headers.
    rows : sequence of sequences
        Cells, one row per entry, as many cells as headers.
    numeric : sequence of bool, optional
        Which columns hold numbers (right-aligned, tabular figures); default all but the first.
    caption : str, optional
        A caption above the table.
    row_classes : sequence of str, optional
        A CSS class per row (``"sub"`` indents a row under the one above; ``""`` none).
    css_class : str, optional
        CSS classes of the table: ``"compact"`` sizes it to its content (at least 55% of
        the width); ``"figures"`` keeps the first column on one line (wide tables of figures).

    Returns
    -------
    Markup
        The ``<table>``, wrapped in a horizontally scrollable ``<div>``.

    Examples
    --------
    >>> from condapprove.reporting import html_table
    >>> print(html_table(["a", "b"], [["<x>", "1"]]))  # doctest: +NORMALIZE_WHITESPACE
    <div class="table-wrap"><table><thead><tr><th>a</th><th class="num">b</th></tr></thead><tbody><tr><td>&lt;x&gt;</td><td class="num">1</td></tr></tbody></table></div>
    """
    ncol = len(headers)
    for r in rows:
        if len(r) != ncol:
            raise DesignError(f"every row must have {ncol} cells (one per header); got {len(r)}: {list(r)!r}.")
    num = list(numeric) if numeric is not None else [j > 0 for j in range(ncol)]

    def cls(j: int) -> str:
        return ' class="num"' if num[j] else ""

    head = "".join(f"<th{cls(j)}>{_esc(h)}</th>" for j, h in enumerate(headers))
    classes = list(row_classes) if row_classes is not None else [""] * len(rows)
    if len(classes) != len(rows):
        raise DesignError(f"`row_classes` must have one entry per row ({len(rows)}); got {len(classes)}.")
    body = "".join((f'<tr class="{_esc(k)}">' if k else "<tr>")
                   + "".join(f"<td{cls(j)}>{_esc(c)}</td>" for j, c in enumerate(r)) + "</tr>"
                   for r, k in zip(rows, classes))
    cap = f"<caption>{_esc(caption)}</caption>" if caption else ""
    tag = f'<table class="{_esc(css_class)}">' if css_class else "<table>"
    return Markup(f'<div class="table-wrap">{tag}{cap}<thead><tr>{head}</tr></thead>'
                  f"<tbody>{body}</tbody></table></div>")


_CSS = """
:root { --ink:#1f2933; --muted:#52606d; --line:#e4e7eb; --zebra:#f7f9fb; --band:#0b3954; --band2:#0f5e73;
  --accent:#0072b2; --good:#1b7a3a; --good-bg:#e3f6e8; --bad:#b42318; --bad-bg:#fde8e7; --warn-bg:#fff8e1;
  --warn:#b7791f; }
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body { margin: 0; background: #f3f5f8; color: var(--ink); line-height: 1.55; font-size: 15px;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, "Noto Sans",
  "Liberation Sans", sans-serif; }
.wrap { max-width: 1080px; margin: 0 auto; padding: 0 28px; }
header.band { background: linear-gradient(120deg, var(--band), var(--band2)); color: #fff; padding: 30px 0 26px; }
header.band .kicker { text-transform: uppercase; letter-spacing: .09em; font-size: 12px; opacity: .75;
  margin: 0 0 6px; }
header.band h1 { font-size: 27px; line-height: 1.25; margin: 0 0 8px; font-weight: 650; }
header.band .subtitle { margin: 0; max-width: 860px; opacity: .88; font-size: 15px; }
.facts { display: grid; grid-template-columns: repeat(auto-fit, minmax(185px, 1fr)); gap: 12px; margin-top: 22px; }
.fact { background: rgba(255,255,255,.10); border: 1px solid rgba(255,255,255,.16); border-radius: 8px;
  padding: 10px 14px; }
.fact .label { font-size: 11.5px; text-transform: uppercase; letter-spacing: .07em; opacity: .75; }
.fact .value { font-size: 17px; font-weight: 600; margin-top: 2px; }
.fact.good .value::before, .fact.bad .value::before { content: ""; display: inline-block; width: 10px;
  height: 10px; border-radius: 50%; margin-right: 8px; vertical-align: 1px; }
.fact.good .value::before { background: #5ee38a; }
.fact.bad .value::before { background: #ff8a80; }
nav.toc { background: #fff; border-bottom: 1px solid var(--line); }
nav.toc .wrap { display: flex; flex-wrap: wrap; gap: 4px 22px; padding-top: 10px; padding-bottom: 10px; }
nav.toc a { color: var(--accent); text-decoration: none; font-size: 14px; }
nav.toc a:hover { text-decoration: underline; }
main { padding: 8px 0 40px; }
section.card { background: #fff; border: 1px solid var(--line); border-radius: 10px; padding: 22px 26px 24px;
  margin: 22px 0; box-shadow: 0 1px 2px rgba(16,42,67,.05); }
section.card > h2 { font-size: 19px; margin: 0 0 14px; padding-bottom: 8px; border-bottom: 2px solid var(--line);
  font-weight: 650; }
h3 { font-size: 15.5px; margin: 22px 0 8px; font-weight: 650; }
p { margin: 8px 0; }
.muted { color: var(--muted); }
.small { font-size: 13px; }
.table-wrap { overflow-x: auto; margin: 8px 0 4px; }
table { border-collapse: collapse; width: 100%; font-size: 13.5px; }
table.compact { width: auto; min-width: 55%; }
caption { text-align: left; color: var(--muted); font-size: 13px; padding: 0 0 6px; }
th, td { padding: 7px 11px; border-bottom: 1px solid var(--line); vertical-align: top; text-align: left; }
thead th { background: #eef2f6; font-weight: 600; border-bottom: 1px solid #cbd2d9; vertical-align: bottom; }
table.figures td:first-child { white-space: nowrap; }
table.figures td.num { padding-left: 6px; padding-right: 9px; }
tbody tr:nth-child(even) { background: var(--zebra); }
tbody tr:hover { background: #eef6fc; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
td.num { white-space: nowrap; }
tr.sub td:first-child { padding-left: 26px; color: var(--muted); }
.pm { color: var(--muted); font-size: 12.5px; }
dl.kv { display: grid; grid-template-columns: minmax(150px, 220px) 1fr; margin: 0; border-top: 1px solid var(--line); }
dl.kv dt, dl.kv dd { margin: 0; padding: 8px 10px; border-bottom: 1px solid var(--line); }
dl.kv dt { color: var(--muted); font-weight: 600; font-size: 13.5px; }
dl.kv dt:nth-of-type(even), dl.kv dd:nth-of-type(even) { background: var(--zebra); }
.pill { display: inline-block; padding: 1px 9px; border-radius: 999px; font-size: 12px; font-weight: 650;
  letter-spacing: .02em; }
.pill.pass { background: var(--good-bg); color: var(--good); }
.pill.fail { background: var(--bad-bg); color: var(--bad); }
.verdict { display: flex; align-items: center; gap: 14px; padding: 14px 18px; border-radius: 8px; margin: 6px 0 16px;
  font-size: 17px; font-weight: 650; }
.verdict.good { background: var(--good-bg); color: var(--good); border: 1px solid #b7e4c4; }
.verdict.bad { background: var(--bad-bg); color: var(--bad); border: 1px solid #f6c2be; }
.verdict .why { font-weight: 400; font-size: 14px; color: var(--ink); }
figure { margin: 18px 0 8px; }
figure img { display: block; width: 100%; max-width: 900px; height: auto; margin: 0 auto; border: 1px solid var(--line);
  border-radius: 6px; background: #fff; }
figcaption { color: var(--muted); font-size: 13px; max-width: 900px; margin: 8px auto 0; }
.callout { border-left: 4px solid var(--warn); background: var(--warn-bg); padding: 10px 14px; border-radius: 0 6px 6px 0;
  margin: 8px 0; }
.callout.info { border-left-color: var(--accent); background: #eef6fc; }
ul.warnings { margin: 0; padding: 0; list-style: none; }
ul.warnings li { margin: 8px 0; }
code, .mono, pre { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace;
  font-size: 12.5px; }
.hash { word-break: break-all; }
details { margin: 12px 0 0; }
summary { cursor: pointer; color: var(--accent); font-size: 14px; }
pre { background: #f7f9fb; border: 1px solid var(--line); border-radius: 6px; padding: 12px; overflow-x: auto;
  max-height: 420px; }
footer { color: var(--muted); font-size: 12.5px; padding: 0 0 36px; }
@media (max-width: 640px) { .wrap { padding: 0 14px; } section.card { padding: 16px; }
  dl.kv { grid-template-columns: 1fr; } dl.kv dt { border-bottom: none; padding-bottom: 0; } }
@media print { body { background: #fff; } section.card { box-shadow: none; break-inside: avoid-page; }
  nav.toc { display: none; } header.band { -webkit-print-color-adjust: exact; print-color-adjust: exact; } }
"""


def render_report(
    sections: Sequence[Section],
    *,
    title: str,
    subtitle: str = "",
    kicker: str = "condapprove report",
    facts: Sequence[tuple[str, str] | tuple[str, str, str]] = (),
    footer: str = "",
) -> str:
    """One self-contained HTML page: a header band, a table of contents and the sections.

    Parameters
    ----------
    sections : sequence of Section
        The content, in order.
    title : str
        Page title and main heading (escaped).
    subtitle : str, optional
        A line under the title (escaped).
    kicker : str, optional
        The small line above the title.
    facts : sequence of tuples, optional
        Key figures shown as cards in the header: ``(label, value)`` or
        ``(label, value, tone)`` with tone ``"good"``, ``"bad"`` or ``"neutral"``.
    footer : str, optional
        Text of the page footer (escaped unless :class:`Markup`).

    Returns
    -------
    str
        The HTML document.  It references no external resource: inline CSS, system fonts,
        embedded images.

    Examples
    --------
    >>> from condapprove.reporting import Section, render_report
    >>> page = render_report([Section(title="Notes", body="x < y")], title="Demo")
    >>> "<h2>Notes</h2>" in page and "x &lt; y" in page
    True
    """
    if not sections:
        raise DesignError("`sections` must hold at least one Section; got none.")
    seen: dict[str, int] = {}
    parts = []
    toc = []
    for s in sections:
        if not isinstance(s, Section):
            raise DesignError(f"`sections` must hold Section objects; got {type(s).__name__}.")
        slug = s.slug
        seen[slug] = seen.get(slug, 0) + 1
        if seen[slug] > 1:
            slug = f"{slug}-{seen[slug]}"
        body = _esc(s.body) if not isinstance(s.body, Markup) else str(s.body)
        if not isinstance(s.body, Markup):
            body = f"<p>{body}</p>"
        parts.append(f'<section class="card" id="{slug}"><h2>{_esc(s.title)}</h2>{body}</section>')
        toc.append(f'<a href="#{slug}">{_esc(s.title)}</a>')
    cards = []
    for f in facts:
        label, value = f[0], f[1]
        tone = f[2] if len(f) > 2 else "neutral"
        cards.append(f'<div class="fact {_esc(tone)}"><div class="label">{_esc(label)}</div>'
                     f'<div class="value">{_esc(value)}</div></div>')
    facts_html = f'<div class="facts">{"".join(cards)}</div>' if cards else ""
    sub = f'<p class="subtitle">{_esc(subtitle)}</p>' if subtitle else ""
    foot = f'<footer><div class="wrap">{_esc(footer)}</div></footer>' if footer else ""
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{_esc(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
        f'<header class="band"><div class="wrap"><p class="kicker">{_esc(kicker)}</p>'
        f"<h1>{_esc(title)}</h1>{sub}{facts_html}</div></header>\n"
        f'<nav class="toc"><div class="wrap">{"".join(toc)}</div></nav>\n'
        f'<main><div class="wrap">\n' + "\n".join(parts) + "\n</div></main>\n"
        f"{foot}\n</body>\n</html>\n"
    )


# ---------------------------------------------------------------- formatting helpers
def _num(v: float | None, digits: int = 4) -> str:
    """A number with ``digits`` significant digits (scientific when tiny); '-' for None."""
    if v is None:
        return "\u2013"
    if isinstance(v, float) and math.isnan(v):
        return "n/a"
    if isinstance(v, float) and math.isinf(v):
        return "\u221e" if v > 0 else "\u2212\u221e"
    return significant(v, digits)


def _kv(items: Sequence[tuple[str, Any]]) -> Markup:
    return Markup('<dl class="kv">' + "".join(f"<dt>{_esc(k)}</dt><dd>{_esc(v)}</dd>" for k, v in items) + "</dl>")


def _pill(passed: bool) -> Markup:
    return Markup('<span class="pill pass">pass</span>' if passed else '<span class="pill fail">fail</span>')


def _mc(est: MonteCarloEstimate | None, decimals: int) -> Markup:
    if est is None:
        return Markup("\u2013")
    return Markup(f'{_esc(fixed(est.value, decimals))} <span class="pm">\u00b1 {_esc(fixed(est.mcse, decimals))}</span>')


def _add_months(start: _dt.date, months: float) -> _dt.date:
    """``start`` plus ``months`` calendar months (the fraction as 30.4375-day months)."""
    whole = math.floor(months)
    y, m = divmod(start.month - 1 + whole, 12)
    year, month = start.year + y, m + 1
    nxt = _dt.date(year + (month == 12), month % 12 + 1, 1)
    day = min(start.day, (nxt - _dt.timedelta(days=1)).day)
    return _dt.date(year, month, day) + _dt.timedelta(days=round((months - whole) * 30.4375))


def _months(v: float) -> str:
    return f"{v:g} month" + ("" if v == 1 else "s")


def _accrual_text(a: Accrual) -> str:
    parts = [f"{a.rate_per_month:g} a month"]
    if a.ramp_up_months:
        parts.append(f"after a {a.ramp_up_months:g}-month linear ramp-up")
    if a.start_month:
        parts.append(f"from month {a.start_month:g}")
    for c in a.rate_changes:
        parts.append(f"{c.rate_per_month:g} a month from month {c.month:g}")
    if a.capacity_per_month is not None:
        parts.append(f"at most {a.capacity_per_month:g} treatments a month")
    return ", ".join(parts)


def _prior_text(spec: Any) -> str:
    if spec is None:
        return "default"
    if spec.beta is not None:
        return f"Beta({spec.beta[0]:g}, {spec.beta[1]:g})"
    if spec.normal is not None:
        return f"Normal({spec.normal[0]:g}, {spec.normal[1]:g})"
    mix = spec.beta_mixture or spec.normal_mixture
    return f"{spec.family} mixture of {len(mix.weights)}" if mix is not None else str(spec)


_TEST_NAMES = {"exact_binomial": "exact binomial", "fisher": "Fisher's exact", "score": "score (pooled z)",
               "t": "t", "z": "z", "logrank": "log-rank", "one_sample_logrank": "one-sample log-rank"}


_SPENDING_NAMES = {"obrien-fleming": "O'Brien-Fleming", "pocock": "Pocock", "kim-demets": "Kim-DeMets",
                   "hwang-shih-decani": "Hwang-Shih-DeCani"}


def _rule_text(design: Design) -> str:
    pm = design.post_marketing
    dec = pm.decision
    if dec.rule == "group_sequential":
        spending = _SPENDING_NAMES.get(dec.spending, dec.spending)
        text = f"group sequential ({spending}-type alpha spending), one-sided alpha {dec.alpha:g}"
        if dec.futility_conditional_power_below is not None:
            text += f"; futility when conditional power < {dec.futility_conditional_power_below:g}"
        if dec.futility_z_below is not None:
            text += "; futility when z \u2264 " + " / ".join(f"{f:g}" for f in dec.futility_z_below)
        return text
    if dec.rule == "bayesian":
        text = f"Bayesian: confirm when P(effect > {dec.margin:g} | data) \u2265 {dec.threshold:g}"
        if dec.power_prior is not None:
            text += f"; power prior from the approval cohort, a0 = {dec.power_prior.a0:g}"
        elif dec.prior is not None:
            text += f"; prior {_prior_text(dec.prior)}"
        if dec.futility_below is not None:
            text += f"; futility when it is < {dec.futility_below:g}"
        return text
    test = _TEST_NAMES.get(pm.test, pm.test)
    return f"fixed: {test} test, one-sided alpha {pm.analysis.alpha:g}, at the targets or at the data cut-off"


def _endpoint_text(design: Design) -> str:
    ep = design.post_marketing.endpoint
    if ep.type == "binary":
        text = f"binary \u2014 {ep.name}"
    elif ep.type == "continuous":
        text = f"continuous \u2014 {ep.name} (patient SD {ep.sd:g})"
    else:
        b = ep.baseline
        if b.median_months is not None:
            base = f"exponential, median {b.median_months:g} months"
        elif b.survival_at is not None:
            base = f"exponential through S({b.survival_at['months']:g}) = {b.survival_at['survival']:g}"
        elif b.weibull is not None:
            base = f"Weibull, shape {b.weibull['shape']:g}, scale {b.weibull['scale']:g}"
        else:
            base = "piecewise exponential"
        text = f"time to event \u2014 {ep.name}; baseline {base}"
        if ep.dropout_rate_per_month:
            text += f"; loss to follow-up {ep.dropout_rate_per_month:g} a month"
        return text
    if ep.followup_months:
        text += f"; observed {_months(ep.followup_months)} after treatment"
    return text


def _control_text(design: Design) -> str:
    pm = design.post_marketing
    c = pm.control
    if c.kind == "benchmark":
        value = c.rate if c.rate is not None else c.mean
        return "historical benchmark" + (f" {value:g}" if value is not None else " (the baseline curve)")
    conf = ""
    if c.confounding is not None:
        covs = ", ".join(f"{v.name} ({v.prevalence_treated:g} vs {v.prevalence_control:g}, effect {v.effect:g})"
                         for v in c.confounding.covariates)
        conf = f"; confounders: {covs}; adjustment: {c.confounding.adjustment.replace('_', ' ')}"
    if c.kind == "external":
        return f"external cohort of {c.n} patients{conf}"
    how = "randomised" if pm.randomised else "non-randomised"
    acc = pm.control_accrual
    src = f"{c.ratio:g} per treated patient" if c.ratio is not None else "own accrual"
    text = f"concurrent, {how} ({src}); target {pm.control_target_n} {_counted(design)}"
    if acc is not None:
        text += f"; accrual {_accrual_text(acc)}"
    if c.dropout:
        text += f"; dropout {percent(c.dropout)}"
    return text + conf


def _counted(design: Design) -> str:
    """What targets and looks in patients count: those evaluable, for time to event those enrolled."""
    return "enrolled" if design.post_marketing.endpoint.type == "time_to_event" else "evaluable"


def _look_text(design: Design, look: Any) -> str:
    if look.month is not None:
        return f"at month {look.month:g}"
    if look.patients is not None:
        return f"at {look.patients} {_counted(design)} patients"
    if look.events is not None:
        return f"at {look.events} events"
    return f"at {percent(look.information)} of the information"


def _scenario_truth(design: Design, s: Any) -> str:
    from ..simulation.results import truth_label

    return truth_label(design, s)


def _design_section(design: Design, simulation: SimulationResult | None) -> Section:
    ap = design.approval
    pm = design.post_marketing
    limit = f"{ap.time_limit_years:g} years"
    if ap.extension_years:
        limit += f" + {ap.extension_years:g} years of extension"
    deadline = _add_months(ap.date, ap.deadline_month)
    cutoff = _add_months(ap.date, design.cutoff_month)
    treated = f"target {pm.treated.target_n} {_counted(design)}; accrual {_accrual_text(pm.treated.accrual)}"
    if pm.treated.dropout:
        treated += f"; dropout {percent(pm.treated.dropout)}"
    if pm.treated.never_treated:
        treated += f"; never treated {percent(pm.treated.never_treated)}"
    items: list[tuple[str, Any]] = [("Design", design.name)]
    if design.description.strip():
        items.append(("Description", design.description.strip()))
    items += [
        ("Approval date", ap.date.isoformat()),
        ("Time limit", f"{limit} (deadline {deadline.isoformat()})"),
        ("Data cut-off", (f"month {design.cutoff_month:g} after approval ({cutoff.isoformat()}); "
                         f"{_months(ap.filing_lead_months)} to file before the deadline")),
        ("Study type", {"clinical_trial": "post-marketing clinical trial",
                        "use_results_survey": "use-results survey (post-marketing surveillance)"}[pm.study]),
        ("Endpoint", _endpoint_text(design)),
        ("Treated arm", treated),
        ("Comparator", _control_text(design)),
    ]
    if pm.target_events is not None:
        items.append(("Target events", f"{pm.target_events} events (final analysis)"))
    if pm.heterogeneity is not None:
        h = pm.heterogeneity
        het = []
        if h.lot_sd or h.lot_size > 1:
            het.append(f"lots of {h.lot_size} patients, lot effect SD {h.lot_sd:g}")
        if h.dilution != 1:
            het.append(f"effect diluted to {h.dilution:g} of the approval cohort's")
        if h.sites > 1:
            het.append(f"{h.sites} sites, site effect SD {h.site_sd:g}")
        items.append(("Heterogeneity", "; ".join(het) or "none"))
    looks = [f"interim {i + 1} {_look_text(design, look)}" for i, look in enumerate(pm.analyses)]
    looks.append("final when every target is reached, at the latest at the data cut-off")
    items.append(("Analyses", "; ".join(looks)))
    items.append(("Decision rule", _rule_text(design)))
    body = _kv(items)
    truths = ({s.name: s.truth for s in simulation.scenarios} if simulation is not None else {})
    rows = [[s.name, truths.get(s.name, _scenario_truth(design, s))] for s in design.scenarios]
    what = {"binary": "response rate", "continuous": "mean", "time_to_event": "hazard ratio"}[pm.endpoint.type]
    head = f"true {what} (treated / control)" if pm.endpoint.type != "time_to_event" else "true hazard ratio"
    body = Markup(body + "<h3>Scenarios</h3>" + html_table(["scenario", head], rows, numeric=[False, False], css_class="compact"))
    return Section(title="Design", body=body, anchor="design")


# ---------------------------------------------------------------- evidence
def _criteria_table(results: Sequence[CriterionResult]) -> Markup:
    return html_table(["criterion", "value", "threshold", "result"],
                      [[c.criterion, _num(c.value), _num(c.threshold), _pill(c.passed)] for c in results],
                      numeric=[False, True, True, False])


def _evidence_section(design: Design, evidence: EvidenceResult, figures: list[Markup]) -> Section:
    pre = design.pre_approval
    tone = "good" if evidence.presumed else "bad"
    n_pass = sum(c.passed for c in evidence.criteria)
    parts = [(f'<div class="verdict {tone}"><span>{_esc(evidence.verdict.capitalize())}</span>'
             f'<span class="why">{n_pass} of {len(evidence.criteria)} criteria met</span></div>')]
    endpoint = pre.endpoint.name if pre is not None else evidence.endpoint
    parts.append(_kv([("Endpoint", f"{endpoint} ({evidence.endpoint.replace('_', ' ')})"),
                      ("Approval cohort", evidence.cohort)]))
    parts.append("<h3>Criteria</h3>" + _criteria_table(evidence.criteria))
    if evidence.intervals:
        parts.append("<h3>Estimates</h3>" + html_table(
            ["interval", "95% lower", "95% upper"],
            [[m, _num(v["low"]), _num(v["high"])] for m, v in evidence.intervals.items()], css_class="compact"))
    if evidence.posteriors:
        parts.append(html_table(["prior", "posterior mean", "95% lower", "95% upper"],
                                [[name, _num(p["mean"]), _num(p["low"]), _num(p["high"])]
                                 for name, p in evidence.posteriors.items()], css_class="compact"))
    if evidence.sensitivity:
        parts.append("<h3>Sensitivity to the prior and the interval method</h3>"
                     + _criteria_table(evidence.sensitivity))
    parts += figures
    if evidence.notes:
        parts.append('<p class="muted small">' + "<br>".join(f"Note: {_esc(n)}" for n in evidence.notes) + "</p>")
    return Section(title="Evidence at approval", body=Markup("".join(parts)), anchor="evidence")


def _evaluate(design: Design) -> EvidenceResult:
    from ..evidence import evaluate_evidence

    pre = design.pre_approval
    assert pre is not None
    priors = {name: spec.build() for name, spec in pre.priors.items()}
    return evaluate_evidence(pre.build_cohort(), pre.criteria(), priors=priors)


def _lots_forest(design: Design, notes: list[str]) -> Markup | None:
    """The forest plot of the approval cohort's lots, when it has at least two."""
    from ..estimate.heterogeneity import log_odds, means, random_effects
    from ..evidence import BinaryCohort, ContinuousCohort, NewLotPrediction
    from .plots import plot_forest

    pre = design.pre_approval
    assert pre is not None
    try:
        cohort = pre.build_cohort()
        crit = next((c for c in pre.criteria() if isinstance(c, NewLotPrediction)), NewLotPrediction(greater_than=0))
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            if isinstance(cohort, BinaryCohort) and cohort.lot_n is not None and cohort.lot_events is not None:
                es, scale = log_odds(cohort.lot_events, cohort.lot_n), "log odds of response"
            elif isinstance(cohort, ContinuousCohort) and cohort.lot_n is not None:
                assert cohort.lot_means is not None and cohort.lot_sds is not None
                es, scale = means(cohort.lot_means, cohort.lot_sds, cohort.lot_n), f"mean {pre.endpoint.name}"
            else:
                return None
            if len(es.yi) < 2:
                return None
            re_ = random_effects(es.yi, es.vi, method=crit.method, test=crit.test,
                                 confidence_level=crit.confidence_level)
        notes += [f"lots: {w.message}" for w in caught]
    except (CondapproveError, ValueError) as exc:
        notes.append(f"lots: no forest plot ({exc})")
        return None
    reference = label = None
    if any(isinstance(c, NewLotPrediction) for c in pre.criteria()):
        t = crit.greater_than
        if isinstance(cohort, BinaryCohort):
            reference = math.log(t / (1 - t)) if 0 < t < 1 else None
        else:
            reference = t
        label = f"criterion threshold {t:g}" if reference is not None else None
    ax = plot_forest(re_, xlabel=scale, reference=reference, reference_label=label)
    return _figure(ax, "Forest plot of the approval cohort's lots",
                   f"Each lot's estimate with its {percent(re_.confidence_level)} interval (square area \u221d weight); "
                   "the diamond is the pooled mean effect and the bottom row the prediction interval for the true "
                   "effect of a new lot.")


# ---------------------------------------------------------------- simulation
def _oc_table(sim: SimulationResult) -> Markup:
    from ..simulation.results import FIGURES

    scen = sim.scenarios
    head = ["", *(s.name for s in scen)]
    rows: list[list[Any]] = [["truth (treated / control)", *(s.truth for s in scen)]]
    if len({s.p_confirmed.n_sims for s in scen}) > 1:  # (an MCSE target ran different numbers)
        rows.append(["replicates", *(f"{s.p_confirmed.n_sims:,}" for s in scen)])
    subs: set[int] = set()
    for key, label, decimals in FIGURES:
        if all(getattr(s, key) is None for s in scen):
            continue
        rows.append([label, *(_mc(getattr(s, key), decimals) for s in scen)])
        if key == "p_confirmed":
            if any(s.p_confirmed_exact is not None for s in scen):
                subs.add(len(rows))
                rows.append(["exact (no simulation)", *(_num(s.p_confirmed_exact) if s.p_confirmed_exact is not None
                                                        else "\u2013" for s in scen)])
            if len(scen[0].look_labels) > 1:
                for j, look in enumerate(scen[0].look_labels):
                    subs.add(len(rows))
                    rows.append([f"at {look.replace('_', ' ')}", *(_mc(s.p_confirmed_by_look[j], 4) for s in scen)])
    return html_table(head, rows, row_classes=["sub" if i in subs else "" for i in range(len(rows))],
                      css_class="figures")


def _figure(ax: Any, alt: str, caption: str) -> Markup:
    from .plots import figure_bytes

    data = base64.b64encode(figure_bytes(ax, "png", dpi=150)).decode("ascii")
    return Markup(f'<figure><img src="data:image/png;base64,{data}" alt="{_esc(alt)}">'
                  f"<figcaption>{_esc(caption)}</figcaption></figure>")


def _simulation_section(sim: SimulationResult, figures: bool, notes: list[str]) -> Section:
    p = sim.provenance
    intro = (f"{sim.replicates_text(',')}; seed {p.seed_entropy} ({p.seed_source}); decision: {p.test}; "
             f"data cut-off at month {p.cutoff_month:g}. Each figure is the Monte-Carlo estimate "
             "\u00b1 its Monte-Carlo standard error (MCSE).")
    parts = [f'<p class="muted">{_esc(intro)}</p>', str(_oc_table(sim))]
    if figures:
        try:
            from .plots import plot_decision_curves, plot_expected_numbers, plot_oc_curve

            parts.append(_figure(plot_oc_curve(sim), "Operating-characteristic curve",
                                 "P(efficacy confirmed by the data cut-off) against each scenario's mean true effect, "
                                 "with 95% Monte-Carlo error bars (\u00b1 1.96 MCSE); diamonds mark exact values "
                                 "computed without simulation, squares scenarios whose effect is drawn from a design "
                                 "prior (assurance)."))
            parts.append(_figure(plot_decision_curves(sim), "Cumulative decision probabilities by month",
                                 "Cumulative probability of confirmation (solid) and of stopping for futility "
                                 "(dashed, when the design can stop for futility) by month after approval; the "
                                 "vertical line marks the data cut-off."))
            parts.append(_figure(plot_expected_numbers(sim), "Expected numbers of patients",
                                 "Expected numbers enrolled and evaluable at the decision (and events), with 95% "
                                 "Monte-Carlo error bars."))
        except ImportError as exc:
            notes.append(f"figures omitted: {exc}")
    return Section(title="Operating characteristics", body=Markup("".join(parts)), anchor="operating-characteristics")


def _provenance_section(design: Design, sim: SimulationResult | None, design_path: str | None) -> Section:
    import platform

    import numpy
    import scipy

    from .. import __version__

    if sim is not None:
        p = sim.provenance
        path = design_path or p.design_path
        sha = p.design_sha256
        items: list[tuple[str, Any]] = [
            ("Design file", path or "(in memory)"),
            ("Design SHA-256", Markup(f'<span class="mono hash">{_esc(sha)}</span>')),
            ("condapprove", p.condapprove_version),
            ("Seed", f"{p.seed_entropy} ({p.seed_source})"),
            ("Replicates", (f"{sim.replicates_text(',', noun='')} (blocks of {p.block_size:,}; "
                            f"chunks of {p.chunk_size:,})")),
        ]
        if p.mcse_target is not None:
            items.append(("MCSE target", f"{p.mcse_target:g}"))
        items.append(("Software", f"numpy {p.numpy_version}, scipy {p.scipy_version}, Python {p.python_version}"))
        resolved = p.resolved_design
        defaults = p.defaults_applied
    else:
        resolved = design.model_dump(mode="json")
        if design_path is not None and Path(design_path).is_file():
            sha = hashlib.sha256(Path(design_path).read_bytes()).hexdigest()
        else:
            sha = hashlib.sha256(json.dumps(resolved, sort_keys=True).encode()).hexdigest()
        items = [
            ("Design file", design_path or "(in memory)"),
            ("Design SHA-256", Markup(f'<span class="mono hash">{_esc(sha)}</span>')),
            ("condapprove", __version__),
            ("Seed", "\u2013 (not simulated)"),
            ("Replicates", "\u2013 (not simulated)"),
            ("Software", f"numpy {numpy.__version__}, scipy {scipy.__version__}, Python {platform.python_version()}"),
        ]
        defaults = ()
    body = str(_kv(items))
    if defaults:
        body += ("<details><summary>Fields that took their default "
                 f"({len(defaults)})</summary><p class=\"mono small\">{_esc(', '.join(defaults))}</p></details>")
    text = json.dumps(resolved, indent=2, sort_keys=False, default=str)
    body += f"<details><summary>Resolved design (every default filled in)</summary><pre>{_esc(text)}</pre></details>"
    return Section(title="Provenance", body=Markup(body), anchor="provenance")


def design_report(
    design: Design,
    *,
    simulation: SimulationResult | None = None,
    evidence: EvidenceResult | None = None,
    design_path: str | None = None,
    figures: bool = True,
) -> str:
    """The full, self-contained HTML report of a design.

    Parameters
    ----------
    design : Design
        The validated design (:func:`condapprove.load_design`).
    simulation : SimulationResult, optional
        Its simulation (:func:`condapprove.simulate`); without it the report has no
        operating characteristics.
    evidence : EvidenceResult, optional
        The evidence verdict on the approval cohort; computed from the design's
        ``pre_approval`` section when it has one and this is not given.
    design_path : str, optional
        The design file, shown in the provenance (and hashed when there is no simulation).
    figures : bool, optional
        Embed the figures (default True; needs matplotlib, else they are left out with a
        warning in the report).

    Returns
    -------
    str
        One HTML page with no external resources: the design summary, the evidence
        verdict (criteria, values, thresholds, pass/fail, sensitivity), the operating
        characteristics (each figure ± MCSE, the exact value where there is one), the
        figures as embedded PNG, the warnings and the provenance (design hash, version,
        seed, replicates).

    Notes
    -----
    The page is a pure function of its inputs (no timestamp), so the same design, seed
    and software give the same bytes.

    Examples
    --------
    >>> import condapprove
    >>> from condapprove.reporting import design_report
    >>> design = condapprove.load_design("designs/two_arm_trial.yaml")
    >>> page = design_report(design, figures=False)
    >>> page.startswith("<!DOCTYPE html>"), "Randomised post-marketing trial" in page
    (True, True)
    """
    notes: list[str] = []
    sections = [_design_section(design, simulation)]
    facts: list[tuple[str, str] | tuple[str, str, str]] = [
        ("Approved", design.approval.date.isoformat()),
        (f"Data cut-off (month {design.cutoff_month:g})",
         _add_months(design.approval.date, design.cutoff_month).isoformat()),
    ]
    if design.pre_approval is not None:
        if evidence is None:
            evidence = _evaluate(design)
        forest = []
        if figures:
            try:
                fig = _lots_forest(design, notes)
            except ImportError as exc:
                notes.append(f"figures omitted: {exc}")
                fig = None
            if fig is not None:
                forest.append(fig)
        sections.append(_evidence_section(design, evidence, forest))
    elif evidence is not None:
        raise DesignError("`evidence` was given but the design has no pre_approval section; got an EvidenceResult.")
    if evidence is not None:
        facts.append(("Evidence verdict", evidence.verdict, "good" if evidence.presumed else "bad"))
    if simulation is not None:
        names = [s.name for s in design.scenarios]
        unknown = [s.name for s in simulation.scenarios if s.name not in names]
        if unknown:
            raise DesignError(f"`simulation` must come from this design; got scenarios {unknown!r} not in it.")
        sections.append(_simulation_section(simulation, figures, notes))
        facts.append(("Replicates", simulation.replicates_text(",", noun="")))
    else:
        sections.append(Section(title="Operating characteristics", anchor="operating-characteristics",
                                body=Markup('<p class="callout info">Not simulated: pass a simulation result '
                                            "to report the operating characteristics.</p>")))
    warns = list(simulation.warnings if simulation is not None else ()) + notes
    if warns:
        body = Markup('<ul class="warnings">' + "".join(f'<li class="callout">{_esc(w)}</li>' for w in warns)
                      + "</ul>")
    else:
        body = Markup('<p class="muted">None.</p>')
    sections.append(Section(title="Warnings", body=body, anchor="warnings"))
    sections.append(_provenance_section(design, simulation, design_path))
    from .. import __version__

    return render_report(sections, title=design.name, subtitle=design.description.strip(), facts=facts,
                         footer=f"Generated by condapprove {__version__}. This page is self-contained: it loads "
                                "no external resources.")
