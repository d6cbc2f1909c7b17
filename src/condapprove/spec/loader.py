"""Load a YAML design file into a validated :class:`~condapprove.spec.schema.Design`.

Every problem in a file is collected (not only the first) and reported as a
:class:`~condapprove.errors.Problem` with the file, line and column of the offending
YAML node: ``designs/x.yaml:12:9: post_marketing.treated.accrual.rate_per_month: must be > 0; got -3``.

YAML is read with PyYAML's safe loader (no Python tags).  Two YAML 1.1 surprises are
handled explicitly: duplicate keys are an error (PyYAML would silently keep the last),
and a boolean where text is expected (``name: no``) gets a hint to quote it.
Numbers written as ``1e-3`` (a string in YAML 1.1) are read as numbers (as in YAML 1.2 and JSON).
Validation is strict, as the JSON Schema is: quoted numbers, booleans for numbers and numbers for
booleans or dates are refused.

Hostile or broken input is refused with a located one-line problem, never a traceback or a hang: a file
is read up to :data:`MAX_DESIGN_BYTES` (so ``/dev/zero`` is refused, and a pipe still works); a NUL byte
or a control character is reported at its line and column, a byte that is not UTF-8 at its line; keys
must be text (``1:``, ``~:`` and ``[a]:`` are reported at the key); nesting deeper than :data:`MAX_DEPTH`
levels, a document of more than :data:`MAX_EXPANDED_VALUES` values (or whose aliases expand to more) and
an integer of more than :data:`MAX_INT_DIGITS` digits are refused; a value that its explicit tag cannot
read (``!!float abc``) is reported at the value, with its field.
"""

from __future__ import annotations

import difflib
import hashlib
import math
import os
import re
import reprlib
import stat
import typing
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from ..errors import DesignError, DesignErrors, Problem
from . import pre_approval, schema
from .schema import Design

__all__ = ["LoadedDesign", "design_from_mapping", "iter_problems", "load_design", "load_design_with_source", "parse_design"]

_Loc = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class LoadedDesign:
    """A validated design together with where it came from.

    Attributes
    ----------
    design : Design
        The validated design.
    path : str or None
        The file it was read from.
    sha256 : str
        SHA-256 of the file's bytes (of the canonical JSON for an in-memory design).
    """

    design: Design
    path: str | None
    sha256: str


def _model_field_names() -> list[str]:
    names: set[str] = set()
    for obj in [*vars(schema).values(), *vars(pre_approval).values()]:
        if isinstance(obj, type) and issubclass(obj, BaseModel) and obj is not BaseModel:
            names.update(obj.model_fields)
    return sorted(names)


#: Largest design file read (design files are a few kilobytes; data belong in referenced CSV files).
MAX_DESIGN_BYTES = 4 * 2**20

#: Largest number of values a design may expand to (aliases counted at every use): design files are
#: small, and a few nested aliases can otherwise expand to billions of values ("billion laughs").
MAX_EXPANDED_VALUES = 200_000

#: Deepest nesting of lists and mappings read (a design has 6 levels or so); deeper input is refused at the
#: first node below this depth, before Python's recursion limit can be reached.
MAX_DEPTH = 64

#: Most digits of an integer read (the lowest limit Python's ``sys.set_int_max_str_digits`` allows, so an
#: integer can always be converted and shown; a design's numbers have a few digits).
MAX_INT_DIGITS = 640

_TAG = "tag:yaml.org,2002:"

#: Tags of scalar keys that YAML does not read as text (``1:``, ``~:``, ``true:``, ``2018-12-28:``).
_NON_TEXT_KEY_TAGS = {_TAG + t for t in ("null", "bool", "int", "float", "timestamp", "binary")}


class _InputProblem(yaml.YAMLError):
    """A problem found while reading the YAML, with its position (``mark``; None for the whole document) and,
    once the node is known, the node (whose path names the field)."""

    def __init__(self, message: str, mark: yaml.Mark | None, node: yaml.Node | None = None) -> None:
        super().__init__(message)
        self.message, self.mark, self.node = message, mark, node


_LINE_BREAK = re.compile("\r\n|[\r\n\x85\u2028\u2029]")


def _line_col(text: str, pos: int) -> tuple[int, int]:
    """1-based line and column of character ``pos`` of ``text``, counted as PyYAML counts them (a line ends
    at LF, CR LF, CR, NEL, LS or PS; a BOM takes no column)."""
    head = text[:pos]
    breaks = list(_LINE_BREAK.finditer(head))
    start = breaks[-1].end() if breaks else 0
    return len(breaks) + 1, pos - start - head.count("\ufeff", start) + 1


def _expanded_size(node: yaml.Node, memo: dict[int, int]) -> int:
    """Number of values ``node`` stands for once every alias is expanded (memoised on shared nodes)."""
    key = id(node)
    if key in memo:
        return memo[key]
    memo[key] = 1  # a cycle (recursive alias) counts once
    if isinstance(node, yaml.MappingNode):
        total = 1 + sum(_expanded_size(k, memo) + _expanded_size(v, memo) for k, v in node.value)
    elif isinstance(node, yaml.SequenceNode):
        total = 1 + sum(_expanded_size(v, memo) for v in node.value)
    else:
        total = 1
    memo[key] = min(total, 10 * MAX_EXPANDED_VALUES)
    return memo[key]


def _expansion_site(node: yaml.Node, memo: dict[int, int]) -> yaml.Node:
    """The innermost node that alone expands past :data:`MAX_EXPANDED_VALUES` (where the aliases pile up)."""
    seen: set[int] = set()
    while id(node) not in seen:
        seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            children = [n for pair in node.value for n in pair]
        elif isinstance(node, yaml.SequenceNode):
            children = list(node.value)
        else:
            break
        big = next((c for c in children if memo.get(id(c), 0) > MAX_EXPANDED_VALUES and id(c) not in seen), None)
        if big is None:
            break
        node = big
    return node


def _key_problem(key_node: yaml.Node, loc: _Loc, file: str | None) -> Problem | None:
    """The problem of a key that is not text (None for a text key or a merge key ``<<``)."""
    if isinstance(key_node, yaml.ScalarNode):
        if key_node.tag not in _NON_TEXT_KEY_TAGS:
            return None
        shown = key_node.value or "null (an empty key)"
        message = f"keys must be text; got {shown if len(shown) <= 40 else shown[:37] + '...'}"
        hint: str | None = "quote the key if it is meant as text"
    else:
        # a list or mapping as a key cannot be read at all (a Python mapping needs hashable keys)
        start, end = key_node.start_mark, key_node.end_mark
        source = start.buffer[start.pointer:end.pointer] if start.buffer is not None and end is not None else ""
        shown = " ".join(source.split()) or ("a list" if isinstance(key_node, yaml.SequenceNode) else "a mapping")
        message = f"invalid YAML: keys must be text; got {shown if len(shown) <= 40 else shown[:37] + '...'}"
        hint = None
    return Problem(loc=".".join(str(p) for p in loc), message=message, file=file,
                   line=key_node.start_mark.line + 1, column=key_node.start_mark.column + 1, hint=hint)


def _walk_marks(node: yaml.Node, loc: _Loc, marks: dict[_Loc, tuple[int, int]], problems: list[Problem],
                file: str | None, visited: set[int] | None = None, paths: dict[int, _Loc] | None = None) -> None:
    """Record the (line, column) of every node by its path (and in ``paths`` the path of every node by its id);
    report duplicate keys and keys that are not text (these are dropped from the node, so that the rest
    of the document is still read and validated).

    A node reached again through an alias is not walked again (its problems point at the anchor).  The keys a
    merge key (``<<: *base``) brings in are recorded at the path they are merged into.
    """
    visited = set() if visited is None else visited
    marks[loc] = (node.start_mark.line + 1, node.start_mark.column + 1)
    if id(node) in visited:
        return
    visited.add(id(node))
    if paths is not None:
        paths[id(node)] = loc
    if isinstance(node, yaml.MappingNode):
        seen: dict[Any, int] = {}
        kept: list[tuple[yaml.Node, yaml.Node]] = []
        merged: list[yaml.Node] = []
        for key_node, value_node in node.value:
            if key_node.tag == _TAG + "merge":
                kept.append((key_node, value_node))
                merged.extend(value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node])
                continue
            problem = _key_problem(key_node, loc, file)
            if problem is not None:
                problems.append(problem)
                continue
            kept.append((key_node, value_node))
            key = key_node.value
            if key in seen:
                path = ".".join(str(p) for p in (*loc, key))
                problems.append(Problem(
                    loc=path,
                    message=f"duplicate key {key!r} (first given on line {seen[key]})",
                    file=file, line=key_node.start_mark.line + 1, column=key_node.start_mark.column + 1,
                    hint="YAML keeps only the last of duplicate keys; remove one",
                ))
                continue
            seen[key] = key_node.start_mark.line + 1
            marks[(*loc, "__key__", key)] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            _walk_marks(value_node, (*loc, key), marks, problems, file, visited, paths)
        node.value[:] = kept
        for base in merged:  # a key given explicitly wins over a merged one, an earlier merged one over a later
            sub: dict[_Loc, tuple[int, int]] = {}
            _walk_marks(base, loc, sub, problems, file, visited, paths)
            if isinstance(base, yaml.MappingNode):  # (else PyYAML reports it at construction)
                for key_node, value_node in base.value:
                    if isinstance(key_node, yaml.ScalarNode):
                        sub.setdefault((*loc, "__key__", key_node.value),
                                       (key_node.start_mark.line + 1, key_node.start_mark.column + 1))
                        sub.setdefault((*loc, key_node.value),
                                       (value_node.start_mark.line + 1, value_node.start_mark.column + 1))
            for where, pos in sub.items():
                marks.setdefault(where, pos)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _walk_marks(item, (*loc, i), marks, problems, file, visited, paths)


def _resolve_loc(data: Any, loc: tuple[Any, ...]) -> _Loc:
    """Map a pydantic error location onto the data's path (dropping union tags)."""
    out: list[str | int] = []
    cur = data
    for part in loc:
        if isinstance(cur, dict) and part in cur or isinstance(cur, list) and isinstance(part, int) and 0 <= part < len(cur):
            out.append(part)
            cur = cur[part]
        elif isinstance(cur, dict) and isinstance(part, str) and "[" not in part and part not in cur:
            # Either a missing field (keep it: it names what is missing) or a union tag such as
            # 'benchmark' or 'function-after[...]' (drop it).
            if part in _FIELD_NAMES:
                out.append(part)
                cur = None
        else:
            continue
    return tuple(out)


_FIELD_NAMES = set(_model_field_names())


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    """The pydantic models an annotation can hold (through ``Annotated``, optional values, unions, lists and
    mappings)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in typing.get_args(annotation) for m in _models_in(arg)]


def _fields_at(loc: tuple[Any, ...]) -> set[str]:
    """The fields allowed in the mapping at a pydantic error location's parent (``loc[:-1]``): the fields of the
    models found by following the location's field names down from :class:`Design` (a union's tag or a list's
    index keeps the models reached so far); empty when the location leaves the models."""
    models: list[type[BaseModel]] = [Design]
    for part in loc[:-1]:
        inner = [a for m in models if isinstance(part, str) and part in m.model_fields
                 for a in _models_in(m.model_fields[part].annotation)]
        if inner:
            models = inner
        elif isinstance(part, str) and any(part in m.model_fields for m in models):
            return set()  # a field whose value is not a model
    return {name for m in models for name in m.model_fields}


def _unknown_field_hint(loc: tuple[Any, ...]) -> str | None:
    """"did you mean ...?" for an unknown field at a pydantic error location: the closest of the fields allowed
    there (else of any model's fields), never the unknown name itself."""
    key = str(loc[-1]) if loc else ""
    allowed = _fields_at(loc) or _FIELD_NAMES
    close = difflib.get_close_matches(key, sorted(allowed - {key}), n=1, cutoff=0.6)
    return f"did you mean {close[0]!r}?" if close else None


_REPR = reprlib.Repr()
_REPR.maxlevel, _REPR.maxlist, _REPR.maxdict, _REPR.maxstring, _REPR.maxother = 2, 4, 4, 50, 50


def _describe(value: Any) -> str:
    try:
        text = _REPR.repr(value)  # bounded: a value may be a huge shared structure
    except ValueError:  # an integer past Python's limit of digits for str()
        text = f"<{type(value).__name__} too large to show>"
    return text if len(text) <= 60 else text[:57] + "..."


#: pydantic error type -> (message template filled from the error's ctx, whether "; got <value>" follows)
_SIMPLE: dict[str, tuple[str, bool]] = {
    "missing": ("required field is missing", False),
    "extra_forbidden": ("unknown field", False),
    "float_parsing": ("must be a number", True),
    "float_type": ("must be a number", True),
    "finite_number": ("must be a finite number", True),
    "int_parsing": ("must be an integer", True),
    "int_type": ("must be an integer", True),
    "int_from_float": ("must be a whole number", True),
    "string_type": ("must be text", True),
    "bool_type": ("must be true or false", True),
    "tuple_type": ("must be a list", True),
    "string_too_short": ("must not be empty", True),
    "too_short": ("must have at least {min_length} item(s)", True),
    "too_long": ("must have at most {max_length} item(s)", True),
    "list_type": ("must be a list", True),
    "model_type": ("must be a mapping of fields", True),
    "model_attributes_type": ("must be a mapping of fields", True),
    "dict_type": ("must be a mapping of fields", True),
    "literal_error": ("must be one of {expected}", True),
    "union_tag_not_found": ("the field {discriminator} is required here", False),
}


def _is_number_text(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _message(err: Any) -> tuple[str, str | None]:
    """Turn one pydantic error into 'must be <contract>; got <value>' plus an optional hint."""
    typ = err["type"]
    ctx = err.get("ctx") or {}
    value = err.get("input")
    got = f"; got {_describe(value)}"
    hint = None
    if isinstance(value, bool) and typ in ("string_type", "literal_error"):
        hint = "YAML reads yes/no/on/off/true/false as booleans; quote the value if you meant text"
    elif isinstance(value, bool) and typ in ("float_type", "int_type"):
        hint = "YAML reads yes/no/on/off/true/false as booleans; write the number"
    elif isinstance(value, str) and typ in ("float_type", "int_type") and _is_number_text(value):
        hint = "numbers are written without quotes"
    elif isinstance(value, int | float) and not isinstance(value, bool) and typ == "bool_type":
        hint = "a number is not read as a boolean: write true or false"
    elif isinstance(value, int | float) and not isinstance(value, bool) and typ.startswith("date"):
        hint = "a number is not read as a date: write it as YYYY-MM-DD, e.g. 2024-07-31"
    bounds = {
        "greater_than": ("> ", "gt"), "greater_than_equal": (">= ", "ge"),
        "less_than": ("< ", "lt"), "less_than_equal": ("<= ", "le"),
    }
    if typ in bounds:
        sym, key = bounds[typ]
        limit = ctx.get(key)
        shown = f"{limit:g}" if isinstance(limit, float) else str(limit)
        if err["loc"][-1:] == ("time_limit_years",) and typ == "less_than_equal":
            hint = "the PMD Act allows at most 7 years; put a granted extension in approval.extension_years"
        return f"must be {sym}{shown}{got}", hint
    if typ == "int_type" and isinstance(value, float) and not isinstance(value, bool):
        typ = "int_from_float"  # 2.5 where an integer is expected: say "whole number", as lax validation did
    if typ in _SIMPLE:
        template, with_value = _SIMPLE[typ]
        return template.format(**ctx) + (got if with_value else ""), hint if with_value else None
    if typ == "union_tag_invalid":
        return f"must be one of {ctx.get('expected_tags')}; got {_describe(ctx.get('tag'))}", None
    if typ.startswith("date"):
        return f"must be a date YYYY-MM-DD{got}", hint
    if typ == "value_error":
        msg = str(err["msg"])
        return msg.removeprefix("Value error, "), hint
    return f"{err['msg'][0].lower()}{err['msg'][1:]}{got}", hint


def _problems_from_validation(exc: ValidationError, data: Any, marks: dict[_Loc, tuple[int, int]],
                              file: str | None) -> list[Problem]:
    problems: list[Problem] = []
    errors = exc.errors(include_url=False)
    # A value of a union (a number or a distribution) fails every branch; report the branch that fits its type.
    locs = [_resolve_loc(data, e["loc"]) for e in errors]
    mapping_types = {"model_type", "model_attributes_type", "dict_type"}
    scalar_types = {"float_parsing", "float_type", "int_parsing", "int_type", "string_type", "bool_type"}
    # How many errors sit at or below each location (every prefix of every location counted once per error):
    # an error has rivals when another error sits at or below its own location.  Linear in the errors.
    below: dict[_Loc, int] = {}
    for loc in locs:
        for k in range(len(loc) + 1):
            below[loc[:k]] = below.get(loc[:k], 0) + 1
    keep = []
    for e, loc in zip(errors, locs):
        rivals = below[loc] > 1
        if e["type"] in mapping_types and rivals:
            continue
        if e["type"] in scalar_types and isinstance(e.get("input"), dict) and rivals:
            continue
        keep.append((e, loc))
    for err, loc in keep:
        message, hint = _message(err)
        lines = message.split("\n") if err["type"] == "value_error" else [message]
        for line_msg in lines:
            sub: _Loc = loc
            if line_msg.startswith("@"):
                rel, _, line_msg = line_msg[1:].partition(": ")
                sub = loc + tuple(int(p) if p.isdigit() else p for p in rel.split("."))
            pos_key: _Loc = sub
            item_hint = hint
            if err["type"] == "extra_forbidden":
                key = sub[-1] if sub else ""
                pos_key = (*sub[:-1], "__key__", key) if sub else sub
                item_hint = _unknown_field_hint(err["loc"])
            # The nearest node we know a position for (a missing field points at its parent).
            pos = None
            probe = pos_key
            while pos is None:
                pos = marks.get(probe)
                if not probe:
                    break
                probe = probe[:-1] if probe[-2:-1] != ("__key__",) else probe[:-2]
            line, column = pos if pos else (None, None)
            problems.append(Problem(loc=".".join(str(p) for p in sub), message=line_msg, file=file,
                                    line=line, column=column, hint=item_hint))
    problems.sort(key=lambda p: (p.line or 0, p.column or 0))
    return problems


class _Loader(yaml.SafeLoader):
    """The safe loader, except that an impossible date (2018-13-40) stays text for the schema to reject, and that
    what cannot be read is reported as an :class:`_InputProblem` at its node: nesting deeper than
    :data:`MAX_DEPTH`, more than :data:`MAX_EXPANDED_VALUES` nodes, a value its tag cannot read."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0
        self._nodes = 0

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        if self.check_event(yaml.AliasEvent):
            return super().compose_node(parent, index)  # an alias adds no node
        self._nodes += 1
        if self._nodes > MAX_EXPANDED_VALUES:
            raise _InputProblem(f"the design has more than {MAX_EXPANDED_VALUES:,} values; design files are small "
                                "(put patient data in a CSV file the design references)", None)
        if self._depth >= MAX_DEPTH:
            raise _InputProblem(f"the YAML is nested more than {MAX_DEPTH} levels deep; a design needs a few levels",
                                self.peek_event().start_mark)  # type: ignore[no-untyped-call]
        self._depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep)
        except (ValueError, TypeError, IndexError, KeyError, AttributeError, OverflowError) as exc:
            # PyYAML's constructors fail this way on explicit tags with impossible values (!!float abc, !!int '')
            tag = "!!" + node.tag.removeprefix(_TAG) if node.tag.startswith(_TAG) else node.tag
            why = str(exc) or type(exc).__name__
            why = why if len(why) <= 80 else why[:77] + "..."
            raise _InputProblem(f"cannot be read as {tag} ({why}); fix the value or remove the explicit tag",
                                node.start_mark, node) from None

    def construct_yaml_timestamp(self, node: yaml.ScalarNode) -> Any:
        try:
            return super().construct_yaml_timestamp(node)
        except ValueError:
            return self.construct_scalar(node)


    def construct_yaml_int(self, node: yaml.ScalarNode) -> Any:
        """YAML 1.2 integers: ``010`` is ten (not octal 8); ``0o17`` and ``0x1F`` are octal and hexadecimal;
        underscores between digits are allowed (``10_000``)."""
        text = str(self.construct_scalar(node)).replace("_", "")
        sign = -1 if text.startswith("-") else 1
        digits = text.lstrip("+-")
        base = 10
        if digits.startswith(("0o", "0x")):
            digits, base = digits[2:], 8 if digits[1] == "o" else 16
        # (a hexadecimal or octal number is counted in decimal digits: 0x + 600 hex digits has 723)
        if len(digits) > MAX_INT_DIGITS or base != 10 and int(digits, base) >= 10**MAX_INT_DIGITS:
            count = str(len(digits)) if base == 10 else f"over {MAX_INT_DIGITS} in decimal"
            raise _InputProblem(f"the integer has too many digits ({count}); a number in a design has at most "
                                f"{MAX_INT_DIGITS} digits", node.start_mark, node)
        return sign * int(digits, base)

    def construct_yaml_float(self, node: yaml.ScalarNode) -> Any:
        """A float; a number written out (not ``.inf``) that is too large for a double is refused where it is,
        instead of being read as infinity (which a field would then call "not finite" or "not a whole number")."""
        value = super().construct_yaml_float(node)
        if math.isinf(value) and "inf" not in str(node.value).lower():
            raise _InputProblem("the number is too large: beyond 1.8e308, it would be read as infinity",
                                node.start_mark, node)
        return value


_Loader.add_constructor("tag:yaml.org,2002:timestamp", _Loader.construct_yaml_timestamp)
_Loader.add_constructor("tag:yaml.org,2002:int", _Loader.construct_yaml_int)
_Loader.add_constructor("tag:yaml.org,2002:float", _Loader.construct_yaml_float)
# Integers as YAML 1.2 (and JSON) read them: no sexagesimal (YAML 1.1 reads 1:30 as 90, which then passes as a
# number: now it is text, which the schema refuses), no implicit octal (010 is ten), no binary.
_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag not in ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float")]
    for first, resolvers in _Loader.yaml_implicit_resolvers.items()}
_Loader.add_implicit_resolver("tag:yaml.org,2002:int",
                              re.compile(r"^(?:[-+]?[0-9][0-9_]*|0o[0-7]+|0x[0-9a-fA-F]+)$"), list("-+0123456789"))
# floats as YAML 1.1 has them (1.5, .5, .inf, .nan) less the sexagesimal 1:30.5
_Loader.add_implicit_resolver("tag:yaml.org,2002:float", re.compile(
    r"^(?:[-+]?[0-9][0-9_]*\.[0-9_]*(?:[eE][-+]?[0-9]+)?|[-+]?\.[0-9][0-9_]*(?:[eE][-+]?[0-9]+)?"
    r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"), list("-+0123456789."))
# YAML 1.2 floats without a dot (1e-3, 2E+5), which YAML 1.1 reads as text: numbers, as JSON has them.
_Loader.add_implicit_resolver("tag:yaml.org,2002:float", re.compile(r"^[-+]?[0-9][0-9_]*(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"),
                              list("-+0123456789"))


def parse_design(text: str, *, file: str | None = None) -> Design:
    """Validate the YAML ``text`` of a design file and return the :class:`Design`.

    Parameters
    ----------
    text : str
        The YAML document.
    file : str, optional
        The name to give in error messages.

    Raises
    ------
    DesignErrors
        With one :class:`~condapprove.errors.Problem` per problem found.
    """
    problems: list[Problem] = []
    loader: _Loader | None = None
    paths: dict[int, _Loc] = {}  # id of a node -> its path (where it is first reached)

    def fail(message: str, mark: yaml.Mark | None, node: yaml.Node | None = None) -> DesignErrors:
        """The problems found so far and this one, at ``mark`` (at 1:1 without one)."""
        loc = ".".join(str(p) for p in paths.get(id(node), ())) if node is not None else ""
        problems.append(Problem(loc=loc, message=message, file=file, line=mark.line + 1 if mark else 1,
                                column=mark.column + 1 if mark else 1))
        problems.sort(key=lambda p: (p.line or 0, p.column or 0))
        return DesignErrors(problems)

    try:
        loader = _Loader(text)  # the reader already refuses control characters: inside the try
        node = loader.get_single_node()
        if node is None:
            raise DesignErrors([Problem(loc="", message="the design file is empty", file=file, line=1, column=1)])
        marks: dict[_Loc, tuple[int, int]] = {}
        memo: dict[int, int] = {}
        if _expanded_size(node, memo) > MAX_EXPANDED_VALUES:
            # the composer refuses more than MAX_EXPANDED_VALUES nodes, so these are aliases used again and again
            raise fail(f"the YAML expands to more than {MAX_EXPANDED_VALUES:,} values through its aliases (*name); "
                       "refusing to read it", _expansion_site(node, memo).start_mark)
        _walk_marks(node, (), marks, problems, file, paths=paths)
        data = loader.construct_document(node)
    except _InputProblem as exc:
        raise fail(exc.message, exc.mark, exc.node) from None
    except yaml.reader.ReaderError as exc:
        code = exc.character if isinstance(exc.character, int) else ord(exc.character)
        what = f"control character {code:#04x}" if code < 0x20 or 0x7F <= code <= 0x9F else f"character U+{code:04X}"
        line, column = _line_col(text, exc.position)
        raise DesignErrors([Problem(loc="", message=f"invalid YAML: {what} is not allowed", file=file, line=line,
                                    column=column)]) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        what = " ".join(x for x in (exc.context, exc.problem) if x)
        if exc.problem is not None and "'\\t'" in exc.problem:  # PyYAML takes no tab where it looks for a token
            what += "; put spaces there instead of the tab"
        raise fail(f"invalid YAML: {what}", mark) from None
    except yaml.YAMLError as exc:
        raise DesignErrors([Problem(loc="", message=f"invalid YAML: {exc}", file=file)]) from None
    except RecursionError:  # not expected: MAX_DEPTH stops the composer well before
        mark = loader.get_mark() if loader is not None else None
        raise fail("the YAML document is nested too deeply", mark) from None
    except DesignErrors:
        raise
    except (ValueError, TypeError, IndexError, KeyError, AttributeError) as exc:
        # not expected: construct_object reports these at their node
        raise fail(f"the YAML cannot be read ({type(exc).__name__}: {exc})", None) from None
    finally:
        if loader is not None:
            loader.dispose()
    if not isinstance(data, dict):
        raise DesignErrors([Problem(loc="", message=f"must be a mapping of sections; got {type(data).__name__}",
                                    file=file, line=1, column=1)])
    try:
        design = Design.model_validate(data)
    except ValidationError as exc:
        problems.extend(_problems_from_validation(exc, data, marks, file))
        problems.sort(key=lambda p: (p.line or 0, p.column or 0))
        raise DesignErrors(problems) from None
    if problems:
        raise DesignErrors(problems)
    return _read_referenced_data(design, marks, file)


def _mark(marks: dict[_Loc, tuple[int, int]], loc: _Loc) -> tuple[int | None, int | None]:
    while loc and loc not in marks:
        loc = loc[:-1]
    return marks.get(loc, (None, None))


#: endpoint type -> (column role -> (field of the cohort it fills, parser, what the parser requires))
def _parse_01(text: str) -> int:
    if text.strip() in ("0", "1"):
        return int(text.strip())
    raise ValueError("must be 0 or 1")


def _parse_float(text: str) -> float:
    x = float(text)
    if not math.isfinite(x):
        raise ValueError("must be a finite number")
    return x


def _parse_time(text: str) -> float:
    x = _parse_float(text)
    if x < 0:
        raise ValueError("must be >= 0")
    return x


_ROLES: dict[str, tuple[str, Any]] = {
    "response": ("responses", _parse_01),
    "value": ("values", _parse_float),
    "time": ("durations", _parse_time),
    "event": ("events", _parse_01),
    "lot": ("lots", str.strip),
}


#: Largest cohort CSV read (a patient-level approval cohort is a few hundred rows: kilobytes).
MAX_DATA_BYTES = 64 * 2**20

#: cohort field filled from a CSV -> the role of its column (``columns:`` of the design).
_FIELD_ROLES = {field: role for role, (field, _) in _ROLES.items()}


def _read_data_bytes(path: Path, shown: str, where: dict[str, Any]) -> bytes:
    """The bytes of a referenced data file: a regular file of at most :data:`MAX_DATA_BYTES` (a directory, a
    device such as /dev/zero, a pipe or a socket is refused before anything is read)."""
    def refuse(message: str, hint: str | None = "the path is relative to the design file") -> DesignErrors:
        return DesignErrors([Problem(loc="pre_approval.cohort.data", message=message, hint=hint, **where)])

    try:
        info = path.stat()
        if stat.S_ISDIR(info.st_mode):
            raise refuse(f"is a directory, not a CSV file: {shown}")
        if not stat.S_ISREG(info.st_mode):
            raise refuse(f"is not a regular file (a device, pipe or socket?): {shown}", None)
        if info.st_size > MAX_DATA_BYTES:
            raise refuse(f"{shown} is {info.st_size / 2**20:.1f} MiB; a cohort CSV must be at most "
                         f"{MAX_DATA_BYTES // 2**20} MiB", None)
        with path.open("rb") as fh:
            raw = fh.read(MAX_DATA_BYTES + 1)
    except OSError as exc:
        reason = "no such file" if isinstance(exc, FileNotFoundError) else f"cannot be read ({exc.strerror})"
        raise refuse(f"{reason}: {shown}") from None
    if len(raw) > MAX_DATA_BYTES:  # it grew while we looked
        raise refuse(f"{shown} is over {MAX_DATA_BYTES // 2**20} MiB; a cohort CSV must be at most that", None)
    return raw


def _read_referenced_data(design: Design, marks: dict[_Loc, tuple[int, int]], file: str | None) -> Design:
    """Read a cohort CSV referenced by the design (path relative to the design file) and inline its data.

    Problems point at the design file (a missing file, an unknown column) or at the CSV's own
    lines (a value that does not parse); all of them are collected.  The values read are then
    validated through :class:`~condapprove.spec.pre_approval.PreApproval`, as if they had been
    written in the design: a problem of one value points at its CSV line, a problem of a whole
    column (too few rows, all values equal) at the design's ``data`` field.
    """
    pre = design.pre_approval
    if pre is None or pre.cohort.data is None:
        return design
    import csv
    import io

    cohort = pre.cohort
    assert cohort.columns is not None and cohort.data is not None
    base = Path(file).parent if file else Path(".")
    path = base / cohort.data
    shown = str(path) if file else cohort.data
    line, col = _mark(marks, ("pre_approval", "cohort", "data"))
    raw = _read_data_bytes(path, shown, {"file": file, "line": line, "column": col})
    text = _decode(raw, shown)
    reader = csv.reader(io.StringIO(text, newline=""))
    rows: list[list[str]] = []
    row_lines: list[int] = []  # the line each kept row starts on
    end = 0
    try:
        for row in reader:
            if any(cell.strip() for cell in row):
                rows.append(row)
                row_lines.append(end + 1)
            end = reader.line_num
    except csv.Error as exc:
        raise DesignErrors([Problem(loc="", message=f"is not a readable CSV file: {exc}", file=shown,
                                    line=reader.line_num or None)]) from None
    if not rows:
        raise DesignErrors([Problem(loc="", message="the CSV file is empty (a header row is needed)", file=shown,
                                    line=1)])
    header = [h.strip() for h in rows[0]]
    problems: list[Problem] = []
    index: dict[str, int] = {}
    for role, name in cohort.columns.items():
        ln, cl = _mark(marks, ("pre_approval", "cohort", "columns", role))
        where = [j + 1 for j, h in enumerate(header) if h == name]
        if len(where) == 1:
            index[role] = where[0] - 1
            continue
        if where:
            problems.append(Problem(loc=f"pre_approval.cohort.columns.{role}",
                                    message=f"column {name!r} appears {len(where)} times in the header of {shown} "
                                            f"(columns {', '.join(map(str, where))}); which one is meant?",
                                    file=file, line=ln, column=cl, hint="rename or remove the duplicates"))
            continue
        close = difflib.get_close_matches(name, header, n=1)
        hint = f"did you mean {close[0]!r}?" if close else None
        if len(header) == 1 and any(sep in header[0] for sep in ";\t|"):
            hint = "the columns must be separated by commas (the header seems to use another separator)"
        problems.append(Problem(loc=f"pre_approval.cohort.columns.{role}",
                                message=f"column {name!r} is not in the header of {shown} "
                                        f"(columns: {', '.join(header)})",
                                file=file, line=ln, column=cl, hint=hint))
    if problems:
        raise DesignErrors(problems)
    if len(rows) == 1:
        raise DesignErrors([Problem(loc="", message="the CSV file has a header but no data rows", file=shown,
                                    line=row_lines[0])])
    parsed: dict[str, list[Any]] = {field: [] for key, (field, _) in _ROLES.items() if key in index}
    for lineno, row in zip(row_lines[1:], rows[1:]):
        for key, j in index.items():
            field, parse = _ROLES[key]
            cell = row[j] if j < len(row) else ""
            try:
                parsed[field].append(parse(cell))
            except ValueError as exc:
                why = str(exc) if str(exc).startswith("must") else "must be a number"
                problems.append(Problem(loc=f"column {header[j]!r}", message=f"{why}; got {_describe(cell)}",
                                        file=shown, line=lineno))
    if problems:
        raise DesignErrors(problems)
    columns: dict[str, str] = {str(k): v for k, v in (cohort.columns or {}).items()}
    _validate_csv_cohort(pre, parsed, {field: columns[role] for field, role in _FIELD_ROLES.items()
                                        if field in parsed}, row_lines[1:], shown, marks, file)
    new_cohort = cohort.model_copy(update=parsed)
    return design.model_copy(update={"pre_approval": pre.model_copy(update={"cohort": new_cohort})})


def _validate_csv_cohort(pre: pre_approval.PreApproval, parsed: dict[str, list[Any]], columns: dict[str, str],
                         row_lines: list[int], shown: str, marks: dict[_Loc, tuple[int, int]],
                         file: str | None) -> None:
    """Validate the values read from a CSV through the model, as if the design had given them inline.

    A problem of one value points at its CSV line; one of a whole column or of the cohort at the design's
    ``data`` field (naming the CSV and the column); any other at its own field of the design.
    """
    inline = {"endpoint": pre.endpoint, "cohort": parsed, "lots": pre.lots, "priors": pre.priors,
              "evidence": pre.evidence}
    try:
        pre_approval.PreApproval.model_validate(inline)
    except ValidationError as exc:
        found = _problems_from_validation(exc, inline, {}, None)
    else:
        return
    data_line, data_col = _mark(marks, ("pre_approval", "cohort", "data"))
    problems: list[Problem] = []
    for p in found:
        parts = p.loc.split(".") if p.loc else []
        if parts[:1] == ["cohort"] and len(parts) > 1 and parts[1] in columns:
            column = columns[parts[1]]
            if len(parts) > 2 and parts[2].isdigit() and int(parts[2]) < len(row_lines):
                problems.append(Problem(loc=f"column {column!r}", message=p.message, file=shown,
                                        line=row_lines[int(parts[2])]))
                continue
            message = f"column {column!r} of {shown}: {p.message.replace('item(s)', 'row(s)')}"
        elif parts[:1] == ["cohort"]:
            message = f"{shown}: {p.message}"
        else:
            ln, cl = _mark(marks, ("pre_approval", *(int(x) if x.isdigit() else x for x in parts)))
            problems.append(Problem(loc=".".join(["pre_approval", *parts]), message=p.message, file=file,
                                    line=ln, column=cl, hint=p.hint))
            continue
        problems.append(Problem(loc="pre_approval.cohort.data", message=message, file=file, line=data_line,
                                column=data_col, hint=p.hint))
    raise DesignErrors(problems)


def design_from_mapping(data: dict[str, Any]) -> Design:
    """Validate an in-memory mapping (as read from YAML or JSON) into a :class:`Design`.

    Errors are collected as in :func:`parse_design`, without file positions.
    """
    try:
        return Design.model_validate(data)
    except ValidationError as exc:
        raise DesignErrors(_problems_from_validation(exc, data, {}, None)) from None


def _read(path: str | os.PathLike[str]) -> tuple[str, bytes]:
    """The name and bytes of a design file, read up to :data:`MAX_DESIGN_BYTES` (a longer file, or an endless
    device such as /dev/zero, is refused without reading on; a pipe such as ``<(cat x.yaml)`` is read)."""
    name = os.fspath(path)
    size = 0
    try:
        with open(name, "rb") as fh:
            raw = fh.read(MAX_DESIGN_BYTES + 1)
            if len(raw) > MAX_DESIGN_BYTES:
                size = os.fstat(fh.fileno()).st_size  # 0 for a device or a pipe
    except FileNotFoundError:
        raise DesignErrors([Problem(loc="", message="no such file", file=name)]) from None
    except IsADirectoryError:
        raise DesignErrors([Problem(loc="", message="is a directory, not a design file", file=name)]) from None
    except OSError as exc:
        raise DesignErrors([Problem(loc="", message=f"cannot be read: {exc.strerror}", file=name)]) from None
    if len(raw) > MAX_DESIGN_BYTES:
        how_big = f"is {size / 2**20:.1f} MiB" if size > MAX_DESIGN_BYTES else f"is over {MAX_DESIGN_BYTES // 2**20} MiB"
        raise DesignErrors([Problem(loc="", message=f"{how_big}; a design file must be at most "
                                    f"{MAX_DESIGN_BYTES // 2**20} MiB (put patient data in a CSV it references)",
                                    file=name)])
    return name, raw


def _decode(raw: bytes, name: str) -> str:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        head = raw[: exc.start].decode("utf-8-sig")  # valid: the error is the first undecodable byte
        line, _ = _line_col(head, len(head))  # (no column: a byte, not a character, is wrong)
        raise DesignErrors([Problem(loc="", message=f"is not valid UTF-8 (byte {raw[exc.start]:#04x})",
                                    file=name, line=line)]) from None
    if "\x00" in text:
        line, column = _line_col(text, text.index("\x00"))
        raise DesignErrors([Problem(loc="", message="contains a NUL byte; is this a binary file?", file=name,
                                    line=line, column=column)])
    return text


def load_design_with_source(path: str | os.PathLike[str]) -> LoadedDesign:
    """Read and validate a design file, returning it with its path and SHA-256."""
    name, raw = _read(path)
    design = parse_design(_decode(raw, name), file=name)
    return LoadedDesign(design=design, path=name, sha256=hashlib.sha256(raw).hexdigest())


def load_design(path: str | os.PathLike[str]) -> Design:
    """Read and validate the YAML design file at ``path``.

    Parameters
    ----------
    path : str or path-like
        The design file.

    Returns
    -------
    Design
        The validated, immutable design.

    Raises
    ------
    DesignErrors
        Every problem of the file, each with file, line, column and dotted field path.

    Examples
    --------
    >>> import condapprove
    >>> d = condapprove.load_design("designs/stemirac_survey.yaml")  # doctest: +SKIP
    """
    return load_design_with_source(path).design


def iter_problems(exc: DesignError) -> Iterator[Problem]:
    """Yield the problems of a :class:`DesignError` (one or many)."""
    yield from exc.problems
