"""``reconciler plan PATH...``: what apply would do, as text, markdown or JSON."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from enum import StrEnum
from pathlib import Path

from reconciler import console
from reconciler.atlan import AtlanWorkflowClient, LiveWorkflow
from reconciler.desired import DesiredWorkflow, read_desired
from reconciler.plan.model import Plan
from reconciler.plan.planner import plan
from reconciler.render.plan import render_json, render_markdown, render_text
from reconciler.settings import Settings
from reconciler.target import connect


class PlanFormat(StrEnum):
    text = "text"
    markdown = "markdown"
    json = "json"


async def read_live(
    client: AtlanWorkflowClient, desired: Sequence[DesiredWorkflow], instance: str
) -> list[LiveWorkflow]:
    """The managed set (one paged search by the instance label) plus any adoption targets."""
    live = await client.list_managed(instance)
    known = {workflow.name for workflow in live}
    adopt = [d.manifest.spec.adopt for d in desired if d.manifest.spec.adopt]
    missing = [name for name in adopt if name and name not in known]
    if missing:
        live += (await client.get_workflows(missing)).values()
    return live


async def make_plan(settings: Settings, desired: Sequence[DesiredWorkflow]) -> Plan:
    async with connect(settings) as client:
        live = await read_live(client, desired, settings.instance)
    return plan(desired, live, instance=settings.instance)


def render(result: Plan, output: PlanFormat) -> str:
    if output is PlanFormat.json:
        return render_json(result)
    if output is PlanFormat.markdown:
        return render_markdown(result)
    return render_text(result, color=console.color_enabled())


def plan_command(
    paths: Sequence[Path],
    *,
    output: PlanFormat,
    detailed_exitcode: bool,
    settings: Settings,
    environ: Mapping[str, str],
) -> int:
    """Exit 0; with --detailed-exitcode, 0 when nothing is to do and 2 when changes are pending."""
    desired = read_desired(paths, instance=settings.instance, environ=environ)
    result = asyncio.run(make_plan(settings, desired))
    console.out(render(result, output))
    return 2 if detailed_exitcode and result.has_changes else 0
