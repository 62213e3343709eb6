"""The Elasticsearch query subset: each query form over HTTP, and the evaluator directly."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from reconciler.emulator.search import QueryError, compile_query, parse_sort, required_terms, resolve_date
from tests.emulator.conftest import put_fixture_files

NOW = 1_800_000_000.0
DOC = {
    "metadata": {
        "name": "csa-asset-import-1700000000",
        "labels": {"workflows.argoproj.io/phase": "Running", "reconciler.dev/instance": "prod"},
        "annotations": {"package.argoproj.io/name": "@csa/asset-import"},
        "generation": 3,
    },
    "spec": {
        "templates": [{"dag": {"tasks": [{"arguments": {"parameters": [{"name": "a"}, {"name": "b"}]}}]}}]
    },
    "status": {"startedAt": "2027-01-15T07:00:00Z", "finishedAt": None, "flag": True},
}


@pytest.mark.parametrize(
    ("query", "matches"),
    [
        ({"term": {"_id": "doc-1"}}, True),
        ({"term": {"_id": {"value": "doc-2"}}}, False),
        ({"term": {"metadata.labels.workflows.argoproj.io/phase.keyword": {"value": "Running"}}}, True),
        ({"term": {"metadata.annotations.package.argoproj.io/name": "@csa/asset-import"}}, True),
        ({"term": {"metadata.generation": 3}}, True),
        ({"term": {"status.flag": True}}, True),
        (
            {"term": {"metadata.name": {"value": "CSA-ASSET-IMPORT-1700000000", "case_insensitive": True}}},
            True,
        ),
        ({"terms": {"metadata.labels.workflows.argoproj.io/phase.keyword": ["Pending", "Running"]}}, True),
        ({"terms": {"metadata.labels.reconciler.dev/instance": ["dev"]}}, False),
        ({"prefix": {"metadata.name.keyword": {"value": "csa-asset"}}}, True),
        ({"regexp": {"metadata.name.keyword": {"value": "csa[-]asset[-]import[-][0-9]{10}"}}}, True),
        ({"regexp": {"metadata.name.keyword": {"value": "csa[-]asset"}}}, False),  # whole-term match
        ({"wildcard": {"metadata.name": "csa-*-17?0000000"}}, True),
        ({"exists": {"field": "metadata.labels.reconciler.dev/instance"}}, True),
        ({"exists": {"field": "status.finishedAt"}}, False),
        ({"term": {"spec.templates.dag.tasks.arguments.parameters.name": "b"}}, True),
        ({"range": {"status.startedAt": {"gte": "now-2h"}}}, True),
        ({"range": {"status.startedAt": {"gt": "now-1h"}}}, False),
        ({"range": {"status.startedAt": {"lte": "now-1h/d"}}}, True),
        (
            {"range": {"status.startedAt": {"gte": "2027-01-15T07:00:00Z", "lt": "2027-01-15T07:00:01Z"}}},
            True,
        ),
        ({"range": {"status.finishedAt": {"lte": "now"}}}, False),
        ({"range": {"metadata.generation": {"gt": 2, "lt": 4}}}, True),
        ({"nested": {"path": "metadata", "query": {"bool": {"must": [{"term": {"_id": "doc-1"}}]}}}}, True),
        ({"bool": {"must_not": [{"term": {"_id": "doc-1"}}]}}, False),
        ({"bool": {"should": [{"term": {"_id": "x"}}, {"term": {"_id": "doc-1"}}]}}, True),
        ({"bool": {"should": [{"term": {"_id": "x"}}], "minimum_should_match": 1}}, False),
        ({"bool": {"filter": {"term": {"_id": "doc-1"}}, "should": [{"term": {"_id": "x"}}]}}, True),
        ({"constant_score": {"filter": {"ids": {"values": ["doc-1"]}}}}, True),
        ({"match_all": {}}, True),
        ({"match_none": {}}, False),
    ],
)
def test_query_forms(query: dict[str, Any], matches: bool) -> None:
    assert compile_query(query, now=NOW)("doc-1", DOC) is matches


@pytest.mark.parametrize(
    "query",
    [
        {"fuzzy": {"a": "b"}},
        {"term": {"a": 1, "b": 2}},
        {"range": {"a": {"from": 1}}},
        {"regexp": {"a": {"value": "("}}},
        {"range": {"a": {"gte": "now-2x"}}},
        {"bool": {"must": [], "extra": []}},
    ],
)
def test_bad_queries(query: dict[str, Any]) -> None:
    with pytest.raises(QueryError):
        compile_query(query, now=NOW)


def test_date_math() -> None:
    assert resolve_date("now-2h", NOW, round_up=False) == NOW - 7200
    assert resolve_date("now+1d", NOW, round_up=False) == NOW + 86400
    assert resolve_date("now/d", NOW, round_up=False) == NOW - NOW % 86400
    assert resolve_date("2024-01-31||+1M", NOW, round_up=False) == resolve_date(
        "2024-02-29", NOW, round_up=False
    )
    assert resolve_date("not a date", NOW, round_up=False) is None


def test_required_terms() -> None:
    query = {
        "bool": {"filter": [{"nested": {"path": "metadata", "query": {"term": {"_id": {"value": "x"}}}}}]}
    }
    assert required_terms(query, frozenset({"metadata.name"})) == {"metadata.name": frozenset({"x"})}
    assert required_terms({"bool": {"should": [{"term": {"_id": "x"}}]}}, frozenset({"metadata.name"})) == {}


def test_parse_sort() -> None:
    keys = parse_sort([{"metadata.name.keyword": "asc"}, "_score", {"status.startedAt": {"order": "desc"}}])
    assert [(k.field, k.descending) for k in keys] == [("metadata.name", False), ("status.startedAt", True)]
    with pytest.raises(QueryError):
        parse_sort([{"a": {"order": "sideways"}}])


@pytest.fixture
def three(create: Callable[..., Any], admin: httpx.Client) -> list[str]:
    put_fixture_files(admin)  # their runs read them: without them the runs would end Failed
    names = ["csa-asset-import-1700000003", "csa-asset-import-1700000001", "csa-asset-import-1700000002"]
    for name in names:
        create(name)
        admin.post("clock", json={"advance": 1})
    return names


def _search(client: httpx.Client, body: dict[str, Any], index: str = "workflows") -> httpx.Response:
    return client.post(f"{index}/indexsearch", json=body)


def test_sort_and_pages(client: httpx.Client, three: list[str]) -> None:
    default = _search(client, {"size": 10}).json()["hits"]["hits"]
    assert [h["_id"] for h in default] == list(reversed(three))
    assert default[0]["sort"] == [1_800_000_002_000]
    by_name = {"size": 2, "sort": [{"metadata.name.keyword": {"order": "asc"}}]}
    assert [h["_id"] for h in _search(client, by_name).json()["hits"]["hits"]] == sorted(three)[:2]
    page_two = _search(client, {**by_name, "from": 2}).json()
    assert [h["_id"] for h in page_two["hits"]["hits"]] == sorted(three)[2:]
    assert page_two["hits"]["total"]["value"] == 3
    counted = _search(client, {"size": 0}).json()
    assert counted["hits"]["hits"] == []
    assert counted["hits"]["total"]["value"] == 3
    assert {"took", "_shards", "timed_out"} <= set(counted)


def test_result_window_and_bad_bodies(client: httpx.Client) -> None:
    assert _search(client, {"from": 9000, "size": 1000}).status_code == 200
    too_far = _search(client, {"from": 9001, "size": 1000})
    assert too_far.status_code == 400
    assert "Result window is too large" in too_far.json()["errorMessage"]
    assert too_far.json()["error"]["root_cause"][0]["type"] == "illegal_argument_exception"
    assert _search(client, {"size": -1}).status_code == 400
    assert _search(client, {"query": {"fuzzy": {}}}).status_code == 400
    assert client.post("workflows/indexsearch", content=b"{not json").status_code == 400


def test_run_searches_by_phase_label_and_time(
    client: httpx.Client, admin: httpx.Client, three: list[str]
) -> None:
    admin.post("clock", json={"advance": 1})
    query = {
        "bool": {
            "must": [
                {
                    "nested": {
                        "path": "metadata",
                        "query": {
                            "terms": {"metadata.labels.workflows.argoproj.io/phase.keyword": ["Running"]}
                        },
                    }
                },
                {"range": {"status.startedAt": {"gte": "now-2h"}}},
                {
                    "nested": {
                        "path": "metadata",
                        "query": {"exists": {"field": "metadata.labels.workflows.argoproj.io/creator"}},
                    }
                },
            ]
        }
    }
    running = _search(client, {"size": 50, "query": query}, "runs").json()["hits"]
    assert running["total"]["value"] == 3
    admin.post("clock", json={"advance": 3600 * 3})
    assert _search(client, {"size": 50, "query": query}, "runs").json()["hits"]["total"]["value"] == 0
    succeeded = {"bool": {"filter": [{"term": {"status.phase.keyword": {"value": "Succeeded"}}}]}}
    assert _search(client, {"size": 50, "query": succeeded}, "runs").json()["hits"]["total"]["value"] == 3
