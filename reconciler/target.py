"""Open a client on the configured target: the Atlan tenant, or the embedded emulator in-process."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx

from reconciler import console
from reconciler.atlan import AtlanWorkflowClient, RateLimit, RetryPolicy, Timeouts
from reconciler.errors import SettingsError
from reconciler.settings import Settings

# The embedded emulator runs in this process; its key only has to match itself.
_EMBEDDED_KEY = "embedded-emulator"
EMBEDDED_URL = "http://embedded-emulator"
# Runs on the embedded emulator take this long, so `apply --wait` finishes quickly in a demo.
EMBEDDED_RUN_SECONDS = 3.0


@asynccontextmanager
async def connect(settings: Settings) -> AsyncIterator[AtlanWorkflowClient]:
    """A client for ``settings``; with no ATLAN_BASE_URL, for the embedded emulator (said once)."""
    retry = RetryPolicy(attempts=settings.retries + 1, backoff_base=settings.retry_backoff)
    timeouts = Timeouts(connect=settings.timeout, read=settings.timeout, write=settings.timeout)
    if settings.atlan_base_url is None:
        from reconciler.emulator import EmulatorConfig, create_app

        settings.state_dir.mkdir(parents=True, exist_ok=True)
        database = settings.state_dir / "emulator.db"
        console.err(f"No ATLAN_BASE_URL set: using the embedded emulator ({database}).")
        app = create_app(
            EmulatorConfig(api_key=_EMBEDDED_KEY, db_path=database, run_seconds=EMBEDDED_RUN_SECONDS)
        )
        client = AtlanWorkflowClient(
            EMBEDDED_URL,
            _EMBEDDED_KEY,
            transport=httpx.ASGITransport(app=app),
            retry=retry,
            rate_limit=None,
            timeouts=timeouts,
        )
    else:
        if settings.atlan_api_key is None or not settings.atlan_api_key.get_secret_value():
            raise SettingsError(
                f"ATLAN_API_KEY is not set; it is needed to talk to {settings.atlan_base_url}"
            )
        client = AtlanWorkflowClient(
            settings.atlan_base_url,
            settings.atlan_api_key.get_secret_value(),
            retry=retry,
            rate_limit=RateLimit(per_second=settings.rate_limit, burst=max(1, int(settings.rate_limit))),
            timeouts=timeouts,
            max_connections=max(settings.parallelism * 2, 10),
        )
    async with client:
        yield client
