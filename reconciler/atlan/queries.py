"""Elasticsearch request bodies for ``workflows/indexsearch`` and ``runs/indexsearch``: pure functions.

Where the SDK has a query for the same question the body is the SDK's, byte for byte up to key
order: ``find_by_id`` and ``_find_current_run`` (tests/atlan/test_requests.py compares both with
the requests pyatlan 10.0.0 sends). The rest follow the same conventions: metadata and spec
fields are ``nested``, string fields are matched on their ``.keyword`` sub-field, everything sits
in a ``bool.filter``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

Query = dict[str, Any]

# Elasticsearch refuses from + size above index.max_result_window (10,000 by default) with a 400.
MAX_RESULT_WINDOW = 10_000

NAME_FIELD = "metadata.name.keyword"
TEMPLATE_REF_FIELD = "spec.workflowTemplateRef.name.keyword"
PHASE_FIELD = "status.phase.keyword"

# Kubernetes object names (DNS-1123 subdomains) use only these characters, so splitting a name
# prefix by its next character over this alphabet (plus the prefix itself as an exact name)
# covers every name that starts with the prefix.
NAME_ALPHABET = "-.0123456789abcdefghijklmnopqrstuvwxyz"

SORT_BY_CREATION_DESC: list[dict[str, Any]] = [
    {"metadata.creationTimestamp": {"order": "desc", "nested": {"path": "metadata"}}}
]
SORT_BY_NAME_ASC: list[dict[str, Any]] = [{NAME_FIELD: {"order": "asc", "nested": {"path": "metadata"}}}]
SORT_BY_NAME_DESC: list[dict[str, Any]] = [{NAME_FIELD: {"order": "desc", "nested": {"path": "metadata"}}}]


def search_body(
    query: Mapping[str, Any], *, from_: int, size: int, sort: Sequence[Mapping[str, Any]]
) -> Query:
    """A ``WorkflowSearchRequest`` as the SDK sends it: ``from``, ``size``, ``track_total_hits``, ``sort``."""
    return {
        "from": from_,
        "size": size,
        "track_total_hits": True,
        "query": dict(query),
        "sort": [dict(item) for item in sort],
    }


def nested(path: str, query: Mapping[str, Any]) -> Query:
    return {"nested": {"path": path, "query": dict(query)}}


def all_of(*queries: Mapping[str, Any]) -> Query:
    """Every query must match (a ``bool.filter``)."""
    return {"bool": {"filter": [dict(query) for query in queries]}}


def by_name(name: str) -> Query:
    """The SDK's ``find_by_id`` query: the workflow named ``name``."""
    return all_of(nested("metadata", {"bool": {"must": [{"term": {NAME_FIELD: {"value": name}}}]}}))


def by_names(names: Iterable[str]) -> Query:
    """Workflows (or runs) whose name is one of ``names``."""
    return all_of(nested("metadata", {"terms": {NAME_FIELD: list(names)}}))


def name_is(name: str) -> Query:
    return nested("metadata", {"term": {NAME_FIELD: {"value": name}}})


def name_starts_with(prefix: str) -> Query:
    return nested("metadata", {"prefix": {NAME_FIELD: {"value": prefix}}})


def by_label(key: str, value: str) -> Query:
    """Objects whose label ``key`` equals ``value`` (e.g. the reconciler's instance label)."""
    return all_of(nested("metadata", {"term": {f"metadata.labels.{key}.keyword": {"value": value}}}))


def runs_of(template: str) -> Query:
    """The SDK's ``_find_current_run`` query: runs of one template."""
    return all_of(nested("spec", {"term": {TEMPLATE_REF_FIELD: {"value": template}}}))


def runs_of_any(templates: Iterable[str], phases: Iterable[str] | None = None) -> Query:
    """Runs of any of ``templates``, optionally only those in one of ``phases``."""
    clauses = [nested("spec", {"terms": {TEMPLATE_REF_FIELD: list(templates)}})]
    if phases is not None:
        clauses.append({"terms": {PHASE_FIELD: list(phases)}})
    return all_of(*clauses)


def find_by_id(name: str) -> Query:
    """The SDK's exact ``find_by_id`` request body."""
    return search_body(by_name(name), from_=0, size=1, sort=SORT_BY_CREATION_DESC)


def current_runs(template: str, size: int = 50) -> Query:
    """The SDK's ``_find_current_run`` body: the newest ``size`` runs of ``template``."""
    return search_body(runs_of(template), from_=0, size=size, sort=SORT_BY_CREATION_DESC)


def page_windows(total: int, first_size: int, page_size: int) -> list[tuple[int, int]]:
    """``(from, size)`` of the pages after the first, none crossing ``MAX_RESULT_WINDOW``."""
    windows = []
    start = first_size
    while start < min(total, MAX_RESULT_WINDOW):
        size = min(page_size, MAX_RESULT_WINDOW - start)
        windows.append((start, size))
        start += size
    return windows


def split_prefix(common: str) -> list[str]:
    """The longer prefixes that partition ``common`` (the exact name ``common`` is listed apart)."""
    return [common + char for char in NAME_ALPHABET]


def common_prefix(first: str, last: str) -> str:
    """The longest common prefix of two names."""
    length = 0
    for a, b in zip(first, last, strict=False):
        if a != b:
            break
        length += 1
    return first[:length]
