"""Plain-text tables for terminals (no dependency, monospace alignment)."""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["render_table"]


def render_table(headers: Sequence[str], rows: Sequence[Sequence[str]], *, align: str | None = None) -> str:
    """Render ``rows`` under ``headers`` as an aligned text table.

    ``align`` has one character per column, ``l`` or ``r`` (default: first column left, others right).

    Examples
    --------
    >>> print(render_table(["a", "bb"], [["x", "1"], ["yyy", "22"]]))
    a    bb
    ---  --
    x     1
    yyy  22
    """
    ncol = len(headers)
    align = align or "l" + "r" * (ncol - 1)
    widths = [max(len(str(headers[j])), *(len(str(r[j])) for r in rows)) if rows else len(headers[j])
              for j in range(ncol)]

    def fmt(cells: Sequence[str]) -> str:
        out = []
        for j, c in enumerate(cells):
            out.append(str(c).ljust(widths[j]) if align[j] == "l" else str(c).rjust(widths[j]))
        return "  ".join(out).rstrip()

    lines = [fmt(headers), "  ".join("-" * w for w in widths)]
    lines += [fmt(r) for r in rows]
    return "\n".join(lines)
