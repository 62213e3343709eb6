"""The tenant around the workflows: who the API key belongs to, and a credential's metadata."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from reconciler.emulator.errors import ApiProblem
from reconciler.emulator.handlers import api, emulator_of, json_response


@api
async def whoami(request: Request) -> Response:
    settings = emulator_of(request).settings
    return json_response(
        {
            "username": settings.username,
            "email": f"{settings.username}@emulator.invalid",
            "roles": [{"name": settings.role}],
            "groups": [],
        }
    )


@api
async def get_credential(request: Request) -> Response:
    """``GET credentials/{guid}``: a credential's metadata as Atlan shows it; the secret never leaves."""
    credential = emulator_of(request).store.credential(request.path_params["guid"])
    if credential is None:
        raise ApiProblem(404, f"credential {request.path_params['guid']} not found")
    return json_response(credential)
