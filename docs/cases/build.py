"""Build the case-study pages: ``python docs/cases/build.py [--only SLUG ...] [--replicates N] [--render-only]``.

For every case module ``docs/cases/<slug>.py`` present (see :data:`SLUGS`), run ``compute`` and write
``docs/cases/<slug>.json`` (the numbers), ``docs/cases/<slug>.md`` (``render`` of them) and the figures
(``docs/cases/img/<slug>-*.svg``), each atomically.  The tests (``tests/test_case_studies.py``) check
that the committed pages are ``render`` of the committed numbers, and that the numbers agree with a
fresh computation at a small replicate count within Monte-Carlo error.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import sys
import time
from pathlib import Path
from types import ModuleType
from typing import Any

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import _kit

#: The case pages, in the order of the site's navigation.
SLUGS: tuple[str, ...] = ("heartsheet", "stemirac", "collategene", "delytact", "akuugo", "amchepry")
#: Replicates per scenario of a full build.
DEFAULT_REPLICATES = 20_000
#: Where figures go (linked from the pages as ``img/<slug>-x.svg``).
IMG = HERE / "img"


def present() -> list[str]:
    """The slugs whose module ``docs/cases/<slug>.py`` exists."""
    return [s for s in SLUGS if (HERE / f"{s}.py").is_file()]


def load(slug: str) -> ModuleType:
    """Import the case module ``docs/cases/<slug>.py`` and check its interface.

    Parameters
    ----------
    slug : str
        One of :data:`SLUGS`.

    Returns
    -------
    module
    """
    name = f"_case_{slug}"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, HERE / f"{slug}.py")
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import docs/cases/{slug}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    for attr in ("SLUG", "TITLE", "compute", "render"):
        if not hasattr(module, attr):
            raise AttributeError(f"docs/cases/{slug}.py must define {attr}")
    if module.SLUG != slug:
        raise ValueError(f"docs/cases/{slug}.py has SLUG {module.SLUG!r}")
    return module


def check_document(slug: str, doc: Any) -> None:
    """Refuse a ``compute`` result that does not follow the interface (see ``_kit``).

    Parameters
    ----------
    slug : str
        For messages.
    doc : object
        What ``compute`` returned.
    """
    if not isinstance(doc, dict) or not isinstance(doc.get("numbers"), dict) or "replicates" not in doc:
        raise ValueError(f"{slug}: compute must return a dict with 'replicates' and 'numbers'")
    for key, entry in doc["numbers"].items():
        if not isinstance(key, str) or not isinstance(entry, dict) or set(entry) != {"value", "mcse"}:
            raise ValueError(f"{slug}: number {key!r} must be {{'value': ..., 'mcse': ...}}; got {entry!r}")
        v, se = entry["value"], entry["mcse"]
        if isinstance(v, bool) or not isinstance(v, (int, float, str)):
            raise TypeError(f"{slug}: number {key!r} has value {v!r}; must be a number or text")
        if isinstance(v, float) and not math.isfinite(v):
            raise ValueError(f"{slug}: number {key!r} is not finite")
        if se is not None and (isinstance(v, str) or not isinstance(se, (int, float)) or not math.isfinite(se)
                               or se < 0):
            raise ValueError(f"{slug}: number {key!r} has MCSE {se!r}")


def dumps(doc: dict[str, Any]) -> str:
    """The JSON text written for a case (stable key order, one trailing newline)."""
    return json.dumps(doc, indent=1, sort_keys=True, ensure_ascii=False, allow_nan=False) + "\n"


def page(module: ModuleType, doc: dict[str, Any]) -> str:
    """The Markdown page of ``doc`` (what ``<slug>.md`` must hold)."""
    text = module.render(_kit.view(doc))
    return text if text.endswith("\n") else text + "\n"


def build(slug: str, replicates: int, *, figures: bool = True, render_only: bool = False) -> dict[str, Any]:
    """Compute one case and write its JSON, page and figures.

    Parameters
    ----------
    slug : str
        The case.
    replicates : int
        Replicates per scenario.
    figures : bool
        Also write the figures.
    render_only : bool
        Do not compute: re-render the page and figures from the committed ``<slug>.json``
        (after editing the text of ``render``).

    Returns
    -------
    dict
        The document written.
    """
    module = load(slug)
    if render_only:
        doc = json.loads((HERE / f"{slug}.json").read_text(encoding="utf-8"))
        check_document(slug, doc)
    else:
        doc = module.compute(replicates)
        check_document(slug, doc)
        doc = json.loads(dumps(doc))  # what the page will be rendered from after a round trip
        _kit.write_atomic(HERE / f"{slug}.json", dumps(doc))
    _kit.write_atomic(HERE / f"{slug}.md", page(module, doc))
    if figures and hasattr(module, "figures"):
        IMG.mkdir(exist_ok=True)
        for path in module.figures(_kit.view(doc), IMG):
            if not Path(path).name.startswith(f"{slug}-"):
                raise ValueError(f"{slug}: figure {path} must be named {slug}-*.svg")
    return doc


INDEX_HEAD = """# Case studies

<!-- Generated by docs/cases/build.py (the list of cases comes from the case modules); do not edit by hand. -->

Eight products have been approved under Japan's conditional, time-limited scheme. These pages rebuild, for six
of them, the public facts of the approval and of the post-marketing condition as condapprove design files
(`designs/`), and ask three questions of each: how strong was the presumed efficacy, what chance did the
planned post-marketing evaluation have of confirming it before the deadline, and which alternative design would
have done better. Where a fact is not public the design file says what was assumed, and the page shows how much
the answer depends on it.

Every number and figure on these pages is computed by a script in the repository: `docs/cases/<case>.py`
computes the numbers with the public condapprove API and fixed seeds (`docs/cases/<case>.json`) and renders the
page from them. Regenerate all pages (a few minutes) with

```bash
python docs/cases/build.py                      # or: --only stemirac --replicates 20000
```

The test suite (`tests/test_case_studies.py`) recomputes every case with fewer replicates and checks that the
committed numbers agree within Monte-Carlo error, that each page is the rendering of its numbers, and that each
page shows its product's published facts.

"""


def index_page(slugs: list[str] | None = None) -> str:
    """The Markdown of ``docs/cases/index.md``: one row per case module present.

    Parameters
    ----------
    slugs : list of str, optional
        The cases (default: :func:`present`).

    Returns
    -------
    str
    """
    rows = []
    for slug in present() if slugs is None else slugs:
        module = load(slug)
        rows.append([f"[{module.TITLE}]({slug}.md)", module.SUMMARY])
    return INDEX_HEAD + _kit.table(["case", "what it shows"], rows) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Command line; see the module docstring."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", choices=SLUGS, metavar="SLUG", help="build only these cases")
    parser.add_argument("--replicates", "-n", type=int, default=DEFAULT_REPLICATES,
                        help=f"replicates per scenario (default {DEFAULT_REPLICATES})")
    parser.add_argument("--no-figures", action="store_true", help="do not write the figures")
    parser.add_argument("--render-only", action="store_true",
                        help="do not compute: re-render pages and figures from the committed <slug>.json")
    args = parser.parse_args(argv)
    if args.replicates < 1:
        parser.error("--replicates must be >= 1")
    slugs = [s for s in present() if args.only is None or s in args.only]
    missing = sorted(set(args.only or ()) - set(slugs))
    if missing:
        parser.error(f"no module docs/cases/<slug>.py for: {', '.join(missing)}")
    total = time.perf_counter()
    for slug in slugs:
        start = time.perf_counter()
        doc = build(slug, args.replicates, figures=not args.no_figures, render_only=args.render_only)
        print(f"{slug}: {len(doc['numbers'])} numbers, {time.perf_counter() - start:.1f} s", file=sys.stderr)
    _kit.write_atomic(HERE / "index.md", index_page())
    print(f"built {len(slugs)} case(s) in {time.perf_counter() - total:.1f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
