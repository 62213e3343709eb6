"""What the emulator's catalog holds, grouped the way people think of it, for ``reconciler emulator
catalog`` and the demo: each glossary with its terms and categories, each domain with its
sub-domains and products, each connection with the assets under it, and the rest by type.

Pure: reads documents from ``Catalog.select`` and returns plain data; the command renders it.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from reconciler.emulator.catalog import ACTIVE

_WORDS = re.compile(r"[A-Z]+(?![a-z])|[A-Z][a-z]*|[a-z]+|\d+")
# Type names whose everyday word is not their last CamelCase word, lower-cased.
_NOUNS = {
    "AtlasGlossaryTerm": "term",
    "AtlasGlossaryCategory": "category",
    "DataDomain": "sub-domain",
    "DataProduct": "product",
}


def noun(type_name: str, count: int) -> str:
    """``1 table``, ``3 processes``, ``2 materialised views``, ``5 categories``."""
    word = _NOUNS.get(type_name) or " ".join(w.lower() for w in _WORDS.findall(type_name)) or type_name
    if count != 1:
        if word.endswith(("s", "x", "ch", "sh")):
            word += "es"
        elif word.endswith("y") and word[-2:-1] not in ("a", "e", "o", "u"):
            word = word[:-1] + "ies"
        else:
            word += "s"
    return f"{count} {word}"


@dataclass
class Group:
    """One glossary, root domain or connection, and how many active assets of each type it holds."""

    kind: str  # glossary | domain | connection | other
    name: str
    qualified_name: str
    counts: Counter[str] = field(default_factory=Counter)

    def describe(self) -> str:
        parts = ", ".join(noun(t, n) for t, n in sorted(self.counts.items(), key=_type_order)) or "empty"
        return f"{self.kind} {self.name}: {parts}" if self.kind != "other" else f"other assets: {parts}"

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "name": self.name,
            "qualifiedName": self.qualified_name,
            "counts": dict(sorted(self.counts.items())),
        }


_ORDER = ("AtlasGlossaryTerm", "AtlasGlossaryCategory", "DataDomain", "DataProduct", "Database", "Schema")


def _type_order(item: tuple[str, int]) -> tuple[int, str]:
    return (_ORDER.index(item[0]) if item[0] in _ORDER else len(_ORDER), item[0])


def _attributes(document: Mapping[str, Any]) -> Mapping[str, Any]:
    attributes = document.get("attributes")
    return attributes if isinstance(attributes, Mapping) else {}


def _qualified_name(document: Mapping[str, Any]) -> str:
    return str(_attributes(document).get("qualifiedName") or "")


def summarise(documents: Iterable[Mapping[str, Any]]) -> list[Group]:
    """Active assets grouped by glossary, root domain and connection (in that order, each by name),
    then whatever belongs to none of them."""
    active = [d for d in documents if d.get("status", ACTIVE) == ACTIVE]
    groups: dict[str, Group] = {}
    connections: list[Group] = []
    domains: list[Group] = []
    for document in active:
        type_name, qualified_name = str(document.get("typeName")), _qualified_name(document)
        name = str(_attributes(document).get("name") or qualified_name)
        if type_name == "AtlasGlossary":
            groups[qualified_name] = Group("glossary", name, qualified_name)
        elif type_name == "Connection":
            connector = _attributes(document).get("connectorName")
            label = f"{name} ({connector})" if connector else name
            connections.append(Group("connection", label, qualified_name))
        elif type_name == "DataDomain" and "/domain/" not in qualified_name.partition("/domain/")[2]:
            domains.append(Group("domain", name, qualified_name))
    other = Group("other", "", "")
    for document in active:
        type_name, qualified_name = str(document.get("typeName")), _qualified_name(document)
        if type_name in ("AtlasGlossary", "Connection"):
            continue
        owner = _owner(qualified_name, type_name, groups, domains, connections)
        if owner is None and type_name == "DataDomain":
            continue  # a root domain is its own group
        (owner or other).counts[type_name] += 1
    ordered = [
        *sorted(groups.values(), key=lambda g: g.name),
        *sorted(domains, key=lambda g: g.name),
        *sorted(connections, key=lambda g: g.name),
    ]
    return [*ordered, other] if other.counts else ordered


def _owner(
    qualified_name: str,
    type_name: str,
    glossaries: Mapping[str, Group],
    domains: Iterable[Group],
    connections: Iterable[Group],
) -> Group | None:
    if type_name in ("AtlasGlossaryTerm", "AtlasGlossaryCategory"):
        return glossaries.get(qualified_name.rpartition("@")[2])
    # The longest prefix wins, so that a connection named like another's prefix is not confused.
    candidates = [*domains, *connections] if type_name.startswith("Data") else [*connections, *domains]
    best: Group | None = None
    for group in candidates:
        inside = qualified_name.startswith(group.qualified_name + "/")
        if inside and (best is None or len(group.qualified_name) > len(best.qualified_name)):
            best = group
    return best
