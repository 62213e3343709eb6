"""Listing through ``workflows/indexsearch`` and ``runs/indexsearch``: paged, concurrent, and past
Elasticsearch's 10,000-hit window by splitting the search on name prefixes.

A listing is one small first page (it learns the total; a small tenant is done in one short
request), then every other page at once in bigger pages: 10,000 managed workflows are 11
requests in two rounds (benchmarks/scale.py). Each page costs a request and a rate-limit token;
a hit is about 5 kB, so a later page is about 5 MB of JSON. More than 10,000 hits are listed by
partitioning on the next character of the name (queries.split_prefix), recursively.
tests/atlan/test_search.py pins all of this.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, Literal, TypeVar

from reconciler.atlan import queries, wire
from reconciler.atlan.transport import Transport
from reconciler.errors import ApiError

logger = logging.getLogger("reconciler.atlan")

T = TypeVar("T")
Index = Literal["workflows", "runs"]

DEFAULT_PAGE_SIZE = 100
DEFAULT_LATER_PAGE_SIZE = 1000
DEFAULT_PAGE_CONCURRENCY = 8
# Kubernetes names are at most 253 characters, so prefix partitioning can never go deeper.
_MAX_NAME_LENGTH = 253
# Names per ``terms`` query when looking many up at once (Elasticsearch allows 65,536).
TERMS_CHUNK = 1000


@dataclass(frozen=True, slots=True)
class Page:
    total: int | None
    sources: list[Mapping[str, Any]]


def page_of(data: Any, index: str) -> Page:
    """The hits of a search answer; an answer without them is an ApiError."""
    where = f"POST /{wire.PREFIX}{index}/indexsearch"
    hits = _mapping(data).get("hits")
    if not isinstance(hits, Mapping) or not isinstance(hits.get("hits", []), list):
        raise ApiError(f"{where}: the answer has no search hits", status=200)
    total_field = hits.get("total")
    total: int | None
    if isinstance(total_field, Mapping) and isinstance(total_field.get("value"), int):
        total = total_field["value"]
    elif isinstance(total_field, int):
        total = total_field
    else:
        total = None
    sources = []
    for hit in hits.get("hits", []):
        source = _mapping(hit).get("_source")
        if not isinstance(source, Mapping):
            raise ApiError(f"{where}: a search hit has no _source", status=200)
        sources.append(source)  # not copied: parsing copies what it keeps
    return Page(total=total, sources=sources)


def chunks(names: Iterable[str]) -> list[list[str]]:
    """``names``, deduplicated and sorted, in lists of at most TERMS_CHUNK (one ``terms`` query each)."""
    wanted = sorted(set(names))
    return [wanted[i : i + TERMS_CHUNK] for i in range(0, len(wanted), TERMS_CHUNK)]


class Lister:
    """Every hit of a search, through ``transport``, at most ``page_concurrency`` pages at a time."""

    def __init__(
        self, transport: Transport, *, page_size: int, later_page_size: int | None, page_concurrency: int
    ) -> None:
        if later_page_size is None:  # bigger later pages only with the default first page
            later_page_size = DEFAULT_LATER_PAGE_SIZE if page_size == DEFAULT_PAGE_SIZE else page_size
        if not all(1 <= size <= queries.MAX_RESULT_WINDOW for size in (page_size, later_page_size)):
            raise ValueError(f"page_size must be within 1..{queries.MAX_RESULT_WINDOW}")
        if page_concurrency < 1:
            raise ValueError("page_concurrency and max_connections must be at least 1")
        self._transport = transport
        self._page_size = page_size
        self._later_page_size = later_page_size
        self._pages = asyncio.Semaphore(page_concurrency)

    async def collect(
        self, index: Index, query: Mapping[str, Any], parse: Callable[[Mapping[str, Any]], T]
    ) -> list[T]:
        """Every hit matching ``query`` parsed, deduplicated by name and sorted by it."""
        where = f"{index}/indexsearch"
        found = _Collected(lambda source: self._transport.parse(parse, source, "POST", where))
        await self._collect_partition(index, query, prefix=None, parent_total=None, into=found)
        return [found.items[name] for name in sorted(found.items)]

    async def _collect_partition(
        self,
        index: Index,
        base: Mapping[str, Any],
        *,
        prefix: str | None,
        parent_total: int | None,
        into: _Collected[Any],
    ) -> int:
        """Collect one partition (everything, or the names under ``prefix``); its reported size."""
        query = base if prefix is None else queries.all_of(base, queries.name_starts_with(prefix))
        first = await self._search_page(index, query, 0, self._page_size, queries.SORT_BY_NAME_ASC)
        into.keep(first.sources)
        if first.total is None:  # no total: page on until a short page, one at a time
            start, page, seen = self._page_size, first, len(first.sources)
            while len(page.sources) >= self._page_size and start < queries.MAX_RESULT_WINDOW:
                size = min(self._page_size, queries.MAX_RESULT_WINDOW - start)
                page = await self._search_page(index, query, start, size, queries.SORT_BY_NAME_ASC)
                into.keep(page.sources)
                start, seen = start + size, seen + len(page.sources)
            return seen
        if first.total <= queries.MAX_RESULT_WINDOW:
            windows = queries.page_windows(first.total, self._page_size, self._later_page_size)
            await gather(self._keep_page(index, query, start, size, into) for start, size in windows)
            return first.total
        await self._partition(index, base, prefix, first, parent_total, into)
        return first.total

    async def _partition(
        self,
        index: Index,
        base: Mapping[str, Any],
        prefix: str | None,
        first: Page,
        parent_total: int | None,
        into: _Collected[Any],
    ) -> None:
        """List more than 10,000 hits by splitting on the next character of the name."""
        where = f"{index}/indexsearch"
        total = first.total or 0
        if parent_total is not None and total >= parent_total:
            raise ApiError(f"POST /{wire.PREFIX}{where}: the server did not narrow the search by name prefix")
        query = base if prefix is None else queries.all_of(base, queries.name_starts_with(prefix))
        last = await self._search_page(index, query, 0, 1, queries.SORT_BY_NAME_DESC)
        if not first.sources or not last.sources:
            raise ApiError(f"POST /{wire.PREFIX}{where}: {total} hits reported but none returned")
        common = queries.common_prefix(_name_of(first.sources[0]), _name_of(last.sources[-1]))
        if prefix is not None and not common.startswith(prefix):
            raise ApiError(f"POST /{wire.PREFIX}{where}: the server did not narrow the search by name prefix")
        if len(common) >= _MAX_NAME_LENGTH:
            raise ApiError(f"POST /{wire.PREFIX}{where}: cannot partition {total} hits by name")
        logger.debug("%s: %d hits under prefix %r; splitting after %r", where, total, prefix or "", common)
        children = [self._collect_exact(index, base, common, into)] if common else []
        children.extend(
            self._collect_partition(index, base, prefix=child, parent_total=total, into=into)
            for child in queries.split_prefix(common)
        )
        counted = sum(await gather(children))
        if counted != total:  # data changed while listing, or the server sorts or filters oddly
            logger.warning(
                "%s: %d hits under prefix %r, but its parts hold %d", where, total, prefix or "", counted
            )

    async def _collect_exact(
        self, index: Index, base: Mapping[str, Any], name: str, into: _Collected[Any]
    ) -> int:
        """The one hit (if any) named exactly ``name``: the part of a split no longer prefix covers."""
        query = queries.all_of(base, queries.name_is(name))
        page = await self._search_page(index, query, 0, 1, queries.SORT_BY_NAME_ASC)
        into.keep(page.sources)
        return len(page.sources)

    async def _keep_page(
        self, index: Index, query: Mapping[str, Any], from_: int, size: int, into: _Collected[Any]
    ) -> None:
        """One page, parsed into ``into`` as soon as it arrives."""
        page = await self._search_page(index, query, from_, size, queries.SORT_BY_NAME_ASC)
        into.keep(page.sources)

    async def _search_page(
        self, index: Index, query: Mapping[str, Any], from_: int, size: int, sort: Sequence[Mapping[str, Any]]
    ) -> Page:
        body = queries.search_body(query, from_=from_, size=size, sort=sort)
        async with self._pages:
            data = await self._transport.call("POST", f"{index}/indexsearch", body)
        return page_of(data, index)


async def gather(aws: Iterable[Coroutine[Any, Any, T]]) -> list[T]:
    """Run coroutines concurrently; the first failure cancels the rest and is raised as itself."""
    tasks: list[asyncio.Task[T]] = []
    try:
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(aw) for aw in aws]
    except BaseExceptionGroup as failures:
        leaves = list(_leaves(failures))
        raise next((e for e in leaves if isinstance(e, ApiError)), leaves[0]) from None
    return [task.result() for task in tasks]


def _leaves(group: BaseExceptionGroup[BaseException]) -> Iterable[BaseException]:
    for exc in group.exceptions:
        if isinstance(exc, BaseExceptionGroup):
            yield from _leaves(exc)
        else:
            yield exc


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _name_of(source: Mapping[str, Any]) -> str:
    name = _mapping(source.get("metadata")).get("name")
    return name if isinstance(name, str) else ""


class _Collected(Generic[T]):
    """The hits of a listing so far, parsed as each page arrives (so that a page's raw JSON is
    let go at once, instead of all pages' together), by name; the first of a name is kept."""

    def __init__(self, parse: Callable[[Mapping[str, Any]], T]) -> None:
        self.parse = parse
        self.items: dict[str, T] = {}

    def keep(self, sources: Iterable[Mapping[str, Any]]) -> None:
        for source in sources:
            name = _name_of(source)
            if name not in self.items:
                self.items[name] = self.parse(source)
