"""Atlan's asset search over the emulator's catalog, in process: how the index fields map onto the
catalog's entities, narrowing, sorting and paging, the projection of attributes and relations,
the entity answers, and Atlan's error answers over HTTP."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.emulator import EmulatorServer
from reconciler.emulator.asset_search import (
    MAX_RESULT_WINDOW,
    canonical_types,
    entity_answer,
    parse,
    search,
    super_types,
    types_under,
)
from reconciler.emulator.catalog import Catalog
from reconciler.emulator.errors import ApiProblem
from reconciler.emulator.search import field_getter, query_fields, required_clauses
from tests.emulator.conftest import KEY

CREATED = 1_700_000_000_000
CONNECTION = "default/snowflake/1700000000"
SCHEMA = f"{CONNECTION}/DB/SCH"
_NAMESPACE = uuid.UUID("0b5e6c2a-8d1f-4a57-b3c9-7e2f1a4d6c80")


def entity(
    type_name: str,
    qualified_name: str,
    name: str,
    *,
    status: str = "ACTIVE",
    created: int = CREATED,
    tags: tuple[str, ...] = (),
    **attributes: Any,
) -> dict[str, Any]:
    """A catalog document in the conventions of issue 17 (deterministic guid)."""
    guid = str(uuid.uuid5(_NAMESPACE, f"{type_name}/{qualified_name}"))
    document: dict[str, Any] = {
        "typeName": type_name,
        "guid": guid,
        "status": status,
        "displayText": name,
        "attributes": {"qualifiedName": qualified_name, "name": name, **attributes},
        "createTime": created,
        "updateTime": created,
        "createdBy": "emulator",
        "updatedBy": "emulator",
        "isIncomplete": False,
    }
    if tags:
        document["classificationNames"] = list(tags)
        document["classifications"] = [{"typeName": t, "entityGuid": guid, "propagate": False} for t in tags]
    return document


def reference(document: dict[str, Any]) -> dict[str, Any]:
    """An Atlan related object pointing at ``document``."""
    return {
        "typeName": document["typeName"],
        "guid": document["guid"],
        "uniqueAttributes": {"qualifiedName": document["attributes"]["qualifiedName"]},
    }


GLOSSARY = entity("AtlasGlossary", "gloss1", "Business Terms")
OTHER_GLOSSARY = entity("AtlasGlossary", "gloss2", "Other")
FINANCE = entity("AtlasGlossaryCategory", "cat1@gloss1", "Finance", anchor=reference(GLOSSARY))
REVENUE_CATEGORY = entity(
    "AtlasGlossaryCategory",
    "cat2@gloss1",
    "Revenue",
    anchor=reference(GLOSSARY),
    parentCategory=reference(FINANCE),
)
REVENUE = entity(
    "AtlasGlossaryTerm",
    "term1@gloss1",
    "Revenue",
    anchor=reference(GLOSSARY),
    categories=[reference(REVENUE_CATEGORY)],
    description="money in",
)
CUSTOMER = entity("AtlasGlossaryTerm", "term2@gloss1", "Customer", anchor=reference(GLOSSARY))
OLD_TERM = entity(
    "AtlasGlossaryTerm", "term3@gloss1", "Old Term", status="DELETED", anchor=reference(GLOSSARY)
)
OTHER_CUSTOMER = entity("AtlasGlossaryTerm", "term4@gloss2", "Customer", anchor=reference(OTHER_GLOSSARY))
CONNECTION_DOC = entity("Connection", CONNECTION, "production", connectorName="snowflake")
DATABASE = entity("Database", f"{CONNECTION}/DB", "DB", connectionQualifiedName=CONNECTION)
SCHEMA_DOC = entity("Schema", SCHEMA, "SCH", database=reference(DATABASE))
ORDERS = entity(
    "Table",
    f"{SCHEMA}/ORDERS",
    "ORDERS",
    created=CREATED + 2,
    tags=("PII",),
    certificateStatus="VERIFIED",
    description="every order",
    meanings=[reference(REVENUE)],
    schema=reference(SCHEMA_DOC),
    connectorName="snowflake",
)
CUSTOMERS = entity(
    "Table", f"{SCHEMA}/CUSTOMERS", "CUSTOMERS", created=CREATED + 1, connectorName="snowflake"
)
ORDERS_OLD = entity("Table", f"{SCHEMA}/ORDERS_OLD", "ORDERS_OLD", status="DELETED")
ORDERS_VIEW = entity("View", f"{SCHEMA}/ORDERS_V", "ORDERS_V", created=CREATED + 3)
PROCESS = entity(
    "Process",
    f"{CONNECTION}/load-orders",
    "load orders",
    inputs=[reference(ORDERS), reference(ORDERS_OLD)],
    outputs=[reference(ORDERS_VIEW)],
)
DOMAIN = entity("DataDomain", "default/domain/d1/super", "Marketing")
PRODUCT = entity(
    "DataProduct", "default/domain/d1/super/product/p1", "Campaigns", dataDomain=reference(DOMAIN)
)
EVERYTHING = (
    GLOSSARY,
    OTHER_GLOSSARY,
    FINANCE,
    REVENUE_CATEGORY,
    REVENUE,
    CUSTOMER,
    OLD_TERM,
    OTHER_CUSTOMER,
    CONNECTION_DOC,
    DATABASE,
    SCHEMA_DOC,
    ORDERS,
    CUSTOMERS,
    ORDERS_OLD,
    ORDERS_VIEW,
    PROCESS,
    DOMAIN,
    PRODUCT,
)


def seed(catalog: Catalog, documents: tuple[dict[str, Any], ...] | list[dict[str, Any]]) -> None:
    with catalog.transaction():
        for document in documents:
            catalog.put(document)


def opened(documents: tuple[dict[str, Any], ...] | list[dict[str, Any]]) -> Iterator[Catalog]:
    catalog = Catalog(":memory:")
    seed(catalog, documents)
    yield catalog
    catalog.close()


@pytest.fixture(scope="module")
def catalog() -> Iterator[Catalog]:
    yield from opened(EVERYTHING)


def term(field: str, value: Any) -> dict[str, Any]:
    return {"term": {field: {"value": value}}}


ACTIVE = term("__state", "ACTIVE")


def body(
    *filters: Any, size: int = 100, start: int = 0, sort: list[Any] | None = None, **extra: Any
) -> dict[str, Any]:
    """A body shaped as pyatlan's FluentSearch builds it (filters in a bool, the guid tie-breaker)."""
    dsl = {"from": start, "size": size, "aggregations": {}, "track_total_hits": True}
    dsl["query"] = {"bool": {"filter": list(filters)}}
    dsl["sort"] = [*(sort or []), {"__guid": {"order": "asc"}}]
    return {"dsl": dsl, **extra}


def found(catalog: Catalog, request: dict[str, Any]) -> list[str]:
    """The qualifiedNames a search returns, in order."""
    return [e["attributes"]["qualifiedName"] for e in search(catalog, request, now=0).get("entities", [])]


def qns(*documents: dict[str, Any]) -> list[str]:
    return sorted(d["attributes"]["qualifiedName"] for d in documents)


# ---------------------------------------------------------------------------------------------
# the type table


def test_super_types_follow_atlans_hierarchy() -> None:
    assert super_types("Table") == ("SQL", "Catalog", "Asset", "Referenceable")
    assert super_types("SnowflakeDynamicTable")[:2] == ("Table", "SQL")
    assert super_types("DataProduct") == ("DataMesh", "Catalog", "Asset", "Referenceable")
    assert super_types("ColumnProcess") == ("Process", "Asset", "Referenceable")
    assert super_types("SomeTypeNotInTheTable") == ("Asset", "Referenceable")


def test_types_under_a_super_type() -> None:
    under = types_under(["Catalog"])
    assert under is not None
    assert {"Table", "View", "Column", "DataDomain", "DataProduct"} <= under
    assert not {"Connection", "Process", "AtlasGlossaryTerm"} & under
    assert types_under(["Asset"]) is None  # every entity: nothing to narrow


# ---------------------------------------------------------------------------------------------
# the fields of Atlan's index


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ([term("__typeName.keyword", "Table"), ACTIVE], qns(ORDERS, CUSTOMERS)),
        ([term("__typeName.keyword", "Table"), term("__state", "DELETED")], qns(ORDERS_OLD)),
        (
            [term("__superTypeNames.keyword", "SQL"), ACTIVE],
            qns(DATABASE, SCHEMA_DOC, ORDERS, CUSTOMERS, ORDERS_VIEW),
        ),
        (
            [term("__superTypeNames.keyword", "Catalog"), term("__superTypeNames.keyword", "Asset"), ACTIVE],
            qns(DATABASE, SCHEMA_DOC, ORDERS, CUSTOMERS, ORDERS_VIEW, DOMAIN, PRODUCT),
        ),
        ([term("name.keyword", "Customer"), ACTIVE], qns(CUSTOMER, OTHER_CUSTOMER)),
        (
            [term("__typeName.keyword", "AtlasGlossaryTerm"), term("__glossary", "gloss1"), ACTIVE],
            qns(REVENUE, CUSTOMER),
        ),
        ([term("__glossary", "gloss1")], qns(FINANCE, REVENUE_CATEGORY, REVENUE, CUSTOMER, OLD_TERM)),
        ([term("qualifiedName", f"{SCHEMA}/ORDERS")], qns(ORDERS)),
        ([term("__guid", ORDERS["guid"])], qns(ORDERS)),
        ([{"prefix": {"qualifiedName": {"value": f"{SCHEMA}/ORDERS"}}}, ACTIVE], qns(ORDERS, ORDERS_VIEW)),
        ([{"wildcard": {"name.keyword": {"value": "ORDERS*"}}}], qns(ORDERS, ORDERS_OLD, ORDERS_VIEW)),
        ([{"terms": {"__typeName.keyword": ["DataDomain", "DataProduct"]}}], qns(DOMAIN, PRODUCT)),
        ([term("certificateStatus", "VERIFIED")], qns(ORDERS)),
        ([term("connectorName", "snowflake"), term("__typeName.keyword", "Table")], qns(ORDERS, CUSTOMERS)),
        ([term("__traitNames", "PII")], qns(ORDERS)),
        ([term("__meanings", "term1@gloss1")], qns(ORDERS)),
        ([term("__categories", "cat2@gloss1")], qns(REVENUE)),
        ([term("__parentCategory", "cat1@gloss1")], qns(REVENUE_CATEGORY)),
        ([term("__qualifiedNameHierarchy", SCHEMA), ACTIVE], qns(SCHEMA_DOC, ORDERS, CUSTOMERS, ORDERS_VIEW)),
        ([{"range": {"__timestamp": {"gte": CREATED + 2}}}], qns(ORDERS, ORDERS_VIEW)),
        ([{"exists": {"field": "description"}}], qns(ORDERS, REVENUE)),
        # A relationship is not a field of the index: it matches nothing.
        ([{"exists": {"field": "anchor"}}], []),
        (
            [term("__typeName.keyword", "Table"), {"bool": {"must_not": [term("name.keyword", "ORDERS")]}}],
            qns(CUSTOMERS, ORDERS_OLD),
        ),
    ],
)
def test_index_fields_map_onto_the_catalog(catalog: Catalog, filters: list[Any], expected: list[str]) -> None:
    assert sorted(found(catalog, body(*filters))) == expected


@pytest.mark.parametrize(
    ("request_body", "message"),
    [
        (body(term("__hasLineage", True)), "does not support the field [__hasLineage]"),
        (
            body({"match": {"qualifiedName.text": "orders"}}),
            "does not support the field [qualifiedName.text]",
        ),
        (
            body(term("__typeName.keyword", "Table"), sort=[{"name.stemmed": {"order": "asc"}}]),
            "[name.stemmed]",
        ),
        (body({"fuzzy": {"name": "ordrs"}}), "unknown query [fuzzy]"),
        (
            {**body(), "dsl": {**body()["dsl"], "aggregations": {"t": {"terms": {"field": "__typeName"}}}}},
            "aggregations",
        ),
        (body(size=-1), "[size] parameter cannot be negative"),
        (body(start=MAX_RESULT_WINDOW, size=1), "Result window is too large"),
        ({"query": {"match_all": {}}}, "[dsl] object"),
        ({**body(), "attributes": "name"}, "[attributes] must be a list"),
    ],
)
def test_what_is_not_served_is_a_bad_request(catalog: Catalog, request_body: Any, message: str) -> None:
    with pytest.raises(ApiProblem) as raised:
        search(catalog, request_body, now=0)
    assert raised.value.status == 400
    assert message in raised.value.message
    assert raised.value.extra["errorCode"] == "ATLAS-400-00-029"


# ---------------------------------------------------------------------------------------------
# narrowing


def test_the_indexed_columns_a_query_requires_narrow_the_rows_read() -> None:
    find_term = body(
        ACTIVE,
        term("__typeName.keyword", "AtlasGlossaryTerm"),
        term("name.keyword", "Customer"),
        term("__glossary", "gloss1"),
    )
    assert parse(find_term, now=0).narrowing == {
        "type_names": frozenset({"AtlasGlossaryTerm"}),
        "names": frozenset({"Customer"}),
        "glossaries": frozenset({"gloss1"}),
        "status": "ACTIVE",
    }
    # pyatlan's bulk search adds Referenceable beside the Asset filter: one clause each, no clash.
    bulk = body(term("__superTypeNames.keyword", "Asset"), ACTIVE, term("__typeName.keyword", "Table"))
    bulk["dsl"]["query"]["bool"]["must"] = [term("__superTypeNames.keyword", "Referenceable")]
    assert parse(bulk, now=0).narrowing == {"type_names": frozenset({"Table"}), "status": "ACTIVE"}
    sql = parse(body(term("__superTypeNames.keyword", "SQL"), term("__state", "DELETED")), now=0).narrowing
    assert "Table" in sql["type_names"]
    assert "DataDomain" not in sql["type_names"]
    # Clauses that do not bind every match (should, must_not) narrow nothing.
    loose = body({"bool": {"should": [term("name.keyword", "A")], "must_not": [term("__guid", "g")]}})
    assert parse(loose, now=0).narrowing == {}


def test_required_clauses_keep_each_clause_of_an_array_field() -> None:
    query = {
        "bool": {
            "must": [term("__superTypeNames.keyword", "Referenceable")],
            "filter": [term("__superTypeNames.keyword", "Asset")],
        }
    }
    fields = frozenset({"__superTypeNames"})
    assert required_clauses(query, fields) == [
        ("__superTypeNames", frozenset({"Referenceable"})),
        ("__superTypeNames", frozenset({"Asset"})),
    ]


def test_query_fields_lists_every_field_read() -> None:
    query = {
        "bool": {
            "filter": [term("__typeName.keyword", "Table"), {"exists": {"field": "description"}}],
            "should": [{"prefix": {"qualifiedName": {"value": "default/"}}}],
            "must_not": [{"nested": {"path": "x", "query": {"range": {"__timestamp": {"gt": 1}}}}}],
        }
    }
    assert query_fields(query) == {"__typeName", "description", "qualifiedName", "__timestamp"}
    assert query_fields({"ids": {"values": ["a"]}}) == {"_id"}


def test_an_array_of_values_reads_as_the_general_walk_reads_it() -> None:
    assert field_getter("tags")("id", {"tags": ["PII", None, "Finance"]}) == ["PII", "Finance"]
    assert field_getter("tags")("id", {"tags": [["PII"], "Finance"]}) == ["PII", "Finance"]


# ---------------------------------------------------------------------------------------------
# sorting and paging


def test_sorting_with_the_guid_tie_breaker(catalog: Catalog) -> None:
    tables = (term("__typeName.keyword", "Table"),)
    by_name = found(catalog, body(*tables, sort=[{"name.keyword": {"order": "desc"}}]))
    assert by_name == [f"{SCHEMA}/ORDERS_OLD", f"{SCHEMA}/ORDERS", f"{SCHEMA}/CUSTOMERS"]
    by_time = found(catalog, body(*tables, sort=[{"__timestamp": {"order": "asc"}}]))
    assert by_time == [f"{SCHEMA}/ORDERS_OLD", f"{SCHEMA}/CUSTOMERS", f"{SCHEMA}/ORDERS"]
    same_name = sorted((CUSTOMER, OTHER_CUSTOMER), key=lambda document: document["guid"])
    assert found(catalog, body(term("name.keyword", "Customer"))) == [
        d["attributes"]["qualifiedName"] for d in same_name
    ]


def test_counts_and_windows(catalog: Catalog) -> None:
    tables = term("__typeName.keyword", "Table")
    counted = search(catalog, body(tables, size=0), now=0)
    assert counted["approximateCount"] == 3
    assert "entities" not in counted  # as Atlan answers a page without results
    assert search(catalog, body(tables, start=3), now=0)["approximateCount"] == 3
    assert "entities" not in search(catalog, body(tables, start=3), now=0)
    assert len(found(catalog, body(tables, start=1, size=1))) == 1


PAGED = [
    entity(
        "AtlasGlossaryTerm",
        f"paged{n}@gloss9",
        f"Term {n % 7}",
        created=CREATED + n % 3,
        status="DELETED" if n % 11 == 0 else "ACTIVE",
    )
    for n in range(45)
]


@pytest.fixture(scope="module")
def paged() -> Iterator[Catalog]:
    yield from opened(PAGED)


@given(
    size=st.integers(min_value=1, max_value=50),
    sort=st.sampled_from([[], [{"name.keyword": {"order": "asc"}}], [{"__timestamp": {"order": "desc"}}]]),
)
@settings(max_examples=60, deadline=None)
def test_paging_returns_every_match_exactly_once(paged: Catalog, size: int, sort: list[Any]) -> None:
    seen: list[str] = []
    for start in range(0, 100, size):
        page = search(paged, body(ACTIVE, sort=sort, start=start, size=size), now=0).get("entities", [])
        seen += [entity["guid"] for entity in page]
        if len(page) < size:
            break
    expected = {d["guid"] for d in PAGED if d["status"] == "ACTIVE"}
    assert len(seen) == len(set(seen))
    assert set(seen) == expected


# ---------------------------------------------------------------------------------------------
# what a hit holds


def test_a_hit_holds_the_attributes_and_relations_asked_for(catalog: Catalog) -> None:
    request = body(
        term("qualifiedName", f"{SCHEMA}/ORDERS"),
        attributes=["description", "meanings", "schema", "notOnThisAsset"],
        relationAttributes=["name", "qualifiedName"],
    )
    (hit,) = search(catalog, request, now=0)["entities"]
    assert hit["guid"] == ORDERS["guid"]
    assert hit["status"] == "ACTIVE"
    assert hit["classificationNames"] == ["PII"]
    assert hit["attributes"]["description"] == "every order"
    assert "notOnThisAsset" not in hit["attributes"]
    assert "certificateStatus" not in hit["attributes"]  # not asked for
    (meaning,) = hit["attributes"]["meanings"]
    assert meaning["guid"] == REVENUE["guid"]
    assert meaning["attributes"] == {"name": "Revenue", "qualifiedName": "term1@gloss1"}
    assert hit["attributes"]["schema"]["displayText"] == "SCH"
    assert hit["meaningNames"] == ["Revenue"]
    lean = search(catalog, {**request, "excludeMeanings": True, "excludeClassifications": True}, now=0)
    assert not {"meaningNames", "classifications", "classificationNames"} & set(lean["entities"][0])


def test_archived_relations_are_left_out_unless_asked_for(catalog: Catalog) -> None:
    request = body(
        term("__typeName.keyword", "Process"), attributes=["inputs", "outputs"], relationAttributes=["name"]
    )
    (hit,) = search(catalog, request, now=0)["entities"]
    assert [r["attributes"]["name"] for r in hit["attributes"]["inputs"]] == ["ORDERS"]
    assert [r["attributes"]["name"] for r in hit["attributes"]["outputs"]] == ["ORDERS_V"]
    (everything,) = search(catalog, {**request, "allowDeletedRelations": True}, now=0)["entities"]
    assert [r["entityStatus"] for r in everything["attributes"]["inputs"]] == ["ACTIVE", "DELETED"]


def test_an_entity_answer_moves_relationships_aside(catalog: Catalog) -> None:
    with_relations = entity_answer(catalog, REVENUE, ignore_relationships=False)
    assert with_relations["referredEntities"] == {}
    entity_json = with_relations["entity"]
    assert set(entity_json["attributes"]) == {"qualifiedName", "name", "description"}
    assert entity_json["relationshipAttributes"]["anchor"]["displayText"] == "Business Terms"
    assert [c["guid"] for c in entity_json["relationshipAttributes"]["categories"]] == [
        REVENUE_CATEGORY["guid"]
    ]
    without = entity_answer(catalog, REVENUE, ignore_relationships=True)["entity"]
    assert without["relationshipAttributes"] == {}
    assert "anchor" not in without["attributes"]


def test_rows_and_tag_names(catalog: Catalog) -> None:
    (row,) = catalog.rows(qualified_names=[f"{SCHEMA}/ORDERS"])
    assert (row.guid, row.type_name, row.name, row.status, row.glossary) == (
        ORDERS["guid"],
        "Table",
        "ORDERS",
        "ACTIVE",
        None,
    )
    (term_row,) = catalog.rows(names=["Revenue"], type_names=["AtlasGlossaryTerm"])
    assert term_row.glossary == "gloss1"
    assert catalog.rows(type_names=[]) == []
    assert catalog.tag_names() == ["PII"]


# ---------------------------------------------------------------------------------------------
# over HTTP


@pytest.fixture
def meta(server: EmulatorServer) -> Iterator[httpx.Client]:
    seed(server.app.emulator.catalog, EVERYTHING)
    headers = {"authorization": f"Bearer {KEY}"}
    with httpx.Client(base_url=server.base_url + "/api/meta/", headers=headers, timeout=10) as client:
        yield client


def test_the_asset_api_over_http(meta: httpx.Client) -> None:
    searched = meta.post("search/indexsearch", json=body(term("name.keyword", "Customer"), ACTIVE))
    assert searched.status_code == 200
    assert searched.json()["approximateCount"] == 2
    by_qn = meta.get(
        "entity/uniqueAttribute/type/Table", params={"attr:qualifiedName": f"{SCHEMA}/ORDERS_OLD"}
    )
    assert by_qn.status_code == 200
    assert by_qn.json()["entity"]["status"] == "DELETED"  # archived assets are still found by identity
    by_guid = meta.get(f"entity/guid/{CUSTOMER['guid']}", params={"ignoreRelationships": "false"})
    assert by_guid.json()["entity"]["relationshipAttributes"]["anchor"]["guid"] == GLOSSARY["guid"]


def test_tag_definitions_for_pyatlans_tag_cache(meta: httpx.Client, server: EmulatorServer) -> None:
    server.app.emulator.catalog.put_tag_definition(
        {"name": "Confidential", "color": "Red", "description": "keep it"}
    )
    tags = meta.get("types/typedefs/", params=[("type", "CLASSIFICATION"), ("type", "STRUCT")]).json()
    defined = {
        t["name"]: (t["displayName"], t["description"], t["options"]) for t in tags["classificationDefs"]
    }
    assert defined == {"Confidential": ("Confidential", "keep it", {"color": "Red"}), "PII": ("PII", "", {})}
    assert tags["structDefs"]  # pyatlan refuses an answer without any
    assert meta.get("types/typedefs/", params={"type": "ENUM"}).json()["classificationDefs"] == []


@pytest.mark.parametrize(
    ("method", "path", "params", "status", "code"),
    [
        (
            "GET",
            "entity/uniqueAttribute/type/Table",
            {"attr:qualifiedName": "default/nope"},
            404,
            "ATLAS-404-00-009",
        ),
        (
            "GET",
            "entity/uniqueAttribute/type/View",
            {"attr:qualifiedName": f"{SCHEMA}/ORDERS"},
            404,
            "ATLAS-404-00-009",
        ),
        ("GET", "entity/guid/no-such-guid", {}, 404, "ATLAS-404-00-005"),
        ("POST", "search/indexsearch", {}, 400, "ATLAS-400-00-029"),
    ],
)
def test_atlas_error_answers(
    meta: httpx.Client, method: str, path: str, params: dict[str, str], status: int, code: str
) -> None:
    json_body = body(term("__hasLineage", True)) if method == "POST" else None
    response = meta.request(method, path, params=params, json=json_body)
    assert response.status_code == status
    assert response.json()["errorCode"] == code
    assert response.json()["errorMessage"]


@pytest.mark.parametrize(
    ("clause", "expected"),
    [
        ({"term": {"__typeName.keyword": "CONNECTION"}}, {"term": {"__typeName.keyword": "Connection"}}),
        (
            {"term": {"__typeName.keyword": {"value": "table"}}},
            {"term": {"__typeName.keyword": {"value": "Table"}}},
        ),
        (
            {"terms": {"__superTypeNames.keyword": ["sql", "Nope"]}},
            {"terms": {"__superTypeNames.keyword": ["SQL", "Nope"]}},
        ),
        ({"term": {"name.keyword": "CONNECTION"}}, {"term": {"name.keyword": "CONNECTION"}}),
        (
            {
                "bool": {
                    "filter": [
                        {"term": {"__typeName.keyword": "atlasglossaryterm"}},
                        {"prefix": {"__typeName": "conn"}},
                    ]
                }
            },
            {
                "bool": {
                    "filter": [
                        {"term": {"__typeName.keyword": "AtlasGlossaryTerm"}},
                        {"prefix": {"__typeName": "conn"}},
                    ]
                }
            },
        ),
    ],
)
def test_type_names_match_whatever_their_case(clause: dict[str, Any], expected: dict[str, Any]) -> None:
    """pyatlan's find_connections_by_name asks for ``CONNECTION``; Atlan's index finds Connections."""
    assert canonical_types(clause) == expected
