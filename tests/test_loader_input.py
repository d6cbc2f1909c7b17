"""Broken and hostile design input (spec/loader.py): each is refused with one located line
``FILE:LINE:COL: field: message``, never a traceback, a wrong position or a hang."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from condapprove.errors import DesignErrors
from condapprove.spec import loader
from condapprove.spec.loader import _decode, _line_col, _read, load_design_with_source, parse_design

from .conftest import DESIGNS

S = (DESIGNS / "stemirac_survey.yaml").read_text(encoding="utf-8")
END = S.count("\n") + 1  # the line a text appended to S starts on (S ends with a line break)


def mut(base: str, old: str, new: str) -> str:
    assert old in base, old
    return base.replace(old, new, 1)


def problems(text: str | bytes) -> list[str]:
    """The formatted problems of a design text (bytes go through the file decoder first)."""
    with pytest.raises(DesignErrors) as info:
        parse_design(_decode(text, "x.yaml") if isinstance(text, bytes) else text, file="x.yaml")
    return [p.format() for p in info.value.problems]


def only(text: str | bytes) -> str:
    found = problems(text)
    assert len(found) == 1, found
    return found[0]


# ---------------------------------------------------------------------------------------------------- integers

def test_integer_with_too_many_digits_is_located_at_its_field() -> None:
    text = mut(S, "target_n: 60 ", "target_n: " + "9" * 5000 + " ")
    assert only(text) == ("x.yaml:32:15: post_marketing.treated.target_n: the integer has too many digits (5000); "
                          f"a number in a design has at most {loader.MAX_INT_DIGITS} digits")


def test_hexadecimal_integer_with_too_many_digits_is_located() -> None:
    assert only(mut(S, "seed: 20181228", "seed: 0x" + "f" * 600)).startswith(
        "x.yaml:48:9: simulation.seed: the integer has too many digits (over 640 in decimal); ")
    assert only(mut(S, "target_n: 60 ", "target_n: !!int " + "9" * 5000 + " ")).startswith(
        "x.yaml:32:15: post_marketing.treated.target_n: the integer has too many digits (5000); ")


def test_integer_within_the_digit_limit_reaches_the_schema() -> None:
    assert only(mut(S, "target_n: 60 ", "target_n: " + "9" * loader.MAX_INT_DIGITS + " ")).startswith(
        "x.yaml:32:15: post_marketing.treated.target_n: must be <= ")


@pytest.mark.parametrize("literal", ["1e400", "-2.5E+999", "1" + "0" * 400 + ".5", "!!float 1e309"])
def test_float_too_large_for_a_double_is_refused_at_its_field(literal: str) -> None:
    """Before, it was read as infinity, and the field then said 'must be a whole number; got inf'."""
    assert only(mut(S, "target_n: 60 ", f"target_n: {literal} ")) == (
        "x.yaml:32:15: post_marketing.treated.target_n: the number is too large: beyond 1.8e308, it would be read as "
        "infinity")


def test_infinity_written_as_such_reaches_the_schema() -> None:
    assert only(mut(S, "target_n: 60 ", "target_n: .inf ")) == (
        "x.yaml:32:15: post_marketing.treated.target_n: must be a whole number; got inf")
    assert only(mut(S, "target_n: 60 ", "target_n: -.Inf ")) == (
        "x.yaml:32:15: post_marketing.treated.target_n: must be a whole number; got -inf")
    assert parse_design(mut(S, "rate: 0.30 ", "rate: 0.3e0 "), file="x.yaml").post_marketing.control.rate == 0.3


def test_value_its_explicit_tag_cannot_read_is_located_at_its_field() -> None:
    assert only(mut(S, "target_n: 60 ", "target_n: !!float abc ")) == (
        "x.yaml:32:15: post_marketing.treated.target_n: cannot be read as !!float (could not convert string to "
        "float: 'abc'); fix the value or remove the explicit tag")
    assert only(mut(S, "rate: 0.30 ", "rate: !!bool maybe ")).startswith(
        "x.yaml:36:11: post_marketing.control.rate: cannot be read as !!bool (")


# ---------------------------------------------------------------------------------------------------- keys

@pytest.mark.parametrize("extra, message", [
    ("1: foo", "keys must be text; got 1 (help: quote the key if it is meant as text)"),
    ("~: foo", "keys must be text; got ~ (help: quote the key if it is meant as text)"),
    ("true: foo", "keys must be text; got true (help: quote the key if it is meant as text)"),
    ("2018-01-01: foo", "keys must be text; got 2018-01-01 (help: quote the key if it is meant as text)"),
    ("[a]: b", "invalid YAML: keys must be text; got [a]"),
    ("{a: 1}: b", "invalid YAML: keys must be text; got {a: 1}"),
])
def test_key_that_is_not_text_is_located_at_the_key(extra: str, message: str) -> None:
    assert only(S + "\n" + extra + "\n") == f"x.yaml:{END + 1}:1: {message}"


def test_complex_and_nested_keys_are_located_at_the_key() -> None:
    assert only(S + "\n? [a, b]\n: foo\n") == f"x.yaml:{END + 1}:3: invalid YAML: keys must be text; got [a, b]"
    assert only(mut(S, "    target_n: 60 ", "    3: x\n    target_n: 60 ")) == (
        "x.yaml:32:5: post_marketing.treated: keys must be text; got 3 (help: quote the key if it is meant as text)")


def test_key_problem_does_not_hide_the_other_problems() -> None:
    text = mut(mut(S, "    target_n: 60 ", "    ~: x\n    target_n: 60 "), "dropout: 0.10 ", "dropout: 2 ")
    found = problems(text)
    assert [f.split(": ")[0:2] for f in found] == [["x.yaml:32:5", "post_marketing.treated"],
                                                     ["x.yaml:34:14", "post_marketing.treated.dropout"]]
    assert found[0].startswith("x.yaml:32:5: post_marketing.treated: keys must be text; got ~")


def test_merged_keys_are_located_where_they_are_written() -> None:
    text = mut(S, "  control:\n    kind: benchmark\n", "  control:\n    <<: {kind: benchmark, zz: 1}\n")
    assert only(text) == "x.yaml:35:27: post_marketing.control.zz: unknown field"
    text = "base: &b {kind: benchmark, zz: 1}\n" + mut(S, "  control:\n    kind: benchmark\n",
                                                        "  control:\n    <<: *b\n")
    assert problems(text)[1] == "x.yaml:1:28: post_marketing.control.zz: unknown field"


@pytest.mark.parametrize("design, old, new, hint", [
    # "median" is a field elsewhere (a one-sample log-rank reference), not in a baseline: the baseline's own
    ("delytact_external.yaml", "baseline: {survival_at: {months: 12, survival: 0.15}}", "baseline: {median: 12}",
     "did you mean 'median_months'?"),
    ("stemirac_survey.yaml", "  replicates:", "  replicats:", "did you mean 'replicates'?"),
    ("stemirac_survey.yaml", "    target_n: 60 ", "    targt_n: 60 ", "did you mean 'target_n'?"),
    ("stemirac_survey.yaml", "    kind: benchmark\n", "    kind: benchmark\n    zz: 1\n", None),
])
def test_unknown_field_hint_names_a_field_allowed_there(design: str, old: str, new: str, hint: str | None) -> None:
    """An unknown field's hint suggests the closest of the fields allowed where it is written, never the unknown
    name itself (which may be a field of another section), and nothing when none is close."""
    text = mut((DESIGNS / design).read_text(encoding="utf-8"), old, new)
    with pytest.raises(DesignErrors) as info:
        parse_design(text, file="x.yaml")
    unknown = [p for p in info.value.problems if p.message == "unknown field"]
    assert len(unknown) == 1 and unknown[0].hint == hint


# ---------------------------------------------------------------------------------------------------- characters

@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
def test_control_character_is_located(newline: str) -> None:
    text = mut(S, "name: Stemirac", "name: Ste\x07mirac").replace("\n", newline)
    assert only(text) == "x.yaml:14:10: invalid YAML: control character 0x07 is not allowed"


def test_control_character_in_a_comment_is_located() -> None:
    text = mut(S, "# primer, section 4", "# primer\x1b[31m section 4")
    assert only(text) == "x.yaml:20:37: invalid YAML: control character 0x1b is not allowed"
    assert only(b"\xef\xbb\xbf" + mut(S, "name: Stemirac", "name: Ste\x07mirac").encode()).startswith("x.yaml:14:10: ")
    assert only(mut(S, "name: Stemirac", "name: Ste\ufffemirac")) == (
        "x.yaml:14:10: invalid YAML: character U+FFFE is not allowed")


def test_nul_byte_is_located() -> None:
    raw = mut(S, "name: Stemirac", "name: Ste\x00mirac").encode()
    assert only(raw) == "x.yaml:14:10: contains a NUL byte; is this a binary file?"


def test_line_col_counts_lines_as_pyyaml_does() -> None:
    assert _line_col("ab\r\ncd\ref\ngh", 10) == (4, 1)
    assert _line_col("ab\r\ncd\ref\ngh", 11) == (4, 2)
    assert _line_col("\ufeffab", 2) == (1, 2)


def test_tab_where_pyyaml_wants_spaces_is_located_with_the_fix() -> None:
    """A tab between the items of a flow mapping (which YAML 1.2 allows and PyYAML does not), or indenting a key."""
    assert only(mut(S, "rate_per_month: 1.5, ramp_up_months", "rate_per_month: 1.5,\tramp_up_months")) == (
        "x.yaml:31:35: invalid YAML: while scanning for the next token found character '\\t' that cannot start any "
        "token; put spaces there instead of the tab")
    assert only(S + "\tnote: 1\n").startswith(f"x.yaml:{END}:1: invalid YAML: ")
    assert only(S + "\tnote: 1\n").endswith("; put spaces there instead of the tab")


# ---------------------------------------------------------------------------------------------------- nesting

def test_deep_flow_nesting_is_refused_at_the_first_node_too_deep() -> None:
    text = mut(S, "description: >", "description: " + "[" * 20_000 + "]" * 20_000 + "\nx_description: >")
    # the root mapping is level 1, description's list level 2: level MAX_DEPTH + 1 is the 64th '[' (column 14 + 63)
    assert only(text) == (f"x.yaml:15:77: the YAML is nested more than {loader.MAX_DEPTH} levels deep; "
                          "a design needs a few levels")


def test_deep_block_nesting_is_refused_at_the_first_node_too_deep() -> None:
    text = mut(S, "description: >", "description:\n" + "".join("  " * k + "- \n" for k in range(1, 3000))
               + "x_description: >")
    assert only(text).startswith(f"x.yaml:79:129: the YAML is nested more than {loader.MAX_DEPTH} levels deep; ")


def test_nesting_up_to_the_limit_is_read() -> None:
    depth = loader.MAX_DEPTH - 1  # lists inside description (itself at level 2)
    ok = mut(S, "description: >", "description: " + "[" * depth + "]" * depth + "\nx_description: >")
    assert "nested" not in " ".join(problems(ok))
    deep = mut(S, "description: >", "description: " + "[" * (depth + 1) + "]" * (depth + 1) + "\nx_description: >")
    assert only(deep).startswith(f"x.yaml:15:{13 + depth + 1}: the YAML is nested more than ")


# ---------------------------------------------------------------------------------------------------- size

def _scenarios(n: int) -> str:
    rows = "".join(f"  - {{name: s{k}, treated_rate: 0.3}}\n" for k in range(n)).rstrip("\n")
    return mut(S, "  - {name: no effect, treated_rate: 0.30}", rows)


def test_big_alias_free_design_does_not_blame_aliases(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(loader, "MAX_EXPANDED_VALUES", 1_000)
    assert only(_scenarios(400)) == ("x.yaml:1:1: the design has more than 1,000 values; design files are small "
                                     "(put patient data in a CSV file the design references)")
    with pytest.raises(DesignErrors, match="replicates"):  # 150 scenarios: under the limit, read and validated
        parse_design(mut(_scenarios(150), "replicates: 20000", "replicates: 0"), file="x.yaml")


def test_alias_bomb_is_refused_where_the_aliases_pile_up() -> None:
    lol = 'lol: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    levels = "".join(f"l{k}: &a{k} [" + ",".join([f"*a{k - 1}" if k > 1 else "*a"] * 10) + "]\n" for k in range(1, 10))
    text = mut(S, "simulation:", lol + levels + "simulation:")
    # l5 is the first that alone expands past 200,000 values (l4 has about 10^5)
    line = S[: S.index("simulation:")].count("\n") + 1 + 5  # lol on the line of simulation:, l5 five below
    assert only(text) == (f"x.yaml:{line}:5: the YAML expands to more than 200,000 values through its aliases "
                          "(*name); refusing to read it")


# ---------------------------------------------------------------------------------------------------- files

def test_endless_device_is_refused_promptly() -> None:
    if not os.path.exists("/dev/zero"):
        pytest.skip("no /dev/zero")
    # in a child process limited in time and memory: before the fix this read until memory ran out
    code = ("import resource; resource.setrlimit(resource.RLIMIT_AS, (2**30, 2**30))\n"
            "from condapprove.spec.loader import _read\n"
            "from condapprove.errors import DesignErrors\n"
            "try:\n    _read('/dev/zero')\nexcept DesignErrors as e:\n    print(e)\n")
    out = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, text=True, timeout=30)
    assert out.stdout == ("/dev/zero: is over 4 MiB; a design file must be at most 4 MiB (put patient data in a "
                          "CSV it references)\n"), out.stderr[-500:]


def test_endless_pipe_is_refused_without_waiting_for_its_end(tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(loader, "MAX_DESIGN_BYTES", 1_000)
    fifo = tmp_path / "fifo.yaml"
    os.mkfifo(fifo)
    done = threading.Event()

    def write() -> None:
        with open(fifo, "wb") as fh:
            fh.write(b"# " + b"x" * 5_000 + b"\n")
            fh.flush()
            done.wait(10)  # keep the pipe open: a reader waiting for its end waits 10 s

    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    t0 = time.perf_counter()
    try:
        with pytest.raises(DesignErrors, match=r"fifo\.yaml: is over 0 MiB; a design file must be at most"):
            _read(fifo)
    finally:
        done.set()
        writer.join(10)
    assert time.perf_counter() - t0 < 5


def test_pipe_design_is_still_read(tmp_path: Path) -> None:
    fifo = tmp_path / "design.yaml"
    os.mkfifo(fifo)
    writer = threading.Thread(target=lambda: fifo.write_bytes(S.encode()), daemon=True)
    writer.start()
    loaded = load_design_with_source(fifo)
    writer.join(10)
    assert loaded.design.name.startswith("Stemirac-like")


def test_big_regular_file_gives_its_size(tmp_path: Path) -> None:
    f = tmp_path / "big.yaml"
    f.write_bytes(S.encode() + b"# " + b"x" * (5 * 2**20) + b"\n")
    with pytest.raises(DesignErrors, match=r"big\.yaml: is 5\.0 MiB; a design file must be at most 4 MiB"):
        _read(f)


# ---------------------------------------------------------------------------------------------------- others

def test_other_yaml_errors_keep_their_position() -> None:
    assert only(mut(S, "    target_n: 60", "\ttarget_n: 60")).startswith(
        "x.yaml:32:1: invalid YAML: while scanning for the next token found character '\\t'")
    assert only(S + "\n---\nname: second\n") == (
        f"x.yaml:{END + 1}:1: invalid YAML: expected a single document in the stream but found another document")
    assert parse_design(mut(S, "    target_n: 60 ", "    &k target_n: 60 "), file="x.yaml").name.startswith("Stemirac")
