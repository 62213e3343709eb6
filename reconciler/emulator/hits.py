"""Elasticsearch-shaped answers to ``indexsearch``: run one search body over documents, render the hits.

Starlette-free: the routes in ``routes_search.py`` hand over the stored templates or runs. The
query language itself is ``search.py``; this module adds the paging window, the error shapes,
the sorted-match cache and the rendering of the hits envelope.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from reconciler.emulator.errors import ApiProblem
from reconciler.emulator.gc_pause import gc_paused
from reconciler.emulator.match_cache import SortedMatches
from reconciler.emulator.search import (
    INDEXED_FIELDS,
    MAX_RESULT_WINDOW,
    QueryError,
    compile_query,
    parse_sort,
    required_terms,
    sort_documents,
    sort_value,
)

TEMPLATE_INDEX = "atlan-workflow-templates"
RUN_INDEX = "atlan-workflow-runs"
_SHARDS = '{"total":1,"successful":1,"skipped":0,"failed":0}'
T = TypeVar("T")


def _search_window(body: Any) -> tuple[int, int]:
    if not isinstance(body, Mapping):
        raise QueryError("the search body must be a JSON object")
    start, size = body.get("from", 0), body.get("size", 10)
    if start is None:
        start = 0
    if size is None:
        size = 10
    if isinstance(start, bool) or not isinstance(start, int) or start < 0:
        raise QueryError(f"[from] parameter cannot be negative or non-integer, found [{start}]")
    if isinstance(size, bool) or not isinstance(size, int) or size < 0:
        raise QueryError(f"[size] parameter cannot be negative or non-integer, found [{size}]")
    if start + size > MAX_RESULT_WINDOW:
        raise QueryError(
            f"Result window is too large, from + size must be less than or equal to: [{MAX_RESULT_WINDOW}] "
            f"but was [{start + size}]. See the scroll api for a more efficient way to request large data "
            "sets. This limit can be set by changing the [index.max_result_window] index level setting.",
            "illegal_argument_exception",
        )
    return start, size


def _query_problem(error: QueryError) -> ApiProblem:
    return ApiProblem(
        400,
        error.reason,
        cause=error.kind,
        extra={
            "error": {
                "root_cause": [{"type": error.kind, "reason": error.reason}],
                "type": "search_phase_execution_exception",
                "reason": "all shards failed",
            }
        },
    )


def _envelope(took: int, total: int, hits: list[str]) -> bytes:
    return (
        f'{{"took":{took},"timed_out":false,"_shards":{_SHARDS},'
        f'"hits":{{"total":{{"value":{total},"relation":"eq"}},"max_score":null,"hits":[{",".join(hits)}]}}}}'
    ).encode()


def _hit(index: str, doc_id: str, seq_no: int, sort: list[Any], source_json: str) -> str:
    return (
        f'{{"_index":"{index}","_type":"_doc","_id":{json.dumps(doc_id)},"_seq_no":{seq_no},'
        f'"_primary_term":1,"_score":null,"sort":{json.dumps([sort_value(v) for v in sort])},'
        f'"_source":{source_json}}}'
    )


def search_answer(
    request_body: Any,
    docs: Callable[[Mapping[str, frozenset[str]]], Sequence[T]],
    index: str,
    now: float,
    *,
    view: Callable[[T], tuple[str, dict[str, Any]]],
    sequence: Callable[[T], int],
    rv: Callable[[T], int],
    source_json: Callable[[T], str | None],
    memo: Callable[[T], dict[Any, Any]] | None = None,
    cache: SortedMatches | None = None,
) -> bytes:
    """Run one search body over ``docs`` and render the Elasticsearch answer.

    ``docs`` receives the values the query requires of indexed fields (``metadata.name``,
    ``spec.workflowTemplateRef.name``), so a lookup by name does not scan everything. With a
    ``cache``, the sorted matches are kept per store version, so the pages of one listing share
    one scan and one sort (queries with date math on ``now`` are never cached).
    """
    started = time.perf_counter()
    try:
        start, size = _search_window(request_body)
        query = request_body.get("query")
        predicate = compile_query(query, now=now)
        post_filter = compile_query(request_body.get("post_filter"), now=now)
        keys = parse_sort(request_body.get("sort"))
        required = required_terms(query, INDEXED_FIELDS)
    except QueryError as error:
        raise _query_problem(error) from error
    with gc_paused():
        key = None if cache is None or not size else cache.key(index, request_body)
        ordered: list[Any] | None = None if key is None or cache is None else cache.get(key)
        total = len(ordered) if ordered is not None else 0
        if ordered is None:
            matched = []
            for doc in docs(required):
                doc_id, source = view(doc)
                if predicate(doc_id, source) and post_filter(doc_id, source):
                    matched.append(doc)
            total = len(matched)
            if size:
                ordered = sort_documents(matched, keys, doc=view, sequence=sequence, memo=memo)
                if key is not None and cache is not None:
                    cache.put(key, ordered)
        hits: list[str] = []
        if size and ordered is not None:
            for doc, picked in ordered[start : start + size]:
                sort = [value for value, _ in picked]
                doc_id, source = view(doc)
                raw = source_json(doc)
                if raw is None:
                    raw = json.dumps(source, separators=(",", ":"), ensure_ascii=False)
                hits.append(_hit(index, doc_id, rv(doc), sort, raw))
        took = int((time.perf_counter() - started) * 1000)
        return _envelope(took, total, hits)
