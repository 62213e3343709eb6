"""An emulator of Atlan's workflow REST API (Starlette + SQLite), the default target and the test double.

Standalone test tooling: nothing here imports from the rest of the ``reconciler`` package.

In-process::

    app = create_app(EmulatorConfig(api_key="k", db_path="state.db"))
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://emulator")

Over HTTP on loopback: ``EmulatorServer(config)`` (a context manager) or ``reconciler emulator serve``.
"""

from reconciler.emulator.app import DroppedConnection, Emulator, EmulatorApp, create_app
from reconciler.emulator.clock import Clock, format_timestamp
from reconciler.emulator.config import (
    API_TOKEN_ROLE,
    ConfigError,
    EmulatorConfig,
    FaultConfig,
    ScriptedFault,
)
from reconciler.emulator.server import EmulatorServer, serve

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
