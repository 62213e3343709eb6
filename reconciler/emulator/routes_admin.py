"""The admin endpoints under ``/_emulator/``: request log, fault knobs, clock, live settings, state, reset
(of the workflows, runs and credentials, and of the catalog the imports fill).

Protected by the same API key as the API, never faulted and not in the request log (see
``gateway.py``). Errors answer ``{"error": ...}`` with status 400, not Atlan's error shape.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from reconciler.emulator.config import ConfigError, FaultConfig
from reconciler.emulator.errors import ApiProblem
from reconciler.emulator.handlers import Handler, emulator_of, json_response
from reconciler.emulator.search import parse_date
from reconciler.emulator.state import Settings


async def admin_requests(request: Request) -> Response:
    log = emulator_of(request).log
    if request.method == "DELETE":
        return json_response({"cleared": log.clear()})
    endpoint = request.query_params.get("endpoint")
    try:
        since = int(request.query_params.get("since", "0"))
    except ValueError:
        return json_response({"error": "since must be an integer"}, 400)
    return json_response({"requests": log.records(endpoint=endpoint, since=since)})


async def admin_counts(request: Request) -> Response:
    return json_response(emulator_of(request).log.counts())


async def admin_faults(request: Request) -> Response:
    faults = emulator_of(request).faults
    if request.method == "DELETE":
        faults.configure(FaultConfig())
    elif request.method in ("POST", "PUT"):
        body = await _admin_body(request)
        try:
            base = faults.config if request.method == "POST" else None
            faults.configure(FaultConfig.from_json(body, base))
        except ConfigError as exc:
            return json_response({"error": str(exc)}, 400)
    return json_response(faults.config.to_json())


async def admin_clock(request: Request) -> Response:
    clock = emulator_of(request).clock
    if request.method == "POST":
        body = await _admin_body(request)
        unknown = set(body) - {"advance", "set", "freeze"}
        if unknown:
            return json_response({"error": f"unknown clock field(s): {', '.join(sorted(unknown))}"}, 400)
        if "freeze" in body:
            if body["freeze"]:
                clock.freeze()
            else:
                clock.unfreeze()
        if "set" in body:
            target = body["set"]
            epoch = float(target) if isinstance(target, int | float) else parse_date(str(target))
            if epoch is None:
                return json_response({"error": "set takes epoch seconds or an ISO 8601 date-time"}, 400)
            clock.set(epoch)
        if "advance" in body:
            if not isinstance(body["advance"], int | float):
                return json_response({"error": "advance takes a number of seconds"}, 400)
            clock.advance(float(body["advance"]))
    return json_response(clock.describe())


async def admin_settings(request: Request) -> Response:
    emulator = emulator_of(request)
    if request.method == "POST":
        body = await _admin_body(request)
        current = emulator.settings.to_json()
        unknown = set(body) - set(current)
        if unknown:
            return json_response({"error": f"unknown setting(s): {', '.join(sorted(unknown))}"}, 400)
        merged = {**current, **body}
        if (
            not 0 <= float(merged["failure_rate"]) <= 1
            or merged["run_seconds"] < 0
            or merged["pending_seconds"] < 0
        ):
            return json_response(
                {"error": "failure_rate must be in [0, 1]; durations must not be negative"}, 400
            )
        emulator.settings = Settings(**merged)
    return json_response(emulator.settings.to_json())


async def admin_credentials(request: Request) -> Response:
    return json_response({"credentials": emulator_of(request).store.credentials()})


async def admin_state(request: Request) -> Response:
    emulator = emulator_of(request)
    now = emulator.clock.now()
    runs = emulator.store.runs()
    phases: dict[str, int] = {}
    for run in runs:
        phase = run.phase_at(now)[0]
        phases[phase] = phases.get(phase, 0) + 1
    return json_response(
        {"templates": len(emulator.store.templates()), "runs": len(runs), "runs_by_phase": phases}
    )


async def admin_reset(request: Request) -> Response:
    emulator = emulator_of(request)
    emulator.store.reset()
    emulator.catalog.reset()
    emulator.log.clear()
    emulator.faults.configure(FaultConfig())
    return json_response({"reset": True})


async def _admin_body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    body = json.loads(raw) if raw.strip() else {}
    if not isinstance(body, dict):
        raise ApiProblem(400, "the body must be a JSON object")
    return body


def admin(handler: Handler) -> Handler:
    """An admin route: a bad value (``ValueError``, ``ApiProblem``) answers 400 ``{"error": ...}``."""

    async def wrapped(request: Request) -> Response:
        try:
            return await handler(request)
        except (ValueError, ApiProblem) as exc:
            message = exc.message if isinstance(exc, ApiProblem) else str(exc)
            return JSONResponse({"error": message}, status_code=400)

    return wrapped
