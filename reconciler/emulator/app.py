"""The Starlette application: Atlan's workflow API under ``/api/service/``, admin under ``/_emulator/``.

This module assembles the route table and ``create_app``; each part lives in its own module:

- ``gateway.py``: ``EmulatorApp``, the gateway every request passes first (API key, request log,
  fault injection, dropped connections), and ``DroppedConnection``;
- ``state.py``: ``Emulator``, the state behind one app (store, clock, faults, log, live settings);
- ``handlers.py``: what the route handlers share (JSON in and out, Atlan's error answers);
- ``routes_search.py`` over ``hits.py`` (Elasticsearch-shaped answers), ``match_cache.py``
  (sorted matches per store version) and ``search.py`` (the query language);
- ``routes_workflows.py``, ``routes_crons.py``, ``routes_tenant.py``: the rest of the API;
  ``inputs.py``: which objects a new run reads;
- ``routes_objects.py``: the tenant file API, its presigned URLs (``presign.py``) and the admin
  object routes, over the object stores of ``objects.py``;
- ``routes_admin.py``: the admin endpoints;
- ``routes_assets.py``: Atlan's asset API under ``/api/meta/`` (search, entities) over the catalog.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from reconciler.emulator.config import EmulatorConfig
from reconciler.emulator.errors import error_body
from reconciler.emulator.faults import API_PREFIX
from reconciler.emulator.gateway import ADMIN_OBJECTS_PREFIX, ADMIN_PREFIX, DroppedConnection, EmulatorApp
from reconciler.emulator.handlers import json_response
from reconciler.emulator.presign import OBJECT_PREFIX
from reconciler.emulator.routes_admin import (
    admin,
    admin_clock,
    admin_counts,
    admin_credentials,
    admin_faults,
    admin_requests,
    admin_reset,
    admin_settings,
    admin_state,
)
from reconciler.emulator.routes_assets import asset_routes
from reconciler.emulator.routes_crons import get_cron, list_crons, scheduled_queries
from reconciler.emulator.routes_objects import admin_object, admin_objects, presigned_object, presigned_url
from reconciler.emulator.routes_search import search_runs, search_templates
from reconciler.emulator.routes_tenant import get_credential, whoami
from reconciler.emulator.routes_workflows import (
    archive_workflow,
    change_ownership,
    create_workflow,
    stop_run,
    submit_workflow,
    update_workflow,
)
from reconciler.emulator.state import Emulator

__all__ = ["DroppedConnection", "Emulator", "EmulatorApp", "create_app"]


async def health(request: Request) -> Response:
    return json_response({"status": "ok", "service": "atlan-workflow-emulator"})


def _routes() -> list[Route]:
    # Order matters: Starlette takes the first match, so the fixed paths (``runs/indexsearch``,
    # ``{family}/indexsearch``, ``{family}/submit``) come before ``{family}/{name}``.
    api = API_PREFIX.rstrip("/")
    family = "/{family:str}"
    return [
        Route("/", health, methods=["GET"]),
        Route(f"{api}/runs/indexsearch", search_runs, methods=["POST"]),
        Route(f"{api}/runs/cron", list_crons, methods=["GET"]),
        Route(f"{api}/runs/cron/scheduleQueriesBetweenDuration", scheduled_queries, methods=["GET"]),
        Route(f"{api}/runs/cron/missedScheduleQueriesBetweenDuration", scheduled_queries, methods=["GET"]),
        Route(f"{api}/runs/cron/{{name:str}}", get_cron, methods=["GET"]),
        Route(f"{api}/runs/{{run_id:str}}/stop", stop_run, methods=["POST"]),
        Route(f"{api}/whoami", whoami, methods=["GET"]),
        Route(f"{api}/credentials/{{guid:str}}", get_credential, methods=["GET"]),
        Route(f"{api}/files/presignedUrl", presigned_url, methods=["POST"]),
        Route(f"{OBJECT_PREFIX}{{key:path}}", presigned_object, methods=["GET", "PUT"]),
        Route(f"{api}/workflows/triggerAsOwner", submit_workflow, methods=["POST"]),
        Route(f"{api}{family}/indexsearch", search_templates, methods=["POST"]),
        Route(f"{api}{family}/submit", submit_workflow, methods=["POST"]),
        Route(f"{api}{family}", create_workflow, methods=["POST"]),
        Route(f"{api}{family}/{{name:str}}/archive", archive_workflow, methods=["POST"]),
        Route(f"{api}{family}/{{name:str}}/changeownership", change_ownership, methods=["POST"]),
        Route(f"{api}{family}/{{name:str}}", update_workflow, methods=["POST"]),
        *asset_routes(),
        Route(f"{ADMIN_PREFIX}requests", admin(admin_requests), methods=["GET", "DELETE"]),
        Route(f"{ADMIN_PREFIX}counts", admin(admin_counts), methods=["GET"]),
        Route(f"{ADMIN_PREFIX}faults", admin(admin_faults), methods=["GET", "POST", "PUT", "DELETE"]),
        Route(f"{ADMIN_PREFIX}clock", admin(admin_clock), methods=["GET", "POST"]),
        Route(f"{ADMIN_PREFIX}settings", admin(admin_settings), methods=["GET", "POST"]),
        Route(f"{ADMIN_PREFIX}credentials", admin(admin_credentials), methods=["GET"]),
        Route(f"{ADMIN_PREFIX}state", admin(admin_state), methods=["GET"]),
        Route(f"{ADMIN_PREFIX}reset", admin(admin_reset), methods=["POST"]),
        Route(f"{ADMIN_PREFIX}objects", admin_objects, methods=["GET"]),
        Route(f"{ADMIN_OBJECTS_PREFIX}{{location:path}}", admin_object, methods=["GET", "PUT", "DELETE"]),
    ]


def create_app(config: EmulatorConfig) -> EmulatorApp:
    """The emulator as an ASGI app; state opens lazily, so it works without lifespan (ASGITransport)."""
    emulator = Emulator(config)

    async def not_found(request: Request, exc: Exception) -> Response:
        status = getattr(exc, "status_code", 404)
        return Response(
            error_body(status, f"no such endpoint: {request.method} {request.url.path}"),
            status_code=status,
            media_type="application/json",
        )

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        yield
        emulator.close()

    app = EmulatorApp(
        routes=_routes(), exception_handlers={404: not_found, 405: not_found}, lifespan=lifespan
    )
    app.emulator = emulator
    return app
