"""Property tests on hostile text: whatever the bytes or the nesting, the loader returns or raises a
ReconcilerError (no traceback, no RecursionError, no crash), and the depth bound of
reconciler/manifest/screen.py never clears a text that nests too deeply."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ruamel.yaml.error import YAMLError
from ruamel.yaml.events import MappingEndEvent, MappingStartEvent, SequenceEndEvent, SequenceStartEvent

from reconciler.errors import ReconcilerError
from reconciler.manifest.documents import new_yaml
from reconciler.manifest.loader import load_manifests, load_text
from reconciler.manifest.screen import MAX_DEPTH, bound_clears

# -- nesting, in every style YAML has --


def _indent(text: str, spaces: int) -> str:
    return "".join(" " * spaces + line if line else line for line in text.splitlines(keepends=True))


def _wrap_flow(inner: str, style: str) -> str:
    return {
        "seq": f"[{inner}]",
        "map": f"{{k: {inner}}}",
        "pair": f"[k: {inner}]",
        "two": f"[a, {inner}, b]",
    }[style]


def _wrap_block(inner: str, style: str, spaces: int) -> str:
    if style == "map":
        return f"k:\n{_indent(inner, spaces)}"
    if style == "map-same-column" and inner.startswith("- "):  # a sequence as a mapping's value
        return f"k:\n{inner}"
    if style == "compact":  # "- - - x"
        return "- " + _indent(inner, 2)[2:]
    if style == "explicit":  # "? - a" with a value after
        return "? " + _indent(inner, 2)[2:] + "\n: v\n"
    return f"-\n{_indent(inner, spaces)}"


@st.composite
def nested_texts(draw: st.DrawFn) -> str:
    """Documents nested up to 150 deep: block collections outside, flow collections inside (YAML
    allows no block collection inside a flow one), with comments, anchors and line breaks."""
    documents = []
    for _ in range(draw(st.integers(1, 3))):
        inner = draw(st.sampled_from(["x", "'q'", "&a x", '"a\\"b"', "[]", "{}"]))
        flow, block = draw(st.integers(0, 100)), draw(st.integers(0, 50))
        for style in draw(
            st.lists(st.sampled_from(["seq", "map", "pair", "two"]), min_size=flow, max_size=flow)
        ):
            inner = _wrap_flow(inner, style)
        inner += "\n"
        block_styles = st.sampled_from(["map", "map-same-column", "compact", "explicit", "seq"])
        for style in draw(st.lists(block_styles, min_size=block, max_size=block)):
            inner = _wrap_block(inner, style, draw(st.integers(1, 2)))
        documents.append(inner)
    separator = draw(st.sampled_from(["---\n", "\n---\n", "...\n---\n", "--- # next\n"]))
    text = separator.join(documents)
    return text.replace("\n", draw(st.sampled_from(["\n", "\r\n", "\r"])))


# Pieces of YAML, strung together at random: mostly not YAML, and sometimes nested in ways the
# styles above do not write.
token_soup = st.lists(
    st.sampled_from(
        [
            *("[", "]", "{", "}", ",", "- ", "? ", ": ", "k: ", "k:", "\n", " ", "  ", "x", "&a ", "*a"),
            *("!!map ", "|\n", "'", '"', "#", "---\n", "...\n", "\r", "\t", "\ufeff", "\u2028", "\x85"),
        ]
    ),
    max_size=400,
).map("".join)


def _depth(text: str) -> int:
    """How deep ruamel's parser nests ``text``, up to a syntax error if it has one."""
    depth = deepest = 0
    try:
        for event in new_yaml().parse(text):
            if isinstance(event, MappingStartEvent | SequenceStartEvent):
                depth += 1
                deepest = max(deepest, depth)
            elif isinstance(event, MappingEndEvent | SequenceEndEvent):
                depth -= 1
    except YAMLError:
        pass
    return deepest


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(nested_texts() | token_soup)
def test_the_depth_bound_never_clears_a_text_nested_too_deeply(text: str) -> None:
    depth = _depth(text)
    if bound_clears(text):
        assert depth <= MAX_DEPTH
    _, problems = load_text(text, "m.yaml")
    nested = [p for p in problems if "nested more than" in p.message]
    assert bool(nested) == (depth > MAX_DEPTH)


# -- any bytes --

FRAGMENTS = [
    b"\x00",
    b"\x07",
    b"\x1b[31m",
    b"\x7f",
    b"\xc2\x85",  # NEL, a line break to libyaml
    b"\xe2\x80\xa8",  # LINE SEPARATOR
    b"\xef\xbb\xbf",  # a BOM, anywhere
    b"\xff",
    b"\xc0\x80",  # overlong NUL: not UTF-8
    b"\x80",
    b"\xed\xa0\x80",  # a surrogate: not UTF-8
    b"\xef\xbf\xbe",  # U+FFFE
    b"\r",
    b"\n---\n",
    b"- ",
    b": ",
    b"? ",
    b"&a ",
    b"*a",
    b"<<: *a\n",
    b"!!binary ",
    b"%YAML 1.1\n",
    b"apiVersion: reconciler/v1\nkind: AssetImport\nmetadata: {name: a}\nspec: {assets: {prefix: /p, object_key: k}}\n",
    b"  labels: {'bad key': x}\n",
    b"{{credentialGuid}}",
    b"a" * 100_000,  # a huge line
]
hostile_bytes = st.one_of(
    st.binary(max_size=300),
    st.lists(st.sampled_from(FRAGMENTS) | st.binary(max_size=8), max_size=30).map(b"".join),
    st.tuples(st.integers(0, 100_000), st.sampled_from([b"[", b"{a: ", b"- ", b"[a: "])).map(
        lambda drawn: drawn[1] * drawn[0]
    ),
)


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("hostile") / "m.yaml"


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(content=hostile_bytes)
def test_any_bytes_load_or_raise_a_reconciler_error(scratch: Path, content: bytes) -> None:
    scratch.write_bytes(content)
    error: ReconcilerError | None = None
    try:
        loaded = load_manifests([scratch])
    except ReconcilerError as exc:  # any other exception fails the test
        error, loaded = exc, ()
    assert all(item.source.file == str(scratch) for item in loaded)
    assert error is None or str(error)
    assert all(problem.message for problem in getattr(error, "problems", ()))
