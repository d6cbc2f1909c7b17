"""Design files: the typed model (:mod:`.schema`) and the YAML loader (:mod:`.loader`)."""

from __future__ import annotations

from .loader import LoadedDesign, design_from_mapping, load_design, load_design_with_source, parse_design
from .schema import Design

__all__ = ["Design", "LoadedDesign", "design_from_mapping", "load_design", "load_design_with_source", "parse_design"]
