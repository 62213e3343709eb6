"""Property tests: any input gives a model or reported problems, never an unexpected exception."""

from __future__ import annotations

import io
import math
from datetime import date
from typing import Any

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from reconciler.errors import Problem
from reconciler.manifest.documents import DocumentBuilder, new_yaml
from reconciler.manifest.loader import LoadedManifest, load_text
from reconciler.packages.compiler import UnresolvedReferenceError, compile_workflow
from tests.helpers import EXAMPLES

SEEDS = [
    doc for path in sorted(EXAMPLES.rglob("*.yaml")) for doc in YAML(typ="safe").load_all(path.read_text())
]

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 100),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12),
    st.sampled_from(
        ["upsert", "partial", "x", "", ",", "${env:X}", "${env:", "0 2 * * *", "UTC", "csa-asset-import-1"]
    ),
)
values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=8,
)


def _dump(document: Any) -> str:
    buffer = io.StringIO()
    YAML(typ="safe", pure=True).dump(document, buffer)
    return buffer.getvalue()


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(node, dict):
        for key, value in node.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _paths(value, (*prefix, index))
    return found


@st.composite
def mutated_manifests(draw: st.DrawFn) -> str:
    document = draw(st.sampled_from(SEEDS))
    document = YAML(typ="safe").load(_dump(document))  # a deep copy
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(_paths(document)))
        action = draw(st.sampled_from(["replace", "delete", "add"]))
        if not path:
            continue
        parent = document
        for part in path[:-1]:
            parent = parent[part]
        if action == "replace":
            parent[path[-1]] = draw(values)
        elif action == "delete":
            del parent[path[-1]]
        elif isinstance(parent, dict):
            parent[draw(st.text(max_size=10))] = draw(values)
    return _dump(document)


def _check(text: str) -> None:
    loaded, problems = load_text(text, "m.yaml")
    assert all(isinstance(p, Problem) and p.message for p in problems)
    for item in loaded:
        assert isinstance(item, LoadedManifest)
        missing: tuple[object, ...] = ()
        try:
            compile_workflow(item.manifest, instance="default", environ={"X": "x"})
        except UnresolvedReferenceError as exc:
            missing = exc.missing
            assert missing, "an unresolved reference names what is missing"


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_manifests())
def test_mutated_manifests_load_or_report(text: str) -> None:
    _check(text)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_random_text_loads_or_reports(text: str) -> None:
    _check(text)


@settings(max_examples=200, deadline=None)
@given(values)
def test_random_yaml_documents_load_or_report(document: Any) -> None:
    _check(_dump(document))


PLAIN_SCALARS = st.one_of(
    st.sampled_from(
        [
            "true",
            "False",
            "yes",
            "~",
            "null",
            "0x1F",
            "0o17",
            "1_000",
            "-0",
            "+7",
            "1e3",
            ".inf",
            "-.NaN",
            "2026-11-21",
            "2026-11-21T10:00:00Z",
            "20",
            "upsert",
            "t0",
            "0.5",
            "''",
            "'true'",
            '"20"',
        ]
    ),
    # Printable text without YAML's indicators (anchors, tags, flow, comments): plain scalars.
    st.text(
        st.characters(min_codepoint=0x20, max_codepoint=0x7E, exclude_characters="&*!|>%@`#{}[],:?"),
        min_size=1,
        max_size=10,
    ),
)


def _same(ours: Any, reference: Any) -> bool:
    if isinstance(reference, date):  # timestamps stay strings in manifests
        return isinstance(ours, str)
    if isinstance(reference, float) and math.isnan(reference):
        return isinstance(ours, float) and math.isnan(ours)
    return type(ours) is type(reference) and ours == reference


@settings(max_examples=300, deadline=None)
@given(st.lists(PLAIN_SCALARS, min_size=1, max_size=4))
def test_scalars_are_typed_as_ruamel_types_them_whatever_was_seen_before(texts: list[str]) -> None:
    """The loader resolves each scalar text's tag and value once and reuses them: a text must come
    out typed as ruamel's own pure-Python loader types it, on first sight and after."""
    text = "".join(f"k{i}: {scalar}\n" for i, scalar in enumerate(texts * 2))
    try:
        reference = YAML(typ="safe", pure=True).load(text)
    except (YAMLError, ValueError):  # ruamel types "-_" an int, then cannot construct it
        assume(False)
    yaml = new_yaml()
    for _ in range(2):
        (node,) = yaml.compose_all(text)
        ours = DocumentBuilder("m.yaml", 0, yaml, track=False).build(node)
        assert set(ours) == set(reference)
        assert all(_same(ours[key], reference[key]) for key in reference), (ours, reference)
