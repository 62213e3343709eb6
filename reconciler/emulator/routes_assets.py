"""Atlan's asset API under ``/api/meta/``, read-only over the emulator's catalog (``catalog.py``):
enough for the unmodified pyatlan 10.0.0 to search it and fetch entities.

- ``POST search/indexsearch``: ``asset_search.py``;
- ``GET entity/uniqueAttribute/type/{type}?attr:qualifiedName=...`` and ``GET entity/guid/{guid}``:
  one entity, archived ones included (as Atlas does), or Atlas's 404 (``ATLAS-404-00-009`` /
  ``ATLAS-404-00-005``), which pyatlan raises as ``NotFoundError``;
- ``GET types/typedefs/``: a definition for each tag a tags file defined or an entity carries.
  pyatlan translates every tag it reads from a hashed id to a name through its tag cache, which
  this fills; the catalog keeps tag names, so each definition's id (``name``) and ``displayName``
  are the tag's name.
"""

from __future__ import annotations

import uuid
from typing import Any

from anyio import to_thread
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from reconciler.emulator import asset_search
from reconciler.emulator.catalog import Catalog
from reconciler.emulator.errors import ApiProblem
from reconciler.emulator.handlers import api, emulator_of, json_body, json_response

META_PREFIX = "/api/meta/"
_TAG_NAMESPACE = uuid.UUID("6f1d2a4e-3b7c-4e55-9a1b-2c8d0e7f4a10")  # stable tag guids across restarts


def _flag(request: Request, name: str) -> bool:
    return request.query_params.get(name, "false").strip().lower() == "true"


@api
async def search_assets(request: Request) -> Response:
    emulator = emulator_of(request)
    body = await json_body(request)
    answer = await to_thread.run_sync(
        lambda: asset_search.search(emulator.catalog, body, now=emulator.clock.now())
    )
    return json_response(answer)


async def _entity(request: Request, document: dict[str, Any] | None, missing: ApiProblem) -> Response:
    if document is None:
        raise missing
    catalog = emulator_of(request).catalog
    ignore = _flag(request, "ignoreRelationships")
    answer = await to_thread.run_sync(
        lambda: asset_search.entity_answer(catalog, document, ignore_relationships=ignore)
    )
    return json_response(answer)


@api
async def entity_by_qualified_name(request: Request) -> Response:
    type_name = request.path_params["type_name"]
    qualified_name = request.query_params.get("attr:qualifiedName")
    if not qualified_name:
        raise ApiProblem(
            400, "a unique attribute is required: attr:qualifiedName", extra={"errorCode": "ATLAS-400-00-01A"}
        )
    document = await to_thread.run_sync(emulator_of(request).catalog.find, type_name, qualified_name)
    message = f"Instance {type_name} with unique attribute {{qualifiedName={qualified_name}}} does not exist"
    return await _entity(request, document, ApiProblem(404, message, extra={"errorCode": "ATLAS-404-00-009"}))


@api
async def entity_by_guid(request: Request) -> Response:
    guid = request.path_params["guid"]
    document = await to_thread.run_sync(emulator_of(request).catalog.get, guid)
    message = f"Given instance guid {guid} is invalid/not found"
    return await _entity(request, document, ApiProblem(404, message, extra={"errorCode": "ATLAS-404-00-005"}))


def _tag_definitions(catalog: Catalog) -> list[dict[str, Any]]:
    """A classification definition for each tag a tags file defined or an entity carries."""
    defined = {str(definition.get("name")): definition for definition in catalog.tag_definitions()}
    found = []
    for name in sorted(set(defined) | set(catalog.tag_names())):
        definition = defined.get(name, {})
        found.append(
            {
                "category": "CLASSIFICATION",
                "guid": str(uuid.uuid5(_TAG_NAMESPACE, name)),
                "name": name,
                "displayName": name,
                "description": str(definition.get("description") or ""),
                "options": {"color": definition["color"]} if definition.get("color") else {},
                "attributeDefs": [],
                "superTypes": [],
                "entityTypes": [],
                "subTypes": [],
            }
        )
    return found


@api
async def typedefs(request: Request) -> Response:
    """``GET types/typedefs/?type=CLASSIFICATION&type=STRUCT`` (no ``type``: every category)."""
    wanted = {value.lower() for value in request.query_params.getlist("type")}
    catalog = emulator_of(request).catalog
    tags = (
        await to_thread.run_sync(_tag_definitions, catalog)
        if not wanted or "classification" in wanted
        else []
    )
    # pyatlan's tag cache takes an answer without struct definitions for an expired token.
    structs = [{"category": "STRUCT", "name": "SourceTagAttachment", "attributeDefs": []}]
    return json_response(
        {
            "enumDefs": [],
            "structDefs": structs if not wanted or "struct" in wanted else [],
            "classificationDefs": tags,
            "entityDefs": [],
            "relationshipDefs": [],
            "businessMetadataDefs": [],
        }
    )


def asset_routes() -> list[Route]:
    meta = META_PREFIX
    return [
        Route(f"{meta}search/indexsearch", search_assets, methods=["POST"]),
        Route(
            f"{meta}entity/uniqueAttribute/type/{{type_name:str}}", entity_by_qualified_name, methods=["GET"]
        ),
        Route(f"{meta}entity/guid/{{guid:str}}", entity_by_guid, methods=["GET"]),
        Route(f"{meta}types/typedefs/", typedefs, methods=["GET"]),
    ]
