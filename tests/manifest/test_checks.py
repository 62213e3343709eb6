"""The checks across manifests: which ``depends_on`` cycle is named, and where."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.manifest.checks import Claim, cross_manifest_problems, find_cycle
from reconciler.manifest.positions import NAME, Position, SourceMap


def claim(name: str, *depends_on: str) -> Claim:
    where = {NAME: Position(4, 9), ("spec", "depends_on"): Position(7, 3)}
    source = SourceMap(f"{name}.yaml", 0, where, {})
    return Claim(name, source, None, depends_on)


def test_a_cycle_is_named_in_depends_on_order_at_the_manifest_it_starts_from() -> None:
    claims = [claim("c", "a"), claim("b", "c"), claim("a", "b")]
    (problem,) = cross_manifest_problems(claims)
    assert str(problem) == "a.yaml:7:3: spec.depends_on: dependency cycle: a -> b -> c -> a"


def test_self_loops_and_unknown_names_have_their_own_messages_not_a_cycle() -> None:
    problems = [p.message for p in cross_manifest_problems([claim("a", "a", "x"), claim("b", "a")])]
    assert problems == ["a manifest cannot depend on itself", "no manifest named 'x'"]
    assert find_cycle({"a": ["a", "x"], "b": ["a"]}) == []


def walk_reference(graph: Mapping[str, Sequence[str]]) -> list[str]:
    """The cycle a depth-first walk meets first, from each name in sorted order and through each
    name's ``depends_on`` in written order (the loader's own walk before it used graphlib)."""
    state: dict[str, int] = {}  # 1 visiting, 2 done
    stack: list[str] = []

    def visit(node: str) -> list[str]:
        state[node] = 1
        stack.append(node)
        for nxt in graph[node]:
            if nxt == node or nxt not in graph:
                continue
            if state.get(nxt) == 1:
                return stack[stack.index(nxt) :]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return []

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return []


NAMES = st.sampled_from("abcdefg")


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(NAMES, st.lists(st.sampled_from("abcdefgx"), max_size=4), max_size=7))
def test_the_cycle_named_is_the_first_one_a_walk_in_name_order_meets(graph: dict[str, list[str]]) -> None:
    cycle = find_cycle(graph)
    assert cycle == walk_reference(graph)
    for here, there in zip(cycle, [*cycle[1:], *cycle[:1]], strict=True):
        assert there in graph[here]
