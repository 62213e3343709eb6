"""An emulator of Atlan's workflow REST API (Starlette + SQLite), the default target and the test double.

Besides the workflow API it serves the tenant's file API (``POST files/presignedUrl`` and the
presigned URLs, ``routes_objects.py``) and keeps local stand-ins for the s3, gcs and adls buckets
that manifests name, as files under one directory (layout in ``objects.py``); each run notes the
objects it reads (``inputs.py``).

Standalone test tooling: nothing here imports from the rest of the ``reconciler`` package.

In-process::

    app = create_app(EmulatorConfig(api_key="k", db_path="state.db"))
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://emulator")

Over HTTP on loopback: ``EmulatorServer(config)`` (a context manager) or ``reconciler emulator serve``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from reconciler.emulator.app import create_app
    from reconciler.emulator.clock import Clock, format_timestamp
    from reconciler.emulator.config import (
        API_TOKEN_ROLE,
        ConfigError,
        EmulatorConfig,
        FaultConfig,
        ScriptedFault,
    )
    from reconciler.emulator.gateway import DroppedConnection, EmulatorApp
    from reconciler.emulator.server import EmulatorServer, serve
    from reconciler.emulator.state import Emulator

# Imported on first use (PEP 562): every CLI command imports this package for the emulator
# command's options, and Starlette and uvicorn cost a tenth of a second to import.
_HOMES = {
    "create_app": "app",
    "Clock": "clock",
    "format_timestamp": "clock",
    "API_TOKEN_ROLE": "config",
    "ConfigError": "config",
    "EmulatorConfig": "config",
    "FaultConfig": "config",
    "ScriptedFault": "config",
    "DroppedConnection": "gateway",
    "EmulatorApp": "gateway",
    "EmulatorServer": "server",
    "serve": "server",
    "Emulator": "state",
}


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{_HOMES[name]}"), name)
    globals()[name] = value
    return value


__all__ = [
    "API_TOKEN_ROLE",
    "Clock",
    "ConfigError",
    "DroppedConnection",
    "Emulator",
    "EmulatorApp",
    "EmulatorConfig",
    "EmulatorServer",
    "FaultConfig",
    "ScriptedFault",
    "create_app",
    "format_timestamp",
    "serve",
]
