"""Checks across manifests: what no single manifest can get wrong on its own.

Names are unique, a workflow is adopted by one manifest at most, and ``depends_on`` names
manifests that exist, never the manifest itself, and never in a cycle (the planner orders
applies by ``depends_on`` and counts on that: reconciler/plan/planner.py). The messages are
pinned by tests/manifest/test_loader_errors.py and tests/manifest/test_checks.py.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from graphlib import CycleError, TopologicalSorter

from reconciler.errors import Problem
from reconciler.manifest.messages import did_you_mean
from reconciler.manifest.positions import NAME, SourceMap


@dataclass(frozen=True, slots=True)
class Claim:
    """What the checks across manifests read of one: its name and where it stands, what it adopts
    and what it depends on (not the whole manifest, which the loader's caller may have let go)."""

    name: str
    source: SourceMap
    adopt: str | None
    depends_on: tuple[str, ...]


def cross_manifest_problems(claims: Sequence[Claim]) -> Iterator[Problem]:
    """Every problem between the manifests of one load, in the order of ``claims``; one
    ``depends_on`` cycle at most is reported (see ``find_cycle``), at the manifest it starts from."""
    by_name: dict[str, Claim] = {}
    adopted: dict[str, Claim] = {}
    for item in claims:
        first = by_name.setdefault(item.name, item)
        if first is not item:
            yield item.source.problem(
                NAME,
                f"name {item.name!r} is also used at {first.source.name_location}; names must be unique",
            )
        if item.adopt is not None:
            owner = adopted.setdefault(item.adopt, item)
            if owner is not item:
                yield item.source.problem(
                    ("spec", "adopt"),
                    f"workflow {item.adopt!r} is also adopted by {owner.name!r} "
                    f"at {owner.source.name_location}",
                )
    for item in claims:
        for index, dependency in enumerate(item.depends_on):
            if dependency == item.name:
                yield item.source.problem(("spec", "depends_on", index), "a manifest cannot depend on itself")
            elif dependency not in by_name:
                hint = did_you_mean(dependency, list(by_name))
                yield item.source.problem(
                    ("spec", "depends_on", index), f"no manifest named {dependency!r}{hint}"
                )
    cycle = find_cycle({name: item.depends_on for name, item in by_name.items()})
    if cycle:
        start = by_name[cycle[0]]
        yield start.source.problem(
            ("spec", "depends_on"), f"dependency cycle: {' -> '.join([*cycle, cycle[0]])}"
        )


def find_cycle(depends_on: Mapping[str, Sequence[str]]) -> list[str]:
    """One cycle of the graph, each name depending on the next and the last on the first, or []
    if there is none. Self-loops and names outside the graph are left out: they have their own
    messages.

    The graph is handed to graphlib with each name ordered *before* what it depends on, so that
    the cycle graphlib reports reads in ``depends_on`` order. It is the first cycle a depth-first
    walk meets, starting from each name in the order added (sorted, so the cycle named does not
    depend on file order) and following each name's ``depends_on`` in the order written;
    tests/manifest/test_checks.py pins this against such a walk.
    """
    # Only a name that depends on something can start a cycle; the others join the graph when
    # an edge reaches them, and end a walk wherever it meets them. A load without depends_on
    # (the benchmark's 10,000 manifests) builds no graph at all.
    names = sorted(name for name, dependencies in depends_on.items() if dependencies)
    sorter: TopologicalSorter[str] = TopologicalSorter()
    for name in names:
        sorter.add(name)
    for name in names:
        for dependency in depends_on[name]:
            if dependency != name and dependency in depends_on:
                sorter.add(dependency, name)
    try:
        sorter.prepare()
    except CycleError as exc:
        cycle: list[str] = exc.args[1]
        return cycle[:-1]  # graphlib repeats the first name at the end
    return []
