"""The unmodified Atlan SDK (pyatlan 10.0.0) reading a served emulator's catalog; run by
.venv-sdk/bin/python from tests/sdk/test_sdk_assets.py.

Reads EMULATOR_URL, EMULATOR_KEY and FACTS (JSON: the qualifiedNames the seed used) from the
environment, searches and fetches with the SDK's own calls, and prints one JSON object of
observations. A call that raises is observed as the error's class name, so each test fails on its
own assertion.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from typing import Any

import httpx
from pyatlan.client.atlan import AtlanClient
from pyatlan.errors import AtlanError
from pyatlan.model.assets import (
    Asset,
    AtlasGlossaryTerm,
    Catalog,
    Process,
    Table,
    View,
)
from pyatlan.model.enums import SortOrder
from pyatlan.model.fluent_search import FluentSearch
from pyatlan.model.search import Term

URL = os.environ["EMULATOR_URL"]
KEY = os.environ["EMULATOR_KEY"]
FACTS: dict[str, str] = json.loads(os.environ["FACTS"])
client = AtlanClient(base_url=URL, api_key=KEY)
ADMIN = httpx.Client(base_url=URL, headers={"authorization": f"Bearer {KEY}"}, timeout=30)
out: dict[str, Any] = {}


def observe(key: str, call: Callable[[], Any]) -> None:
    try:
        out[key] = call()
    except AtlanError as exc:
        out[key] = {"error": type(exc).__name__}


def searches() -> int:
    return int(ADMIN.get("/_emulator/counts").json()["by_endpoint"].get("POST meta/search/indexsearch", 0))


def names(search: FluentSearch, *, bulk: bool = False) -> list[str]:
    return [str(asset.name) for asset in search.execute(client, bulk=bulk)]


glossary_qn = FACTS["glossary"]
terms = FluentSearch().where(FluentSearch.asset_type(AtlasGlossaryTerm)).where(FluentSearch.active_assets())
in_glossary = terms.where(Term.with_glossary(glossary_qn))

observe(
    "find_by_name",
    lambda: [
        (a.type_name, a.qualified_name)
        for a in FluentSearch.select().where(Asset.NAME.eq("ORDERS")).execute(client)
    ],
)
observe("count_terms_in_glossary", lambda: in_glossary.count(client))
observe("count_terms", lambda: terms.count(client))
before = searches()
observe("paged", lambda: names(in_glossary.page_size(100).sort(Asset.NAME.order(SortOrder.ASCENDING))))
out["paged_requests"] = searches() - before
observe(
    "sorted_desc", lambda: names(in_glossary.page_size(3).sort(Asset.NAME.order(SortOrder.DESCENDING)))[:3]
)
observe("bulk", lambda: names(in_glossary.page_size(100), bulk=True))

observe("glossary", lambda: client.asset.find_glossary_by_name("Business Terms").qualified_name)
observe("term_fast", lambda: client.asset.find_term_fast_by_name("Term 007", glossary_qn).qualified_name)
observe("term", lambda: client.asset.find_term_by_name("Term 007", "Business Terms").qualified_name)
observe("term_archived", lambda: client.asset.find_term_fast_by_name("Old Term", glossary_qn).qualified_name)
observe(
    "category",
    lambda: [c.qualified_name for c in client.asset.find_category_by_name("Revenue", "Business Terms")],
)
observe("domain", lambda: client.asset.find_domain_by_name("Marketing").qualified_name)
observe("product", lambda: client.asset.find_product_by_name("Campaigns").qualified_name)
observe("domain_missing", lambda: client.asset.find_domain_by_name("Nowhere").qualified_name)


def fetched(asset: Asset) -> dict[str, Any]:
    return {
        "name": asset.name,
        "status": asset.status.value if asset.status else None,
        "certificate": asset.certificate_status.value if asset.certificate_status else None,
        "tags": [str(tag.type_name) for tag in asset.atlan_tags or []],
    }


observe("by_qn", lambda: fetched(client.asset.get_by_qualified_name(FACTS["orders"], Table)))
observe(
    "by_qn_missing", lambda: fetched(client.asset.get_by_qualified_name(FACTS["orders"] + "_NOPE", Table))
)
observe("by_qn_other_type", lambda: fetched(client.asset.get_by_qualified_name(FACTS["orders"], View)))
observe("by_qn_archived", lambda: fetched(client.asset.get_by_qualified_name(FACTS["orders_old"], Table)))
observe(
    "by_guid_schema",  # stored as the import files name it (schema), read as the API does (atlanSchema)
    lambda: (
        client.asset.get_by_guid(
            FACTS["orders_guid"], Table, ignore_relationships=False
        ).atlan_schema.display_text
    ),
)

by_name = FluentSearch.select().where(Asset.NAME.eq("ORDERS_OLD"))
observe("archived_default", lambda: names(by_name))
observe(
    "archived_included",
    lambda: [
        (a.name, a.status.value)
        for a in FluentSearch.select(include_archived=True).where(Asset.NAME.eq("ORDERS_OLD")).execute(client)
    ],
)
observe(
    "archived_tables",
    lambda: (
        FluentSearch()
        .where(FluentSearch.archived_assets())
        .where(FluentSearch.asset_type(Table))
        .count(client)
    ),
)
observe(
    "catalog_count",
    lambda: (
        FluentSearch()
        .where(FluentSearch.super_types(Catalog))
        .where(FluentSearch.active_assets())
        .count(client)
    ),
)
observe(
    "lineage",
    lambda: [
        ([i.name for i in p.inputs or []], [o.name for o in p.outputs or []])
        for p in FluentSearch.select()
        .where(FluentSearch.asset_type(Process))
        .include_on_results("inputs")
        .include_on_results("outputs")
        .include_on_relations(Asset.NAME)
        .execute(client)
    ],
)
observe(
    "term_anchor",
    lambda: [
        t.anchor.name if t.anchor else None
        for t in in_glossary.where(Asset.NAME.eq("Term 007"))
        .include_on_results(AtlasGlossaryTerm.ANCHOR)
        .include_on_relations(Asset.NAME)
        .execute(client)
    ],
)
observe("tagged", lambda: names(FluentSearch().where(FluentSearch.tagged(client, with_one_of=["PII"]))))
print(json.dumps(out))
