"""The async client for Atlan's workflow API: endpoints, paging, retries, rate limit, error mapping.

``AtlanWorkflowClient`` (client.py) is the facade over transport.py (HTTP, retries, errors),
listing.py (paged searches) and settle.py (writes that must not happen twice). Only this package
talks HTTP to Atlan. It decides nothing about what to change; the planner and applier
call it. What it reads is parsed into the live models (reconciler/live.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from reconciler._lazy import attribute_loader

if TYPE_CHECKING:
    from reconciler.atlan.client import AtlanWorkflowClient, EndpointFamily
    from reconciler.atlan.models import Whoami
    from reconciler.atlan.ratelimit import RateLimit, TokenBucket
    from reconciler.atlan.transport import Timeouts
    from reconciler.retrying import RetryPolicy

_HOMES = {
    "AtlanWorkflowClient": "reconciler.atlan.client",
    "EndpointFamily": "reconciler.atlan.client",
    "RateLimit": "reconciler.atlan.ratelimit",
    "RetryPolicy": "reconciler.retrying",
    "Timeouts": "reconciler.atlan.transport",
    "TokenBucket": "reconciler.atlan.ratelimit",
    "Whoami": "reconciler.atlan.models",
}
__getattr__ = attribute_loader(__name__, _HOMES)

__all__ = [
    "AtlanWorkflowClient",
    "EndpointFamily",
    "RateLimit",
    "RetryPolicy",
    "Timeouts",
    "TokenBucket",
    "Whoami",
]
