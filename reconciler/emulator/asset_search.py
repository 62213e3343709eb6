"""Atlan's asset search over the emulator's catalog, and the entity documents its asset API returns.

``search`` answers ``POST /api/meta/search/indexsearch`` as pyatlan 10.0.0 sends it (``FluentSearch``,
``find_*_by_name``, the bulk iteration's ``__timestamp`` paging); ``entity_answer`` is the body of
``GET entity/guid/{guid}`` and ``GET entity/uniqueAttribute/type/{type}``. Starlette-free: the routes
are ``routes_assets.py``.

The query language is ``search.py``'s, evaluated over a *search view* of each catalog entity: only
the fields the query, the post filter and the sort read, each resolved the way Atlan's index holds
it, from the catalog's columns (``_COLUMNS``: ``__typeName``, ``__superTypeNames`` from the type
table below, ``__state``, ``__guid``, ``__glossary``, ``qualifiedName``, ``name``) or from the
document (``_FIELDS``: ``__timestamp``, ``__meanings``...; any other plain name is an attribute,
and an attribute the document lacks matches nothing, as an unmapped field does in Elasticsearch).
An internal ``__`` field outside the tables, a sub-field (``qualifiedName.text``), an unknown query
kind or an aggregation is a 400 in Atlan's error shape, never a wrong answer.

Candidates come from ``Catalog.rows``: the values a query requires of indexed columns (type,
super type, qualifiedName, name, guid, glossary, state) narrow the rows read, so a lookup by name
or qualifiedName reads a handful of rows whatever the catalog's size, and a query on columns only
parses just the documents of the page it returns.

Each hit is the entity header Atlan returns: the document's own top-level fields, its
``qualifiedName`` and ``name`` plus the ``attributes`` asked for; a relationship asked for is
rendered as related-object headers carrying the ``relationAttributes`` asked for, read from the
related documents (one batched lookup per page; archived ones left out unless
``allowDeletedRelations``).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from reconciler.emulator.catalog import ACTIVE, DELETED, Catalog, CatalogRow
from reconciler.emulator.errors import ApiProblem
from reconciler.emulator.search import (
    Predicate,
    QueryError,
    SortKey,
    compile_query,
    parse_sort,
    query_fields,
    required_clauses,
    sort_documents,
)

MAX_RESULT_WINDOW = 100_000  # Atlan's index: pyatlan switches to timestamp paging just below it
DEFAULT_SIZE = 10  # Elasticsearch's, for a body without "size" (pyatlan always sends one)
BAD_REQUEST = "ATLAS-400-00-029"  # Atlas's generic bad-request code
_CHUNK = 500  # guids per lookup: Catalog.select binds at most 500 values per column

# Direct super type of each type the packages import (pyatlan's model classes agree); a type not
# listed is an Asset, as every entity type in Atlan is.
_PARENTS: dict[str, str] = {
    "Asset": "Referenceable",
    "Catalog": "Asset",
    "SQL": "Catalog",
    "DataMesh": "Catalog",
    "Resource": "Catalog",
    "ObjectStore": "Catalog",
    "S3": "ObjectStore",
    "SnowflakeDynamicTable": "Table",
    **dict.fromkeys(
        ("Connection", "Process", "AtlasGlossary", "AtlasGlossaryTerm", "AtlasGlossaryCategory"), "Asset"
    ),
    **dict.fromkeys(
        (
            "Database",
            "Schema",
            "Table",
            "View",
            "MaterialisedView",
            "CalculationView",
            "TablePartition",
            "Column",
            "Query",
            "Procedure",
            "Function",
            "SnowflakePipe",
            "SnowflakeStream",
        ),
        "SQL",
    ),
    **dict.fromkeys(("ColumnProcess", "BIProcess", "DbtProcess"), "Process"),
    **dict.fromkeys(("DataDomain", "DataProduct"), "DataMesh"),
    **dict.fromkeys(("Link", "Readme"), "Resource"),
    **dict.fromkeys(("S3Bucket", "S3Object"), "S3"),
}
_EVERY_TYPE = frozenset({"Asset", "Referenceable"})
# Atlan's index matches type names whatever their case: pyatlan's find_connections_by_name asks for
# `__typeName.keyword: CONNECTION` (client/common/asset.py FindConnectionsByName) and finds them.
_TYPE_FIELDS = frozenset({"__typeName", "__typeName.keyword", "__superTypeNames", "__superTypeNames.keyword"})
_KNOWN_TYPES = {name.casefold(): name for name in (*_PARENTS, "Referenceable")}


def canonical_types(query: Any) -> Any:
    """``query`` with every type name a ``term`` or ``terms`` clause asks of a type field spelled
    as the catalog spells it (``CONNECTION`` -> ``Connection``); other clauses as they are."""
    if isinstance(query, list):
        return [canonical_types(item) for item in query]
    if not isinstance(query, Mapping):
        return query
    rewritten: dict[str, Any] = {}
    for kind, body in query.items():
        if kind in ("term", "terms") and isinstance(body, Mapping):
            rewritten[kind] = {
                field: _canonical(value) if field in _TYPE_FIELDS else value for field, value in body.items()
            }
        else:
            rewritten[kind] = canonical_types(body)
    return rewritten


def _canonical(value: Any) -> Any:
    if isinstance(value, str):
        return _KNOWN_TYPES.get(value.casefold(), value)
    if isinstance(value, list):
        return [_canonical(item) for item in value]
    if isinstance(value, Mapping) and "value" in value:
        return {**value, "value": _canonical(value["value"])}
    return value


@functools.lru_cache(maxsize=1024)
def super_types(type_name: str) -> tuple[str, ...]:
    """Every ancestor of ``type_name``, nearest first: Atlan's ``__superTypeNames`` (without itself)."""
    if type_name == "Referenceable":
        return ()
    found: list[str] = []
    parent: str | None = _PARENTS.get(type_name, "Asset")
    while parent is not None:
        found.append(parent)
        parent = _PARENTS.get(parent)
    return tuple(found)


def types_under(names: Iterable[str]) -> frozenset[str] | None:
    """The types with one of ``names`` among their super types; None when that is every type."""
    wanted = frozenset(names)
    if wanted & _EVERY_TYPE:
        return None
    return frozenset(t for t in _PARENTS if wanted.intersection(super_types(t)))


# ---------------------------------------------------------------------------------------------
# documents


def _attributes(document: Mapping[str, Any]) -> Mapping[str, Any]:
    attributes = document.get("attributes")
    return attributes if isinstance(attributes, Mapping) else {}


def _is_reference(item: Any) -> bool:
    return isinstance(item, Mapping) and "typeName" in item and ("guid" in item or "uniqueAttributes" in item)


def is_related(value: Any) -> bool:
    """Whether an attribute value is a relationship: one related object, or a non-empty list of them."""
    if isinstance(value, list):
        return bool(value) and all(_is_reference(item) for item in value)
    return _is_reference(value)


def _references(value: Any) -> list[Mapping[str, Any]]:
    items = value if isinstance(value, list) else [value]
    return [item for item in items if _is_reference(item)]


def _reference_qn(reference: Mapping[str, Any]) -> str | None:
    unique = reference.get("uniqueAttributes")
    found = unique.get("qualifiedName") if isinstance(unique, Mapping) else None
    return found if isinstance(found, str) else None


# One relationship, two names: the import files' and the API's (pyatlan reads ``atlanSchema``).
_ALIASES = {
    "meanings": "assignedTerms",
    "assignedTerms": "meanings",
    "atlanSchema": "schema",
    "schema": "atlanSchema",
}
_API_NAMES = {"schema": "atlanSchema"}


def _attribute(attributes: Mapping[str, Any], name: str) -> Any:
    value = attributes.get(name)
    if value is None and name in _ALIASES:
        value = attributes.get(_ALIASES[name])
    return value


# ---------------------------------------------------------------------------------------------
# the search view

Resolver = Callable[[Mapping[str, Any]], Any]


def _related_qns(name: str) -> Resolver:
    def resolve(document: Mapping[str, Any]) -> list[str]:
        references = _references(_attribute(_attributes(document), name))
        return [qn for qn in map(_reference_qn, references) if qn is not None]

    return resolve


def _hierarchy(document: Mapping[str, Any]) -> list[str]:
    """The qualifiedNames from the connection (``default/<connector>/<epoch>``) down to this one."""
    qualified_name = str(_attributes(document).get("qualifiedName") or "")
    parts = qualified_name.split("/")
    if len(parts) <= 3 or parts[0] != "default":
        return [qualified_name]
    return ["/".join(parts[:end]) for end in range(3, len(parts) + 1)]


def _top(key: str) -> Resolver:
    return lambda document: document.get(key)


# Fields read from the catalog's indexed columns: testing them parses no document.
_COLUMNS: dict[str, Callable[[CatalogRow], Any]] = {
    "__typeName": lambda row: row.type_name,
    "__superTypeNames": lambda row: list(super_types(row.type_name)),
    "__state": lambda row: row.status,
    "__guid": lambda row: row.guid,
    "__glossary": lambda row: row.glossary,
    "qualifiedName": lambda row: row.qualified_name,
    "name": lambda row: row.name or None,
}
# Fields read from the document.
_FIELDS: dict[str, Resolver] = {
    "__timestamp": _top("createTime"),
    "__modificationTimestamp": _top("updateTime"),
    "__createdBy": _top("createdBy"),
    "__modifiedBy": _top("updatedBy"),
    "__traitNames": _top("classificationNames"),
    "__classificationNames": _top("classificationNames"),
    # Tags are never propagated in the emulator's catalog.
    "__propagatedTraitNames": lambda _document: None,
    "__propagatedClassificationNames": lambda _document: None,
    "__meanings": _related_qns("meanings"),
    "__categories": _related_qns("categories"),
    "__parentCategory": _related_qns("parentCategory"),
    "__qualifiedNameHierarchy": _hierarchy,
}
_INDEXED = {
    "__typeName": "type_names",
    "qualifiedName": "qualified_names",
    "name": "names",
    "__guid": "guids",
    "__glossary": "glossaries",
}
_NARROWING_FIELDS = frozenset({*_INDEXED, "__superTypeNames", "__state"})
_GUID_ORDER = (SortKey("__guid", False, False),)  # pyatlan's tie-breaker, alone when nothing else


def _plain(name: str) -> Resolver:
    def resolve(document: Mapping[str, Any]) -> Any:
        value = _attributes(document).get(name)
        return None if is_related(value) else value  # Atlan's index holds no relationship objects

    return resolve


def resolver(field: str) -> Resolver:
    """How the search view reads ``field`` (``.keyword`` stripped) from a document that is not one
    of ``_COLUMNS``; QueryError if the field is not served."""
    if field in _FIELDS:
        return _FIELDS[field]
    if not field or field.startswith("__") or "." in field:
        raise QueryError(f"the emulator's asset search does not support the field [{field}]")
    return _plain(field)


# ---------------------------------------------------------------------------------------------
# the request


@dataclass(frozen=True)
class AssetSearch:
    """One parsed indexsearch body: what to match, how to order and page, and what to return."""

    predicate: Predicate
    post_filter: Predicate
    sort: tuple[SortKey, ...]
    start: int
    size: int
    columns: tuple[tuple[str, Callable[[CatalogRow], Any]], ...]
    resolvers: tuple[tuple[str, Resolver], ...]
    narrowing: Mapping[str, Any]
    attributes: tuple[str, ...]
    relation_attributes: tuple[str, ...]
    exclude_meanings: bool
    exclude_tags: bool
    include_tag_names: bool
    allow_deleted_relations: bool


def _count(dsl: Mapping[str, Any], key: str, default: int) -> int:
    value = dsl.get(key)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise QueryError(f"[{key}] parameter cannot be negative or non-integer, found [{value}]")
    return value


def _names(body: Mapping[str, Any], key: str) -> tuple[str, ...]:
    value = body.get(key) or []
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise QueryError(f"[{key}] must be a list of attribute names")
    return tuple(value)


def _narrowing(query: Any) -> dict[str, Any]:
    """``Catalog.rows`` arguments for the values ``query`` requires of indexed columns."""
    narrowing: dict[str, Any] = {}

    def narrow(argument: str, allowed: frozenset[str]) -> None:
        narrowing[argument] = narrowing[argument] & allowed if argument in narrowing else allowed

    states: frozenset[str] | None = None
    for field, allowed in required_clauses(query, _NARROWING_FIELDS):
        if field == "__superTypeNames":  # an array: each clause narrows the types on its own
            under = types_under(allowed)
            if under is not None:
                narrow("type_names", under)
        elif field == "__state":
            states = allowed if states is None else states & allowed
        else:
            narrow(_INDEXED[field], allowed)
    if states is not None and len(states) == 1:
        (narrowing["status"],) = states
    return narrowing


def parse(body: Any, *, now: float) -> AssetSearch:
    """The search an indexsearch body asks for; QueryError (a 400) if it is outside what is served."""
    if not isinstance(body, Mapping) or not isinstance(body.get("dsl"), Mapping):
        raise QueryError("the search body must be a JSON object with a [dsl] object")
    dsl: Mapping[str, Any] = body["dsl"]
    if dsl.get("aggregations") or dsl.get("aggs"):
        raise QueryError("the emulator's asset search does not support aggregations")
    start, size = _count(dsl, "from", 0), _count(dsl, "size", DEFAULT_SIZE)
    if start + size > MAX_RESULT_WINDOW:
        raise QueryError(
            f"Result window is too large, from + size must be less than or equal to: [{MAX_RESULT_WINDOW}]"
            f" but was [{start + size}]",
            "illegal_argument_exception",
        )
    query, post_filter = canonical_types(dsl.get("query")), canonical_types(dsl.get("post_filter"))
    predicate = compile_query(query, now=now)
    post = compile_query(post_filter, now=now)
    # Without a sort, Atlan orders by score, all equal for filters: the guid keeps pages stable.
    sort = parse_sort(dsl.get("sort") or []) or _GUID_ORDER
    fields = sorted(query_fields(query) | query_fields(post_filter) | {key.field for key in sort})
    return AssetSearch(
        predicate=predicate,
        post_filter=post,
        sort=sort,
        start=start,
        size=size,
        columns=tuple((field, _COLUMNS[field]) for field in fields if field in _COLUMNS),
        resolvers=tuple(
            (field, resolver(field)) for field in fields if field not in _COLUMNS and field != "_id"
        ),
        narrowing=_narrowing(query),
        attributes=_names(body, "attributes"),
        relation_attributes=_names(body, "relationAttributes"),
        exclude_meanings=bool(body.get("excludeMeanings")),
        exclude_tags=bool(body.get("excludeClassifications")),
        include_tag_names=bool(body.get("includeClassificationNames")),
        allow_deleted_relations=bool(body.get("allowDeletedRelations")),
    )


# ---------------------------------------------------------------------------------------------
# running it


def matches(catalog: Catalog, search: AssetSearch) -> tuple[int, list[dict[str, Any]]]:
    """How many entities match, and the page ``from``/``size`` selects, in sort order.

    Only the page's documents are parsed when the query reads indexed columns only, and the guid
    order pyatlan asks for by default is one plain sort of the matches.
    """
    matched: list[tuple[int, str, dict[str, Any], CatalogRow]] = []
    for row in catalog.rows(**search.narrowing):
        view = {field: read(row) for field, read in search.columns}
        if search.resolvers:
            document = json.loads(row.document)
            view.update((field, resolve(document)) for field, resolve in search.resolvers)
        if search.predicate(row.guid, view) and search.post_filter(row.guid, view):
            matched.append((len(matched), row.guid, view, row))
    end = search.start + search.size
    if not search.size or search.start >= len(matched):
        page = []
    elif search.sort == _GUID_ORDER:
        page = sorted(matched, key=lambda entry: entry[1])[search.start : end]
    else:
        ordered = sort_documents(
            matched, search.sort, doc=lambda entry: (entry[1], entry[2]), sequence=lambda entry: entry[0]
        )
        page = [entry for entry, _ in ordered[search.start : end]]
    return len(matched), [json.loads(entry[3].document) for entry in page]


def _key(reference: Mapping[str, Any]) -> str:
    guid = reference.get("guid")
    return str(guid) if guid else f"{reference.get('typeName')}\n{_reference_qn(reference)}"


def _chunks(items: Sequence[str]) -> Iterator[Sequence[str]]:
    for index in range(0, len(items), _CHUNK):
        yield items[index : index + _CHUNK]


def related_documents(catalog: Catalog, references: Iterable[Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """The catalog documents ``references`` point at, keyed as ``_key`` keys the references."""
    found: dict[str, dict[str, Any]] = {}
    by_qualified_name: list[Mapping[str, Any]] = []
    guids: set[str] = set()
    for reference in references:
        if reference.get("guid"):
            guids.add(str(reference["guid"]))
        else:
            by_qualified_name.append(reference)
    for chunk in _chunks(sorted(guids)):
        for document in catalog.select(guids=chunk):
            found[str(document["guid"])] = document
    for reference in by_qualified_name:
        qualified_name = _reference_qn(reference)
        if qualified_name is not None:
            target = catalog.find(str(reference.get("typeName")), qualified_name)
            if target is not None:
                found[_key(reference)] = target
    return found


def _related_header(
    reference: Mapping[str, Any], target: Mapping[str, Any] | None, names: Sequence[str]
) -> dict[str, Any]:
    if target is None:
        return dict(reference)  # not (yet) in the catalog: the reference as stored
    attributes = _attributes(target)
    header: dict[str, Any] = {
        "guid": target.get("guid"),
        "typeName": target.get("typeName"),
        "entityStatus": target.get("status") or ACTIVE,
        "displayText": target.get("displayText") or attributes.get("name"),
        "uniqueAttributes": {"qualifiedName": attributes.get("qualifiedName")},
    }
    if names:
        header["attributes"] = {
            name: value
            for name in names
            if (value := _attribute(attributes, name)) is not None and not is_related(value)
        }
    return header


def _headers(
    value: Any, related: Mapping[str, Mapping[str, Any]], names: Sequence[str], *, allow_deleted: bool
) -> list[dict[str, Any]]:
    headers = []
    for reference in _references(value):
        target = related.get(_key(reference))
        if target is not None and target.get("status") == DELETED and not allow_deleted:
            continue  # archiving an asset ends its relationships
        headers.append(_related_header(reference, target, names))
    return headers


def _relations(
    value: Any, related: Mapping[str, Mapping[str, Any]], names: Sequence[str], *, allow_deleted: bool
) -> Any:
    """A relationship's value as Atlan renders it: a list for a multi-valued one, else one header."""
    headers = _headers(value, related, names, allow_deleted=allow_deleted)
    if isinstance(value, list):
        return headers
    return headers[0] if headers else None


def _entity(document: Mapping[str, Any], attributes: dict[str, Any]) -> dict[str, Any]:
    entity = {key: value for key, value in document.items() if key != "attributes"}
    entity["attributes"] = attributes
    return entity


def _search_entity(
    document: Mapping[str, Any], search: AssetSearch, related: Mapping[str, Mapping[str, Any]]
) -> dict[str, Any]:
    stored = _attributes(document)
    attributes: dict[str, Any] = {"qualifiedName": stored.get("qualifiedName"), "name": stored.get("name")}
    for name in search.attributes:
        value = _attribute(stored, name)
        if is_related(value):
            value = _relations(
                value, related, search.relation_attributes, allow_deleted=search.allow_deleted_relations
            )
        if value is not None:
            attributes[name] = value
    entity = _entity(document, attributes)
    if search.exclude_tags:
        entity.pop("classifications", None)
        if not search.include_tag_names:
            entity.pop("classificationNames", None)
    if not search.exclude_meanings:
        terms = _headers(_attribute(stored, "meanings"), related, (), allow_deleted=False)
        entity["meaningNames"] = [term.get("displayText") for term in terms]
        entity["meanings"] = [
            {"termGuid": term.get("guid"), "displayText": term.get("displayText")} for term in terms
        ]
    return entity


def search(catalog: Catalog, body: Any, *, now: float) -> dict[str, Any]:
    """The answer to one indexsearch body; ApiProblem (400, Atlan's shape) if it is not served."""
    try:
        parsed = parse(body, now=now)
    except QueryError as error:
        raise ApiProblem(400, error.reason, cause=error.kind, extra={"errorCode": BAD_REQUEST}) from error
    total, page = matches(catalog, parsed)
    wanted: list[Mapping[str, Any]] = []
    for document in page:
        stored = _attributes(document)
        for name in parsed.attributes + (() if parsed.exclude_meanings else ("meanings",)):
            wanted += _references(_attribute(stored, name))
    related = related_documents(catalog, wanted)
    answer: dict[str, Any] = {"queryType": "INDEX", "searchParameters": body, "approximateCount": total}
    if page:  # Atlan leaves "entities" out of an answer without any
        answer["entities"] = [_search_entity(document, parsed, related) for document in page]
    return answer


def entity_answer(
    catalog: Catalog, document: Mapping[str, Any], *, ignore_relationships: bool
) -> dict[str, Any]:
    """``{"referredEntities": {}, "entity": ...}`` as Atlas returns one entity: relationships under
    ``relationshipAttributes`` as related-object headers, or left out with ``ignoreRelationships``."""
    attributes: dict[str, Any] = {}
    relationships: dict[str, Any] = {}
    for name, value in _attributes(document).items():
        if is_related(value):
            relationships[_API_NAMES.get(name, name)] = value
        else:
            attributes[name] = value
    entity = _entity(document, attributes)
    if ignore_relationships:
        entity["relationshipAttributes"] = {}
    else:
        related = related_documents(
            catalog, (r for value in relationships.values() for r in _references(value))
        )
        entity["relationshipAttributes"] = {
            name: _relations(value, related, (), allow_deleted=False) for name, value in relationships.items()
        }
    return {"referredEntities": {}, "entity": entity}
