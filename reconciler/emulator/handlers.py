"""What the route handlers share: the emulator behind a request, JSON bodies in, JSON answers out."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from reconciler.emulator.errors import ApiProblem, problem_body
from reconciler.emulator.gateway import EmulatorApp
from reconciler.emulator.state import Emulator

Handler = Callable[[Request], Awaitable[Response]]


def emulator_of(request: Request) -> Emulator:
    app = request.app
    assert isinstance(app, EmulatorApp)
    return app.emulator


async def json_body(request: Request, *, required: bool = True) -> Any:
    raw = await request.body()
    if not raw.strip():
        if required:
            raise ApiProblem(400, "the request body is required")
        return None
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise ApiProblem(400, f"the request body is not valid JSON: {exc}") from exc


async def json_object(request: Request) -> Mapping[str, Any]:
    body = await json_body(request)
    if not isinstance(body, Mapping):
        raise ApiProblem(400, "the request body must be a JSON object")
    return body


def json_response(content: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    body = json.dumps(content, separators=(",", ":"), ensure_ascii=False).encode()
    return Response(body, status_code=status, media_type="application/json", headers=headers)


def api(handler: Handler) -> Handler:
    """An API route: an ``ApiProblem`` raised anywhere below becomes Atlan's error answer."""

    async def wrapped(request: Request) -> Response:
        try:
            return await handler(request)
        except ApiProblem as problem:
            return Response(problem_body(problem), status_code=problem.status, media_type="application/json")

    wrapped.__name__ = handler.__name__
    return wrapped
