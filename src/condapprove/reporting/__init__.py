"""Reports of results: figures (:mod:`.plots`, matplotlib lazily) and a self-contained HTML page (:mod:`.html`).

Importing this package does not import matplotlib; the ``plot_*`` functions do, and
raise an :class:`ImportError` naming the ``condapprove[plot]`` extra when it is missing.
"""

from __future__ import annotations

from .html import Section, design_report, html_table, render_report
from .plots import (
    figure_bytes,
    plot_decision_curves,
    plot_expected_numbers,
    plot_forest,
    plot_oc_curve,
    save_figure,
)

__all__ = [
    "Section",
    "design_report",
    "figure_bytes",
    "html_table",
    "plot_decision_curves",
    "plot_expected_numbers",
    "plot_forest",
    "plot_oc_curve",
    "render_report",
    "save_figure",
]
