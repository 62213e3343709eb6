"""The unmodified Atlan SDK (pyatlan 10.0.0, in .venv-sdk) reads the served emulator's catalog:
FluentSearch finds, counts, sorts and pages it, the find_*_by_name helpers and get_by_qualified_name
work, archived assets stay out of default searches. The catalog is seeded through ``Catalog.put``
in the document conventions of issue 17."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest

from reconciler.emulator import EmulatorServer
from tests.emulator.conftest import KEY, make_config
from tests.emulator.test_asset_search import CREATED, entity, reference
from tests.helpers import CANARY, REPO

SDK_PYTHON = REPO / ".venv-sdk" / "bin" / "python"
SCRIPT = REPO / "tests" / "sdk" / "sdk_assets.py"
GLOSSARY_QN = "Zk8sQ2vN4xP7rT1mW3yBa"  # a 21-character id, as the importer makes them
CONNECTION = "default/snowflake/1700000000"
SCHEMA = f"{CONNECTION}/DB/SCH"
TERMS = 250


def _seed() -> tuple[list[dict[str, Any]], dict[str, str]]:
    glossary = entity("AtlasGlossary", GLOSSARY_QN, "Business Terms")
    other = entity("AtlasGlossary", "Other0000000000000000", "Other")
    anchor = {"anchor": reference(glossary)}
    finance = entity("AtlasGlossaryCategory", f"c1@{GLOSSARY_QN}", "Finance", **anchor)
    revenue = entity(
        "AtlasGlossaryCategory", f"c2@{GLOSSARY_QN}", "Revenue", parentCategory=reference(finance), **anchor
    )
    # Ten terms per creation time: the bulk iteration's timestamp paging meets ties.
    terms = [
        entity(
            "AtlasGlossaryTerm",
            f"t{n:03d}@{GLOSSARY_QN}",
            f"Term {n:03d}",
            created=CREATED + n // 10,
            **anchor,
        )
        for n in range(TERMS)
    ]
    old_term = entity("AtlasGlossaryTerm", f"old@{GLOSSARY_QN}", "Old Term", status="DELETED", **anchor)
    namesake = entity("AtlasGlossaryTerm", "t007@Other0000000000000000", "Term 007", anchor=reference(other))
    database = entity("Database", f"{CONNECTION}/DB", "DB")
    schema = entity("Schema", SCHEMA, "SCH", database=reference(database))
    orders = entity(
        "Table",
        f"{SCHEMA}/ORDERS",
        "ORDERS",
        tags=("PII",),
        certificateStatus="VERIFIED",
        schema=reference(schema),
    )
    orders_old = entity("Table", f"{SCHEMA}/ORDERS_OLD", "ORDERS_OLD", status="DELETED")
    view = entity("View", f"{SCHEMA}/ORDERS_V", "ORDERS_V")
    process = entity(
        "Process", f"{CONNECTION}/load", "load", inputs=[reference(orders)], outputs=[reference(view)]
    )
    domain = entity("DataDomain", "default/domain/Dm1/super", "Marketing")
    product = entity(
        "DataProduct", "default/domain/Dm1/super/product/Pr1", "Campaigns", dataDomain=reference(domain)
    )
    connection = entity("Connection", CONNECTION, "production", connectorName="snowflake")
    documents = [glossary, other, finance, revenue, *terms, old_term, namesake, database, schema, orders]
    documents += [orders_old, view, process, domain, product, connection]
    facts = {
        "glossary": GLOSSARY_QN,
        "orders": orders["attributes"]["qualifiedName"],
        "orders_old": orders_old["attributes"]["qualifiedName"],
        "orders_guid": orders["guid"],
    }
    return documents, facts


@pytest.fixture(scope="module")
def observed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    if not SDK_PYTHON.exists():
        pytest.fail(f"{SDK_PYTHON} is missing: run `make setup-sdk` to install pyatlan 10.0.0 in .venv-sdk")
    documents, facts = _seed()
    with EmulatorServer(make_config(tmp_path_factory.mktemp("assets") / "emulator.db")) as server:
        catalog = server.app.emulator.catalog
        with catalog.transaction():
            for document in documents:
                catalog.put(document)
        env = {
            "PATH": os.environ.get("PATH", ""),
            "HOME": os.environ.get("HOME", ""),
            "CANARY_SECRET": CANARY,
        }
        env.update(EMULATOR_URL=server.base_url, EMULATOR_KEY=KEY, FACTS=json.dumps(facts))
        result = subprocess.run(
            [str(SDK_PYTHON), str(SCRIPT)], capture_output=True, text=True, env=env, timeout=300, check=False
        )
        assert result.returncode == 0, result.stderr[-3000:]
        out: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
        yield out


TERM_NAMES = [f"Term {n:03d}" for n in range(TERMS)]
NOT_FOUND = {"error": "NotFoundError"}


@pytest.mark.sdk
def test_find_by_name(observed: dict[str, Any]) -> None:
    assert observed["find_by_name"] == [["Table", f"{SCHEMA}/ORDERS"]]


@pytest.mark.sdk
def test_count(observed: dict[str, Any]) -> None:
    assert observed["count_terms_in_glossary"] == TERMS
    assert observed["count_terms"] == TERMS + 1  # the namesake in the other glossary; not the archived one


@pytest.mark.sdk
def test_pages_through_more_than_one_page(observed: dict[str, Any]) -> None:
    assert observed["paged"] == TERM_NAMES
    assert observed["paged_requests"] >= 3  # pages of 100


@pytest.mark.sdk
def test_sort(observed: dict[str, Any]) -> None:
    assert observed["sorted_desc"] == ["Term 249", "Term 248", "Term 247"]


@pytest.mark.sdk
def test_bulk_iteration_returns_each_term_once(observed: dict[str, Any]) -> None:
    assert sorted(observed["bulk"]) == TERM_NAMES


@pytest.mark.sdk
def test_find_glossary_and_terms_by_name(observed: dict[str, Any]) -> None:
    assert observed["glossary"] == GLOSSARY_QN
    assert observed["term_fast"] == f"t007@{GLOSSARY_QN}"
    assert observed["term"] == f"t007@{GLOSSARY_QN}"
    assert observed["term_archived"] == NOT_FOUND
    assert observed["term_anchor"] == ["Business Terms"]


@pytest.mark.sdk
def test_find_category_by_name(observed: dict[str, Any]) -> None:
    assert observed["category"] == [f"c2@{GLOSSARY_QN}"]


@pytest.mark.sdk
def test_find_domain_and_product_by_name(observed: dict[str, Any]) -> None:
    assert observed["domain"] == "default/domain/Dm1/super"
    assert observed["product"] == "default/domain/Dm1/super/product/Pr1"
    assert observed["domain_missing"] == NOT_FOUND


@pytest.mark.sdk
def test_get_by_qualified_name(observed: dict[str, Any]) -> None:
    assert observed["by_qn"] == {
        "name": "ORDERS",
        "status": "ACTIVE",
        "certificate": "VERIFIED",
        "tags": ["PII"],
    }
    assert observed["by_qn_missing"] == NOT_FOUND
    assert observed["by_qn_other_type"] == NOT_FOUND
    assert observed["by_qn_archived"]["status"] == "DELETED"
    assert observed["by_guid_schema"] == "SCH"


@pytest.mark.sdk
def test_archived_assets_are_excluded_unless_asked_for(observed: dict[str, Any]) -> None:
    assert observed["archived_default"] == []
    assert observed["archived_included"] == [["ORDERS_OLD", "DELETED"]]
    assert observed["archived_tables"] == 1


@pytest.mark.sdk
def test_super_types_relations_and_tags(observed: dict[str, Any]) -> None:
    assert observed["catalog_count"] == 6  # DB, SCH, ORDERS, ORDERS_V, the domain and the product
    assert observed["lineage"] == [[["ORDERS"], ["ORDERS_V"]]]
    assert observed["tagged"] == ["ORDERS"]
