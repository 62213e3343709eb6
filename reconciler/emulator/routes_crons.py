"""Cron workflows, as Atlan derives them from a template's schedule annotations, and the
scheduled-query endpoints (which answer an empty list)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from reconciler.emulator.errors import ApiProblem
from reconciler.emulator.handlers import api, emulator_of, json_response
from reconciler.emulator.search import parse_date
from reconciler.emulator.store import DEFAULT_NAMESPACE, TemplateEntry, schedule_of


def _cron_item(entry: TemplateEntry) -> dict[str, Any] | None:
    schedule = schedule_of(entry.source)
    if schedule is None:
        return None
    cron, timezone = schedule
    metadata = entry.source["metadata"]
    return {
        "metadata": {
            "name": f"{entry.name}-cron",
            "namespace": metadata.get("namespace", DEFAULT_NAMESPACE),
            "uid": metadata["uid"],
            "resourceVersion": metadata["resourceVersion"],
            "generation": metadata["generation"],
            "creationTimestamp": metadata["creationTimestamp"],
            "labels": {
                **(metadata.get("labels") or {}),
                "workflows.argoproj.io/workflow-template": entry.name,
            },
            "annotations": metadata.get("annotations") or {},
        },
        "spec": {
            "schedule": cron,
            "timezone": timezone,
            "workflowSpec": {"workflowTemplateRef": {"name": entry.name}},
            "concurrencyPolicy": "Forbid",
            "startingDeadlineSeconds": 0,
            "successfulJobsHistoryLimit": 3,
            "failedJobsHistoryLimit": 1,
        },
        "status": {"active": None, "conditions": None, "lastScheduledTime": None},
        "workflowMetadata": None,
    }


@api
async def list_crons(request: Request) -> Response:
    items = [item for entry in emulator_of(request).store.templates() if (item := _cron_item(entry))]
    items.sort(key=lambda item: item["metadata"]["name"])
    return json_response({"items": items})


@api
async def get_cron(request: Request) -> Response:
    name = str(request.path_params["name"])
    template = name.removesuffix("-cron")
    try:
        item = _cron_item(emulator_of(request).store.template(template)) if name.endswith("-cron") else None
    except ApiProblem:
        item = None
    if item is None:
        raise ApiProblem(404, f'cronworkflows.argoproj.io "{name}" not found')
    return json_response(item)


@api
async def scheduled_queries(request: Request) -> Response:
    for param in ("startDate", "endDate"):
        value = request.query_params.get(param)
        if value is None or parse_date(value) is None:
            raise ApiProblem(400, f"{param}: Required value: an ISO 8601 date-time")
    return json_response([])
