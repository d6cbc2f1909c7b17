"""MkDocs hook: render the reStructuredText roles used in condapprove's numpydoc docstrings.

The docstrings follow numpydoc, which writes inline math as ``:math:`...```, display math as a
``.. math::`` directive and cross-references as ``:class:`...```, ``:func:`...``` etc. Python-Markdown
knows none of these, so this hook adds a Markdown preprocessor (to the pages and, through
``config.markdown_extensions``, to mkdocstrings' renderer of docstrings) that rewrites

* ``:math:`x``` to ``$x$`` and a ``.. math::`` block to a ``$$ ... $$`` block (both rendered by
  ``pymdownx.arithmatex`` and MathJax);
* ``:class:`~pkg.Name```, ``:func:`.name``` and the other Python roles to the code span ```Name```
  (the last dotted component when the target starts with ``~``, else the target as written
  without a leading dot);
* a numbered citation ``.. [1] Author ...`` (numpydoc's References) to a list item ``- [1] Author ...``.

Registered in ``mkdocs.yml`` under ``hooks:``. It runs before the mkdocstrings plugin reads the
Markdown extensions (``event_priority(100)``).
"""

from __future__ import annotations

import re
from typing import Any

from markdown import Markdown
from markdown.extensions import Extension
from markdown.preprocessors import Preprocessor
from mkdocs.plugins import event_priority

_MATH_ROLE = re.compile(r":math:`([^`]+)`")
_PY_ROLE = re.compile(r":(?:py:)?(?:class|func|meth|mod|attr|data|exc|obj|const):`(~?)\.?([^`]+)`")
_MATH_DIRECTIVE = re.compile(r"^(\s*)\.\. math::\s*(.*)$")
_CITATION = re.compile(r"^(\s*)\.\. \[(\w+)\]\s+")


def _py_role(match: re.Match[str]) -> str:
    tilde, target = match.groups()
    target = target.strip()
    if tilde:
        target = target.rsplit(".", 1)[-1]
    return f"`{target}`"


def convert_lines(lines: list[str]) -> list[str]:
    """Rewrite reST math and Python roles in ``lines`` to Markdown (see the module docstring)."""
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        directive = _MATH_DIRECTIVE.match(line)
        if directive:
            indent, first = directive.groups()
            body = [first.strip()] if first.strip() else []
            i += 1
            # the directive's content: following lines indented deeper than the directive
            while i < len(lines) and (not lines[i].strip() or len(lines[i]) - len(lines[i].lstrip()) > len(indent)):
                if lines[i].strip():
                    body.append(lines[i].strip())
                elif body:
                    break
                i += 1
            out.extend(["", "$$", *body, "$$", ""])
            continue
        line = _CITATION.sub(lambda m: f"{m.group(1)}- \\[{m.group(2)}\\] ", line)
        line = _MATH_ROLE.sub(lambda m: f"${m.group(1).strip()}$", line)
        line = _PY_ROLE.sub(_py_role, line)
        out.append(line)
        i += 1
    return out


class _RstRolesPreprocessor(Preprocessor):
    def run(self, lines: list[str]) -> list[str]:
        return convert_lines(lines)


class RstRolesExtension(Extension):
    """Markdown extension registering the reST-roles preprocessor (before every other one)."""

    def extendMarkdown(self, md: Markdown) -> None:
        md.preprocessors.register(_RstRolesPreprocessor(md), "condapprove_rst_roles", 40)


@event_priority(100)
def on_config(config: Any) -> Any:
    """Add the extension to the Markdown extensions of the pages and of mkdocstrings."""
    config.markdown_extensions.append(RstRolesExtension())
    return config
