"""Plain text for terminals and reports: aligned tables, and numbers that never round a value strictly between 0 and
1 to 0 or 1 (a posterior probability of 0.9999996 is not certainty; a 0.4% dropout is not none)."""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["fixed", "percent", "render_table", "significant"]


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


def fixed(value: float, decimals: int = 4) -> str:
    """``value`` with ``decimals`` decimals; one strictly between 0 and 1 that would show as 0 or 1 shows as
    ``< 0.0001`` or ``> 0.9999``.

    Examples
    --------
    >>> fixed(0.25), fixed(0.99999957), fixed(1.35e-7), fixed(0.0), fixed(1.0), fixed(3.14159, 2)
    ('0.2500', '> 0.9999', '< 0.0001', '0.0000', '1.0000', '3.14')
    """
    text = f"{value:.{decimals}f}"
    if 0.0 < value < 1.0 and float(text) in (0.0, 1.0):
        step = 10.0 ** -decimals
        return f"< {step:.{decimals}f}" if float(text) == 0.0 else f"> {1.0 - step:.{decimals}f}"
    return text


def significant(value: float, digits: int = 4) -> str:
    """``value`` with ``digits`` significant digits (``:g``); one strictly between 0 and 1 that would show as 1
    shows as ``> 0.9999``.

    Examples
    --------
    >>> significant(0.6042345), significant(4.033e-11), significant(0.99999957), significant(12.5)
    ('0.6042', '4.033e-11', '> 0.9999', '12.5')
    """
    text = f"{value:.{digits}g}"
    if 0.0 < value < 1.0 and float(text) == 1.0:
        return "> 0." + "9" * digits
    return text


def percent(fraction: float) -> str:
    """A fraction as a percentage with up to 3 significant digits, more where fewer would show a fraction strictly
    between 0 and 1 as 0% or 100%.

    Examples
    --------
    >>> percent(0.95), percent(0.975), percent(1 / 3), percent(0.004), percent(0.99996), percent(0.0)
    ('95%', '97.5%', '33.3%', '0.4%', '99.996%', '0%')
    """
    for digits in range(3, 16):
        text = f"{100.0 * fraction:.{digits}g}"
        if not 0.0 < fraction < 1.0 or float(text) not in (0.0, 100.0):
            break
    return text + "%"
