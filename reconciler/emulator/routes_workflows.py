"""Workflow templates and their runs: create, update, submit, archive, change owner, stop a run.

Under ``/api/service/workflows/`` and ``/api/service/package-workflows/`` (the same store behind
both); the answers are pyatlan's ``WorkflowResponse`` and ``WorkflowRunResponse``.

A new run of an asset-import or lineage-builder workflow (created with ``submit=true``, submitted,
rerun) is carried out before the request answers, on a worker thread (imports/run.py), unless
``EmulatorConfig.run_imports`` is off.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import Response

from reconciler.emulator.errors import ApiProblem
from reconciler.emulator.handlers import api, emulator_of, json_body, json_object, json_response
from reconciler.emulator.imports.run import package_of
from reconciler.emulator.inputs import run_inputs
from reconciler.emulator.runs import FAILED, IMPORTING, RunEntry
from reconciler.emulator.state import Emulator
from reconciler.emulator.store import DEFAULT_NAMESPACE, TemplateEntry

_FAMILIES = ("workflows", "package-workflows")
_log = logging.getLogger(__name__)


def _family(request: Request) -> str:
    family = str(request.path_params.get("family", "workflows"))
    if family not in _FAMILIES:
        raise ApiProblem(404, f"no such endpoint: {request.url.path}")
    return family


async def _write(request: Request) -> tuple[Emulator, Mapping[str, Any]]:
    """What a write to a workflow starts from: a known endpoint family, the emulator, the body."""
    _family(request)
    return emulator_of(request), await json_object(request)


def _inputs(emulator: Emulator, spec: Any, payload: Any = None) -> list[dict[str, Any]]:
    """The objects a new run reads, looked at before the store's write (which holds its lock)."""
    return run_inputs(spec, payload=payload, credential=emulator.store.credential, objects=emulator.objects)


def _imports(emulator: Emulator, spec: Any) -> bool:
    """Whether a new run of a workflow with ``spec`` is carried out (an import package's)."""
    return emulator.config.run_imports and package_of(spec) is not None


async def _carry_out(emulator: Emulator, run: RunEntry | None) -> RunEntry | None:
    """Execute the import of a run just created, off the event loop, and store how it ended."""
    if run is None or run.outcome != IMPORTING:
        return run
    try:
        execution = await anyio.to_thread.run_sync(emulator.execute_import, run)
    except Exception as exc:  # an emulator bug must not leave the run Running for ever
        _log.exception("the import of run %s failed", run.name)
        message = f"the emulator could not carry out the import: {type(exc).__name__}: {exc}"
        return emulator.store.record_import(run.name, FAILED, {"message": message})
    return emulator.store.record_import(run.name, execution.phase, execution.stored())


def _template_response(entry: TemplateEntry) -> dict[str, Any]:
    """pyatlan's WorkflowResponse: metadata, spec and an empty payload (credentials never leave)."""
    return {"metadata": entry.source["metadata"], "spec": entry.source["spec"], "payload": []}


def _run_response(run: RunEntry, now: float, *, ignore_stop: bool = False) -> dict[str, Any]:
    """pyatlan's WorkflowRunResponse: metadata, spec and status of the run."""
    view = run.view(now, ignore_stop=ignore_stop)
    return {"metadata": view["metadata"], "spec": view["spec"], "status": view["status"], "payload": []}


@api
async def create_workflow(request: Request) -> Response:
    emulator, body = await _write(request)
    submit = request.query_params.get("submit", "false").lower() == "true"
    entry, run = emulator.store.create(
        body,
        now=emulator.clock.now(),
        owner=emulator.settings.username,
        submit=submit,
        settings=emulator.run_settings(),
        inputs=_inputs(emulator, body.get("spec"), body.get("payload")) if submit else None,
        importing=submit and _imports(emulator, body.get("spec")),
    )
    await _carry_out(emulator, run)
    return json_response(_template_response(entry))


@api
async def update_workflow(request: Request) -> Response:
    emulator, body = await _write(request)
    entry = emulator.store.update(request.path_params["name"], body, seed=emulator.config.seed)
    return json_response(_template_response(entry))


@api
async def submit_workflow(request: Request) -> Response:
    emulator, body = await _write(request)
    kind = body.get("resourceKind", "WorkflowTemplate")
    name = body.get("resourceName")
    if kind != "WorkflowTemplate":
        raise ApiProblem(
            400, f"resourceKind: Unsupported value: {kind!r}: supported values: 'WorkflowTemplate'"
        )
    if not isinstance(name, str) or not name:
        raise ApiProblem(400, "resourceName: Required value")
    namespace = body.get("namespace") or DEFAULT_NAMESPACE
    template = emulator.store.template(name)
    if template.source["metadata"].get("namespace", DEFAULT_NAMESPACE) != namespace:
        raise ApiProblem(404, f'workflowtemplates.argoproj.io "{name}" not found in namespace "{namespace}"')
    now = emulator.clock.now()
    spec = template.source["spec"]
    run = emulator.store.submit(
        name,
        now=now,
        settings=emulator.run_settings(),
        inputs=_inputs(emulator, spec),
        importing=_imports(emulator, spec),
    )
    run = await _carry_out(emulator, run) or run
    return json_response(_run_response(run, now))


@api
async def archive_workflow(request: Request) -> Response:
    _family(request)
    entry = emulator_of(request).store.archive(request.path_params["name"])
    return json_response(_template_response(entry))


@api
async def change_ownership(request: Request) -> Response:
    _family(request)
    emulator = emulator_of(request)
    body = await json_body(request)
    username = body.get("username") if isinstance(body, Mapping) else None
    if not isinstance(username, str) or not username:
        raise ApiProblem(400, "username: Required value")
    entry = emulator.store.change_owner(request.path_params["name"], username)
    return json_response(_template_response(entry))


@api
async def stop_run(request: Request) -> Response:
    emulator = emulator_of(request)
    now = emulator.clock.now()
    run = emulator.store.stop(request.path_params["run_id"], now=now)
    return json_response(_run_response(run, now, ignore_stop=True))
