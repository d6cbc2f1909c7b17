"""The documentation site: it builds with ``mkdocs build --strict`` and no warnings, the generated
design-file reference is current, every internal link and anchor of the built site resolves, and the
Python examples of the getting-started and concepts pages still give the numbers they show.
"""

from __future__ import annotations

import doctest
import importlib.util
import os
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"

pytest.importorskip("mkdocs", reason="the docs extra is not installed: pip install -e '.[docs]'")
pytest.importorskip("mkdocstrings", reason="the docs extra is not installed: pip install -e '.[docs]'")
pytest.importorskip("material", reason="the docs extra is not installed: pip install -e '.[docs]'")

_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _load_generator():
    spec = importlib.util.spec_from_file_location("gen_design_reference", DOCS / "scripts" / "gen_design_reference.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess[str]]:
    """Build the site once, strictly, into a temporary folder."""
    out = tmp_path_factory.mktemp("site")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "PYTHONWARNINGS": "ignore::DeprecationWarning"}
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
        check=False, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )
    return out, proc


def test_site_builds_strictly_without_warnings(site: tuple[Path, subprocess.CompletedProcess[str]]) -> None:
    out, proc = site
    log = _ANSI.sub("", proc.stdout + proc.stderr)
    warnings = [line for line in log.splitlines() if line.lstrip().startswith(("WARNING", "ERROR"))]
    assert proc.returncode == 0, log
    assert warnings == [], "\n".join(warnings)
    for page in ("index.html", "methods.html", "reference/design-file.html", "api/estimate.html"):
        assert (out / page).is_file(), page


def test_design_reference_is_current() -> None:
    generator = _load_generator()
    committed = (DOCS / "reference" / "design-file.md").read_text(encoding="utf-8")
    assert committed == generator.render(), "run: python docs/scripts/gen_design_reference.py"


def test_design_reference_lists_every_field() -> None:
    """Spot checks that the generator reads the schema: paths, bounds, enums, defaults and unions."""
    path = _load_generator()._path_cell
    text = (DOCS / "reference" / "design-file.md").read_text(encoding="utf-8")
    for row in (
        f"| {path('approval.time_limit_years')} | number | yes | > 0, ≤ 7 | — |",
        f"| {path('post_marketing.treated.dropout')} | number | no | ≥ 0, < 1 | `0` |",
        f"| {path('simulation.replicates')} | integer | no | ≥ 1, ≤ 100,000,000 | `10000` |",
        (f"| {path('post_marketing.decision.spending')} | string | no | one of `obrien-fleming`, `pocock`, "
         "`kim-demets`, `hwang-shih-decani` | `obrien-fleming` |"),
        (f"| {path('pre_approval.priors.<name>.beta')} | list of number | no | exactly 2 items; each > 0, "
         "≤ 100,000,000,000 | none |"),
    ):
        assert row in text, row
    for heading in ("## `post_marketing.control` (kind: external)", "## `pre_approval.evidence[]` (criterion: t_test)",
                    "## `post_marketing.control.confounding.covariates[]` (kind: concurrent)"):
        assert heading in text, heading


def test_generator_renders_a_small_schema() -> None:
    """The generator on a hand-made schema: a nested object, a list of a union, bounds and defaults."""
    generator = _load_generator()
    schema = {
        "type": "object", "required": ["a"], "description": "Root.",
        "properties": {
            "a": {"$ref": "#/$defs/A"},
            "items": {"type": "array", "minItems": 1, "items": {
                "oneOf": [{"$ref": "#/$defs/X"}, {"$ref": "#/$defs/Y"}],
                "discriminator": {"propertyName": "kind", "mapping": {"x": "#/$defs/X", "y": "#/$defs/Y"}}}},
        },
        "$defs": {
            "A": {"type": "object", "description": "An ``A``.", "properties": {
                "n": {"type": "integer", "minimum": 1, "maximum": 10, "default": 3, "description": "A count."},
                "tag": {"anyOf": [{"type": "string", "pattern": "^[a-z]+$"}, {"type": "null"}], "default": None},
            }},
            "X": {"type": "object", "required": ["kind"], "properties": {"kind": {"const": "x", "type": "string"}}},
            "Y": {"type": "object", "required": ["kind"], "properties": {
                "kind": {"const": "y", "type": "string"},
                "p": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1, "default": 0.5}}},
        },
    }
    text = generator.render(schema)
    path = generator._path_cell
    assert path("a.n") == '<code class="ca-path">a.<wbr>n</code>'
    assert f"| {path('a.n')} | integer | no | ≥ 1, ≤ 10 | `3` | A count. |" in text
    assert f"| {path('a.tag')} | string | no | matches `^[a-z]+$` | none |  |" in text
    assert "*A*: An `A`." in text
    assert "## `items[]` (kind: y) {#items-kind-y}" in text
    assert f"| {path('items[].p')} | number | no | > 0, < 1 | `0.5` |  |" in text
    assert "[`x`](#items-kind-x)" in text


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name == "id" and value:
                self.ids.add(value)
            elif name in ("href", "src") and value and tag in ("a", "img", "script", "link", "source"):
                self.links.append(value)


def test_every_internal_link_and_anchor_resolves(site: tuple[Path, subprocess.CompletedProcess[str]]) -> None:
    """Every relative href/src of every built page, raw HTML and rendered docstrings included, points to a
    file of the site, and its #fragment to an id of that page (mkdocs checks only Markdown links)."""
    out, proc = site
    assert proc.returncode == 0
    pages = {}
    for html in out.rglob("*.html"):
        parser = _Links()
        parser.feed(html.read_text(encoding="utf-8"))
        pages[html.resolve()] = parser
    assert len(pages) > 20
    broken = []
    for page, parser in pages.items():
        for link in parser.links:
            parts = urlsplit(link)
            if parts.scheme or parts.netloc or link.startswith(("mailto:", "data:", "javascript:")):
                continue
            path = unquote(parts.path)
            if path.startswith("/"):  # site-absolute (the 404 page): from the site's root
                target = (out / path.lstrip("/")).resolve()
            else:
                target = (page.parent / path).resolve() if path else page
            if target.is_dir():
                target = target / "index.html"
            if not target.exists():
                broken.append(f"{page.relative_to(out)}: {link} (no such file)")
            elif parts.fragment and target.suffix == ".html":
                ids = pages[target].ids if target in pages else set()
                if unquote(parts.fragment) not in ids:
                    broken.append(f"{page.relative_to(out)}: {link} (no such anchor)")
    assert broken == [], "\n".join(sorted(set(broken)))


@pytest.mark.parametrize("page", ["getting-started.md", "concepts.md"])
def test_page_examples_still_hold(page: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The ```pycon examples of the page, run as one doctest from the repository root."""
    text = (DOCS / page).read_text(encoding="utf-8")
    blocks = re.findall(r"^```pycon\n(.*?)^```", text, flags=re.DOTALL | re.MULTILINE)
    assert blocks, f"{page} has no pycon examples"
    monkeypatch.chdir(ROOT)
    test = doctest.DocTestParser().get_doctest("\n".join(blocks), {}, page, str(DOCS / page), 0)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.attempted > 0
    assert result.failed == 0, f"{result.failed} example(s) of {page} give other output; see the report above"
