"""Cells -> attribute values, as the packages decode them (../shared/atlan-csv-formats.md §1.1,
§1.2, §7.3, §7.6), and how each value lands on an entity document.

A header is turned once into a ``Column`` per column the importer uses: the attribute it sets
and the kind of value (from the SDK's vocabulary, ``reconciler.data.vocabulary``, and the
packages' own encodings for references). Columns that are no attribute are ignored, as the
package ignores them. ``Columns.apply`` then sets one row's values on a document:

- a blank cell leaves the attribute as it is, unless the attribute is in ``*_attr_to_overwrite``
  (cleared; ``certificateStatus`` also clears its message, ``announcementType`` its title and
  message), or it is ``atlanTags`` with tag handling ``replace`` (every tag removed);
- a value that cannot be decoded goes to ``on_problem``: it raises (fail on errors) or warns,
  and then the value is dropped;
- references (``Type@qualifiedName``, ``Term@@@Glossary``, category and domain paths) must name
  something that exists and become Atlan related objects; ``++``/``--`` before a value appends
  to or removes from the current list instead of replacing it.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from reconciler.data.vocabulary import is_custom_metadata, vocabulary
from reconciler.emulator.imports.csvfile import text, values
from reconciler.emulator.imports.resolve import (
    CellError,
    Resolver,
    guid_of,
    related,
    split_domain_path,
)

# Term references, written Term@@@Glossary (GlossaryTermXformer).
TERM_FIELDS = frozenset({
    "assignedTerms", "seeAlso", "preferredTerms", "preferredToTerms", "synonyms", "antonyms",
    "translatedTerms", "translationTerms", "validValuesFor", "validValues", "classifies", "isA",
    "replacedBy", "replacementTerms",
})  # fmt: skip
# The two ends of one relationship: both as headers of one file is an error (AbstractBaseImporter).
BOTH_ENDS = (
    ("preferredTerms", "preferredToTerms"),
    ("translatedTerms", "translationTerms"),
    ("validValues", "validValuesFor"),
    ("classifies", "isA"),
    ("replacedBy", "replacementTerms"),
)
IDENTITY = frozenset({"typeName", "qualifiedName", "guid"})
# What else a cleared attribute takes with it (CSVImporter.attributesToClear).
CLEARS_TOO = {
    "certificateStatus": ("certificateStatusMessage",),
    "announcementType": ("announcementTitle", "announcementMessage"),
    "assignedTerms": ("meanings",),
}
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_DECIMAL = re.compile(r"[+-]?\d+(\.\d*)?")
_PROPAGATION = frozenset({"FULL", "HIERARCHY_ONLY", "LINEAGE_ONLY"})  # >>MODE: the tag propagates

OnProblem = Callable[[str, str], None]  # (column, message): raises, or warns and the value is dropped


@dataclass(frozen=True, slots=True)
class Column:
    index: int
    name: str  # the header
    attribute: str  # what it sets
    kind: str


def _kind(name: str, section: str) -> str | None:
    """How a column's cells are decoded, or None when the importer ignores the column."""
    if name in IDENTITY:
        return None
    if name == "atlanTags":
        return "tags"
    if is_custom_metadata(name):
        return "cm"
    if name in ("connectorType", "customConnectorType", "connectorName"):
        return "connector"
    if name in TERM_FIELDS:
        return "terms"
    special = {
        "status": "status",
        "readme": "readme",
        "links": "links",
        "domainGUIDs": "domain-guids",
        "dataProductAssetsDSL": "json-text",
        "categories": "categories" if section == "glossaries" else None,
    }
    if name in special:
        return special[name]
    if name in ("anchor", "parentCategory", "parentDomain", "dataDomain"):
        return None  # identity of glossary and mesh rows: set by their importers
    return vocabulary().kinds.get(name)  # None: no attribute, so the package ignores the column


class Columns:
    """The columns of one file that set attributes, and how to set them on a document."""

    def __init__(self, header: Sequence[str], section: str, *, exclude: Iterable[str] = ()) -> None:
        excluded = set(exclude)
        self.columns: list[Column] = []
        for index, name in enumerate(header):
            kind = _kind(name, section)
            if kind is None or name in excluded:
                continue
            attribute = "connectorName" if kind == "connector" else name
            self.columns.append(Column(index, name, attribute, kind))

    def only(self, names: Iterable[str]) -> Columns:
        """These columns restricted to ``names``."""
        keep = set(names)
        narrowed = Columns((), "")
        narrowed.columns = [column for column in self.columns if column.name in keep]
        return narrowed

    def apply(
        self,
        document: dict[str, Any],
        cells: Sequence[str],
        *,
        resolver: Resolver,
        on_problem: OnProblem,
        remove_if_empty: frozenset[str],
        tag_handling: str,
        cm_handling: str,
        related_out: list[dict[str, Any]],
    ) -> None:
        """Set ``cells`` on ``document`` (changed in place); new or changed related entities
        (READMEs, links) are appended to ``related_out``."""
        attributes: dict[str, Any] = document["attributes"]
        for column in self.columns:
            cell = cells[column.index]
            kind = column.kind
            if kind == "tags":
                if tag_handling != "ignore" and (cell or tag_handling == "replace"):
                    _apply_tags(document, cell, tag_handling, column, on_problem)
                continue
            if kind == "cm":
                if cm_handling != "ignore":
                    _apply_cm(document, column.name, cell, cm_handling)
                continue
            if not cell:
                if column.attribute in remove_if_empty:
                    _clear(document, column.attribute, resolver, related_out)
                continue
            try:
                if kind == "status":
                    document["status"] = _status(cell)
                elif kind == "readme":
                    _readme(document, text(cell), related_out)
                elif kind == "links":
                    _links(document, cell, resolver, related_out, on_problem, column)
                else:
                    value = decode(kind, column.attribute, cell, resolver, attributes.get(column.attribute))
                    attributes[column.attribute] = value
                    if column.attribute == "assignedTerms":
                        attributes["meanings"] = value
            except CellError as exc:
                on_problem(column.name, str(exc))


def decode(kind: str, attribute: str, cell: str, resolver: Resolver, current: Any = None) -> Any:
    """One cell's value for ``attribute``; CellError if it cannot be decoded."""
    many = kind.endswith("*") or kind in ("terms", "categories", "domain-guids")
    base = kind.rstrip("*")
    if base in ("terms", "categories", "reference"):
        return _references(base, cell, resolver, current if many else None, many=many)
    if base == "domain-guids":
        return [_domain_guid(value, resolver) for value in values(cell)]
    if base == "connector":
        return cell.lower()
    if base == "json-text":
        _json(cell)
        return text(cell)
    decoder = _SCALARS.get(base, _text)
    if many:
        decoded = [decoder(value, attribute) for value in values(cell)]
        return [value for value in decoded if value is not None]
    return decoder(cell, attribute)


def _text(value: str, _attribute: str) -> str:
    return text(value)


def _boolean(value: str, _attribute: str) -> bool:
    return value.lower() == "true"  # Kotlin's toBoolean(): anything else is false


def _integer(value: str, _attribute: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise CellError(f"expected a whole number, got {value!r}") from None


def _number(value: str, _attribute: str) -> float:
    try:
        return float(value)
    except ValueError:
        raise CellError(f"expected a number, got {value!r}") from None


def _date(value: str, _attribute: str) -> int:
    """Epoch milliseconds (a decimal is rounded) or an ISO-8601 instant (TimestampXformer)."""
    if _DECIMAL.fullmatch(value):
        return round(float(value))
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        parsed = None
    if parsed is None or parsed.tzinfo is None:
        raise CellError(
            f"expected epoch milliseconds or an ISO-8601 instant such as 2024-01-31T12:00:00Z, got {value!r}"
        )
    return round(parsed.timestamp() * 1000)


def _enum(value: str, attribute: str) -> str:
    """The enum's value as given, or upper-cased (EnumXformer retries ALL-CAPS)."""
    allowed = vocabulary().enums.get(attribute, ())
    if not allowed or value in allowed:
        return value
    if value.upper() in allowed:
        return value.upper()
    raise CellError(f"expected one of {', '.join(allowed)}; got {value!r}")


def _json(value: str, _attribute: str = "") -> Any:
    try:
        return json.loads(value)
    except ValueError as exc:
        raise CellError(f"expected JSON: {exc}") from None


_SCALARS: Mapping[str, Callable[[str, str], Any]] = {
    "text": _text,
    "boolean": _boolean,
    "integer": _integer,
    "number": _number,
    "date": _date,
    "enum": _enum,
    "json": _json,
}


def _status(value: str) -> str:
    status = value.upper()
    if status not in ("ACTIVE", "DELETED"):
        raise CellError(f"expected ACTIVE or DELETED, got {value!r}")
    return status


def _semantic(value: str) -> tuple[str, str]:
    """``++x`` append, ``--x`` remove, ``x`` replace (AssetRefXformer.getSemantic)."""
    if value.startswith("++"):
        return "append", value[2:].strip()
    if value.startswith("--"):
        return "remove", value[2:].strip()
    return "replace", value


def _one_reference(base: str, value: str, resolver: Resolver) -> dict[str, Any]:
    if base == "terms":
        return related(resolver.term(value))
    if base == "categories":
        return related(resolver.category_path(value))
    type_name, found, qualified_name = value.partition("@")
    if not found or not type_name or not qualified_name:
        raise CellError(f"expected TypeName@qualifiedName, got {value!r}")
    if type_name not in vocabulary().types:
        raise CellError(f"unknown typeName {type_name!r} in reference {value!r}")
    return resolver.reference(type_name, qualified_name)


def _references(base: str, cell: str, resolver: Resolver, current: Any, *, many: bool) -> Any:
    """Related objects for a reference cell; a list (appended to / removed from ``current`` with
    ``++`` / ``--``) when the attribute holds many."""
    items = values(cell) if many else [cell]
    replace: list[dict[str, Any]] = []
    append: list[dict[str, Any]] = []
    removed: set[str] = set()
    replacing = not many
    for item in items:
        semantic, value = _semantic(item) if many else ("replace", item)
        found = _one_reference(base, value, resolver)
        if semantic == "replace":
            replacing = True
            replace.append(found)
        elif semantic == "append":
            append.append(found)
        else:
            removed.add(found["guid"])
    if not many:
        return replace[0]
    kept = replace if replacing else [r for r in (current or []) if isinstance(r, Mapping)]
    merged: list[dict[str, Any]] = []
    seen: set[str] = set()
    for reference in [*kept, *append]:
        guid = str(reference.get("guid"))
        if guid not in removed and guid not in seen:
            seen.add(guid)
            merged.append(dict(reference))
    return merged


def _domain_guid(value: str, resolver: Resolver) -> str:
    """A domain's GUID, given as one or as a domain path (DataDomainXformer)."""
    if _UUID.fullmatch(value):
        found = resolver.catalog.get(value)
        if found is None or found.get("typeName") != "DataDomain":
            raise CellError(f"no data domain with GUID {value!r} exists")
        return value
    domain = resolver.domain(split_domain_path(value))
    if domain is None:
        raise CellError(f"no data domain {value!r} exists")
    return str(domain["guid"])


def _clear(
    document: dict[str, Any], attribute: str, resolver: Resolver, related_out: list[dict[str, Any]]
) -> None:
    attributes = document["attributes"]
    readme = resolver.catalog.get(guid_of(attributes.get("readme")) or "") if attribute == "readme" else None
    if readme is not None:  # the README itself is archived, as the package's last pass does
        related_out.append({**readme, "status": "DELETED"})
    for name in (attribute, *CLEARS_TOO.get(attribute, ())):
        attributes.pop(name, None)


def _apply_tags(
    document: dict[str, Any], cell: str, handling: str, column: Column, on_problem: OnProblem
) -> None:
    """``atlanTags``: one tag a line, ``[++|--]Name[ {{source tag}}][>>FULL|HIERARCHY_ONLY|LINEAGE_ONLY]``;
    lines ending ``<<PROPAGATED`` are ignored (AtlanTagXformer, §1.2). Tags are accepted by name
    as given: the emulator does not know the tenant's tag definitions."""
    current: dict[str, dict[str, Any]] = {
        c["typeName"]: dict(c) for c in document.get("classifications") or [] if isinstance(c, Mapping)
    }
    listed: dict[str, dict[str, Any]] = {}
    appended: dict[str, dict[str, Any]] = {}
    removed: set[str] = set()
    for line in values(cell):
        if line.endswith("<<PROPAGATED"):
            continue
        semantic, rest = _semantic(line)
        rest, _, propagation = rest.partition(">>")
        name = rest.split("{{", 1)[0].strip()
        if not name:
            on_problem(column.name, f"no tag name in {line!r}")
            continue
        tag = {
            "typeName": name,
            "entityGuid": document["guid"],
            "propagate": propagation.strip() in _PROPAGATION,
        }
        if semantic == "remove":
            removed.add(name)
        elif semantic == "append":
            appended[name] = tag
        else:
            listed[name] = tag
    if handling == "replace" and (listed or not (appended or removed)):
        result = dict(listed)
    elif handling == "remove":
        result = {name: tag for name, tag in current.items() if name not in listed}
    else:  # append; or replace with every tag prefixed, each ++/-- then saying what to do
        result = {**current, **listed}
    result.update(appended)
    for name in removed:
        result.pop(name, None)
    document["classificationNames"] = list(result)
    document["classifications"] = list(result.values())


def _apply_cm(document: dict[str, Any], header: str, cell: str, handling: str) -> None:
    """``Set::Attribute``: kept by display names, as given (the emulator has no typedefs)."""
    set_name, _, attribute = (part.strip() for part in header.partition("::"))
    sets: dict[str, Any] = document.get("businessAttributes") or {}
    if not cell:  # blank: left as it is, unless the set is overwritten
        if handling == "overwrite" and attribute in sets.get(set_name, {}):
            del sets[set_name][attribute]
        return
    found = values(cell)
    document["businessAttributes"] = sets
    sets.setdefault(set_name, {})[attribute] = found[0] if len(found) == 1 else found


def _readme(document: dict[str, Any], html: str, related_out: list[dict[str, Any]]) -> None:
    """The asset's README, a related ``Readme`` entity (qualifiedName ``<asset guid>/readme``)."""
    attributes = document["attributes"]
    current = attributes.get("readme")
    related_out.append(
        {
            "typeName": "Readme",
            "guid": guid_of(current) or str(uuid.uuid4()),
            "attributes": {
                "qualifiedName": f"{document['guid']}/readme",
                "name": f"{attributes.get('name', '')} Readme",
                "description": html,
                "asset": related(document),
            },
        }
    )
    attributes["readme"] = {
        "typeName": "Readme",
        "guid": related_out[-1]["guid"],
        "uniqueAttributes": {"qualifiedName": f"{document['guid']}/readme"},
    }


def _links(
    document: dict[str, Any],
    cell: str,
    resolver: Resolver,
    related_out: list[dict[str, Any]],
    on_problem: OnProblem,
    column: Column,
) -> None:
    """``links``: one JSON Link a line, each a related ``Link`` entity; a link already on the
    asset with the same URL is kept (and renamed if its name changed), as ``link_idempotency:
    url`` does. ``++``/``--`` add or remove one link, keeping the others."""
    attributes = document["attributes"]
    current = [link for link in attributes.get("links") or [] if isinstance(link, Mapping)]
    by_url: dict[str, str] = {}
    for link in current:
        stored = resolver.catalog.get(str(link.get("guid")))
        if stored is not None:
            by_url[str(stored["attributes"].get("link", ""))] = stored["guid"]
    listed: list[dict[str, Any]] = []
    removed: set[str] = set()
    replacing = False
    for line in values(cell):
        semantic, value = _semantic(line)
        try:
            link_attributes = json.loads(value)["attributes"]
            name, url = str(link_attributes["name"]), str(link_attributes["link"])
        except (ValueError, KeyError, TypeError):
            on_problem(column.name, f"a link is one JSON object per line, got {line!r}")
            continue
        guid = by_url.get(url) or str(uuid.uuid4())
        if semantic == "remove":
            removed.add(guid)
            continue
        replacing = replacing or semantic == "replace"
        qualified_name = f"{document['guid']}/{guid}"
        link = {"qualifiedName": qualified_name, "name": name, "link": url, "asset": related(document)}
        related_out.append({"typeName": "Link", "guid": guid, "attributes": link})
        listed.append(
            {"typeName": "Link", "guid": guid, "uniqueAttributes": {"qualifiedName": qualified_name}}
        )
    kept = [] if replacing else [dict(link) for link in current]
    merged: dict[str, dict[str, Any]] = {}
    for link in [*kept, *listed]:
        if link["guid"] not in removed:
            merged[link["guid"]] = link
    attributes["links"] = list(merged.values())
