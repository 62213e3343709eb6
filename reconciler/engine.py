"""The engine plan, apply and drift share: read the desired and the live state, and plan.

The manifests load in a worker thread while the managed set is listed (``desired_and_live``);
``plan_state`` plans from both. Subcommand modules (reconciler/commands/) stay thin: they call
these, render, and report.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

from reconciler.atlan import AtlanWorkflowClient
from reconciler.desired import DesiredWorkflow, reading_desired
from reconciler.live import LiveWorkflow
from reconciler.plan.model import Plan, PruneOptions
from reconciler.plan.normalise import LAST_RUN_ANNOTATION
from reconciler.plan.planfile import resource_versions
from reconciler.plan.planner import claimed_after, confirmed, handed_over, plan
from reconciler.settings import Settings
from reconciler.target import connect


@asynccontextmanager
async def desired_and_live(
    settings: Settings, paths: Sequence[Path], environ: Mapping[str, str]
) -> AsyncIterator[tuple[AtlanWorkflowClient, list[DesiredWorkflow], list[LiveWorkflow]]]:
    """A client on the tenant, and the desired and live states, read at once: the managed set is
    listed while the manifests load (see ``reading_desired``); adoption targets are read once the
    manifests name them."""
    async with (
        reading_desired(
            paths,
            instance=settings.instance,
            environ=settings.manifest_environ(environ),
            cache=settings.manifest_cache(),
        ) as loading,
        connect(settings) as client,
    ):
        listing = asyncio.ensure_future(client.list_managed(settings.instance))
        try:
            desired = await loading
        except BaseException:
            listing.cancel()
            await asyncio.gather(listing, return_exceptions=True)
            raise
        live = await _with_adoption_targets(client, desired, await listing)
        yield client, desired, await _with_claims_settled(client, live)


async def _with_adoption_targets(
    client: AtlanWorkflowClient, desired: Sequence[DesiredWorkflow], live: list[LiveWorkflow]
) -> list[LiveWorkflow]:
    known = {workflow.name for workflow in live}
    missing = [name for d in desired if (name := d.adopt) and name not in known]
    if missing:
        live += (await client.get_workflows(missing)).values()
    return live


async def _with_claims_settled(client: AtlanWorkflowClient, live: list[LiveWorkflow]) -> list[LiveWorkflow]:
    """``live``, with each pending rerun claim whose run did start shown as confirmed.

    An apply writes its claim, submits, then confirms (reconciler/apply.py); one stopped in
    between leaves the claim pending. A run newer than the one the claim saw means the submit
    happened; otherwise the claim stays pending and the planner asks for the run again. Only
    interrupted applies leave pending claims, so this is usually no request at all.
    """
    pending = {
        index: after
        for index, workflow in enumerate(live)
        if (after := claimed_after(workflow.annotations.get(LAST_RUN_ANNOTATION))) is not None
    }
    newest = await asyncio.gather(*(client.newest_run(live[index].name) for index in pending))
    for (index, after), run in zip(pending.items(), newest, strict=True):
        if run is not None and run.name != after:
            workflow = live[index]
            record = confirmed(workflow.annotations[LAST_RUN_ANNOTATION], run.name)
            live[index] = workflow.model_copy(
                update={"annotations": {**workflow.annotations, LAST_RUN_ANNOTATION: record}}
            )
    return live


def plan_state(
    settings: Settings,
    desired: Sequence[DesiredWorkflow],
    live: list[LiveWorkflow],
    prune: PruneOptions | None = None,
) -> tuple[Plan, dict[str, str | None]]:
    """The plan from the desired to the live state; also the resourceVersion of each live
    workflow read (what a saved plan records). Takes ``live`` over: the list is emptied."""
    versions = resource_versions(live)
    result = plan(
        desired,
        handed_over(live),  # so each live workflow is freed once planned
        instance=settings.instance,
        prune=prune is not None and prune.prune,
        max_prune=(prune or PruneOptions()).limit,
    )
    return result, versions


async def plan_against_tenant(
    settings: Settings, paths: Sequence[Path], environ: Mapping[str, str], prune: PruneOptions
) -> tuple[list[DesiredWorkflow], Plan, dict[str, str | None]]:
    """Read the manifests and the tenant at once, then plan: the desired workflows, the plan and
    the resourceVersions it was made from."""
    async with desired_and_live(settings, paths, environ) as (_, desired, live):
        pass
    return desired, *plan_state(settings, desired, live, prune)
