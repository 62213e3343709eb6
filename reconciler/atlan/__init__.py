"""The async client for Atlan's workflow API: endpoints, paging, retries, rate limit, error mapping.

Only this package talks HTTP. It decides nothing about what to change; the planner and applier
call it.
"""

from __future__ import annotations

from reconciler.atlan.client import AtlanWorkflowClient, EndpointFamily, Timeouts
from reconciler.atlan.models import (
    ACTIVE_PHASES,
    ERROR,
    FAILED,
    FINISHED_PHASES,
    PENDING,
    RUNNING,
    SUCCEEDED,
    LiveRun,
    LiveWorkflow,
    Whoami,
)
from reconciler.atlan.ratelimit import RateLimit, TokenBucket
from reconciler.atlan.retry import RetryPolicy

__all__ = [
    "ACTIVE_PHASES",
    "ERROR",
    "FAILED",
    "FINISHED_PHASES",
    "PENDING",
    "RUNNING",
    "SUCCEEDED",
    "AtlanWorkflowClient",
    "EndpointFamily",
    "LiveRun",
    "LiveWorkflow",
    "RateLimit",
    "RetryPolicy",
    "Timeouts",
    "TokenBucket",
    "Whoami",
]
