"""Listing: concurrent paging in a stable order, and partitioning past the 10,000-hit window."""

from __future__ import annotations

from typing import Any

import pytest

from reconciler.atlan import queries as q
from reconciler.errors import ApiError
from tests.atlan.conftest import Index, MakeClient, Server, run_source, search_reply, workflow_source

pytestmark = pytest.mark.anyio

MATCH_ALL: dict[str, Any] = {"bool": {"filter": []}}


def names(count: int, prefix: str = "csa-asset-import-") -> list[str]:
    """Distinct ``<prefix><10 digits>`` names, spread over the digits."""
    return [f"{prefix}{(i * 7_919_033_777) % 10**10:010d}" for i in range(count)]


async def test_one_page_when_everything_fits(make_client: MakeClient) -> None:
    index = Index([workflow_source(n) for n in names(40)])
    server = Server({"POST workflows/indexsearch": index})
    async with make_client(server, page_size=50) as client:
        found = await client.search_workflows(MATCH_ALL)
    assert [w.name for w in found] == sorted(names(40))
    assert len(index.bodies) == 1


async def test_pages_after_the_first_are_fetched_concurrently_and_bounded(make_client: MakeClient) -> None:
    all_names = names(250)
    index = Index([workflow_source(n) for n in all_names])
    server = Server({"POST workflows/indexsearch": index})
    async with make_client(server, page_size=30, page_concurrency=3) as client:
        found = await client.search_workflows(MATCH_ALL)
    assert [w.name for w in found] == sorted(all_names)
    assert [(b["from"], b["size"]) for b in index.bodies[:1]] == [(0, 30)]
    assert sorted((b["from"], b["size"]) for b in index.bodies[1:]) == [(f, 30) for f in range(30, 250, 30)]
    assert index.max_in_flight == 3
    assert all(b["sort"] == q.SORT_BY_NAME_ASC and b["track_total_hits"] is True for b in index.bodies)


async def test_a_listing_shares_the_parameters_its_workflows_repeat_across_pages(
    make_client: MakeClient,
) -> None:
    def with_parameters(name: str) -> dict[str, Any]:
        task = {
            "arguments": {"parameters": [{"name": "batch", "value": 20}, {"name": "prefix", "value": name}]}
        }
        return {**workflow_source(name), "spec": {"templates": [{"dag": {"tasks": [task]}}]}}

    index = Index([with_parameters(n) for n in names(6)])
    server = Server({"POST workflows/indexsearch": index})
    async with make_client(server, page_size=2, page_concurrency=2) as client:
        found = await client.search_workflows(MATCH_ALL)
    listed = [w.spec["templates"][0]["dag"]["tasks"][0]["arguments"]["parameters"] for w in found]
    assert len({id(parameters[0]) for parameters in listed}) == 1  # one object, over three pages
    assert len({id(parameters[1]) for parameters in listed}) == 6


async def test_exact_page_request_bodies(make_client: MakeClient) -> None:
    index = Index([workflow_source(n) for n in names(5)])
    server = Server({"POST workflows/indexsearch": index})
    async with make_client(server, page_size=2, page_concurrency=1) as client:
        await client.search_workflows(q.by_names(["a", "b"]))
    query = {
        "bool": {"filter": [{"nested": {"path": "metadata", "query": {"terms": {q.NAME_FIELD: ["a", "b"]}}}}]}
    }
    sort = [{"metadata.name.keyword": {"order": "asc", "nested": {"path": "metadata"}}}]
    assert index.bodies == [
        {"from": 0, "size": 2, "track_total_hits": True, "query": query, "sort": sort},
    ]


async def test_duplicates_across_shifting_pages_are_dropped(make_client: MakeClient) -> None:
    first = [workflow_source("a"), workflow_source("b")]
    second = [workflow_source("b"), workflow_source("c")]  # "b" moved down a page in between
    server = Server(
        {"POST workflows/indexsearch": [search_reply(first, total=4), search_reply(second, total=4)]}
    )
    async with make_client(server, page_size=2) as client:
        found = await client.search_workflows(MATCH_ALL)
    assert [w.name for w in found] == ["a", "b", "c"]


async def test_without_a_total_pages_until_a_short_page(make_client: MakeClient) -> None:
    pages = [[workflow_source("a"), workflow_source("b")], [workflow_source("c")]]
    answers = [search_reply(p) for p in pages]
    for answer in answers:
        answer._content = answer.content.replace(b'"total": {"value": 2}, ', b"").replace(
            b'"total": {"value": 1}, ', b""
        )
    server = Server({"POST workflows/indexsearch": answers})
    async with make_client(server, page_size=2) as client:
        found = await client.search_workflows(MATCH_ALL)
    assert [w.name for w in found] == ["a", "b", "c"]
    assert [(b["from"], b["size"]) for b in server.bodies("POST workflows/indexsearch")] == [(0, 2), (2, 2)]


@pytest.mark.parametrize(
    ("total", "first", "page", "expected"),
    [
        (0, 100, 100, []),
        (100, 100, 100, []),
        (250, 100, 100, [(100, 100), (200, 100)]),
        (10_000, 300, 300, [*((f, 300) for f in range(300, 9900, 300)), (9900, 100)]),
        (20_000, 100, 5000, [(100, 5000), (5100, 4900)]),
    ],
)
def test_page_windows_never_cross_the_result_window(
    total: int, first: int, page: int, expected: list[tuple[int, int]]
) -> None:
    windows = q.page_windows(total, first, page)
    assert windows == expected
    assert all(start + size <= q.MAX_RESULT_WINDOW for start, size in windows)


async def test_partitions_by_name_prefix_above_the_window(
    make_client: MakeClient, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(q, "MAX_RESULT_WINDOW", 100)
    all_names = [
        "csa-",  # a name that is itself the common prefix of a split
        *names(450),
        *names(60, "csa-lineage-builder-"),
        "csa-asset-import-",
        "zz-other",
    ]
    index = Index([workflow_source(n) for n in all_names])
    server = Server({"POST workflows/indexsearch": index})
    async with make_client(server, page_size=40, page_concurrency=4) as client:
        found = await client.search_workflows(MATCH_ALL)
    assert [w.name for w in found] == sorted(all_names)  # none missed, no duplicates, in order
    assert all(b["from"] + b["size"] <= 100 for b in index.bodies)  # never a 400 from the window
    prefixes = {
        clause["nested"]["query"]["prefix"][q.NAME_FIELD]["value"]
        for b in index.bodies
        for clause in b["query"]["bool"]["filter"][1:]
        if "prefix" in clause["nested"]["query"]
    }
    assert {"c", "csa-a", "csa-l", "csa-asset-import-0", "z"} <= prefixes  # split where names differ
    assert "csa-asset-import-0" in prefixes
    assert "parts hold" not in caplog.text  # every part added up to its whole


async def test_partition_refuses_a_server_that_ignores_prefix(
    make_client: MakeClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(q, "MAX_RESULT_WINDOW", 10)
    index = Index([workflow_source(n) for n in names(30)], honour_prefix=False)
    server = Server({"POST workflows/indexsearch": index})
    async with make_client(server, page_size=10) as client:
        with pytest.raises(ApiError, match="did not narrow the search by name prefix"):
            await client.search_workflows(MATCH_ALL)


async def test_get_workflows_is_one_terms_search(make_client: MakeClient) -> None:
    index = Index([workflow_source(n) for n in ("a", "b", "c")])
    server = Server({"POST workflows/indexsearch": index})
    async with make_client(server) as client:
        found = await client.get_workflows(["c", "a", "missing", "a"])
    assert list(found) == ["a", "c"]
    (body,) = index.bodies
    assert body["query"] == q.by_names(["a", "c", "missing"])


async def test_runs_for_many_templates_is_one_search_grouped_newest_first(make_client: MakeClient) -> None:
    runs = [
        run_source("t1-aaaaa", "t1", "Succeeded", created="2026-09-01T10:00:00Z"),
        run_source("t1-bbbbb", "t1", "Running", created="2026-09-01T11:00:00Z"),
        run_source("t2-ccccc", "t2", "Failed", created="2026-09-01T09:00:00Z"),
        run_source("t9-ddddd", "t9", "Running", created="2026-09-01T09:00:00Z"),
    ]
    index = Index(runs)
    server = Server({"POST runs/indexsearch": index})
    async with make_client(server) as client:
        grouped = await client.runs_for(["t2", "t1", "t3"])
    assert {k: [r.name for r in v] for k, v in grouped.items()} == {
        "t1": ["t1-bbbbb", "t1-aaaaa"],
        "t2": ["t2-ccccc"],
        "t3": [],
    }
    (body,) = index.bodies
    assert body["query"] == {
        "bool": {
            "filter": [
                {
                    "nested": {
                        "path": "spec",
                        "query": {"terms": {"spec.workflowTemplateRef.name.keyword": ["t1", "t2", "t3"]}},
                    }
                }
            ]
        }
    }


async def test_runs_for_with_phases(make_client: MakeClient) -> None:
    index = Index([run_source("t1-aaaaa", "t1", "Running"), run_source("t1-bbbbb", "t1", "Succeeded")])
    server = Server({"POST runs/indexsearch": index})
    async with make_client(server) as client:
        grouped = await client.runs_for(["t1"], phases=["Running", "Pending"])
    assert [r.name for r in grouped["t1"]] == ["t1-aaaaa"]
    assert index.bodies[0]["query"]["bool"]["filter"][1] == {
        "terms": {"status.phase.keyword": ["Pending", "Running"]}
    }
