"""Generate ``docs/reference/design-file.md`` from the JSON Schema of design files.

The schema is the one ``condapprove schema`` prints: ``condapprove.spec.schema.Design.model_json_schema()``.
Every field of a design file gets one row with its dotted path, type, whether it is required, its
constraints (bounds, allowed values, lengths, pattern), its default and its description. Objects are
expanded where they occur, so a model used in several places (an ``accrual``, a prior) is listed under
each path; the variants of a tagged union (``post_marketing.control`` by ``kind``, ``decision`` by
``rule``, ``endpoint`` by ``type``, evidence criteria by ``criterion``) get a section each.

Paths: ``a.b`` is field ``b`` of object ``a``; ``a[]`` an item of the list ``a``; ``a.<name>`` a value of
the mapping ``a`` under a key of your choosing.

Usage::

    python docs/scripts/gen_design_reference.py            # (re)write docs/reference/design-file.md
    python docs/scripts/gen_design_reference.py --check    # exit 1 if the file is not current
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

OUTPUT = Path(__file__).resolve().parents[1] / "reference" / "design-file.md"

Schema = dict[str, Any]


def design_schema() -> Schema:
    """The JSON Schema of design files, as ``condapprove schema`` prints it."""
    from condapprove.spec.schema import Design

    return Design.model_json_schema()


# ----------------------------------------------------------------------------------------------
# small text helpers


def _text(description: str | None) -> str:
    """A schema description as one Markdown paragraph: reST literals to code spans, no line breaks."""
    if not description:
        return ""
    text = re.sub(r"``([^`]+)``", r"`\1`", description)
    text = re.sub(r":(?:class|func|meth|mod|attr):`~?\.?([^`]+)`", r"`\1`", text)
    text = re.sub(r"(?m)^\s*\* ", "\x00", text)  # reST bullets: one line each in the table cell
    return " ".join(text.split()).replace("\x00", "<br>• ")


def _cell(text: str) -> str:
    """Escape the pipes of ``text`` for a table cell, outside code spans (Python-Markdown keeps those)."""
    parts = re.split(r"(`[^`]*`)", text)
    return "".join(part if part.startswith("`") else part.replace("|", "\\|") for part in parts)


def _path_cell(path: str) -> str:
    """A dotted path as code that may break after its dots only (``<wbr>``), not inside a name."""
    escaped = path.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return '<code class="ca-path">' + escaped.replace(".", ".<wbr>") + "</code>"


def _num(value: Any) -> str:
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10_000:
        return f"{value:,}"
    return json.dumps(value)


def _code(value: Any) -> str:
    return f"`{value if isinstance(value, str) else json.dumps(value)}`"


def _label(path: str, qualifier: str) -> str:
    """A section's title: the path, with the union variants it lies in (``a.b (kind: x)``)."""
    return f"{path or '(top level)'} ({qualifier})" if qualifier else (path or "(top level)")


def _anchor(path: str) -> str:
    """A stable HTML id for a section of ``path``."""
    return re.sub(r"[^a-z0-9]+", "-", path.lower()).strip("-")


# ----------------------------------------------------------------------------------------------
# the walk


@dataclass
class Row:
    path: str
    type: str
    required: bool
    constraints: str
    default: str
    description: str


@dataclass
class Section:
    path: str
    qualifier: str
    depth: int
    title: str
    description: str
    rows: list[Row] = field(default_factory=list)


class Reference:
    """Walks the schema from the root and collects one section per object location."""

    def __init__(self, schema: Schema) -> None:
        self.schema = schema
        self.defs: dict[str, Schema] = schema.get("$defs", {})
        self.sections: list[Section] = []
        self._pending: list[tuple[str, str, str, Schema]] = []
        self._depth = 0
        self._qualifier = ""  # the union variants the current section lies in, e.g. "kind: concurrent"

    def resolve(self, node: Schema) -> Schema:
        ref = node.get("$ref")
        if ref is None:
            return node
        name = ref.rsplit("/", 1)[-1]
        return self.defs[name]

    # -- types and constraints ------------------------------------------------------------------

    @staticmethod
    def _nullable(node: Schema) -> tuple[Schema | list[Schema], bool]:
        """Strip a ``null`` alternative of ``anyOf``; return what is left and whether null was allowed."""
        options = node.get("anyOf")
        if options is None:
            return node, False
        rest = [o for o in options if o.get("type") != "null"]
        nullable = len(rest) < len(options)
        return (rest[0] if len(rest) == 1 else rest), nullable

    def _link(self, path: str, qualifier: str, label: str) -> str:
        return f"[{label}](#{_anchor(_label(path, qualifier))})"

    def type_of(self, node: Schema, path: str, *, queue: bool = True) -> str:
        """The type of ``node`` as text; object types are linked to (and queue) their own section."""
        if "$ref" in node:
            target = self.resolve(node)
            if queue:
                self._pending.append((path, self._qualifier, node["$ref"].rsplit("/", 1)[-1], target))
            return self._link(path, self._qualifier, "object")
        if "oneOf" in node:
            disc = node.get("discriminator", {})
            tag = disc.get("propertyName", "")
            variants = []
            for key, ref in sorted(disc.get("mapping", {}).items(), key=lambda kv: self._order(node, kv[1])):
                target = self.defs[ref.rsplit("/", 1)[-1]]
                qualifier = ", ".join(q for q in (self._qualifier, f"{tag}: {key}") if q)
                if queue:
                    self._pending.append((path, qualifier, ref.rsplit("/", 1)[-1], target))
                variants.append(self._link(path, qualifier, f"`{key}`"))
            return f"object, by `{tag}`: " + ", ".join(variants)
        if "anyOf" in node:
            inner, _ = self._nullable(node)
            alternatives = inner if isinstance(inner, list) else [inner]
            parts = []
            for alt in alternatives:
                kind = self.type_of(alt, path, queue=queue)
                bounds = self.constraints_of(alt) if len(alternatives) > 1 and "$ref" not in alt else ""
                parts.append(f"{kind} ({bounds})" if bounds else kind)
            return " or ".join(parts)
        if "const" in node:
            return f"{_code(node['const'])} (constant)"
        kind = node.get("type")
        if kind == "array":
            if "prefixItems" in node:
                items = [self._scalar_with_bounds(i) for i in node["prefixItems"]]
                return "pair `[" + ", ".join(items) + "]`" if len(items) == 2 else "list `[" + ", ".join(items) + "]`"
            items = node.get("items", {})
            if "$ref" in items:
                return "list of " + self.type_of(items, f"{path}[]", queue=queue)
            if "oneOf" in items:
                return "list of " + self.type_of(items, f"{path}[]", queue=queue)
            return "list of " + str(items.get("type", "any"))
        if kind == "object":
            values = node.get("additionalProperties")
            keys = node.get("propertyNames", {}).get("enum")
            if isinstance(values, dict):
                if "$ref" in values:
                    value_type = self.type_of(values, f"{path}.<name>", queue=queue)
                else:
                    bounds = self.constraints_of(values)
                    value_type = f"{values.get('type', 'any')} ({bounds})" if bounds else str(values.get("type", "any"))
                if keys:
                    return "mapping with keys " + ", ".join(_code(k) for k in keys) + " to " + value_type
                return "mapping of names to " + value_type
            return "object"
        if kind == "string" and node.get("format") == "date":
            return "date (`YYYY-MM-DD`)"
        return str(kind) if kind else "any"

    def _order(self, node: Schema, ref: str) -> int:
        refs = [o.get("$ref") for o in node.get("oneOf", [])]
        return refs.index(ref) if ref in refs else len(refs)

    def _scalar_with_bounds(self, node: Schema) -> str:
        kind = node.get("type", "any")
        bounds = self.constraints_of(node)
        return f"{kind} {bounds}" if bounds else str(kind)

    @staticmethod
    def constraints_of(node: Schema) -> str:
        """Bounds, allowed values, lengths and pattern of a node (not of its alternatives or items)."""
        parts: list[str] = []
        low = ("≥", node["minimum"]) if "minimum" in node else (">", node["exclusiveMinimum"]) \
            if "exclusiveMinimum" in node else None
        high = ("≤", node["maximum"]) if "maximum" in node else ("<", node["exclusiveMaximum"]) \
            if "exclusiveMaximum" in node else None
        if low:
            parts.append(f"{low[0]} {_num(low[1])}")
        if high:
            parts.append(f"{high[0]} {_num(high[1])}")
        if "enum" in node:
            parts.append("one of " + ", ".join(_code(v) for v in node["enum"]))
        if "minLength" in node:
            parts.append("non-empty" if node["minLength"] == 1 else f"at least {node['minLength']} characters")
        if "maxLength" in node:
            parts.append(f"at most {node['maxLength']} characters")
        if "pattern" in node:
            parts.append(f"matches `{node['pattern']}`")
        if node.get("type") == "array" and "prefixItems" not in node:
            lo, hi = node.get("minItems"), node.get("maxItems")
            if lo is not None and lo == hi:
                parts.append(f"exactly {lo} items")
            else:
                if lo:
                    parts.append(f"at least {lo} item{'s' if lo > 1 else ''}")
                if hi is not None:
                    parts.append(f"at most {hi} items")
        return ", ".join(parts)

    def field_constraints(self, node: Schema) -> str:
        """Constraints of a field: its own, or those of its single non-null alternative."""
        inner, _ = self._nullable(node)
        if isinstance(inner, list):
            return ""  # several alternatives: bounds are given with each in the type column
        own = self.constraints_of(inner)
        items = inner.get("items") if inner.get("type") == "array" else None
        if items and "$ref" not in items and "oneOf" not in items:
            item_bounds = self.constraints_of(items)
            if item_bounds:
                own = f"{own}; each {item_bounds}" if own else f"each {item_bounds}"
        return own

    def default_of(self, name: str, node: Schema, required: set[str]) -> str:
        if name in required:
            return "—"
        if "default" not in node:
            inner, _ = self._nullable(node)
            if isinstance(inner, dict) and inner.get("type") == "array":
                return "`[]`"
            if isinstance(inner, dict) and inner.get("type") == "object" and "additionalProperties" in inner:
                return "`{}`"
            return "see the object's fields"
        value = node["default"]
        if value is None:
            return "none"
        if value == "":
            return '`""` (empty)'
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return f"`{json.dumps(int(value) if float(value).is_integer() else value)}`"
        return _code(value)

    # -- sections -------------------------------------------------------------------------------

    def add_object(self, path: str, qualifier: str, obj: Schema, title: str, depth: int = 0) -> None:
        self._qualifier = qualifier
        section = Section(path=path, qualifier=qualifier, depth=depth, title=title, description=_text(obj.get("description")))
        self.sections.append(section)
        required = set(obj.get("required", []))
        start = len(self._pending)
        for name, prop in obj.get("properties", {}).items():
            fpath = f"{path}.{name}" if path else name
            section.rows.append(Row(
                path=fpath,
                type=self.type_of(prop, fpath),
                required=name in required,
                constraints=self.field_constraints(prop),
                default=self.default_of(name, prop, required),
                description=_text(prop.get("description")),
            ))
        # expand the objects this one refers to, depth first, in field order
        children = self._pending[start:]
        del self._pending[start:]
        for cpath, cqualifier, cname, cobj in children:
            self.add_object(cpath, cqualifier, cobj, cname, depth + 1)

    def build(self) -> list[Section]:
        self.add_object("", "", self.schema, "design file")
        return self.sections


# ----------------------------------------------------------------------------------------------
# rendering

HEADER = """\
# Design-file reference

<!-- Generated by docs/scripts/gen_design_reference.py from the JSON Schema of design files
     (condapprove.spec.schema.Design.model_json_schema(), the schema `condapprove schema` prints).
     Do not edit by hand: run `python docs/scripts/gen_design_reference.py`. -->

Every field of a design file, generated from the JSON Schema that `condapprove schema` prints (the same models
validate the files). Paths are dotted: `a.b` is field `b` of object `a`, `a[]` an item of the list `a`,
`a.<name>` the value under a key of your choosing in the mapping `a`. A tagged union (the `kind` of a control,
the `rule` of a decision, the `type` of an endpoint, the `criterion` of an evidence criterion) has one section per
variant, titled `path (tag: value)`. A default of *none* means the field may be left out (or given as `null`).

The schema states the rules of single fields. Rules that involve several fields (a scenario value that must fit
the endpoint and control, `target_events` for a time-to-event endpoint, looks that must increase, a prior of the
endpoint's family, ...) are checked when a file is loaded and are described, with the meaning of every field, in
[Design files](../design-files.md).
"""


#: Where docs/design-files.md explains the fields under a path (longest matching prefix wins).
GUIDE = {
    "approval": "approval",
    "pre_approval": "pre_approval-optional",
    "post_marketing": "post_marketing",
    "post_marketing.endpoint": "endpoint",
    "post_marketing.treated": "treated-and-accrual",
    "post_marketing.control": "control",
    "post_marketing.control.accrual": "treated-and-accrual",
    "post_marketing.heterogeneity": "heterogeneity",
    "post_marketing.analyses[]": "analyses-interim-looks",
    "post_marketing.analysis": "analysis",
    "post_marketing.decision": "decision",
    "scenarios[]": "scenarios",
    "simulation": "simulation",
}


def _guide_link(path: str) -> str:
    best = max((p for p in GUIDE if path == p or path.startswith(p + ".")), key=len, default=None)
    return f" Explained in [Design files](../design-files.md#{GUIDE[best]})." if best else ""


def _row(row: Row) -> str:
    required = "yes" if row.required else "no"
    cells = [_path_cell(row.path), row.type, required, row.constraints or "", row.default, _cell(row.description)]
    return "| " + " | ".join(cells) + " |"


def render(schema: Schema | None = None) -> str:
    """The Markdown text of the reference page for ``schema`` (default: the design-file schema)."""
    sections = Reference(schema if schema is not None else design_schema()).build()
    out = [HEADER, "## Contents\n"]
    for section in sections:
        label = _label(section.path, section.qualifier)
        out.append(f"{'    ' * section.depth}- [`{label}`](#{_anchor(label)})")
    out.append("")
    for section in sections:
        label = _label(section.path, section.qualifier)
        title = f"`{section.path}`" + (f" ({section.qualifier})" if section.qualifier else "") \
            if section.path else "Top level"
        out.append(f"## {title} {{#{_anchor(label)}}}\n")
        intro = f"*{section.title}*" + (f": {section.description}" if section.description else ".")
        out.append(intro + _guide_link(section.path) + "\n")
        if section.rows:
            out.append("| path | type | required | constraints | default | description |")
            out.append("| --- | --- | --- | --- | --- | --- |")
            out.extend(_row(r) for r in section.rows)
        else:
            out.append("No fields besides the tag.")
        out.append("")
    return "\n".join(out).rstrip() + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the committed file is not current")
    parser.add_argument("--output", type=Path, default=OUTPUT, help=f"where to write (default {OUTPUT})")
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        current = args.output.read_text(encoding="utf-8") if args.output.exists() else ""
        if current != text:
            print(f"{args.output} is not current: run python docs/scripts/gen_design_reference.py", file=sys.stderr)
            return 1
        return 0
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text, encoding="utf-8")
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
