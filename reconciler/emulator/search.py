"""The Elasticsearch query subset the workflow search endpoints understand, evaluated in memory.

``compile_query`` turns a query body into a predicate over ``(id, source)`` once per request, so a
search is one pass of plain Python calls over the stored documents. Supported: ``bool`` (must,
filter, should with minimum_should_match, must_not), ``term``, ``terms``, ``prefix``, ``regexp``
(whole-term match), ``wildcard``, ``exists``, ``range`` (gt/gte/lt/lte, numbers, strings and dates
with ``now-2h``-style date math), ``ids``, ``match``, ``match_all``, ``match_none``,
``constant_score`` and ``nested`` (the inner query is evaluated against the whole document).
Field names lose a trailing ``.keyword``; ``_id`` is the document id; a path segment may itself
contain dots (``metadata.labels.workflows.argoproj.io/phase``): the longest key that exists wins.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

MAX_RESULT_WINDOW = 10_000

T = TypeVar("T")

Predicate = Callable[[str, Mapping[str, Any]], bool]
Getter = Callable[[str, Mapping[str, Any]], list[Any]]


class QueryError(ValueError):
    """The search body is malformed or uses something outside the supported subset (HTTP 400)."""

    def __init__(self, reason: str, kind: str = "parsing_exception") -> None:
        super().__init__(reason)
        self.reason = reason
        self.kind = kind


# ---------------------------------------------------------------------------------------------
# field access


def _strip_keyword(field: str) -> str:
    return field.removesuffix(".keyword")


def _collect(node: Any, parts: Sequence[str], index: int, out: list[Any]) -> None:
    if isinstance(node, list):
        for item in node:
            _collect(item, parts, index, out)
        return
    if index == len(parts):
        if node is not None:
            out.append(node)
        return
    if not isinstance(node, Mapping):
        return
    for end in range(len(parts), index, -1):
        key = parts[index] if end == index + 1 else ".".join(parts[index:end])
        if key in node:
            _collect(node[key], parts, end, out)
            return


def _walk(source: Mapping[str, Any], parts: Sequence[str], tails: Sequence[str]) -> list[Any] | None:
    """The common case quickly: objects all the way down, each segment a key, or the rest one key.

    None means "not that simple" (an array on the way or of arrays, or a key that needs joining
    earlier), and the caller falls back to the general walk.
    """
    node: Any = source
    for index, part in enumerate(parts):
        if type(node) is not dict:
            return None if isinstance(node, list | Mapping) else []
        if part in node:
            node = node[part]
            continue
        tail = tails[index]
        if tail in node:
            node = node[tail]
            break
        return None if index < len(parts) - 2 else []
    if node is None:
        return []
    if isinstance(node, list):
        # An array of values at the end (tags, super types): what the general walk makes of it.
        if any(isinstance(item, list) for item in node):
            return None
        return [item for item in node if item is not None]
    return [node]


@functools.lru_cache(maxsize=512)
def field_getter(field: str) -> Getter:
    """A function giving every value of ``field`` in a document (arrays flattened, nulls dropped)."""
    field = _strip_keyword(field)
    if field == "_id":
        return lambda doc_id, _source: [doc_id]
    parts = tuple(field.split("."))
    tails = tuple(".".join(parts[index:]) for index in range(len(parts)))

    def getter(_doc_id: str, source: Mapping[str, Any]) -> list[Any]:
        found = _walk(source, parts, tails)
        if found is not None:
            return found
        out: list[Any] = []
        _collect(source, parts, 0, out)
        return out

    return getter


def _keyword(value: Any) -> str:
    """How a value reads as a keyword term: booleans lower-case, integral floats without ``.0``."""
    if type(value) is str:
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dict | list):
        return repr(value)
    return str(value)


# ---------------------------------------------------------------------------------------------
# dates


_DATE_MATH = re.compile(r"([+-])(\d+)([yMwdhHms])")
_UNIT_SECONDS = {"w": 604800, "d": 86400, "h": 3600, "H": 3600, "m": 60, "s": 1}


@functools.lru_cache(maxsize=65536)
def parse_date(text: str) -> float | None:
    """Seconds since the epoch for an ISO-8601 date or date-time (``Z`` or an offset); else None."""
    candidate = text.strip()
    if not candidate or not candidate[0].isdigit():
        return None
    if candidate.isdigit() and len(candidate) > 8:
        return int(candidate) / 1000.0
    try:
        parsed = datetime.fromisoformat(candidate.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


def _round_down(epoch: float, unit: str) -> float:
    moment = datetime.fromtimestamp(epoch, tz=UTC)
    if unit == "y":
        moment = moment.replace(month=1, day=1, hour=0, minute=0, second=0, microsecond=0)
    elif unit == "M":
        moment = moment.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    elif unit == "w":
        start = moment.replace(hour=0, minute=0, second=0, microsecond=0)
        return start.timestamp() - start.weekday() * 86400
    else:
        size = _UNIT_SECONDS[unit]
        return math.floor(epoch / size) * size
    return moment.timestamp()


def _shift(epoch: float, sign: int, amount: int, unit: str) -> float:
    if unit in _UNIT_SECONDS:
        return epoch + sign * amount * _UNIT_SECONDS[unit]
    moment = datetime.fromtimestamp(epoch, tz=UTC)
    months = moment.month - 1 + sign * amount * (12 if unit == "y" else 1)
    year, month = moment.year + months // 12, months % 12 + 1
    day = min(
        moment.day, [31, 29 if year % 4 == 0 else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]
    )
    return moment.replace(year=year, month=month, day=day).timestamp()


def _next_unit(epoch: float, unit: str) -> float:
    return _shift(_round_down(epoch, unit), 1, 1, unit)


def resolve_date(expression: str, now: float, *, round_up: bool) -> float | None:
    """Evaluate ES date math (``now-2h``, ``now/d``, ``2024-01-01||+1M``); None if not a date."""
    if expression.startswith("now"):
        base, rest = now, expression[3:]
    elif "||" in expression:
        anchor, rest = expression.split("||", 1)
        parsed = parse_date(anchor)
        if parsed is None:
            return None
        base = parsed
    else:
        return parse_date(expression)
    rounding = None
    if "/" in rest:
        rest, rounding = rest.rsplit("/", 1)
        if rounding not in ("y", "M", "w", "d", "h", "H", "m", "s"):
            raise QueryError(f"unit [{rounding}] not supported for date math [{expression}]")
    position = 0
    for match in _DATE_MATH.finditer(rest):
        if match.start() != position:
            raise QueryError(f"failed to parse date field [{expression}]")
        position = match.end()
        base = _shift(base, 1 if match.group(1) == "+" else -1, int(match.group(2)), match.group(3))
    if position != len(rest):
        raise QueryError(f"failed to parse date field [{expression}]")
    if rounding is not None:
        base = _next_unit(base, rounding) - 0.001 if round_up else _round_down(base, rounding)
    return base


# ---------------------------------------------------------------------------------------------
# queries


@dataclass(frozen=True)
class _Context:
    now: float


def _single_field(body: Any, kind: str) -> tuple[str, Any]:
    if not isinstance(body, Mapping):
        raise QueryError(f"[{kind}] query malformed, no start_object after query name")
    fields = [key for key in body if key not in ("boost", "_name")]
    if len(fields) != 1:
        raise QueryError(f"[{kind}] query doesn't support multiple fields, found {fields}")
    return fields[0], body[fields[0]]


def _options(value: Any, kind: str, key: str = "value") -> tuple[Any, Mapping[str, Any]]:
    if isinstance(value, Mapping):
        if key not in value:
            raise QueryError(f"[{kind}] query does not support [{sorted(value)}]")
        return value[key], value
    return value, {}


def _clauses(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def _compile(query: Any, ctx: _Context) -> Predicate:
    if not isinstance(query, Mapping) or len(query) != 1:
        raise QueryError("query malformed, must be an object with exactly one query type")
    ((kind, body),) = query.items()
    compiler = _COMPILERS.get(kind)
    if compiler is None:
        raise QueryError(f"unknown query [{kind}]", "parsing_exception")
    return compiler(body, ctx)


def _bool(body: Any, ctx: _Context) -> Predicate:
    if not isinstance(body, Mapping):
        raise QueryError("[bool] query malformed")
    unknown = set(body) - {"must", "filter", "should", "must_not", "minimum_should_match", "boost", "_name"}
    if unknown:
        raise QueryError(f"[bool] query does not support [{sorted(unknown)[0]}]")
    required = [_compile(q, ctx) for q in _clauses(body.get("must")) + _clauses(body.get("filter"))]
    should = [_compile(q, ctx) for q in _clauses(body.get("should"))]
    excluded = [_compile(q, ctx) for q in _clauses(body.get("must_not"))]
    minimum = body.get("minimum_should_match")
    if minimum is None:
        needed = 0 if required else (1 if should else 0)
    elif isinstance(minimum, int):
        needed = minimum if minimum >= 0 else max(len(should) + minimum, 0)
    elif isinstance(minimum, str) and minimum.endswith("%"):
        needed = int(len(should) * int(minimum[:-1]) / 100)
    else:
        raise QueryError(f"[bool] minimum_should_match [{minimum}] is not supported")

    def predicate(doc_id: str, source: Mapping[str, Any]) -> bool:
        for test in required:
            if not test(doc_id, source):
                return False
        for test in excluded:
            if test(doc_id, source):
                return False
        if needed:
            hits = 0
            for test in should:
                if test(doc_id, source):
                    hits += 1
                    if hits >= needed:
                        return True
            return False
        return True

    return predicate


def _term(body: Any, _ctx: _Context) -> Predicate:
    field, spec = _single_field(body, "term")
    value, options = _options(spec, "term")
    getter = field_getter(field)
    if options.get("case_insensitive"):
        wanted = _keyword(value).lower()
        return lambda doc_id, source: any(_keyword(v).lower() == wanted for v in getter(doc_id, source))
    wanted = _keyword(value)

    def predicate(doc_id: str, source: Mapping[str, Any]) -> bool:
        for found in getter(doc_id, source):
            if found == wanted or (not isinstance(found, str) and _keyword(found) == wanted):
                return True
        return False

    return predicate


def _terms(body: Any, _ctx: _Context) -> Predicate:
    field, values = _single_field(body, "terms")
    if not isinstance(values, list):
        raise QueryError("[terms] query requires an array of values")
    wanted = frozenset(_keyword(v) for v in values)
    getter = field_getter(field)
    return lambda doc_id, source: any(_keyword(v) in wanted for v in getter(doc_id, source))


def _ids(body: Any, _ctx: _Context) -> Predicate:
    if not isinstance(body, Mapping) or not isinstance(body.get("values"), list):
        raise QueryError("[ids] query requires [values]")
    wanted = frozenset(str(v) for v in body["values"])
    return lambda doc_id, _source: doc_id in wanted


def _prefix(body: Any, _ctx: _Context) -> Predicate:
    field, spec = _single_field(body, "prefix")
    value, options = _options(spec, "prefix")
    getter = field_getter(field)
    if options.get("case_insensitive"):
        lowered = str(value).lower()
        return lambda doc_id, source: any(
            _keyword(v).lower().startswith(lowered) for v in getter(doc_id, source)
        )
    text = str(value)
    return lambda doc_id, source: any(_keyword(v).startswith(text) for v in getter(doc_id, source))


@functools.lru_cache(maxsize=256)
def _regex(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    try:
        return re.compile(pattern, re.IGNORECASE if ignore_case else 0)
    except re.error as exc:
        raise QueryError(f"invalid regular expression [{pattern}]: {exc}") from exc


def _regexp(body: Any, _ctx: _Context) -> Predicate:
    field, spec = _single_field(body, "regexp")
    value, options = _options(spec, "regexp")
    compiled = _regex(str(value), bool(options.get("case_insensitive")))
    getter = field_getter(field)
    return lambda doc_id, source: any(
        compiled.fullmatch(_keyword(v)) is not None for v in getter(doc_id, source)
    )


def _wildcard(body: Any, _ctx: _Context) -> Predicate:
    field, spec = _single_field(body, "wildcard")
    value, options = _options(spec, "wildcard")
    pattern = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in str(value))
    compiled = _regex(pattern, bool(options.get("case_insensitive")))
    getter = field_getter(field)
    return lambda doc_id, source: any(
        compiled.fullmatch(_keyword(v)) is not None for v in getter(doc_id, source)
    )


def _exists(body: Any, _ctx: _Context) -> Predicate:
    if not isinstance(body, Mapping) or not isinstance(body.get("field"), str):
        raise QueryError("[exists] must be provided with a [field]")
    getter = field_getter(body["field"])
    return lambda doc_id, source: bool(getter(doc_id, source))


_RANGE_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "gt": lambda a, b: a > b,
    "gte": lambda a, b: a >= b,
    "lt": lambda a, b: a < b,
    "lte": lambda a, b: a <= b,
}


def _range(body: Any, ctx: _Context) -> Predicate:
    field, spec = _single_field(body, "range")
    if not isinstance(spec, Mapping):
        raise QueryError("[range] query malformed")
    allowed = set(_RANGE_OPS) | {"format", "time_zone", "boost", "relation"}
    if set(spec) - allowed:
        raise QueryError(f"[range] query does not support [{sorted(set(spec) - allowed)[0]}]")
    getter = field_getter(field)
    checks: list[tuple[Callable[[Any, Any], bool], str, Any]] = []
    for op in ("gt", "gte", "lt", "lte"):
        if spec.get(op) is None:
            continue
        bound = spec[op]
        if isinstance(bound, bool):
            raise QueryError(f"[range] bound [{bound}] is not supported")
        if isinstance(bound, int | float):
            checks.append((_RANGE_OPS[op], "number", float(bound)))
            continue
        text = str(bound)
        date = resolve_date(text, ctx.now, round_up=op in ("gt", "lte"))
        if date is not None:
            checks.append((_RANGE_OPS[op], "date", date))
        else:
            checks.append((_RANGE_OPS[op], "string", text))

    def as_kind(value: Any, kind: str) -> Any:
        if kind == "number":
            if isinstance(value, int | float) and not isinstance(value, bool):
                return float(value)
            try:
                return float(value)
            except (TypeError, ValueError):
                return None
        if kind == "date":
            if isinstance(value, int | float) and not isinstance(value, bool):
                return value / 1000.0
            return parse_date(value) if isinstance(value, str) else None
        return _keyword(value)

    def predicate(doc_id: str, source: Mapping[str, Any]) -> bool:
        for value in getter(doc_id, source):
            if all(
                (converted := as_kind(value, kind)) is not None and op(converted, bound)
                for op, kind, bound in checks
            ):
                return True
        return False

    return predicate


def _nested(body: Any, ctx: _Context) -> Predicate:
    if not isinstance(body, Mapping) or "query" not in body or "path" not in body:
        raise QueryError("[nested] requires 'path' and 'query'")
    return _compile(body["query"], ctx)


def _constant_score(body: Any, ctx: _Context) -> Predicate:
    if not isinstance(body, Mapping) or "filter" not in body:
        raise QueryError("[constant_score] requires a 'filter' element")
    return _compile(body["filter"], ctx)


def _match(body: Any, ctx: _Context) -> Predicate:
    field, spec = _single_field(body, "match")
    value, _ = _options(spec, "match", "query")
    return _term({field: {"value": value}}, ctx)


def _match_all(_body: Any, _ctx: _Context) -> Predicate:
    return lambda _doc_id, _source: True


def _match_none(_body: Any, _ctx: _Context) -> Predicate:
    return lambda _doc_id, _source: False


_COMPILERS: dict[str, Callable[[Any, _Context], Predicate]] = {
    "bool": _bool,
    "term": _term,
    "terms": _terms,
    "ids": _ids,
    "prefix": _prefix,
    "regexp": _regexp,
    "wildcard": _wildcard,
    "exists": _exists,
    "range": _range,
    "nested": _nested,
    "constant_score": _constant_score,
    "match": _match,
    "match_all": _match_all,
    "match_none": _match_none,
}


INDEXED_FIELDS = frozenset({"metadata.name", "spec.workflowTemplateRef.name"})


def required_terms(query: Any, fields: frozenset[str]) -> dict[str, frozenset[str]]:
    """Values that ``query`` requires of ``fields`` (``_id`` counts as ``metadata.name``).

    Only clauses every match must satisfy are read (the query, and ``must``/``filter`` of bools,
    through ``nested`` and ``constant_score``); a field maps to the set of values allowed. A
    document outside the set cannot match, so a search may start from an index lookup. Two
    clauses on one field intersect, which holds for single-valued fields: for an array field use
    ``required_clauses``.
    """
    found: dict[str, frozenset[str]] = {}
    for field, allowed in required_clauses(query, fields):
        found[field] = found[field] & allowed if field in found else allowed
    return found


def _leaves(query: Any, parts: tuple[str, ...]) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """The leaf clauses of ``query`` as ``(kind, body)``, through ``nested``, ``constant_score`` and the
    ``parts`` of bools; malformed parts are skipped (``compile_query`` is the one that rejects them)."""
    if not isinstance(query, Mapping) or len(query) != 1:
        return
    ((kind, body),) = query.items()
    if not isinstance(body, Mapping):
        return
    if kind == "bool":
        for part in parts:
            for clause in _clauses(body.get(part)):
                yield from _leaves(clause, parts)
    elif kind == "nested":
        yield from _leaves(body.get("query"), parts)
    elif kind == "constant_score":
        yield from _leaves(body.get("filter"), parts)
    else:
        yield kind, body


def required_clauses(query: Any, fields: frozenset[str]) -> list[tuple[str, frozenset[str]]]:
    """Each ``term``/``terms``/``ids`` clause every match of ``query`` must satisfy on one of
    ``fields``, as ``(field, values allowed)``, one entry per clause (see ``required_terms``)."""
    found: list[tuple[str, frozenset[str]]] = []

    def add(field: str, values: Iterable[Any]) -> None:
        field = _strip_keyword(field)
        field = "metadata.name" if field == "_id" else field
        if field in fields:
            found.append((field, frozenset(_keyword(v) for v in values)))

    for kind, body in _leaves(query, ("must", "filter")):
        if kind in ("term", "terms") and len(body) == 1:
            ((field, spec),) = body.items()
            if kind == "terms" and isinstance(spec, list):
                add(field, spec)
            elif kind == "term" and not (isinstance(spec, Mapping) and spec.get("case_insensitive")):
                add(field, [spec.get("value") if isinstance(spec, Mapping) else spec])
        elif kind == "ids" and isinstance(body.get("values"), list):
            add("_id", body["values"])
    return found


_FIELD_KINDS = frozenset({"term", "terms", "prefix", "regexp", "wildcard", "range", "match"})


def query_fields(query: Any) -> frozenset[str]:
    """Every field ``query`` reads, without ``.keyword`` (``_id`` for ``ids``), so a caller can check
    them against the fields it serves before evaluating anything."""
    found: set[str] = set()
    for kind, body in _leaves(query, ("must", "filter", "should", "must_not")):
        if kind == "exists" and isinstance(body.get("field"), str):
            found.add(_strip_keyword(body["field"]))
        elif kind == "ids":
            found.add("_id")
        elif kind in _FIELD_KINDS:
            found.update(_strip_keyword(str(key)) for key in body if key not in ("boost", "_name"))
    return frozenset(found)


def compile_query(query: Any, *, now: float) -> Predicate:
    """A predicate for ``query`` (None or absent means match_all); raises QueryError."""
    if query is None:
        return _match_all(None, _Context(now))
    return _compile(query, _Context(now))


# ---------------------------------------------------------------------------------------------
# sorting


@dataclass(frozen=True)
class SortKey:
    field: str
    descending: bool
    missing_first: bool


DEFAULT_SORT: tuple[SortKey, ...] = (SortKey("metadata.creationTimestamp", True, False),)


def parse_sort(sort: Any) -> tuple[SortKey, ...]:
    """The sort keys of a search body; ``None`` gives the SDK's default (creationTimestamp desc)."""
    if sort is None:
        return DEFAULT_SORT
    keys: list[SortKey] = []
    for item in _clauses(sort):
        if isinstance(item, str):
            field, order, missing = item, ("desc" if item == "_score" else "asc"), None
        elif isinstance(item, Mapping) and len(item) == 1:
            ((field, spec),) = item.items()
            if isinstance(spec, str):
                order, missing = spec, None
            elif isinstance(spec, Mapping):
                order = spec.get("order", "desc" if field == "_score" else "asc")
                missing = spec.get("missing")
            else:
                raise QueryError(f"malformed sort for [{field}]")
        else:
            raise QueryError("malformed [sort]: each element is a field name or an object with one field")
        if order not in ("asc", "desc"):
            raise QueryError(f"unknown sort order [{order}]")
        if missing not in (None, "_last", "_first"):
            raise QueryError("sort [missing] values other than _first and _last are not supported")
        if field in ("_score", "_doc"):
            continue
        keys.append(SortKey(_strip_keyword(str(field)), order == "desc", missing == "_first"))
    return tuple(keys)


def _comparable(value: Any) -> tuple[int, float, str]:
    if type(value) is str:
        return (1, 0.0, value)
    if isinstance(value, int | float):
        return (0, float(value), "")
    return (1, 0.0, _keyword(value))


def sort_value(value: Any) -> Any:
    """The ``sort`` entry of a hit: epoch milliseconds for dates (as ES does), else the value."""
    if isinstance(value, str):
        date = parse_date(value)
        if date is not None and len(value) >= 10:
            return int(date * 1000)
    return value


Picked = tuple[Any, tuple[int, float, str] | None]


def sort_documents(
    entries: Iterable[T],
    keys: Sequence[SortKey],
    *,
    doc: Callable[[T], tuple[str, Mapping[str, Any]]],
    sequence: Callable[[T], int],
    memo: Callable[[T], dict[Any, Any]] | None = None,
) -> list[tuple[T, list[Picked]]]:
    """``entries`` in sort order, each with its (value, comparable) per sort key.

    Ties go by insertion sequence in the direction of the first key, so among documents created in
    the same second the newest comes first in a descending sort. Strings sort as strings, which
    for the uniform ``%Y-%m-%dT%H:%M:%SZ`` timestamps is chronological. ``memo`` may give a
    per-document dict (valid as long as the document is unchanged) to keep the extracted keys in.
    Missing values sort last (or first with ``missing: _first``), as in Elasticsearch.
    """
    first_descending = keys[0].descending if keys else False
    specs = [(key.field, field_getter(key.field), key.descending) for key in keys]

    def pick(entry: T, field: str, getter: Getter, descending: bool) -> Picked:
        cache = memo(entry) if memo is not None else None
        slot = (field, descending)
        if cache is not None and (cached := cache.get(slot)) is not None:
            return cached  # type: ignore[no-any-return]
        doc_id, source = doc(entry)
        found = getter(doc_id, source)
        if not found:
            result: Picked = (None, None)
        else:
            value = found[0] if len(found) == 1 else (max if descending else min)(found, key=_comparable)
            result = (value, _comparable(value))
        if cache is not None:
            cache[slot] = result
        return result

    rows = [(entry, [pick(entry, *spec) for spec in specs]) for entry in entries]
    rows.sort(key=lambda row: sequence(row[0]), reverse=first_descending)
    for position in range(len(keys) - 1, -1, -1):
        key = keys[position]
        present = [row for row in rows if row[1][position][1] is not None]
        if len(present) == len(rows):
            present.sort(key=lambda row: row[1][position][1], reverse=key.descending)  # type: ignore[arg-type,return-value]
            rows = present
            continue
        missing = [row for row in rows if row[1][position][1] is None]
        present.sort(key=lambda row: row[1][position][1], reverse=key.descending)  # type: ignore[arg-type,return-value]
        rows = missing + present if key.missing_first else present + missing
    return rows
