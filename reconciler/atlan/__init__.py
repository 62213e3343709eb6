"""The async client for Atlan's workflow API: endpoints, paging, retries, rate limit, error mapping.

Only this package talks HTTP. It decides nothing about what to change; the planner and applier
call it. What it reads is parsed into the live models (reconciler/live.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from reconciler._lazy import attribute_loader

if TYPE_CHECKING:
    from reconciler.atlan.client import AtlanWorkflowClient, EndpointFamily, Timeouts
    from reconciler.atlan.models import Whoami
    from reconciler.atlan.ratelimit import RateLimit, TokenBucket
    from reconciler.atlan.retry import RetryPolicy

_HOMES = {
    "AtlanWorkflowClient": "reconciler.atlan.client",
    "EndpointFamily": "reconciler.atlan.client",
    "RateLimit": "reconciler.atlan.ratelimit",
    "RetryPolicy": "reconciler.atlan.retry",
    "Timeouts": "reconciler.atlan.client",
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
