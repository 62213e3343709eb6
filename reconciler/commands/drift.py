"""``reconciler drift PATH...``: read-only; report what changed outside git, what is not applied
yet, and failed runs."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from reconciler import console
from reconciler.atlan import AtlanWorkflowClient
from reconciler.drift import DriftReport, SeenObject, detect_drift
from reconciler.engine import check_content, session
from reconciler.errors import ReconcilerError
from reconciler.github import GitHubClient, GitHubContext, sync_drift_issue, write_step_summary
from reconciler.live import LiveWorkflow
from reconciler.manifest.models import DRIFT_IGNORE_ROOTS, parse_pointer
from reconciler.packages.compiler import CREDENTIAL_PLACEHOLDER
from reconciler.packages.identity import CREDENTIAL_ANNOTATION, INSTANCE_LABEL
from reconciler.packages.spec import cloud_source
from reconciler.plan.planner import plan
from reconciler.render.drift import render_drift, render_drift_markdown
from reconciler.render.formats import OutputFormat
from reconciler.settings import Settings

EXIT_DRIFT = 3


async def detect(
    settings: Settings,
    paths: Sequence[Path],
    environ: Mapping[str, str],
    ignore: Sequence[str],
    *,
    credentials: bool,
    content: bool = True,
) -> DriftReport:
    """Two searches (the workflows, and the runs of all of them); with ``credentials``, one read
    of each recorded credential's metadata; with ``content``, one HEAD of each file whose content
    the workflow records (no body read). Never a write."""
    async with session(settings, paths, environ) as (client, stores, desired, live):
        result = plan(desired, live, instance=settings.instance)  # live kept: its credentials are read
        ours = [w for w in live if w.labels.get(INSTANCE_LABEL) == settings.instance]
        runs = await client.runs_for([w.name for w in ours]) if ours else {}
        shown = await _credentials(client, ours, settings.parallelism) if credentials else {}
        objects: dict[tuple[str, str], SeenObject | None] | None = None
        if content:
            objects = await check_content(
                stores, desired, live, instance=settings.instance, parallelism=settings.parallelism
            )
    by_name = {w.name: w for w in live}  # their records of what apply wrote
    return detect_drift(
        result, desired, runs, credentials=shown, live=by_name, global_ignore=ignore, objects=objects
    )


async def _credentials(
    client: AtlanWorkflowClient, workflows: Sequence[LiveWorkflow], parallelism: int
) -> dict[str, dict[str, Any] | None]:
    """The tenant's metadata of each credential apply recorded, read ``parallelism`` at a time."""
    gate = asyncio.Semaphore(parallelism)

    async def one(workflow: LiveWorkflow, guid: str) -> tuple[str, dict[str, Any] | None]:
        async with gate:
            return workflow.name, await client.get_credential(guid)

    recorded = [
        (w, guid)
        for w in workflows
        if CREDENTIAL_ANNOTATION in w.annotations
        and (guid := cloud_source(w.spec)) not in (None, "", CREDENTIAL_PLACEHOLDER)
    ]
    pairs = await asyncio.gather(*(one(w, guid) for w, guid in recorded if guid))
    return dict(pairs)


def global_ignores(option: Sequence[str], settings: Settings) -> list[str]:
    """--ignore pointers plus RECONCILER_DRIFT_IGNORE (comma-separated), each checked."""
    pointers = [*option, *(p.strip() for p in settings.drift_ignore.split(",") if p.strip())]
    for pointer in pointers:
        try:
            if parse_pointer(pointer)[0] not in (*DRIFT_IGNORE_ROOTS, "orphaned"):
                raise ValueError(
                    f"it must start with one of {', '.join('/' + r for r in DRIFT_IGNORE_ROOTS)}"
                )
        except ValueError as exc:
            raise ReconcilerError(f"invalid drift ignore {pointer!r}: {exc}") from None
    return pointers


def drift_command(
    paths: Sequence[Path],
    *,
    output: OutputFormat,
    ignore: Sequence[str],
    github_issue: bool = False,
    check_credentials: bool = True,
    check_content: bool = True,
    settings: Settings,
    environ: Mapping[str, str],
) -> int:
    """Exit 3 when anything drifted (not applied yet included: the tenant is not what git says)
    or is unhealthy, 0 when clean (1 on errors, by the boundary)."""
    context = GitHubContext.from_environ(environ) if github_issue else None
    pointers = global_ignores(ignore, settings)
    report = asyncio.run(
        detect(settings, paths, environ, pointers, credentials=check_credentials, content=check_content)
    )
    console.out(render_drift(report, output, color=console.color_enabled()))
    if context is not None:
        markdown = render_drift_markdown(report)
        with GitHubClient(context) as client:
            outcome = sync_drift_issue(
                context,
                drifted=not report.clean,
                title=f"reconciler: drift in instance {settings.instance}",
                body_markdown=markdown,
                client=client,
                instance=settings.instance,
            )
        console.err(f"Drift issue: {outcome}.")
        write_step_summary(context, markdown)
    return 0 if report.clean else EXIT_DRIFT
