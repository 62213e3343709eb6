"""``POST {workflows,package-workflows}/indexsearch`` and ``POST runs/indexsearch``: the stored
templates and runs, searched and rendered by ``hits.py``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from reconciler.emulator.handlers import api, emulator_of, json_body
from reconciler.emulator.hits import RUN_INDEX, TEMPLATE_INDEX, search_answer
from reconciler.emulator.runs import RunEntry
from reconciler.emulator.store import TemplateEntry


@api
async def search_templates(request: Request) -> Response:
    emulator = emulator_of(request)
    body = await json_body(request)
    store = emulator.store

    def docs(required: Mapping[str, frozenset[str]]) -> Sequence[TemplateEntry]:
        names = required.get("metadata.name")
        return store.templates() if names is None else store.templates_named(names)

    answer = search_answer(
        body,
        docs,
        TEMPLATE_INDEX,
        emulator.clock.now(),
        view=lambda e: (e.name, e.source),
        sequence=lambda e: e.id,
        rv=lambda e: e.rv,
        source_json=lambda e: e.source_json,
        memo=lambda e: e.memo,
        cache=emulator.sorted_matches,
    )
    return Response(answer, media_type="application/json")


@api
async def search_runs(request: Request) -> Response:
    emulator = emulator_of(request)
    body = await json_body(request)
    now = emulator.clock.now()
    store = emulator.store

    def docs(required: Mapping[str, frozenset[str]]) -> Sequence[tuple[RunEntry, dict[str, Any]]]:
        names = required.get("metadata.name")
        templates = required.get("spec.workflowTemplateRef.name")
        if names is not None:
            runs = store.runs_named(names)
        elif templates is not None:
            runs = store.runs_of(templates)
        else:
            runs = store.runs()
        return [(run, run.view(now)) for run in runs]

    answer = search_answer(
        body,
        docs,
        RUN_INDEX,
        now,
        view=lambda p: (p[0].name, p[1]),
        sequence=lambda p: p[0].seq,
        rv=lambda p: p[0].rv,
        source_json=lambda p: None,
    )
    return Response(answer, media_type="application/json")
