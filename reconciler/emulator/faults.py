"""Fault decisions (latency, errors, 429, drops, lost responses) and the request log.

Every random draw comes from one generator seeded from the emulator's seed, so a given sequence
of requests meets the same faults every time.
"""

from __future__ import annotations

import json
import math
import random
import re
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass
from typing import Any

from reconciler.emulator.config import FaultConfig
from reconciler.emulator.presign import OBJECT_PREFIX

_ENDPOINTS: tuple[tuple[str, re.Pattern[str], str], ...] = tuple(
    (method, re.compile(pattern), name)
    for method, pattern, name in (
        ("POST", r"(workflows|package-workflows)/indexsearch", "{0}/indexsearch"),
        ("POST", r"runs/indexsearch", "runs/indexsearch"),
        ("POST", r"(workflows|package-workflows)/submit", "{0}/submit"),
        ("POST", r"workflows/triggerAsOwner", "workflows/triggerAsOwner"),
        ("POST", r"(workflows|package-workflows)", "{0}"),
        ("POST", r"(workflows|package-workflows)/[^/]+/archive", "{0}/{{name}}/archive"),
        ("POST", r"(workflows|package-workflows)/[^/]+/changeownership", "{0}/{{name}}/changeownership"),
        ("POST", r"(workflows|package-workflows)/[^/]+", "{0}/{{name}}"),
        ("POST", r"runs/[^/]+/stop", "runs/{{id}}/stop"),
        ("GET", r"runs/cron", "runs/cron"),
        (
            "GET",
            r"runs/cron/(scheduleQueriesBetweenDuration|missedScheduleQueriesBetweenDuration)",
            "runs/cron/{0}",
        ),
        ("GET", r"runs/cron/[^/]+", "runs/cron/{{name}}"),
        ("GET", r"whoami", "whoami"),
        ("GET", r"credentials/[^/]+", "credentials/{{guid}}"),
        ("POST", r"files/presignedUrl", "files/presignedUrl"),
        # Atlan's asset API (routes_assets.py), under /api/meta/ rather than /api/service/.
        ("POST", r"/api/meta/search/indexsearch", "meta/search/indexsearch"),
        ("GET", r"/api/meta/entity/uniqueAttribute/type/[^/]+", "meta/entity/uniqueAttribute/type/{{type}}"),
        ("GET", r"/api/meta/entity/guid/[^/]+", "meta/entity/guid/{{guid}}"),
        ("GET", r"/api/meta/types/typedefs", "meta/types/typedefs"),
    )
)
API_PREFIX = "/api/service/"


def endpoint_of(method: str, path: str, query: str) -> str:
    """The endpoint a request addresses, e.g. ``POST workflows/{name}`` or ``POST workflows?submit=true``.

    Requests that match no endpoint are named by their raw path; those to presigned URLs are
    ``PUT objects/{key}``, ``GET objects/{key}`` and ``HEAD objects/{key}``.
    """
    if path.startswith(OBJECT_PREFIX):
        return f"{method} objects/{{key}}"
    relative = path.removeprefix(API_PREFIX).rstrip("/")
    for wanted, pattern, name in _ENDPOINTS:
        match = pattern.fullmatch(relative)
        if method == wanted and match:
            label = name.format(*match.groups())
            if label in ("workflows", "package-workflows") and "submit=true" in query:
                label += "?submit=true"
            return f"{method} {label}"
    return f"{method} {relative}"


WRITE_METHODS = ("POST", "PUT")


def is_write(method: str, endpoint: str) -> bool:
    """Every POST but the searches changes state, and so does an object's PUT."""
    return method in WRITE_METHODS and not endpoint.endswith("indexsearch")


@dataclass(frozen=True)
class Decision:
    """What happens to one request: a delay, then nothing, an error status, a drop, or a lost answer."""

    delay_seconds: float = 0.0
    fault: str | None = None
    retry_after: int | None = None


class FaultInjector:
    """Thread-safe; the configuration can be swapped at any time (admin endpoint)."""

    def __init__(self, config: FaultConfig, seed: int) -> None:
        self._lock = threading.Lock()
        self._config = config
        self._rng = random.Random(f"{seed}/faults")  # noqa: S311 - reproducible, not secret
        self._recent: deque[float] = deque()

    @property
    def config(self) -> FaultConfig:
        return self._config

    def configure(self, config: FaultConfig) -> None:
        with self._lock:
            self._config = config
            self._recent.clear()

    def decide(self, method: str, path: str, endpoint: str) -> Decision:
        with self._lock:
            config = self._config
            delay = config.latency_ms / 1000.0
            if config.jitter_ms:
                delay += self._rng.uniform(0.0, config.jitter_ms) / 1000.0
            for scripted in config.script:
                if scripted.matches(method, path):
                    scripted.times -= 1
                    if scripted.times <= 0:
                        config.script.remove(scripted)
                    return self._with_retry(Decision(delay, scripted.fault), config)
            if config.rate_limit:
                now = time.monotonic()
                window = config.rate_limit_window_seconds
                while self._recent and self._recent[0] <= now - window:
                    self._recent.popleft()
                if len(self._recent) >= config.rate_limit:
                    wait = max(1, math.ceil(self._recent[0] + window - now))
                    return Decision(delay, "429", wait)
                self._recent.append(now)
            rates = (
                ("500", config.error_rate_500),
                ("503", config.error_rate_503),
                ("429", config.error_rate_429),
                ("drop", config.drop_rate),
            )
            if any(rate for _, rate in rates):
                draw, threshold = self._rng.random(), 0.0
                for fault, rate in rates:
                    threshold += rate
                    if draw < threshold:
                        return self._with_retry(Decision(delay, fault), config)
            if (
                config.lost_response_rate
                and is_write(method, endpoint)
                and self._rng.random() < config.lost_response_rate
            ):
                return Decision(delay, f"lost-{config.lost_response_mode}")
            return Decision(delay)

    @staticmethod
    def _with_retry(decision: Decision, config: FaultConfig) -> Decision:
        if decision.fault == "429":
            return Decision(
                decision.delay_seconds, "429", max(1, math.ceil(config.rate_limit_window_seconds))
            )
        return decision


LOGGED_BODY_LIMIT = 64 * 1024
"""A request body larger than this is logged as its size only."""


class RequestLog:
    """Every API request (not admin or health): method, path, endpoint, status, fault, body.

    Bodies are kept with credential payloads reduced to their parameter and type; the
    Authorization header is never recorded, nor an object's bytes (their size only) or a
    presigned URL's signature (see ``gateway.py``). Counts are kept for every request ever seen.

    Memory is bounded whatever the traffic: a ring of ``limit`` records (the oldest dropped first),
    whose bodies together take at most ``body_bytes`` bytes of request text; past that the oldest
    records lose their body first (``"(dropped: ...)"``), and a body over ``LOGGED_BODY_LIMIT`` is
    logged as its size only.
    """

    def __init__(self, limit: int, body_bytes: int) -> None:
        self._lock = threading.Lock()
        self._records: deque[dict[str, Any]] = deque(maxlen=limit)
        self._with_body: deque[tuple[dict[str, Any], int]] = deque()  # oldest first, with their size
        self._body_bytes = 0
        self._body_budget = body_bytes
        self._counts: Counter[str] = Counter()
        self._status_counts: dict[str, Counter[str]] = {}
        self._seq = 0

    def add(self, record: dict[str, Any], body: bytes = b"", *, object_bytes: int | None = None) -> None:
        """Keep ``record`` with ``body``; an object's bytes are never kept, ``object_bytes`` says how many."""
        record["body"] = _logged_body(body) if object_bytes is None else _size_only(object_bytes)
        kept = len(body) if body and len(body) <= LOGGED_BODY_LIMIT else 0
        with self._lock:
            self._seq += 1
            record["seq"] = self._seq
            self._records.append(record)
            endpoint = record["endpoint"]
            self._counts[endpoint] += 1
            self._status_counts.setdefault(endpoint, Counter())[str(record["status"])] += 1
            if kept:
                self._with_body.append((record, kept))
                self._body_bytes += kept
            while self._body_bytes > self._body_budget:
                oldest, size = self._with_body.popleft()
                oldest["body"] = f"(dropped: the log keeps {self._body_budget} bytes of bodies)"
                self._body_bytes -= size

    def records(self, *, endpoint: str | None = None, since: int = 0) -> list[dict[str, Any]]:
        with self._lock:
            return [
                dict(r)
                for r in self._records
                if r["seq"] > since and (endpoint is None or r["endpoint"] == endpoint)
            ]

    def counts(self) -> dict[str, Any]:
        with self._lock:
            return {
                "total": sum(self._counts.values()),
                "last_seq": self._seq,
                "by_endpoint": dict(sorted(self._counts.items())),
                "by_endpoint_status": {
                    k: dict(sorted(v.items())) for k, v in sorted(self._status_counts.items())
                },
            }

    def clear(self) -> int:
        with self._lock:
            cleared = sum(self._counts.values())
            self._records.clear()
            self._with_body.clear()
            self._body_bytes = 0
            self._counts.clear()
            self._status_counts.clear()
            return cleared


def _size_only(size: int) -> str | None:
    return f"({size} bytes, not kept)" if size else None


def _logged_body(body: bytes) -> Any:
    if not body:
        return None
    if len(body) > LOGGED_BODY_LIMIT:
        return _size_only(len(body))
    try:
        return redact_body(json.loads(body))
    except (ValueError, UnicodeDecodeError):
        return "(not JSON)"


def redact_body(body: Any) -> Any:
    """A request body safe to keep: each ``payload`` item loses its ``body`` (the credential)."""
    if isinstance(body, dict) and isinstance(body.get("payload"), list):
        payload = [
            {k: v for k, v in item.items() if k != "body"} if isinstance(item, dict) else "(redacted)"
            for item in body["payload"]
        ]
        return {**body, "payload": payload}
    return body
